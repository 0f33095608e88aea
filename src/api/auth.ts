/**
 * Who is calling the management API. One function every authenticated route uses, so the
 * security rules (revoked sessions, disabled users, API keys) live in one place.
 *
 * Today: long-lived API keys ("Authorization: Bearer ipka_…"). JWT sessions are added by the
 * accounts work behind the same signature.
 */
import { fail } from "../core/errors";
import type { UserRow } from "../core/ports";
import { hashToken, looksLikeToken } from "../core/tokens";
import type { ApiDeps } from "./context";
import { parseBearer } from "./credentials";

export interface Principal {
  user: UserRow;
  via: "session" | "apiKey";
  /** The session (JWT jti) when via === "session". */
  sessionId: string | null;
}

export async function authenticate(deps: ApiDeps, request: Request): Promise<Principal> {
  const presented = parseBearer(request.headers.get("authorization"));
  if (!presented) fail("unauthorized", "Authentication required");
  if (looksLikeToken(presented, "apiKey")) {
    const row = deps.store.db
      .prepare("SELECT user_id FROM api_keys WHERE token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)")
      .get<{ user_id: number }>(hashToken(deps.platform, presented), Math.floor(deps.platform.clock.now() / 1000));
    const user = row ? deps.store.users.byId(row.user_id) : null;
    if (!user || user.disabled) fail("unauthorized", "Invalid credentials");
    return { user, via: "apiKey", sessionId: null };
  }
  fail("unauthorized", "Invalid credentials");
}

export function requireAdmin(p: Principal): void {
  if (p.user.role !== "admin") fail("forbidden", "Admin only");
}
