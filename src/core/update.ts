/**
 * What a dynamic DNS update means. Every update endpoint (dyndns2, ipdock JSON, agents)
 * translates its request into an UpdateCall and calls performUpdate (or updateHost for one
 * known intent); which credential counts, which hostnames and addresses a request names, and
 * the words "good" and "nochg" are decided here and nowhere else.
 */
import {
  type Cidr,
  cidrContains,
  composeIPv6,
  interfaceIdOf,
  isNetworkAddress,
  parseIP,
  parseIPv6,
  type UnusableReason,
  unmapIPv4,
  unusableHostAddress,
} from "./addresses";
import { fail, IpkeepError } from "./errors";
import type { UpdateLimits, Verdict } from "./limits";
import { normalizeHostname, tryName } from "./names";
import type { Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { ChangeSink, HostRow, UpdateLogEntry, UpdateStore, UpdateTokenRow } from "./ports";
import { policyAllows, tokenRefusal } from "./token-policy";
import { hashToken, looksLikeToken, maskTokens } from "./tokens";

/** Per address family, independently: leave it, set it, or remove the record. */
export type FamilyChange = { kind: "keep" } | { kind: "set"; address: string } | { kind: "delete" };

export interface UpdateIntent {
  v4: FamilyChange;
  v6: FamilyChange;
}

export interface HostAddresses {
  ipv4: string | null;
  ipv6: string | null;
}

export type UpdateResult = "good" | "nochg";

export interface UpdateDecision {
  result: UpdateResult;
  next: HostAddresses;
}

const KEEP: FamilyChange = { kind: "keep" };
/** dyndns2 allows this many hostnames in one request; one more is "numhost". */
export const MAX_HOSTS_PER_UPDATE = 20;

function applyFamily(current: string | null, change: FamilyChange): string | null {
  switch (change.kind) {
    case "keep":
      return current;
    case "set":
      return change.address;
    case "delete":
      return null;
  }
}

/** Pure: the addresses after the intent, and whether anything changed. */
export function decideUpdate(current: HostAddresses, intent: UpdateIntent): UpdateDecision {
  const next = { ipv4: applyFamily(current.ipv4, intent.v4), ipv6: applyFamily(current.ipv6, intent.v6) };
  const changed = next.ipv4 !== current.ipv4 || next.ipv6 !== current.ipv6;
  return { result: changed ? "good" : "nochg", next };
}

export interface UpdateDeps {
  store: UpdateStore;
  platform: Platform;
  changes: ChangeSink;
}

/**
 * The one update-token lookup: the live token a presented value is, or null. Only values in
 * our token format are looked up: "token", an FQDN or an e-mail in the other Basic field is the
 * ordinary case, not a failed guess.
 */
function findUpdateToken(deps: Pick<UpdateDeps, "store" | "platform">, value: string): UpdateTokenRow | null {
  return looksLikeToken(value, "update") ? deps.store.tokenByHash(hashToken(deps.platform, value)) : null;
}

/** Looks a presented token up; unauthorized when it is unknown or revoked. */
export function authenticateUpdateToken(deps: Pick<UpdateDeps, "store" | "platform">, value: string): UpdateTokenRow {
  return findUpdateToken(deps, value) ?? fail("unauthorized");
}

export function tokenCovers(token: UpdateTokenRow, host: Pick<HostRow, "id" | "ownerId">): boolean {
  if (host.ownerId !== token.userId) return false;
  return token.scope === "all" || token.hostIds.includes(host.id);
}

// ---------------------------------------------------------------------------------------
// The client address

/**
 * The address a request comes from: the socket's, unless the socket is a trusted proxy, in
 * which case X-Forwarded-For is read from the right (the nearest hop first), skipping further
 * trusted proxies, then X-Real-IP. Anyone else's headers are ignored: they are free to forge.
 */
export function resolveClientAddress(peer: string | null, forwardedFor: string | null, realIp: string | null, trusted: readonly Cidr[]): string | null {
  if (!peer) return null;
  const p = unmapIPv4(peer);
  const isTrusted = (a: string) => trusted.some((c) => cidrContains(c, a));
  if (!isTrusted(p)) return p;
  if (forwardedFor) {
    const hops = forwardedFor
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .slice(-32);
    for (let i = hops.length - 1; i >= 0; i--) {
      const ip = parseIP(unmapIPv4(hops[i]!.replace(/^\[(.*)\](:\d+)?$/, "$1")));
      if (!ip) break;
      if (!isTrusted(ip.address)) return ip.address;
    }
  }
  if (realIp) {
    const ip = parseIP(unmapIPv4(realIp.trim()));
    if (ip) return ip.address;
  }
  return p;
}

// ---------------------------------------------------------------------------------------
// Reading a request: credentials, hostnames, addresses

/** Parameters of an update request, names lower-case, first value wins. */
export interface UpdateParams {
  get(name: string): string | undefined;
  /** True when the parameter was sent but not as text or a number (JSON null, an array, an object). */
  notText?(name: string): boolean;
}

/** A transport's update request, translated. */
export interface UpdateCall {
  params: UpdateParams;
  basic: { username: string; password: string } | null;
  /** "Authorization: Bearer x" / "Token x". */
  bearer: string | null;
  /** An Authorization header was sent that could not be read. */
  malformedAuthorization?: boolean;
  /** The client address (after trusted-proxy resolution). */
  client: string | null;
  userAgent: string | null;
}

/** Query and body parameters that may carry the token (ipdock, IPv64, deSEC). */
export const TOKEN_PARAMS = ["token", "key", "password", "user", "username"] as const;
const HOST_PARAMS = ["hostname", "host", "domain", "domains", "zone"] as const;
const V4_PARAMS = ["myip", "myipv4", "ipv4", "ip4", "ip"] as const;
const V6_PARAMS = ["myipv6", "ipv6", "ip6", "myip6", "myip", "ip"] as const;
const V4_ONLY = new Set(["myipv4", "ipv4", "ip4"]);
const V6_ONLY = new Set(["myipv6", "ipv6", "ip6", "myip6"]);
const PREFIX_PARAMS = ["ipv6prefix", "ip6lanprefix"] as const;
/** Every parameter that names a hostname, an address or a token: what makes a request an update. */
export const UPDATE_PARAMS: readonly string[] = [...HOST_PARAMS, "host_id", ...V4_PARAMS, ...V6_PARAMS, ...PREFIX_PARAMS, ...TOKEN_PARAMS];
/** An IPv6 prefix without /len: what routers hand out to a LAN. */
const DEFAULT_PREFIX_LEN = 64;

/** Every secret the request presents, in the order they are tried. */
export function presentedSecrets(call: UpdateCall): string[] {
  const out: string[] = [];
  const add = (v: string | null | undefined) => {
    if (v && !out.includes(v)) out.push(v);
  };
  // "Bearer <token>" typed into a router's username or password field (IPv64's example 2).
  const field = (v: string | undefined) => v?.replace(/^(?:Bearer|Token)\s+/i, "");
  add(call.bearer);
  add(field(call.basic?.password));
  add(field(call.basic?.username));
  for (const p of TOKEN_PARAMS) add(call.params.get(p));
  return out;
}

/** The first presented secret that is a live update token, or null. */
function authenticate(deps: Pick<UpdateDeps, "store" | "platform">, secrets: string[]): UpdateTokenRow | null {
  for (const s of secrets) {
    const t = findUpdateToken(deps, s);
    if (t) return t;
  }
  return null;
}

const nonEmpty = (v: string | undefined): v is string => v !== undefined && v.trim() !== "";

/**
 * The hostnames a request names, in order. Aliases first (hostname=YES is ddclient's flag,
 * not a name), then host_id, the Basic username when it is a hostname, the username
 * parameter when it is one, and finally the token's only hostname.
 */
export function requestedHostnames(call: UpdateCall, onlyHostname: () => string | null): string[] {
  for (const p of HOST_PARAMS) {
    const v = call.params.get(p);
    if (nonEmpty(v) && v.trim().toUpperCase() !== "YES") return splitList(v);
  }
  const hostId = call.params.get("host_id");
  if (nonEmpty(hostId)) return splitList(hostId);
  const asName = (v: string | null | undefined) => (v && !looksLikeToken(v) && v.includes(".") && tryName(v) ? v : null);
  const fromBasic = asName(call.basic?.username);
  if (fromBasic) return [fromBasic];
  const fromParam = asName(call.params.get("username"));
  if (fromParam) return [fromParam];
  const only = onlyHostname();
  return only ? [only] : [];
}

/**
 * IPv64's praefix names a name below each requested one: praefix=www with home.dyn.example.com
 * updates www.home.dyn.example.com (which must be a hostname the token covers), never the base.
 */
export function withPraefix(names: string[], praefix: string | undefined): string[] {
  if (!nonEmpty(praefix)) return names;
  return names.map((n) => `${praefix.trim()}.${n}`);
}

function splitList(v: string): string[] {
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "" && s.toUpperCase() !== "YES");
}

