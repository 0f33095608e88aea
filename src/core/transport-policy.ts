/**
 * The one rule on which requests may travel over plain HTTP.
 *
 * Routers speak plain HTTP to update endpoints and cannot be changed, so updates are always
 * allowed. Everything that carries a password, a session, an API key or an install code must
 * come over TLS once it leaves the machine: either our own HTTPS listener, or a proxy we were
 * told to trust that says it terminated TLS. Loopback is this machine (a local reverse proxy,
 * the CLI, tests), and a request with no known peer was handed to the app in-process.
 */
import { type Cidr, cidrContains, parseCidr, parseIP, unmapIPv4 } from "./addresses";
import { fail } from "./errors";

/** Which part of the HTTP surface a path belongs to. */
export type PathClass = "account" | "install" | "other";

export interface TransportFacts {
  /** How the request reached our socket. */
  transport: "http" | "https";
  /** The socket peer address; null when the request did not come through a socket. */
  peer: string | null;
  /** The X-Forwarded-Proto header, if any. */
  forwardedProto: string | null;
  /** The class of the path asked for (the HTTP layer's route table decides it: api/routes.ts). */
  pathClass: PathClass;
}

export interface TransportPolicy {
  trustedProxies: Cidr[];
  allowInsecureHttp: boolean;
}

export type TransportVerdict = { allowed: true } | { allowed: false; pathClass: Exclude<PathClass, "other"> };

export function buildTransportPolicy(opts: { trustedProxies: string[]; allowInsecureHttp: boolean }): TransportPolicy {
  const trustedProxies: Cidr[] = [];
  for (const spec of opts.trustedProxies) {
    const c = parseCidr(spec);
    if (!c) fail("invalid_input", `Invalid trusted proxy "${spec}": expected an address or CIDR`);
    trustedProxies.push(c);
  }
  return { trustedProxies, allowInsecureHttp: opts.allowInsecureHttp };
}

export function isLoopback(address: string): boolean {
  const a = unmapIPv4(address);
  const ip = parseIP(a);
  if (!ip) return false;
  return ip.family === 4 ? ip.address.startsWith("127.") : ip.address === "::1";
}

export function isTrustedProxy(policy: TransportPolicy, peer: string): boolean {
  const a = unmapIPv4(peer);
  return policy.trustedProxies.some((c) => cidrContains(c, a));
}

export function checkTransport(policy: TransportPolicy, facts: TransportFacts): TransportVerdict {
  const { pathClass } = facts;
  if (pathClass === "other") return { allowed: true };
  if (facts.transport === "https" || policy.allowInsecureHttp) return { allowed: true };
  if (facts.peer === null || isLoopback(facts.peer)) return { allowed: true };
  // Only the last hop's word counts, and only from a proxy we trust.
  const proto = facts.forwardedProto?.split(",").pop()?.trim().toLowerCase();
  if (proto === "https" && isTrustedProxy(policy, facts.peer)) return { allowed: true };
  return { allowed: false, pathClass };
}

/**
 * Who may read /metrics: this machine, and the scrapers' addresses given with --metrics-allow.
 * The page names zones and enrolled machines, which the rest of the world need not learn.
 */
export function metricsAllowed(allow: Cidr[], peer: string | null): boolean {
  if (peer === null || isLoopback(peer)) return true;
  return allow.some((c) => cidrContains(c, unmapIPv4(peer)));
}

export function parseCidrList(specs: string[], option: string): Cidr[] {
  return specs.map((spec) => parseCidr(spec) ?? fail("invalid_input", `${option} "${spec}": expected an address or CIDR`));
}
