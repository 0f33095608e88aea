/**
 * Request rate limits of the JSON API, as ipdock documents them: login 10/min, register
 * 20/min, everything else a standard rate; X-RateLimit-Limit / X-RateLimit-Remaining /
 * Retry-After on every response. The update endpoints have their own per-token limits.
 */
import { WindowLimiter } from "../core/limits";
import type { ApiDeps } from "./context";
import { clientOf } from "./context";

export type RateClass = "login" | "register" | "standard";

export const RATE_LIMITS: Record<RateClass, number> = {
  login: 10,
  register: 20,
  // ipdock says "standard"; 300/min lets a dashboard page fan out without tripping it.
  standard: 300,
};

/** Unauthenticated routes that take a secret: guessing them is what the login rate stops. */
const LOGIN_CLASS = new Set([
  "/api/auth/login",
  "/api/auth/login/2fa",
  "/api/auth/setup",
  "/api/auth/accept-invite",
  "/api/auth/password-reset",
  "/api/auth/password-reset/confirm",
  "/api/auth/confirm-email",
]);

/** Paths limited elsewhere (update protocol, install API) or not at all; /api/v2/nodes is standard. */
const NOT_HERE = [/^\/nic\//, /^\/update(\.php)?$/, /^\/v[23]\/update$/, /^\/api\/update$/, /^\/api\/myip$/, /^\/api\/v2\/(?!nodes(\/|$))/, /^\/acme-dns\//, /^\/httpreq\//];

export function rateClass(method: string, path: string): RateClass | null {
  if (NOT_HERE.some((r) => r.test(path))) return null;
  if (method === "POST" && path === "/api/auth/register") return "register";
  if (method === "POST" && LOGIN_CLASS.has(path)) return "login";
  return "standard";
}

export interface RateOutcome {
  headers: Record<string, string>;
  allowed: boolean;
}

export function createRateGate(deps: ApiDeps) {
  const limiter = new WindowLimiter(deps.platform.clock);
  const limits = { ...RATE_LIMITS, ...deps.rateLimits };
  return (request: Request, path: string): RateOutcome | null => {
    const cls = rateClass(request.method, path);
    if (!cls) return null;
    const address = clientOf(deps, request) ?? "local";
    // Standard traffic is counted per caller (address + credential) so household members
    // behind one NAT do not share one budget; credential routes are counted per address.
    let who = address;
    if (cls === "standard") {
      const auth = request.headers.get("authorization");
      if (auth) who += `|${deps.platform.sha256Hex(auth).slice(0, 16)}`;
    }
    const d = limiter.hit(`${cls}|${who}`, limits[cls]);
    const headers: Record<string, string> = {
      "x-ratelimit-limit": String(d.limit),
      "x-ratelimit-remaining": String(d.remaining),
      // On every answer, as ipdock does: when the current window ends.
      "retry-after": String(d.resetIn),
    };
    return { headers, allowed: d.allowed };
  };
}