/** One value of an address parameter. */
type Piece = { kind: "addr"; family: 4 | 6; address: string } | { kind: "prefix"; prefix: string; len: number } | { kind: "preserve" };

/**
 * "1.2.3.4", "2001:db8::1", "2001:db8::1/64" (host bits set: the address), "2001:db8:1::/56"
 * (host bits zero: a prefix), "preserve". Null when it is none of them.
 */
export function parseAddressPiece(raw: string): Piece | null {
  const s = raw.trim();
  if (s.toLowerCase() === "preserve") return { kind: "preserve" };
  const slash = s.indexOf("/");
  const addr = slash < 0 ? s : s.slice(0, slash);
  const ip = parseIP(addr);
  if (!ip) return null;
  if (slash < 0) return { kind: "addr", family: ip.family, address: ip.address };
  const lenText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  if (len > (ip.family === 4 ? 32 : 128)) return null;
  if (ip.family === 6 && len < 128 && isNetworkAddress(ip.address, len)) return { kind: "prefix", prefix: ip.address, len };
  return { kind: "addr", family: ip.family, address: ip.address };
}

/** What a request says about one family before any host is looked at. */
export type FamilyPlan = { kind: "absent" } | { kind: "keep" } | { kind: "delete" } | { kind: "set"; address: string };

