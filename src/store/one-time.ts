import type { Driver } from "./driver";

export type OneTimePurpose = "setup" | "invite" | "reset" | "confirm" | "login2fa";

export interface OneTimeRow {
  id: number;
  purpose: OneTimePurpose;
  userId: number | null;
  email: string | null;
  expiresAt: number;
}

export class OneTimeTokens {
  constructor(private db: Driver) {}

  create(t: { purpose: OneTimePurpose; hash: string; userId?: number | null; email?: string | null; expiresAt: number }, now: number): void {
    this.db
      .prepare("INSERT INTO one_time_tokens (purpose, token_hash, user_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(t.purpose, t.hash, t.userId ?? null, t.email ?? null, now, t.expiresAt);
  }
  /** Marks a live token used and returns it; null when unknown, used or expired (single use). */
  consume(purpose: OneTimePurpose, hash: string, now: number): OneTimeRow | null {
    return this.db.transaction(() => {
      const r = this.db
        .prepare(
          `SELECT id, purpose, user_id AS userId, email, expires_at AS expiresAt FROM one_time_tokens
           WHERE purpose = ? AND token_hash = ? AND used_at IS NULL AND expires_at > ?`,
        )
        .get<OneTimeRow>(purpose, hash, now);
      if (!r) return null;
      this.db.prepare("UPDATE one_time_tokens SET used_at = ? WHERE id = ?").run(now, r.id);
      return r;
    });
  }
  /** Invalidates every live token of a purpose (a new setup code replaces the old one). */
  expireAll(purpose: OneTimePurpose, now: number): void {
    this.db.prepare("UPDATE one_time_tokens SET used_at = ? WHERE purpose = ? AND used_at IS NULL").run(now, purpose);
  }
}
