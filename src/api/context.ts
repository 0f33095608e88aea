/**
 * The HTTP context: one object holding every long-lived collaborator of the HTTP surface, each
 * a required field, built once by the composition root (src/server.ts) and by the test
 * harnesses (createHttpContext below). Route factories receive it; nothing in src/api keeps
 * state of its own at module level.
 */
import type { Cidr } from "../core/addresses";
import { type AuthDeps, ensureJwtSecret, PasswordHasher } from "../core/auth";
import type { DelegationLookup } from "../core/domains";
import { type HashStart, LoginDelays, UpdateLimits } from "../core/limits";
import type { MailerFactory } from "../core/mail";
import type { Platform } from "../core/platform";
import type { ChangeSink, ZoneSigningPort } from "../core/ports";
import { smtpSettings } from "../core/settings";
import { buildTransportPolicy, type TransportPolicy } from "../core/transport-policy";
import { resolveClientAddress } from "../core/update";
import { baseUrlFrom } from "../core/urls";
import { log } from "../log";
import { createMailer } from "../mail";
import { metrics } from "../metrics";
import type { Store } from "../store";
import { createSessionSigner } from "./session";
import { type Binaries, distCatalog } from "./binaries";
import { RATE_LIMITS, type RateClass } from "./routes";

/** What the listener knows about a request and a Request object cannot carry. */
export interface RequestFacts {
  /** The socket peer; null: handed to the app in-process (tests, the CLI). */
  peer: string | null;
  /** Which listener it came through. */
  transport: "http" | "https";
  /** The origin the client asked for, when the listener had to rewrite the URL (see http-listener.ts). */
  origin: string | null;
}

/** The facts of the requests in flight, per context (a request is forgotten with it). */
export class RequestFactsTable {
  private readonly facts = new WeakMap<Request, RequestFacts>();
  remember(req: Request, facts: Partial<RequestFacts>): void {
    this.facts.set(req, { peer: facts.peer ?? null, transport: facts.transport ?? "http", origin: facts.origin ?? null });
  }
  of(req: Request): RequestFacts {
    return this.facts.get(req) ?? { peer: null, transport: "http", origin: null };
  }
}

export interface HttpContext {
  store: Store;
  platform: Platform;
  changes: ChangeSink;
  /** --url (IPKEEP_URL, the config file); null: the stored URL, then the request's origin (core/urls.ts). */
  publicUrl: string | null;
  /** Which requests may use plain HTTP, and the trusted proxies (parsed once) whose forwarded address is believed. */
  transportPolicy: TransportPolicy;
  /** Addresses besides loopback that may read /metrics. */
  metricsAllow: Cidr[];
  /** Limits of the update endpoints, shared with the ACME routes and "/". */
  updateLimits: UpdateLimits;
  /** Requests per minute per rate class of the JSON API. */
  rateLimits: Record<RateClass, number>;
  /** Password hasher (bounded argon2 budget), session signer and mailer. */
  auth: AuthDeps;
  /** The executables, SHA256SUMS and install.sh the primary hands out. */
  binaries: Binaries;
  /** Asks DNS whether a custom domain is delegated here; null: delegation checks fail politely. */
  delegation: DelegationLookup | null;
  /** Zone signing (dns/dnssec/manage.ts); null: DNSSEC settings answer that they are not available. */
  dnssec: ZoneSigningPort | null;
  /** Per-request facts the listener supplies. */
  requests: RequestFactsTable;
}

export interface HttpContextInput {
  store: Store;
  platform: Platform;
  changes: ChangeSink;
  publicUrl?: string | null;
  /** Default: the strict policy with the trusted proxies below. */
  transportPolicy?: TransportPolicy;
  trustedProxies?: string[];
  metricsAllow?: Cidr[];
  updateLimits?: UpdateLimits;
  rateLimits?: Partial<Record<RateClass, number>>;
  /** Default: the install's secret (settings, created when missing). */
  jwtSecret?: string;
  mailer?: MailerFactory;
  passwords?: PasswordHasher;
  distDir?: string | null;
  /** This compiled executable and its architecture, served when distDir lacks it (api/binaries.ts). */
  selfExecutable?: { path: string; target: "linux-x64" | "linux-arm64" } | null;
  delegation?: DelegationLookup | null;
  dnssec?: ZoneSigningPort | null;
}

/** Every password hash started: counted in /metrics, and at debug level logged with its wait. */
function countHash(s: HashStart): void {
  metrics.passwordHashes++;
  log("debug", "password hash", { source: s.source, started_ahead: s.startedAhead, queued: s.queued });
}

/** Builds the context once: each collaborator made here, or taken as given. */
export function createHttpContext(input: HttpContextInput): HttpContext {
  const { store, platform } = input;
  const transportPolicy = input.transportPolicy ?? buildTransportPolicy({ trustedProxies: input.trustedProxies ?? [], allowInsecureHttp: false });
  const factory = input.mailer ?? createMailer;
  const passwords = input.passwords ?? new PasswordHasher(platform, { onStart: countHash });
  metrics.passwordQueue = () => passwords.queue.stats;
  const auth: AuthDeps = {
    store,
    platform,
    passwords,
    loginDelays: new LoginDelays(platform.clock),
    signer: createSessionSigner(input.jwtSecret ?? ensureJwtSecret({ store, platform }), platform.clock),
    mailer: () => {
      const smtp = smtpSettings(store.settings);
      return smtp ? factory(smtp) : null;
    },
    onMailError: (e) => log("warn", "mail not sent", { error: (e as Error)?.message ?? String(e) }),
  };
  return {
    store,
    platform,
    changes: input.changes,
    publicUrl: input.publicUrl ?? null,
    transportPolicy,
    metricsAllow: input.metricsAllow ?? [],
    updateLimits: input.updateLimits ?? new UpdateLimits(platform.clock),
    rateLimits: { ...RATE_LIMITS, ...input.rateLimits },
    auth,
    binaries: distCatalog(input.distDir ?? null, input.selfExecutable ?? null),
    delegation: input.delegation ?? null,
    dnssec: input.dnssec ?? null,
    requests: new RequestFactsTable(),
  };
}

/** The socket's address (rules about the connection: HTTPS policy, /metrics access). */
export function peerOf(ctx: HttpContext, req: Request): string | null {
  return ctx.requests.of(req).peer;
}

export function transportOf(ctx: HttpContext, req: Request): "http" | "https" {
  return ctx.requests.of(req).transport;
}

/** "https://ddns.example.com": the scheme and authority the request was sent to. */
export function originOf(ctx: HttpContext, req: Request): string {
  return ctx.requests.of(req).origin ?? new URL(req.url).origin;
}

/**
 * The client's address for every route (limits, logs, audit, what-is-my-IP): the socket's, or
 * what a configured trusted proxy says it forwarded.
 */
export function clientOf(ctx: HttpContext, req: Request): string | null {
  return resolveClientAddress(peerOf(ctx, req), req.headers.get("x-forwarded-for"), req.headers.get("x-real-ip"), ctx.transportPolicy.trustedProxies);
}

/** The base of every link an answer carries (core/urls.ts: --url, stored URL, the request's origin). */
export function linkBase(ctx: HttpContext, request: Request): string {
  return baseUrlFrom(ctx.store.settings, ctx.publicUrl, originOf(ctx, request));
}

/** Address, user agent and link base of a request, as core's RequestMeta. */
export function requestMeta(ctx: HttpContext, request: Request) {
  return { address: clientOf(ctx, request), userAgent: request.headers.get("user-agent"), baseUrl: linkBase(ctx, request) };
}