export interface AddressPlan {
  v4: FamilyPlan;
  v6: FamilyPlan;
  prefix: { prefix: string; len: number } | null;
  onlyPrefix: boolean;
}

const truthy = (v: string | undefined) => v !== undefined && !/^(0|false|no|off)$/i.test(v.trim());

/**
 * The addresses a request asks for, per family and independently. Throws invalid_address for
 * any value that is not an address: an invalid address is never replaced by the source.
 */
const ARTICLE: Record<UnusableReason, string> = { unspecified: "the unspecified", multicast: "a multicast", broadcast: "the broadcast" };

/** invalid_address when no host may have this address (core/addresses.ts decides which). */
function requireUsable(address: string, where: string): void {
  const why = unusableHostAddress(address);
  if (why) fail("invalid_address", `${where}: ${address} is ${ARTICLE[why]} address, which no host can have`);
}

export function planAddresses(params: UpdateParams, client: string | null): AddressPlan {
  // {"ip": null}, {"myip": ["1.2.3.4"]}: a value was sent, so the source address must not stand in.
  for (const name of new Set<string>([...V4_PARAMS, ...V6_PARAMS, ...PREFIX_PARAMS])) {
    if (params.notText?.(name)) fail("invalid_address", `${name} must be an address written as a string`);
  }
  const pieces = new Map<string, Piece[]>();
  for (const name of new Set<string>([...V4_PARAMS, ...V6_PARAMS])) {
    const v = params.get(name);
    if (!nonEmpty(v)) continue;
    const list: Piece[] = [];
    for (const part of v.split(",")) {
      if (part.trim() === "") continue;
      const p = parseAddressPiece(part);
      if (!p) fail("invalid_address", `Invalid address in ${name}`);
      if (p.kind === "addr") requireUsable(p.address, name);
      if (V4_ONLY.has(name) && p.kind !== "preserve" && !(p.kind === "addr" && p.family === 4)) fail("invalid_address", `${name} must be an IPv4 address`);
      if (V6_ONLY.has(name) && p.kind === "addr" && p.family !== 6) fail("invalid_address", `${name} must be an IPv6 address`);
      list.push(p);
    }
    pieces.set(name, list);
  }

  let prefix: AddressPlan["prefix"] = null;
  for (const name of PREFIX_PARAMS) {
    const v = params.get(name);
    if (!nonEmpty(v) || prefix) continue;
    const s = v.trim();
    if (s.toLowerCase() === "auto") {
      // The connecting address's /64, when it connected over IPv6.
      const c = client ? parseIP(unmapIPv4(client)) : null;
      if (c?.family === 6) prefix = { prefix: networkOf(c.address, DEFAULT_PREFIX_LEN), len: DEFAULT_PREFIX_LEN };
      continue;
    }
    if (s.toLowerCase() === "preserve") continue;
    const p = parseAddressPiece(s.includes("/") ? s : `${s}/${DEFAULT_PREFIX_LEN}`);
    if (!p || p.kind === "preserve" || (p.kind === "addr" && p.family === 4)) fail("invalid_address", `${name} must be an IPv6 prefix`);
    prefix = p.kind === "prefix" ? { prefix: p.prefix, len: p.len } : { prefix: networkOf(p.address, DEFAULT_PREFIX_LEN), len: DEFAULT_PREFIX_LEN };
    // A multicast prefix composes multicast addresses. ("::/64" is left alone: composed with an
    // interface id it is no unspecified address, and refusing it would fail the IPv4 too.)
    if (unusableHostAddress(prefix.prefix) === "multicast") requireUsable(prefix.prefix, name);
  }

  const family = (names: readonly string[], fam: 4 | 6, only: Set<string>): FamilyPlan => {
    for (const name of names) {
      for (const p of pieces.get(name) ?? []) {
        if (p.kind === "addr" && p.family === fam) return { kind: "set", address: p.address };
        if (p.kind === "prefix" && fam === 6 && !prefix) prefix = { prefix: p.prefix, len: p.len };
        // "preserve" in a family's own parameter keeps that family; in myip/ip it keeps both.
        if (p.kind === "preserve") return { kind: "keep" };
      }
    }
    // An explicitly empty family parameter (myipv6=) deletes; an empty myip= is no statement.
    for (const name of only) {
      const v = params.get(name);
      if (v !== undefined && v.trim() === "") return { kind: "delete" };
    }
    return { kind: "absent" };
  };
  const v4 = family(V4_PARAMS, 4, V4_ONLY);
  const v6 = family(V6_PARAMS, 6, V6_ONLY);
  const onlyPrefix = truthy(params.get("onlyprefix")) && prefix !== null;
  if (onlyPrefix) return { v4: { kind: "keep" }, v6: { kind: "keep" }, prefix, onlyPrefix };

  // An empty prefix parameter (a FRITZ!Box without IPv6 sends ip6lanprefix=) says nothing.
  if (v4.kind === "absent" && v6.kind === "absent" && !prefix) {
    // Nothing named at all: the connecting address, its family only.
    const c = client ? parseIP(unmapIPv4(client)) : null;
    if (!c) fail("invalid_address", "No address given and none could be detected");
    requireUsable(c.address, "the request's source address");
    return c.family === 4
      ? { v4: { kind: "set", address: c.address }, v6: { kind: "absent" }, prefix: null, onlyPrefix: false }
      : { v4: { kind: "absent" }, v6: { kind: "set", address: c.address }, prefix: null, onlyPrefix: false };
  }
  return { v4, v6, prefix, onlyPrefix };
}

