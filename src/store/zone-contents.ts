/**
 * Replacing a zone's contents wholesale (zone import) and its SOA timers, on migration 1's
 * tables: domains (SOA fields), domain_nameservers (apex NS) and records.
 */
import type { ZoneContents, ZoneSoaFields } from "../core/ports";
import { BUMP_SERIAL } from "./domains";
import type { Driver } from "./driver";

export class ZoneContentsRepo {
  constructor(private db: Driver) {}

  /**
   * Creates the zone or replaces everything it serves except dynamic hosts and their ACME
   * TXT records, in one transaction: an import is all or nothing. Returns the domain id.
   */
  replace(z: ZoneContents, serial: number, now: number): number {
    return this.db.transaction(() => {
      const existing = this.db.prepare("SELECT id FROM domains WHERE name = ?").get<{ id: number }>(z.name);
      let id: number;
      const soa = [z.soa.mname, z.soa.rname, z.soa.refresh, z.soa.retry, z.soa.expire, z.soa.minimum, z.soa.ttl, z.nsTtl];
      if (existing) {
        id = existing.id;
        this.db
          .prepare(
            `UPDATE domains SET serial = ?, soa_mname = ?, soa_rname = ?, soa_refresh = ?, soa_retry = ?, soa_expire = ?,
             soa_minimum = ?, soa_ttl = ?, ns_ttl = ?, updated_at = ? WHERE id = ?`,
          )
          .run(serial, ...soa, now, id);
        this.db.prepare("DELETE FROM domain_nameservers WHERE domain_id = ?").run(id);
        this.db.prepare("DELETE FROM records WHERE domain_id = ? AND hostname_id IS NULL").run(id);
      } else {
        id = this.db
          .prepare(
            `INSERT INTO domains (name, kind, owner_id, verified, serial, soa_mname, soa_rname, soa_refresh, soa_retry, soa_expire,
             soa_minimum, soa_ttl, ns_ttl, created_at, updated_at) VALUES (?, 'builtin', NULL, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(z.name, serial, ...soa, now, now).lastInsertRowid;
      }
      const ns = this.db.prepare("INSERT INTO domain_nameservers (domain_id, name, ipv4, ipv6, position) VALUES (?, ?, NULL, NULL, ?)");
      for (const [i, n] of z.nameservers.entries()) ns.run(id, n, i);
      const rec = this.db.prepare("INSERT INTO records (domain_id, name, type, ttl, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
      for (const r of z.records) rec.run(id, r.name, r.type, r.ttl, r.content, now, now);
      return id;
    });
  }

  /** Sets SOA timers and bumps the serial (RFC 1982, modulo 2^32) in one transaction. */
  setSoa(id: number, f: ZoneSoaFields, now: number): number {
    return this.db.transaction(() => {
      const cols: [string, number | undefined][] = [
        ["soa_refresh", f.refresh],
        ["soa_retry", f.retry],
        ["soa_expire", f.expire],
        ["soa_minimum", f.minimum],
        ["soa_ttl", f.ttl],
      ];
      for (const [col, v] of cols) if (v !== undefined) this.db.prepare(`UPDATE domains SET ${col} = ? WHERE id = ?`).run(v, id);
      this.db.prepare(BUMP_SERIAL).run(now, id);
      return this.db.prepare("SELECT serial FROM domains WHERE id = ?").get<{ serial: number }>(id)!.serial;
    });
  }

  soa(id: number): (Required<ZoneSoaFields> & { serial: number }) | null {
    const r = this.db
      .prepare("SELECT serial, soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl FROM domains WHERE id = ?")
      .get<{ serial: number; soa_refresh: number; soa_retry: number; soa_expire: number; soa_minimum: number; soa_ttl: number }>(id);
    return r && { serial: r.serial, refresh: r.soa_refresh, retry: r.soa_retry, expire: r.soa_expire, minimum: r.soa_minimum, ttl: r.soa_ttl };
  }
}
