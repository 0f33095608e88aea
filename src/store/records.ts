import type { RecordRow } from "../core/ports";
import type { Driver } from "./driver";

export type { RecordRow };

const COLS = "id, domain_id AS domainId, name, type, ttl, content, hostname_id AS hostnameId";
// ACME challenge TXT records carry an expiry; once past it they are neither served nor listed.
const LIVE = "(expires_at IS NULL OR expires_at > ?)";

export class Records {
  constructor(private db: Driver) {}
  create(r: { domainId: number; name: string; type: string; ttl: number; content: string; hostnameId?: number | null }, now: number): number {
    return this.db
      .prepare("INSERT INTO records (domain_id, name, type, ttl, content, hostname_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .run(r.domainId, r.name, r.type, r.ttl, r.content, r.hostnameId ?? null, now, now).lastInsertRowid;
  }
  list(domainId: number, now = 0): RecordRow[] {
    return this.db.prepare(`SELECT ${COLS} FROM records WHERE domain_id = ? AND ${LIVE} ORDER BY id`).all<RecordRow>(domainId, now);
  }
  byId(id: number): RecordRow | null {
    return this.db.prepare(`SELECT ${COLS} FROM records WHERE id = ?`).get<RecordRow>(id);
  }
  /** The live records at one owner name of a domain. */
  atName(domainId: number, name: string, now: number): RecordRow[] {
    return this.db.prepare(`SELECT ${COLS} FROM records WHERE domain_id = ? AND name = ? AND ${LIVE} ORDER BY id`).all<RecordRow>(domainId, name, now);
  }
  /** The live records at name or below it in a domain, at most limit of them. */
  atOrBelow(domainId: number, name: string, now: number, limit: number): RecordRow[] {
    const suffix = `.${name}`;
    return this.db
      .prepare(`SELECT ${COLS} FROM records WHERE domain_id = ? AND (name = ? OR (length(name) > ? AND substr(name, -?) = ?)) AND ${LIVE} ORDER BY id LIMIT ?`)
      .all<RecordRow>(domainId, name, suffix.length, suffix.length, suffix, now, limit);
  }
  update(id: number, r: { name: string; ttl: number; content: string; hostnameId: number | null }, now: number): void {
    this.db
      .prepare("UPDATE records SET name = ?, ttl = ?, content = ?, hostname_id = ?, updated_at = ? WHERE id = ?")
      .run(r.name, r.ttl, r.content, r.hostnameId, now, id);
  }
  remove(id: number): boolean {
    return this.db.prepare("DELETE FROM records WHERE id = ?").run(id).changes > 0;
  }
  /** Records counted against a user's quota: those in their custom domains and under their hostnames (ACME challenges excluded). */
  countForUser(userId: number): number {
    return this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM records WHERE expires_at IS NULL AND
           (domain_id IN (SELECT id FROM domains WHERE owner_id = ?) OR hostname_id IN (SELECT id FROM hostnames WHERE owner_id = ?))`,
      )
      .get<{ n: number }>(userId, userId)!.n;
  }
}