function networkOf(address: string, len: number): string {
  return composeIPv6(address, len, "::");
}

/** The interface id a prefix update composes with: the stored one, else the low 64 bits of the last AAAA. */
export function effectiveInterfaceId(host: Pick<HostRow, "ipv6" | "ipv6Ifid">): string | null {
  const id = host.ipv6Ifid ?? (host.ipv6 ? interfaceIdOf(host.ipv6) : null);
  return id && id !== "::" ? id : null;
}

/** The intent for one host: prefix updates compose with that host's interface id. */
export function intentForHost(plan: AddressPlan, host: Pick<HostRow, "ipv6" | "ipv6Ifid">): UpdateIntent {
  const fam = (p: FamilyPlan): FamilyChange => (p.kind === "set" ? p : p.kind === "delete" ? { kind: "delete" } : KEEP);
  let v6 = fam(plan.v6);
  // A host with its own interface id is a LAN machine: the router's WAN address in myipv6 is
  // not its address, the prefix is. Others take the full address when one is given.
  if (plan.prefix && (plan.onlyPrefix || host.ipv6Ifid !== null || plan.v6.kind !== "set")) {
    const ifid = effectiveInterfaceId(host);
    v6 = ifid ? { kind: "set", address: composeIPv6(plan.prefix.prefix, plan.prefix.len, ifid) } : KEEP;
  }
  return { v4: plan.onlyPrefix ? KEEP : fam(plan.v4), v6 };
}

