/**
 * In-memory zones. Built from the stored ZoneData once per change and then only read: the
 * DNS hot path never touches SQLite.
 */
import type { Answer } from "dns-packet";
import type { ZoneData } from "../core/ports";
import { parseRdata } from "./rdata";

export type RR = Answer & { name: string; ttl: number };

export interface Zone {
  id: number;
  /** Canonical origin, no trailing dot. */
  name: string;
  serial: number;
  soa: RR;
  /** RFC 2308: negative answers are cached for min(SOA TTL, SOA MINIMUM). */
  negativeTtl: number;
  /** owner name -> type -> RRset */
  nodes: Map<string, Map<string, RR[]>>;
  /** Names that exist only because something exists below them (empty non-terminals). */
  ents: Set<string>;
}

function add(nodes: Map<string, Map<string, RR[]>>, rr: RR): void {
  let node = nodes.get(rr.name);
  if (!node) nodes.set(rr.name, (node = new Map()));
  const set = node.get(rr.type);
  if (set) set.push(rr);
  else node.set(rr.type, [rr]);
}

export function buildZone(z: ZoneData): Zone {
  const nodes = new Map<string, Map<string, RR[]>>();
  const soa: RR = {
    name: z.name,
    type: "SOA",
    class: "IN",
    ttl: z.soa.ttl,
    data: {
      mname: z.soa.mname,
      rname: z.soa.rname,
      serial: z.serial,
      refresh: z.soa.refresh,
      retry: z.soa.retry,
      expire: z.soa.expire,
      minimum: z.soa.minimum,
    },
  };
  add(nodes, soa);
  for (const ns of z.nameservers) {
    add(nodes, { name: z.name, type: "NS", class: "IN", ttl: z.nsTtl, data: ns.name });
    // Glue only for names inside this zone; out-of-zone addresses are not ours to serve.
    if (ns.name === z.name || ns.name.endsWith(`.${z.name}`)) {
      if (ns.ipv4) add(nodes, { name: ns.name, type: "A", class: "IN", ttl: z.nsTtl, data: ns.ipv4 });
      if (ns.ipv6) add(nodes, { name: ns.name, type: "AAAA", class: "IN", ttl: z.nsTtl, data: ns.ipv6 });
    }
  }
  for (const h of z.hosts) {
    if (h.ipv4) add(nodes, { name: h.name, type: "A", class: "IN", ttl: h.ttl, data: h.ipv4 });
    if (h.ipv6) add(nodes, { name: h.name, type: "AAAA", class: "IN", ttl: h.ttl, data: h.ipv6 });
    // A host without addresses still exists (NODATA, not NXDOMAIN).
    if (!nodes.has(h.name)) nodes.set(h.name, new Map());
  }
  for (const r of z.records) {
    const data = parseRdata(r.type, r.content);
    if (data === undefined) continue;
    add(nodes, { name: r.name, type: r.type, class: "IN", ttl: r.ttl, data } as RR);
  }
  const ents = new Set<string>();
  for (const name of nodes.keys()) {
    let n = name;
    while (n !== z.name && n.includes(".")) {
      n = n.slice(n.indexOf(".") + 1);
      if (n.length < z.name.length) break;
      if (!nodes.has(n)) ents.add(n);
    }
  }
  return {
    id: z.id,
    name: z.name,
    serial: z.serial,
    soa,
    negativeTtl: Math.min(z.soa.ttl, z.soa.minimum),
    nodes,
    ents,
  };
}

/** The served zones, found by longest suffix. */
export class ZoneSet {
  private byName = new Map<string, Zone>();
  private byId = new Map<number, Zone>();
  /** Bumped on every change so answer caches know to drop entries. */
  generation = 0;

  set(zone: Zone): void {
    const old = this.byId.get(zone.id);
    if (old) this.byName.delete(old.name);
    this.byName.set(zone.name, zone);
    this.byId.set(zone.id, zone);
    this.generation++;
  }
  removeId(id: number): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byName.delete(old.name);
    this.byId.delete(id);
    this.generation++;
  }
  get(id: number): Zone | undefined {
    return this.byId.get(id);
  }
  ids(): number[] {
    return [...this.byId.keys()];
  }
  get size(): number {
    return this.byName.size;
  }
  /** The zone holding a canonical (lower-case) name. */
  find(name: string): Zone | null {
    let n = name;
    for (;;) {
      const z = this.byName.get(n);
      if (z) return z;
      const dot = n.indexOf(".");
      if (dot < 0) return null;
      n = n.slice(dot + 1);
    }
  }
}
