import { type PackedZone, ZonePacker } from "../core/packed-zone";
import type { DomainRow, ZoneData } from "../core/ports";

const HOSTS_OF_ZONE = "SELECT name, ipv4, ipv6, ttl FROM hostnames WHERE domain_id = ?";
// ACME challenge TXT records carry an expiry; once past it they are not served.
const RECORDS_OF_ZONE = "SELECT name, type, ttl, content FROM records WHERE domain_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id";

/** A row of the change log: a zone and one owner name in it, or null for the whole zone. */
export interface ZoneChangeRow {
  seq: number;
  domainId: number;
  name: string | null;
}

/** One owner name's records as DNS serves them, in the order buildZone adds them. */
export interface NodeRecords {
  name: string;
  /** A hostname holds the name: it exists (NODATA, not NXDOMAIN) even without addresses. */
  hostname: boolean;
  records: { type: string; ttl: number; content: string }[];
}
import type { Driver } from "./driver";

/** RFC 1982 serial arithmetic: +1 modulo 2^32, the one serial bump of every writer. Run inside the change's transaction. */
export const BUMP_SERIAL = "UPDATE domains SET serial = (serial + 1) % 4294967296, updated_at = ? WHERE id = ?";

interface Raw {
  id: number;
  name: string;
  kind: "builtin" | "custom";
  owner_id: number | null;
  verified: number;
  serial: number;
}
const COLS = "id, name, kind, owner_id, verified, serial";
const row = (r: Raw | null): DomainRow | null => r && { id: r.id, name: r.name, kind: r.kind, ownerId: r.owner_id, verified: !!r.verified, serial: r.serial };

export interface NewDomain {
  name: string;
  kind: "builtin" | "custom";
  ownerId: number | null;
  verified: boolean;
  serial: number;
  soaMname: string;
  soaRname: string;
  soaMinimum?: number;
  nameservers: { name: string; ipv4: string | null; ipv6: string | null }[];
}

export class Domains {
  constructor(private db: Driver) {}

