/**
 * Session JWTs: HS256 through @elysiajs/jwt, expiry judged by the injected clock.
 */
import { jwt } from "@elysiajs/jwt";
import type { SessionClaims, SessionSigner } from "../core/auth";
import type { Clock } from "../core/platform";

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
