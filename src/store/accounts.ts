/**
 * Account secrets and state beyond the user row: credentials (password hash, TOTP), quotas,
 * sessions (one row per JWT), API keys and 2FA recovery codes. Secrets are stored as
 * hashes, except the TOTP secret, which is needed in clear to compute pins: it is sealed
 * with the data directory's key (store/secret-box.ts).
 */
import type { AccountRow, ApiKeyRow, Credentials, Quota, SessionRow } from "../core/ports";
import type { Driver } from "./driver";
import { totpContext } from "./sealed";
import { isSealed, type SecretBox } from "./secret-box";

interface RawAccount {
  id: number;
  email: string;
  role: "admin" | "user";
  disabled: number;
  email_confirmed: number;
  totp_enabled: number;
  quota_hostnames: number | null;
  quota_domains: number | null;
  quota_records: number | null;
  created_at: number;
  updated_at: number;
}

const ACCOUNT_COLS = "id, email, role, disabled, email_confirmed, totp_enabled, quota_hostnames, quota_domains, quota_records, created_at, updated_at";

const account = (r: RawAccount | null): AccountRow | null =>
  r && {
    id: r.id,
    email: r.email,
    role: r.role,
    disabled: !!r.disabled,
    emailConfirmed: !!r.email_confirmed,
    totpEnabled: !!r.totp_enabled,
    quota: { hostnames: r.quota_hostnames, domains: r.quota_domains, records: r.quota_records },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };

export class Accounts {
  constructor(
    private db: Driver,
    private box: SecretBox,
  ) {}

  byId(id: number): AccountRow | null {
    return account(this.db.prepare(`SELECT ${ACCOUNT_COLS} FROM users WHERE id = ?`).get<RawAccount>(id));
  }
  list(): AccountRow[] {
    return this.db
      .prepare(`SELECT ${ACCOUNT_COLS} FROM users ORDER BY id`)
      .all<RawAccount>()
      .map((r) => account(r)!);
  }
  /** The TOTP secret opened; one that does not open with this directory's key reads as null. */
  credentials(id: number): Credentials | null {
    const c = this.db
      .prepare(
        `SELECT password_hash AS passwordHash, totp_secret AS totpSecret, totp_enabled AS totpEnabled, totp_last_step AS totpLastStep
         FROM users WHERE id = ?`,
      )
      .get<Credentials>(id);
    if (c && isSealed(c.totpSecret)) c.totpSecret = this.box.tryOpen(c.totpSecret, totpContext(id));
    return c;
  }
  setPassword(id: number, hash: string, now: number): void {
    this.db.prepare("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?").run(hash, now, id);
  }
  /** A new address is unconfirmed until its owner follows the confirmation link. */
  setEmail(id: number, email: string, now: number): void {
    this.db.prepare("UPDATE users SET email = ?, email_confirmed = 0, updated_at = ? WHERE id = ?").run(email, now, id);
  }
  setEmailConfirmed(id: number, now: number): void {
    this.db.prepare("UPDATE users SET email_confirmed = 1, updated_at = ? WHERE id = ?").run(now, id);
  }
  setDisabled(id: number, disabled: boolean, now: number): void {
    this.db.prepare("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?").run(disabled ? 1 : 0, now, id);
  }
  setRole(id: number, role: "admin" | "user", now: number): void {
    this.db.prepare("UPDATE users SET role = ?, updated_at = ? WHERE id = ?").run(role, now, id);
  }
  setQuota(id: number, q: Partial<Quota>, now: number): void {
    const cols: [keyof Quota, string][] = [
      ["hostnames", "quota_hostnames"],
      ["domains", "quota_domains"],
      ["records", "quota_records"],
    ];
    for (const [k, col] of cols) {
      if (k in q) this.db.prepare(`UPDATE users SET ${col} = ?, updated_at = ? WHERE id = ?`).run(q[k] ?? null, now, id);
    }
  }
  /** Pending secret (not yet enabled) or null to clear two-factor entirely. */
  setTotp(id: number, secret: string | null, enabled: boolean, now: number): void {
    this.db
      .prepare("UPDATE users SET totp_secret = ?, totp_enabled = ?, totp_last_step = NULL, updated_at = ? WHERE id = ?")
      .run(secret === null ? null : this.box.seal(secret, totpContext(id)), enabled ? 1 : 0, now, id);
  }
  /**
   * Records an accepted TOTP step; false when a step at or after it was already used, so two
   * concurrent requests with the same pin cannot both succeed.
   */
  useTotpStep(id: number, step: number): boolean {
    return (
      this.db.prepare("UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)").run(step, id, step).changes > 0
    );
  }
}

