/**
 * Who is calling the management API. One function every authenticated route uses, so the
 * security rules (signature, expiry, revoked sessions, disabled users, API keys) live in one
 * place: a session JWT ("Authorization: Bearer eyJ…") or a long-lived API key
 * ("Authorization: Bearer ipka_…"), accepted alike.
 */
import { jwt } from "@elysiajs/jwt";
import { apiKeyUser, type AuthDeps, ensureJwtSecret, PasswordHasher, type SessionClaims, type SessionSigner, sessionUser } from "../core/auth";
import { fail } from "../core/errors";
import { type HashStart, LoginDelays } from "../core/limits";
import type { Mailer } from "../core/mail";
import type { Clock } from "../core/platform";
import type { UserRow } from "../core/ports";
import { smtpSettings } from "../core/settings";
import { looksLikeToken } from "../core/tokens";
import { baseUrlFrom } from "../core/urls";
import { log } from "../log";
import { createMailer } from "../mail";
import { metrics } from "../metrics";
import { type ApiDeps, clientOf, originOf } from "./context";
import { parseBearer } from "./credentials";

export interface Principal {
  user: UserRow;
  via: "session" | "apiKey";
  /** The session (JWT jti) when via === "session". */
  sessionId: string | null;
}

/** HS256 sessions through @elysiajs/jwt; expiry judged by the injected clock. */
export function createSessionSigner(secret: string, clock: Clock): SessionSigner {
  const j = jwt({ name: "jwt", secret, alg: "HS256" }).decorator.jwt;
  return {
    sign: (c) => j.sign({ sub: c.sub, jti: c.jti, exp: c.exp }),
    async verify(token) {
      if (token.length > 4096) return null;
      const p = await j.verify(token, { algorithms: ["HS256"], currentDate: new Date(clock.now()) });
      if (!p || typeof p.sub !== "string" || typeof p.jti !== "string" || typeof p.exp !== "number") return null;
      return { sub: p.sub, jti: p.jti, exp: p.exp } satisfies SessionClaims;
    },
  };
}

/** Every password hash started: counted in /metrics, and at debug level logged with its wait. */
function countHash(s: HashStart): void {
  metrics.passwordHashes++;
  log("debug", "password hash", { source: s.source, started_ahead: s.startedAhead, queued: s.queued });
}

// One set of account machinery per ApiDeps (one per server, one per test app): the signer
// holds the install's secret, the hasher bounds concurrent argon2 work for the process.
const runtimes = new WeakMap<ApiDeps, AuthDeps>();

export function authDeps(deps: ApiDeps): AuthDeps {
  let r = runtimes.get(deps);
  if (!r) {
    const secret = deps.jwtSecret ?? ensureJwtSecret(deps);
    const factory = deps.mailer ?? createMailer;
    const passwords = deps.passwords ?? new PasswordHasher(deps.platform, { onStart: countHash });
    metrics.passwordQueue = () => passwords.queue.stats;
    r = {
      store: deps.store,
      platform: deps.platform,
      passwords,
      loginDelays: new LoginDelays(deps.platform.clock),
      signer: createSessionSigner(secret, deps.platform.clock),
      mailer: (): Mailer | null => {
        const smtp = smtpSettings(deps.store.settings);
        return smtp ? factory(smtp) : null;
      },
      onMailError: (e) => log("warn", "mail not sent", { error: (e as Error)?.message ?? String(e) }),
    };
    runtimes.set(deps, r);
  }
  return r;
}

export async function authenticate(deps: ApiDeps, request: Request): Promise<Principal> {
  const presented = parseBearer(request.headers.get("authorization"));
  if (!presented) fail("unauthorized", "Authentication required");
  if (looksLikeToken(presented, "apiKey")) {
    return { user: apiKeyUser(deps, presented), via: "apiKey", sessionId: null };
  }
  const s = await sessionUser(authDeps(deps), presented);
  return { user: s.user, via: "session", sessionId: s.sessionId };
}

export function requireAdmin(p: Principal): void {
  if (p.user.role !== "admin") fail("forbidden", "Admin only");
}

/** The base of every link an answer carries (core/urls.ts: --url, stored URL, the request's origin). */
export function linkBase(deps: ApiDeps, request: Request): string {
  return baseUrlFrom(deps.store.settings, deps.publicUrl, originOf(request));
}

/** Address, user agent and link base of a request, as core's RequestMeta. */
export function requestMeta(deps: ApiDeps, request: Request) {
  return { address: clientOf(deps, request), userAgent: request.headers.get("user-agent"), baseUrl: linkBase(deps, request) };
}
