/**
 * Request rate limits of the JSON API, as ipdock documents them: login 10/min, register
 * 20/min, everything else a standard rate; X-RateLimit-Limit / X-RateLimit-Remaining /
 * Retry-After on every response. The class of each route is in the route table (routes.ts);
 * the update endpoints have their own per-token limits (core/limits.ts).
 */
import { WindowLimiter } from "../core/limits";
import { clientOf, type HttpContext } from "./context";
import type { RateClass } from "./routes";

export interface RateOutcome {
  headers: Record<string, string>;
  allowed: boolean;
}

export function createRateGate(ctx: HttpContext) {
  const limiter = new WindowLimiter(ctx.platform.clock);
  return (request: Request, cls: RateClass): RateOutcome => {
    const address = clientOf(ctx, request) ?? "local";
    // Standard traffic is counted per caller (address + credential) so household members
    // behind one NAT do not share one budget; credential routes are counted per address.
    let who = address;
    if (cls === "standard") {
      const auth = request.headers.get("authorization");
      if (auth) who += `|${ctx.platform.sha256Hex(auth).slice(0, 16)}`;
    }
    const d = limiter.hit(`${cls}|${who}`, ctx.rateLimits[cls]);
    const headers: Record<string, string> = {
      "x-ratelimit-limit": String(d.limit),
      "x-ratelimit-remaining": String(d.remaining),
      // On every answer, as ipdock does: when the current window ends.
      "retry-after": String(d.resetIn),
    };
    return { headers, allowed: d.allowed };
  };
}
