/**
 * ACME DNS-01 TXT values: rows of the records table tied to a hostname (hostname_id) with an
 * expiry (expires_at). zoneData already leaves expired rows out; removeExpired deletes them.
 */
import type { ChallengeRow } from "../core/ports";
import type { Driver } from "./driver";

const COLS = "id, domain_id AS domainId, hostname_id AS hostnameId, name, content AS value, expires_at AS expiresAt, created_at AS createdAt";

export class Challenges {
  constructor(private db: Driver) {}

  forHost(hostnameId: number, now: number): ChallengeRow[] {
    return this.db
      .prepare(`SELECT ${COLS} FROM records WHERE hostname_id = ? AND type = 'TXT' AND expires_at > ? ORDER BY created_at, id`)
      .all<ChallengeRow>(hostnameId, now);
  }
  add(c: { domainId: number; hostnameId: number; name: string; value: string; ttl: number; expiresAt: number }, now: number): void {
    this.db
      .prepare(
        `INSERT INTO records (domain_id, name, type, ttl, content, hostname_id, expires_at, created_at, updated_at)
         VALUES (?, ?, 'TXT', ?, ?, ?, ?, ?, ?)`,
      )
      .run(c.domainId, c.name, c.ttl, c.value, c.hostnameId, c.expiresAt, now, now);
  }
  extend(id: number, expiresAt: number, now: number): void {
    this.db.prepare("UPDATE records SET expires_at = ?, updated_at = ? WHERE id = ?").run(expiresAt, now, id);
  }
  remove(ids: number[]): void {
    for (const id of ids) this.db.prepare("DELETE FROM records WHERE id = ? AND hostname_id IS NOT NULL").run(id);
  }
  /** This server's own DNS-01 values (src/tls/acme.ts): a TXT row with an expiry and no hostname. */
  addOwn(c: { domainId: number; name: string; value: string; ttl: number; expiresAt: number }, now: number): void {
    this.db
      .prepare(
        `INSERT INTO records (domain_id, name, type, ttl, content, hostname_id, expires_at, created_at, updated_at)
         VALUES (?, ?, 'TXT', ?, ?, NULL, ?, ?, ?)`,
      )
      .run(c.domainId, c.name, c.ttl, c.value, c.expiresAt, now, now);
  }
  removeOwn(domainId: number, name: string, value: string): number {
    return this.db
      .prepare("DELETE FROM records WHERE domain_id = ? AND name = ? AND type = 'TXT' AND content = ? AND hostname_id IS NULL AND expires_at IS NOT NULL")
      .run(domainId, name, value).changes;
  }
  removeExpired(now: number): number[] {
    const domains = this.db
      .prepare("SELECT DISTINCT domain_id AS d FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?")
      .all<{ d: number }>(now)
      .map((r) => r.d);
    if (domains.length) this.db.prepare("DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?").run(now);
    return domains;
  }
  nextExpiry(now: number): number | null {
    return (
      this.db.prepare("SELECT MIN(expires_at) AS e FROM records WHERE expires_at IS NOT NULL AND expires_at > ?").get<{ e: number | null }>(now)?.e ?? null
    );
  }
}
