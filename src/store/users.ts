import { IpkeepError } from "../core/errors";
import type { Role, UserRow } from "../core/ports";
import type { Driver } from "./driver";

interface Raw {
  id: number;
  email: string;
  role: Role;
  disabled: number;
  created_at: number;
}
const COLS = "id, email, role, disabled, created_at";
const row = (r: Raw | null): UserRow | null => r && { id: r.id, email: r.email, role: r.role, disabled: !!r.disabled, createdAt: r.created_at };

export class Users {
  constructor(private db: Driver) {}

  create(u: { email: string; role: Role; passwordHash: string | null }, now: number): UserRow {
    // Callers check the address first; this is the backstop for any path that does not, so a
    // duplicate is a conflict (409, exit 5) and never an internal error.
    if (this.byEmail(u.email)) throw new IpkeepError("conflict", "An account with this e-mail already exists");
    const r = this.db
      .prepare("INSERT INTO users (email, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
      .run(u.email, u.role, u.passwordHash, now, now);
    return this.byId(r.lastInsertRowid)!;
  }
  byId(id: number): UserRow | null {
    return row(this.db.prepare(`SELECT ${COLS} FROM users WHERE id = ?`).get<Raw>(id));
  }
  byEmail(email: string): UserRow | null {
    return row(this.db.prepare(`SELECT ${COLS} FROM users WHERE email = ?`).get<Raw>(email));
  }
  firstAdmin(): UserRow | null {
    return row(this.db.prepare(`SELECT ${COLS} FROM users WHERE role = 'admin' ORDER BY id LIMIT 1`).get<Raw>());
  }
  list(): UserRow[] {
    return this.db
      .prepare(`SELECT ${COLS} FROM users ORDER BY id`)
      .all<Raw>()
      .map((r) => row(r)!);
  }
  /** Per-user limits; null fields fall back to the defaults in settings. */
  quotas(id: number): { hostnames: number | null; domains: number | null; records: number | null } {
    const r = this.db
      .prepare("SELECT quota_hostnames AS hostnames, quota_domains AS domains, quota_records AS records FROM users WHERE id = ?")
      .get<{ hostnames: number | null; domains: number | null; records: number | null }>(id);
    return r ?? { hostnames: null, domains: null, records: null };
  }
  /** Its sessions, keys, hostnames, tokens and custom domains go with it (ON DELETE CASCADE). */
  remove(id: number): boolean {
    return this.db.prepare("DELETE FROM users WHERE id = ?").run(id).changes > 0;
  }
  count(): number {
    return this.db.prepare("SELECT COUNT(*) AS n FROM users").get<{ n: number }>()!.n;
  }
}