/**
 * An interface id from its own form ("::abcd", "1:2:3:4") or from any address of the machine
 * (its low 64 bits are taken, so the NAS's current address can be pasted); invalid_address
 * otherwise. The one rule for the CLI and the API's ipv6InterfaceId.
 */
export function normalizeInterfaceId(input: string): string {
  const s = input.trim();
  let addr = parseIPv6(s);
  if (!addr && /^[0-9a-f]{1,4}(:[0-9a-f]{1,4}){3}$/i.test(s)) addr = parseIPv6(`::${s}`);
  if (!addr) fail("invalid_address", "ipv6InterfaceId must be an IPv6 interface id such as ::1234:5678:9abc:def0 (or an address carrying it)");
  const id = interfaceIdOf(addr);
  if (id === "::") fail("invalid_address", "An all-zero interface id cannot address a host");
  return id;
}

// ---------------------------------------------------------------------------------------
// Performing an update request

export type HostLine =
  | { hostname: string; result: UpdateResult; addresses: string[]; previous: HostAddresses; current: HostAddresses }
  | { hostname: string; error: IpkeepError };

export type UpdateAnswer =
  /** The request as a whole was refused: one word (badauth, abuse, notfqdn, numhost, badagent). */
  | { kind: "refused"; error: IpkeepError; rate: Verdict | null; retryAfter: number; challenge: boolean }
  /** One line per host, in request order. */
  | { kind: "hosts"; lines: HostLine[]; rate: Verdict | null; retryAfter: number };

export interface PerformDeps extends UpdateDeps {
  limits: UpdateLimits;
}

const MAX_LOGGED_TEXT = 255;
// A token pasted where a hostname goes must not end up in the stored history.
const clip = (s: string | null) => (s === null ? null : maskTokens(s.replace(/[\x00-\x1f\x7f]/g, "?")).slice(0, MAX_LOGGED_TEXT));

/**
 * Runs one update request end to end: limits, credentials, hostnames, addresses, then every
 * host's change, its log line and the token's last use in ONE transaction (one fsync), and
 * DNS told at once. The answer is protocol-neutral; transports format it.
 */
