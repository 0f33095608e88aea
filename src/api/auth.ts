/**
 * Who is calling the management API. One function every authenticated route uses, so the
 * security rules (signature, expiry, revoked sessions, disabled users, API keys) live in one
 * place: a session JWT ("Authorization: Bearer eyJ…") or a long-lived API key
 * ("Authorization: Bearer ipka_…"), accepted alike.
 */
import { apiKeyUser, sessionUser } from "../core/auth";
import { fail } from "../core/errors";
import type { UserRow } from "../core/ports";
import { looksLikeToken } from "../core/tokens";
import type { HttpContext } from "./context";
import { parseBearer } from "./credentials";

export interface Principal {
  user: UserRow;
  via: "session" | "apiKey";
  /** The session (JWT jti) when via === "session". */
  sessionId: string | null;
}

export async function authenticate(deps: HttpContext, request: Request): Promise<Principal> {
  const presented = parseBearer(request.headers.get("authorization"));
  if (!presented) fail("unauthorized", "Authentication required");
  if (looksLikeToken(presented, "apiKey")) {
    return { user: apiKeyUser(deps, presented), via: "apiKey", sessionId: null };
  }
  const s = await sessionUser(deps.auth, presented);
  return { user: s.user, via: "session", sessionId: s.sessionId };
}

export function requireAdmin(p: Principal): void {
  if (p.user.role !== "admin") fail("forbidden", "Admin only");
}