  create(d: NewDomain, now: number): DomainRow {
    return this.db.transaction(() => {
      const r = this.db
        .prepare(
          `INSERT INTO domains (name, kind, owner_id, verified, serial, soa_mname, soa_rname, soa_minimum, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(d.name, d.kind, d.ownerId, d.verified ? 1 : 0, d.serial, d.soaMname, d.soaRname, d.soaMinimum ?? 60, now, now);
      const id = r.lastInsertRowid;
      const ns = this.db.prepare("INSERT INTO domain_nameservers (domain_id, name, ipv4, ipv6, position) VALUES (?, ?, ?, ?, ?)");
      for (const [i, n] of d.nameservers.entries()) ns.run(id, n.name, n.ipv4, n.ipv6, i);
      return this.byId(id)!;
    });
  }
  byId(id: number): DomainRow | null {
    return row(this.db.prepare(`SELECT ${COLS} FROM domains WHERE id = ?`).get<Raw>(id));
  }
  byName(name: string): DomainRow | null {
    return row(this.db.prepare(`SELECT ${COLS} FROM domains WHERE name = ?`).get<Raw>(name));
  }
  list(): DomainRow[] {
    return this.db
      .prepare(`SELECT ${COLS} FROM domains ORDER BY name`)
      .all<Raw>()
      .map((r) => row(r)!);
  }
  nameservers(id: number): { name: string; ipv4: string | null; ipv6: string | null }[] {
    return this.db
      .prepare("SELECT name, ipv4, ipv6 FROM domain_nameservers WHERE domain_id = ? ORDER BY position, id")
      .all<{ name: string; ipv4: string | null; ipv6: string | null }>(id);
  }
  /** Marks a custom domain verified (served from now on); the caller bumps the serial in the same transaction. */
  setVerified(id: number, verified: boolean, now: number): void {
    this.db.prepare("UPDATE domains SET verified = ?, verified_at = ?, updated_at = ? WHERE id = ?").run(verified ? 1 : 0, verified ? now : null, now, id);
  }
  setNameservers(id: number, nameservers: { name: string; ipv4: string | null; ipv6: string | null }[], now: number): void {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM domain_nameservers WHERE domain_id = ?").run(id);
      const ins = this.db.prepare("INSERT INTO domain_nameservers (domain_id, name, ipv4, ipv6, position) VALUES (?, ?, ?, ?, ?)");
      for (const [i, ns] of nameservers.entries()) ins.run(id, ns.name, ns.ipv4, ns.ipv6, i);
      const names = nameservers.map((n) => n.name);
      const mname = this.db.prepare("SELECT soa_mname FROM domains WHERE id = ?").get<{ soa_mname: string }>(id)?.soa_mname;
      if (mname !== undefined && !names.includes(mname)) this.db.prepare("UPDATE domains SET soa_mname = ? WHERE id = ?").run(names[0]!, id);
      this.db.prepare("UPDATE domains SET updated_at = ? WHERE id = ?").run(now, id);
    });
  }
  countCustom(ownerId: number): number {
    return this.db.prepare("SELECT COUNT(*) AS n FROM domains WHERE kind = 'custom' AND owner_id = ?").get<{ n: number }>(ownerId)!.n;
  }
  remove(id: number): boolean {
    return this.db.prepare("DELETE FROM domains WHERE id = ?").run(id).changes > 0;
  }
  /** RFC 1982 serial arithmetic: +1 modulo 2^32. Call inside the transaction of the change. */
  bumpSerial(id: number, now: number): number {
    this.db.prepare(BUMP_SERIAL).run(now, id);
    return this.db.prepare("SELECT serial FROM domains WHERE id = ?").get<{ serial: number }>(id)!.serial;
  }
  /** Cheap list of (id, serial, served) used to notice changes made by other processes. */
  serials(): { id: number; name: string; serial: number; served: boolean }[] {
    return this.db
      .prepare("SELECT id, name, serial, verified FROM domains")
      .all<{ id: number; name: string; serial: number; verified: number }>()
      .map((r) => ({ id: r.id, name: r.name, serial: r.serial, served: !!r.verified }));
  }

  /** A zone's SOA fields, NS set and glue: what zoneData and packedZone start from. */
  private zoneHead(id: number): Omit<ZoneData, "hosts" | "records"> | null {
    const d = this.db
      .prepare(
        `SELECT id, name, serial, soa_mname, soa_rname, soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl, ns_ttl
         FROM domains WHERE id = ?`,
      )
      .get<{
        id: number;
        name: string;
        serial: number;
        soa_mname: string;
        soa_rname: string;
        soa_refresh: number;
        soa_retry: number;
        soa_expire: number;
        soa_minimum: number;
        soa_ttl: number;
        ns_ttl: number;
      }>(id);
    if (!d) return null;
    return {
      id: d.id,
      name: d.name,
      serial: d.serial,
      soa: { mname: d.soa_mname, rname: d.soa_rname, refresh: d.soa_refresh, retry: d.soa_retry, expire: d.soa_expire, minimum: d.soa_minimum, ttl: d.soa_ttl },
      nsTtl: d.ns_ttl,
      nameservers: this.db
        .prepare("SELECT name, ipv4, ipv6 FROM domain_nameservers WHERE domain_id = ? ORDER BY position, id")
        .all<{ name: string; ipv4: string | null; ipv6: string | null }>(id),
    };
  }

  /** Everything DNS serves for one zone, read in one transaction so it is consistent. */
  zoneData(id: number, now: number): ZoneData | null {
    return this.db.transaction(() => {
      const head = this.zoneHead(id);
      if (!head) return null;
      return {
        ...head,
        hosts: this.db.prepare(HOSTS_OF_ZONE).all<{ name: string; ipv4: string | null; ipv6: string | null; ttl: number }>(id),
        records: this.db.prepare(RECORDS_OF_ZONE).all<{ name: string; type: string; ttl: number; content: string }>(id, now),
      };
    });
  }

  /**
   * What DNS serves for one zone, packed (core/packed-zone.ts) as the rows are read: a big
   * zone never stands as an array of row objects. Read in one transaction, so it is consistent.
   */
  packedZone(id: number, now: number): PackedZone | null {
    return this.db.transaction(() => {
      const head = this.zoneHead(id);
      if (!head) return null;
      const p = new ZonePacker(head);
      for (const h of this.db.prepare(HOSTS_OF_ZONE).iterate<{ name: string; ipv4: string | null; ipv6: string | null; ttl: number }>(id)) {
        p.host(h.name, h.ipv4, h.ipv6, h.ttl);
      }
      for (const r of this.db.prepare(RECORDS_OF_ZONE).iterate<{ name: string; type: string; ttl: number; content: string }>(id, now)) {
        p.record(r.name, r.type, r.ttl, r.content);
      }
      return p.done();
    });
  }

  /** Runs fn in one transaction: what it reads is one consistent state of the database. */
  snapshot<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  /** The change log after seq, oldest first (at most limit rows). */
  changesSince(seq: number, limit: number): ZoneChangeRow[] {
    return this.db.prepare("SELECT seq, domain_id AS domainId, name FROM zone_changes WHERE seq > ? ORDER BY seq LIMIT ?").all<ZoneChangeRow>(seq, limit);
  }
  lastChangeSeq(): number {
    return this.db.prepare("SELECT COALESCE(MAX(seq), 0) AS s FROM zone_changes").get<{ s: number }>()!.s;
  }
  /** Forgets what has been applied. */
  pruneChanges(upTo: number): void {
    this.db.prepare("DELETE FROM zone_changes WHERE seq <= ?").run(upTo);
  }

  /** The SOA row of a zone (what a delta carries besides the changed names). */
  soaOf(id: number): { name: string; serial: number; served: boolean; soa: ZoneData["soa"] } | null {
    const d = this.db
      .prepare("SELECT name, serial, verified, soa_mname, soa_rname, soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl FROM domains WHERE id = ?")
      .get<{
        name: string;
        serial: number;
        verified: number;
        soa_mname: string;
        soa_rname: string;
        soa_refresh: number;
        soa_retry: number;
        soa_expire: number;
        soa_minimum: number;
        soa_ttl: number;
      }>(id);
    if (!d) return null;
    return {
      name: d.name,
      serial: d.serial,
      served: !!d.verified,
      soa: { mname: d.soa_mname, rname: d.soa_rname, refresh: d.soa_refresh, retry: d.soa_retry, expire: d.soa_expire, minimum: d.soa_minimum, ttl: d.soa_ttl },
    };
  }

  /**
   * What DNS serves at each of names in a zone, read as zoneData() reads the whole zone: the
   * apex NS set, a nameserver's glue (a hostname's addresses never stand there), a hostname's
   * addresses, then static records in id order.
   */
  nodeRecords(id: number, names: string[], now: number): NodeRecords[] {
    const d = this.db.prepare("SELECT name, ns_ttl FROM domains WHERE id = ?").get<{ name: string; ns_ttl: number }>(id);
    if (!d) return [];
    const ns = this.db
      .prepare("SELECT name, ipv4, ipv6 FROM domain_nameservers WHERE domain_id = ? ORDER BY position, id")
      .all<{ name: string; ipv4: string | null; ipv6: string | null }>(id);
    const host = this.db.prepare("SELECT ipv4, ipv6, ttl FROM hostnames WHERE name = ? AND domain_id = ?");
    const recs = this.db.prepare(
      "SELECT type, ttl, content FROM records WHERE domain_id = ? AND name = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id",
    );
    const inZone = (n: string) => n === d.name || n.endsWith(`.${d.name}`);
    return names.map((name) => {
      const records: NodeRecords["records"] = [];
      let hostname = false;
      if (name === d.name) for (const n of ns) records.push({ type: "NS", ttl: d.ns_ttl, content: `${n.name}.` });
      const glue = ns.find((n) => n.name === name && inZone(n.name));
      if (glue) {
        if (glue.ipv4) records.push({ type: "A", ttl: d.ns_ttl, content: glue.ipv4 });
        if (glue.ipv6) records.push({ type: "AAAA", ttl: d.ns_ttl, content: glue.ipv6 });
      } else {
        const h = host.get<{ ipv4: string | null; ipv6: string | null; ttl: number }>(name, id);
        if (h?.ipv4) records.push({ type: "A", ttl: h.ttl, content: h.ipv4 });
        if (h?.ipv6) records.push({ type: "AAAA", ttl: h.ttl, content: h.ipv6 });
        hostname = h !== null;
      }
      for (const r of recs.all<{ type: string; ttl: number; content: string }>(id, name, now)) records.push(r);
      return { name, hostname, records };
    });
  }
}