export class Sessions {
  constructor(private db: Driver) {}

  create(s: { id: string; userId: number; expiresAt: number; address: string | null; userAgent: string | null }, now: number): void {
    this.db
      .prepare("INSERT INTO sessions (id, user_id, created_at, expires_at, address, user_agent) VALUES (?, ?, ?, ?, ?, ?)")
      .run(s.id, s.userId, now, s.expiresAt, s.address, s.userAgent);
  }
  /** A live session: exists, not revoked, not expired. */
  live(id: string, now: number): SessionRow | null {
    return this.db
      .prepare(
        `SELECT id, user_id AS userId, created_at AS createdAt, expires_at AS expiresAt FROM sessions
         WHERE id = ? AND revoked_at IS NULL AND expires_at > ?`,
      )
      .get<SessionRow>(id, now);
  }
  revoke(id: string, now: number): boolean {
    return this.db.prepare("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(now, id).changes > 0;
  }
  /** Every session of a user but one (after a password change, the other devices are logged out). */
  revokeAllFor(userId: number, now: number, except: string | null = null): number {
    return this.db.prepare("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ?").run(now, userId, except).changes;
  }
  /** Expired rows are useless; keeps the table from growing without bound. */
  prune(now: number): void {
    this.db.prepare("DELETE FROM sessions WHERE expires_at <= ?").run(now);
  }
}

interface RawKey {
  id: number;
  user_id: number;
  label: string;
  hint: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}
const KEY_COLS = "id, user_id, label, hint, created_at, expires_at, last_used_at";
const key = (r: RawKey | null): ApiKeyRow | null =>
  r && { id: r.id, userId: r.user_id, label: r.label, hint: r.hint, createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at };

export class ApiKeys {
  constructor(private db: Driver) {}

  create(k: { userId: number; label: string; hash: string; hint: string; expiresAt: number | null }, now: number): ApiKeyRow {
    const r = this.db
      .prepare("INSERT INTO api_keys (user_id, label, token_hash, hint, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(k.userId, k.label, k.hash, k.hint, now, k.expiresAt);
    return this.byId(r.lastInsertRowid)!;
  }
  byId(id: number): ApiKeyRow | null {
    return key(this.db.prepare(`SELECT ${KEY_COLS} FROM api_keys WHERE id = ? AND revoked_at IS NULL`).get<RawKey>(id));
  }
  /** A usable key: not revoked, not expired. */
  liveByHash(hash: string, now: number): ApiKeyRow | null {
    return key(
      this.db
        .prepare(`SELECT ${KEY_COLS} FROM api_keys WHERE token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`)
        .get<RawKey>(hash, now),
    );
  }
  list(userId: number): ApiKeyRow[] {
    return this.db
      .prepare(`SELECT ${KEY_COLS} FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY id`)
      .all<RawKey>(userId)
      .map((r) => key(r)!);
  }
  revoke(id: number, now: number): boolean {
    return this.db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(now, id).changes > 0;
  }
  touch(id: number, now: number): void {
    this.db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(now, id);
  }
}

export class RecoveryCodes {
  constructor(private db: Driver) {}

  replace(userId: number, hashes: string[]): void {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM recovery_codes WHERE user_id = ?").run(userId);
      for (const h of hashes) this.db.prepare("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)").run(userId, h);
    });
  }
  /** Marks an unused code used; false when unknown or already used (single use). */
  consume(userId: number, hash: string, now: number): boolean {
    return this.db.prepare("UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL").run(now, userId, hash).changes > 0;
  }
  clear(userId: number): void {
    this.db.prepare("DELETE FROM recovery_codes WHERE user_id = ?").run(userId);
  }
}