export async function performUpdate(deps: PerformDeps, call: UpdateCall): Promise<UpdateAnswer> {
  const now = nowSeconds(deps.platform.clock);
  const refused = (
    code: "unauthorized" | "forbidden" | "locked_out" | "rate_limited" | "invalid_hostname" | "too_many_hosts",
    rate: Verdict | null,
    retryAfter = 0,
    challenge = false,
    message?: string,
  ): UpdateAnswer => ({
    kind: "refused",
    error: new IpkeepError(code, message),
    rate,
    retryAfter,
    challenge,
  });
  const firstName = () => clip(HOST_PARAMS.map((p) => call.params.get(p)).find(nonEmpty) ?? call.params.get("host_id") ?? "") ?? "";
  const logEntry = (e: Partial<UpdateLogEntry> & { hostname: string; result: string }): UpdateLogEntry => ({
    at: now,
    hostnameId: null,
    tokenId: null,
    source: call.client,
    userAgent: clip(call.userAgent),
    oldIpv4: null,
    oldIpv6: null,
    newIpv4: null,
    newIpv6: null,
    ...e,
  });

  // Refusals by source come first and cost nothing: no lookup, no write.
  const source = deps.limits.admitSource(call.client);
  if (source.reason) return refused(source.reason, source.verdict, source.verdict.retryAfter);

  const secrets = presentedSecrets(call);
  if (secrets.length === 0) {
    // No credentials at all: the normal first step of clients that wait for the challenge.
    return refused("unauthorized", source.verdict, 0, true, call.malformedAuthorization ? "Malformed Authorization header" : "Authentication required");
  }
  const token = authenticate(deps, secrets);
  if (!token) {
    const locked = deps.limits.badCredentials(call.client);
    await deps.store.commitUpdate({ now, changes: [], logs: [logEntry({ hostname: firstName(), result: "badauth" })], tokenId: null });
    if (locked > 0) return refused("locked_out", source.verdict, locked);
    return refused("unauthorized", source.verdict, 0, true);
  }
  // The token's policy (expiry, time unused, source networks): the same rule in every dialect.
  const unusable = tokenRefusal(token, call.client, now);
  if (unusable) {
    await deps.store.commitUpdate({ now, changes: [], logs: [logEntry({ hostname: firstName(), tokenId: token.id, result: "badauth" })], tokenId: null });
    return refused("forbidden", source.verdict, 0, false, `This token may not be used here: ${unusable}`);
  }

  const rate = deps.limits.admitToken(token.id);
  const headerRate = rate.limit > 0 ? rate : source.verdict;
  if (!rate.allowed) {
    await deps.store.commitUpdate({ now, changes: [], logs: [logEntry({ hostname: firstName(), tokenId: token.id, result: "abuse" })], tokenId: null });
    return refused("rate_limited", headerRate, rate.retryAfter);
  }

  const names = withPraefix(
    requestedHostnames(call, () => deps.store.onlyHostnameOf(token)),
    call.params.get("praefix"),
  );
  if (names.length === 0) {
    await deps.store.commitUpdate({ now, changes: [], logs: [logEntry({ hostname: "", tokenId: token.id, result: "notfqdn" })], tokenId: token.id });
    return refused("invalid_hostname", headerRate, 0, false, "No hostname given");
  }
  if (names.length > MAX_HOSTS_PER_UPDATE) {
    await deps.store.commitUpdate({ now, changes: [], logs: [logEntry({ hostname: firstName(), tokenId: token.id, result: "numhost" })], tokenId: token.id });
    return refused("too_many_hosts", headerRate, 0, false, `At most ${MAX_HOSTS_PER_UPDATE} hostnames per request`);
  }

  let plan: AddressPlan | null = null;
  let planError: IpkeepError | null = null;
  try {
    plan = planAddresses(call.params, call.client);
  } catch (e) {
    if (!(e instanceof IpkeepError)) throw e;
    planError = e;
  }

  const lines: HostLine[] = [];
  const logs: UpdateLogEntry[] = [];
  const changes: { hostId: number; domainId: number; next: HostAddresses }[] = [];
  let retryAfter = 0;
  for (const raw of names) {
    let hostname = clip(raw) ?? "";
    let host: HostRow | null = null;
    try {
      hostname = normalizeHostname(raw);
      const found = deps.store.hostByName(hostname);
      if (!found || !tokenCovers(token, found)) fail("unknown_host");
      host = found;
      if (planError) throw planError;
    } catch (e) {
      const err = e instanceof IpkeepError ? e : new IpkeepError("internal");
      lines.push({ hostname, error: err });
      // Only a covered host's history gets the line: a token trying someone else's name is
      // logged against that token (and so its owner), never in the other user's history.
      logs.push(logEntry({ hostname, hostnameId: host?.id ?? null, tokenId: token.id, result: err.dyndns }));
      continue;
    }
    // A host already changed earlier in this request is read as changed.
    const pending = changes.find((c) => c.hostId === host.id);
    const previous = pending ? pending.next : { ipv4: host.ipv4, ipv6: host.ipv6 };
    const intent = intentForHost(plan!, pending ? { ...host, ipv6: pending.next.ipv6 } : host);
    // The token's policy may narrow it to some names and record types.
    const deniedType =
      intent.v4.kind !== "keep" && !policyAllows(token, host.name, "A")
        ? "A"
        : intent.v6.kind !== "keep" && !policyAllows(token, host.name, "AAAA")
          ? "AAAA"
          : null;
    if (deniedType) {
      const err = new IpkeepError("forbidden", `This token's policy does not allow changing ${deniedType} at ${host.name}`);
      lines.push({ hostname, error: err });
      logs.push(logEntry({ hostname, hostnameId: host.id, tokenId: token.id, result: err.dyndns }));
      continue;
    }
    const decision = decideUpdate(previous, intent);
    if (decision.result === "good") {
      const budget = deps.limits.spendChange(token.id);
      if (!budget.allowed) {
        retryAfter = Math.max(retryAfter, budget.retryAfter);
        lines.push({ hostname, error: new IpkeepError("rate_limited", "Daily change limit reached") });
        logs.push(logEntry({ hostname, hostnameId: host.id, tokenId: token.id, oldIpv4: previous.ipv4, oldIpv6: previous.ipv6, result: "abuse" }));
        continue;
      }
      if (pending) pending.next = decision.next;
      else changes.push({ hostId: host.id, domainId: host.domainId, next: decision.next });
    }
    const addresses = [intent.v4, intent.v6].flatMap((c) => (c.kind === "set" ? [c.address] : []));
    lines.push({ hostname, result: decision.result, addresses, previous, current: decision.next });
    logs.push(
      logEntry({
        hostname,
        hostnameId: host.id,
        tokenId: token.id,
        oldIpv4: previous.ipv4,
        oldIpv6: previous.ipv6,
        newIpv4: decision.next.ipv4,
        newIpv6: decision.next.ipv6,
        result: decision.result,
      }),
    );
  }

  await deps.store.commitUpdate({ now, changes, logs, tokenId: token.id });
  for (const domainId of new Set(changes.map((c) => c.domainId))) deps.changes.zoneChanged(domainId);
  return { kind: "hosts", lines, rate: headerRate, retryAfter };
}

// ---------------------------------------------------------------------------------------
// History

/** Update history is kept this long, and at most this many entries per hostname. */
export const HISTORY_MAX_AGE_DAYS = 90;
export const HISTORY_MAX_PER_HOST = 1000;
/** Entries that belong to no hostname (bad credentials, unknown names), across all of them. */
export const HISTORY_MAX_UNATTACHED = 10_000;

export function pruneHistory(deps: { store: Pick<UpdateStore, "pruneUpdateLog">; platform: Platform }): number {
  const now = nowSeconds(deps.platform.clock);
  return deps.store.pruneUpdateLog({
    before: now - HISTORY_MAX_AGE_DAYS * 86_400,
    maxPerHost: HISTORY_MAX_PER_HOST,
    maxUnattached: HISTORY_MAX_UNATTACHED,
  });
}
