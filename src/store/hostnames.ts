import type { HostRow } from "../core/ports";
import type { Driver } from "./driver";

interface Raw {
  id: number;
  name: string;
  domain_id: number;
  owner_id: number;
  ipv4: string | null;
  ipv6: string | null;
  ipv6_ifid: string | null;
  ttl: number;
  description: string;
  created_at: number;
  updated_at: number;
}
const COLS = "id, name, domain_id, owner_id, ipv4, ipv6, ipv6_ifid, ttl, description, created_at, updated_at";
const row = (r: Raw | null): HostRow | null =>
  r && {
    id: r.id,
    name: r.name,
    domainId: r.domain_id,
    ownerId: r.owner_id,
    ipv4: r.ipv4,
    ipv6: r.ipv6,
    ipv6Ifid: r.ipv6_ifid,
    ttl: r.ttl,
    description: r.description,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };

export class Hostnames {
  constructor(private db: Driver) {}

  create(h: { name: string; domainId: number; ownerId: number; ttl: number }, now: number): HostRow {
    const r = this.db
      .prepare("INSERT INTO hostnames (name, domain_id, owner_id, ttl, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(h.name, h.domainId, h.ownerId, h.ttl, now, now);
    return this.byId(r.lastInsertRowid)!;
  }
  byId(id: number): HostRow | null {
    return row(this.db.prepare(`SELECT ${COLS} FROM hostnames WHERE id = ?`).get<Raw>(id));
  }
  byName(name: string): HostRow | null {
    return row(this.db.prepare(`SELECT ${COLS} FROM hostnames WHERE name = ?`).get<Raw>(name));
  }
  /** Hostnames strictly below name, at most limit of them. */
  below(name: string, limit: number): HostRow[] {
    const suffix = `.${name}`;
    return this.db
      .prepare(`SELECT ${COLS} FROM hostnames WHERE length(name) > ? AND substr(name, -?) = ? LIMIT ?`)
      .all<Raw>(suffix.length, suffix.length, suffix, limit)
      .map((r) => row(r)!);
  }
  list(ownerId?: number): HostRow[] {
    const rows =
      ownerId === undefined
        ? this.db.prepare(`SELECT ${COLS} FROM hostnames ORDER BY name`).all<Raw>()
        : this.db.prepare(`SELECT ${COLS} FROM hostnames WHERE owner_id = ? ORDER BY name`).all<Raw>(ownerId);
    return rows.map((r) => row(r)!);
  }
  setAddresses(id: number, a: { ipv4: string | null; ipv6: string | null }, now: number): void {
    this.db.prepare("UPDATE hostnames SET ipv4 = ?, ipv6 = ?, updated_at = ?, last_update_at = ? WHERE id = ?").run(a.ipv4, a.ipv6, now, now, id);
  }
  /** Management fields only; addresses change through setAddresses (the update path). */
  update(id: number, p: { ttl?: number; description?: string; ipv6Ifid?: string | null }, now: number): void {
    const cur = this.byId(id);
    if (!cur) return;
    this.db
      .prepare("UPDATE hostnames SET ttl = ?, description = ?, ipv6_ifid = ?, updated_at = ? WHERE id = ?")
      .run(p.ttl ?? cur.ttl, p.description ?? cur.description ?? "", p.ipv6Ifid === undefined ? cur.ipv6Ifid : p.ipv6Ifid, now, id);
  }
  count(ownerId: number): number {
    return this.db.prepare("SELECT COUNT(*) AS n FROM hostnames WHERE owner_id = ?").get<{ n: number }>(ownerId)!.n;
  }
  remove(id: number): boolean {
    return this.db.prepare("DELETE FROM hostnames WHERE id = ?").run(id).changes > 0;
  }
}
