/**
 * What route factories receive: the store, the platform and the change sink, plus the
 * peer-address lookup filled in by the HTTP listener.
 */
import type { UpdateLimits } from "../core/limits";
import type { PasswordHasher } from "../core/auth";
import type { MailerFactory } from "../core/mail";
import type { DelegationLookup } from "../core/domains";
import type { Platform } from "../core/platform";
import type { ChangeSink } from "../core/ports";
import { type Cidr, parseCidr } from "../core/addresses";
import { fail } from "../core/errors";
import { resolveClientAddress } from "../core/update";
import type { TransportPolicy } from "../core/transport-policy";
import type { Store } from "../store";

export interface ApiDeps {
  store: Store;
  platform: Platform;
  changes: ChangeSink;
  /** Public base URL used in links ("https://ddns.example.com"); null: derived from the request. */
  publicUrl: string | null;
  /** Which requests may use plain HTTP (core/transport-policy.ts); absent: the strict default. */
  transportPolicy?: TransportPolicy;
  /** Addresses besides loopback that may read /metrics. */
  metricsAllow?: Cidr[];
  /** Limits of the update endpoints (default: a fresh set with the default limits). */
  updateLimits?: UpdateLimits;
  /** CIDRs whose X-Forwarded-For / X-Real-IP are believed. */
  trustedProxies?: string[];
  /** Directory holding the executables, SHA256SUMS and install.sh the primary hands out (beside its executable). */
  distDir?: string | null;
  /** The JWT signing secret; default: settings key jwt_secret (created when missing). */
  jwtSecret?: string;
  /** Builds the SMTP mailer from the settings in force; default: nodemailer (src/mail.ts). */
  mailer?: MailerFactory;
  /** Shared argon2 budget; default: one per app. */
  passwords?: PasswordHasher;
  /** Requests per minute per class, overriding the defaults (api/limits.ts). */
  rateLimits?: Partial<Record<"login" | "register" | "standard", number>>;
  /** Asks DNS whether a custom domain is delegated here; absent: delegation checks fail politely. */
  delegation?: DelegationLookup | null;
}

// The socket's address per request. Bun.serve knows it; Elysia's app.handle (tests) does not,
// so the listener records it here and routes read it back.
const peers = new WeakMap<Request, string>();

export function rememberPeer(req: Request, address: string | null | undefined): void {
  if (address) peers.set(req, address);
}

export function peerOf(req: Request): string | null {
  return peers.get(req) ?? null;
}

// Which listener a request came through; absent: plain HTTP.
const transports = new WeakMap<Request, "http" | "https">();

export function rememberTransport(req: Request, transport: "http" | "https"): void {
  transports.set(req, transport);
}

export function transportOf(req: Request): "http" | "https" {
  return transports.get(req) ?? "http";
}

// The origin the client asked for, when the listener had to rewrite the request's URL (no Host,
// or one too short for Elysia's router; see http-listener.ts); absent: the URL's own.
const origins = new WeakMap<Request, string>();

export function rememberOrigin(req: Request, origin: string): void {
  origins.set(req, origin);
}

/** "https://ddns.example.com": the scheme and authority the request was sent to. */
export function originOf(req: Request): string {
  return origins.get(req) ?? new URL(req.url).origin;
}

// Trusted proxies parsed once per app.
const trustedByDeps = new WeakMap<ApiDeps, Cidr[]>();

export function trustedCidrs(deps: ApiDeps): Cidr[] {
  let cidrs = trustedByDeps.get(deps);
  if (!cidrs) {
    cidrs = (deps.trustedProxies ?? []).map((c) => parseCidr(c) ?? fail("invalid_input", `Invalid trusted proxy "${c}"`));
    trustedByDeps.set(deps, cidrs);
  }
  return cidrs;
}

/**
 * The client's address for every route (limits, logs, audit, what-is-my-IP): the socket's, or
 * what a configured trusted proxy says it forwarded. peerOf() stays the socket itself, for
 * rules about the connection (HTTPS policy, /metrics access).
 */
export function clientOf(deps: ApiDeps, req: Request): string | null {
  return resolveClientAddress(peerOf(req), req.headers.get("x-forwarded-for"), req.headers.get("x-real-ip"), trustedCidrs(deps));
}
