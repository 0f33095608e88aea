import type { TokenScope, UpdateTokenRow } from "../core/ports";
import type { TokenPolicy } from "../core/token-policy";
import type { Driver } from "./driver";
import { tokenTsigContext } from "./sealed";
import type { SecretBox } from "./secret-box";

interface Raw {
  id: number;
  user_id: number;
  label: string;
  hint: string;
  scope: TokenScope;
  created_at: number;
  last_used_at: number | null;
  tsig_name: string | null;
  tsig_algorithm: string | null;
  policy: string | null;
}
const COLS = "id, user_id, label, hint, scope, created_at, last_used_at, tsig_name, tsig_algorithm, policy";

export class UpdateTokens {
  constructor(
    private db: Driver,
    private box: SecretBox,
  ) {}

  private row(r: Raw | null): UpdateTokenRow | null {
    if (!r) return null;
    const hostIds =
      r.scope === "all"
        ? []
        : this.db
            .prepare("SELECT hostname_id FROM update_token_hosts WHERE token_id = ? ORDER BY hostname_id")
            .all<{ hostname_id: number }>(r.id)
            .map((x) => x.hostname_id);
    return {
      id: r.id,
      userId: r.user_id,
      label: r.label,
      hint: r.hint,
      scope: r.scope,
      hostIds,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      tsig: r.tsig_name && r.tsig_algorithm ? { name: r.tsig_name, algorithm: r.tsig_algorithm } : null,
      policy: r.policy ? (JSON.parse(r.policy) as TokenPolicy) : null,
    };
  }

  create(t: { userId: number; label: string; hash: string; hint: string; scope: TokenScope; hostIds: number[] }, now: number): UpdateTokenRow {
    return this.db.transaction(() => {
      const r = this.db
        .prepare("INSERT INTO update_tokens (user_id, label, token_hash, hint, scope, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .run(t.userId, t.label, t.hash, t.hint, t.scope, now);
      for (const h of t.hostIds) {
        this.db.prepare("INSERT INTO update_token_hosts (token_id, hostname_id) VALUES (?, ?)").run(r.lastInsertRowid, h);
      }
      return this.byId(r.lastInsertRowid)!;
    });
  }
  byId(id: number): UpdateTokenRow | null {
    return this.row(this.db.prepare(`SELECT ${COLS} FROM update_tokens WHERE id = ? AND revoked_at IS NULL`).get<Raw>(id));
  }
  /** A usable token: not revoked, and its owner not disabled (a disabled user is refused everywhere). */
  byHash(hash: string): UpdateTokenRow | null {
    return this.row(
      this.db
        .prepare(
          `SELECT ${COLS} FROM update_tokens WHERE token_hash = ? AND revoked_at IS NULL
           AND user_id IN (SELECT id FROM users WHERE disabled = 0)`,
        )
        .get<Raw>(hash),
    );
  }
  list(userId?: number): UpdateTokenRow[] {
    const rows =
      userId === undefined
        ? this.db.prepare(`SELECT ${COLS} FROM update_tokens WHERE revoked_at IS NULL ORDER BY id`).all<Raw>()
        : this.db.prepare(`SELECT ${COLS} FROM update_tokens WHERE revoked_at IS NULL AND user_id = ? ORDER BY id`).all<Raw>(userId);
    return rows.map((r) => this.row(r)!);
  }
  /** Replaces the secret; the old value stops working in the same commit. */
  rehash(id: number, hash: string, hint: string): boolean {
    return this.db.prepare("UPDATE update_tokens SET token_hash = ?, hint = ? WHERE id = ? AND revoked_at IS NULL").run(hash, hint, id).changes > 0;
  }
  setTsig(id: number, key: { name: string; algorithm: string; secret: string } | null): void {
    this.db
      .prepare("UPDATE update_tokens SET tsig_name = ?, tsig_algorithm = ?, tsig_secret = ? WHERE id = ?")
      .run(key?.name ?? null, key?.algorithm ?? null, key ? this.box.seal(key.secret, tokenTsigContext(id)) : null, id);
  }
  /**
   * The usable token (as byHash) whose DNS UPDATE key has this name, with the key's secret
   * opened; null when there is none, or its secret does not open with this key file.
   */
  byTsigName(name: string): { token: UpdateTokenRow; secret: string } | null {
    const r = this.db
      .prepare(
        `SELECT ${COLS}, tsig_secret FROM update_tokens WHERE tsig_name = ? AND revoked_at IS NULL
         AND user_id IN (SELECT id FROM users WHERE disabled = 0)`,
      )
      .get<Raw & { tsig_secret: string | null }>(name);
    const secret = r?.tsig_secret ? this.box.tryOpen(r.tsig_secret, tokenTsigContext(r.id)) : null;
    return r && secret ? { token: this.row(r)!, secret } : null;
  }
  setPolicy(id: number, policy: TokenPolicy | null): void {
    this.db.prepare("UPDATE update_tokens SET policy = ? WHERE id = ?").run(policy ? JSON.stringify(policy) : null, id);
  }
  revoke(id: number, now: number): boolean {
    return this.db.prepare("UPDATE update_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(now, id).changes > 0;
  }
  touch(id: number, now: number): void {
    this.db.prepare("UPDATE update_tokens SET last_used_at = ? WHERE id = ?").run(now, id);
  }
  /** Tokens left covering nothing after their hosts were deleted ("host"/"set" scope). */
  removeOrphans(): void {
    this.db.exec("DELETE FROM update_tokens WHERE scope IN ('host','set') AND id NOT IN (SELECT token_id FROM update_token_hosts)");
  }
}
