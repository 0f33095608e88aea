/**
 * In-memory zones. Built from the stored ZoneData once per change and then only read: the
 * DNS hot path never touches SQLite. Names are keys (see dname.ts): lower-case presentation
 * form without the trailing dot.
 */
import { ipv4ToBytes, ipv6ToBytes, parseIPv4 } from "../core/addresses";
import type { ZoneData } from "../core/ports";
import { keyHash, keyInZone, nameInfo, nameKey, parentKey } from "./dname";
import { packetData, packetType, parseRdataText, type Rdata, TYPE, typeCode } from "./rdata";

/**
 * One resource record. `type`/`data` are what dns-packet encodes (structured types get its
 * objects, every other type is `UNKNOWN_<n>` with the RDATA bytes, which dns-packet writes
 * verbatim); `code`/`rdata`/`targets` are what answer() encodes from.
 */
export interface RR {
  name: string;
  type: string;
  class: "IN";
  ttl: number;
  // biome-ignore lint: dns-packet's data shapes differ per type
  data: any;
  /** Numeric type. */
  code: number;
  /** RDATA, names uncompressed. */
  rdata: Uint8Array;
  /** Names inside the RDATA (NS/CNAME/PTR target, MX exchange, SRV target, SOA mname+rname). */
  targets: string[];
}

export type RRsets = Map<string, RR[]>;

export interface Zone {
  id: number;
  /** Canonical origin, no trailing dot. */
  name: string;
  serial: number;
  soa: RR;
  /** RFC 2308: negative answers are cached for min(SOA TTL, SOA MINIMUM). */
  negativeTtl: number;
  /** The SOA as negative answers carry it: with the negative TTL. */
  negativeSoa: RR;
  /** owner name -> type (dns-packet key: "A", "UNKNOWN_43") -> RRset, in insertion order */
  nodes: Map<string, RRsets>;
  /** Names that exist only because something exists below them (empty non-terminals). */
  ents: Set<string>;
  /** Delegation points: names below the apex that own NS records. */
  cuts: Set<string>;
  /** Names that own a DNAME (RFC 6672): the names below them are redirected. */
  dnames: Set<string>;
}

/** RR with dns-packet's `data` made on first use: only transfers read it, answers never do. */
class Record implements RR {
  readonly class = "IN" as const;
  private cached: unknown;
  constructor(
    public name: string,
    public type: string,
    public ttl: number,
    public code: number,
    public rdata: Uint8Array,
    public targets: string[],
  ) {}
  get data(): any {
    if (this.cached === undefined) this.cached = packetData(this.code, this.rdata, this.targets);
    return this.cached;
  }
}

export function makeRR(name: string, code: number, ttl: number, r: Rdata): RR {
  return new Record(name, packetType(code), ttl, code, r.wire, r.names);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function add(nodes: Map<string, RRsets>, rr: RR): void {
  let node = nodes.get(rr.name);
  if (!node) nodes.set(rr.name, (node = new Map()));
  const set = node.get(rr.type);
  if (!set) node.set(rr.type, [rr]);
  // An RRset is a set: the same data twice is served once (as NSD does).
  else if (!set.some((x) => sameBytes(x.rdata, rr.rdata))) set.push(rr);
}

// Names from the database are already canonical (core/names.ts): only odd ones need parsing.
const PLAIN_NAME = /^[a-z0-9_*-]+(?:\.[a-z0-9_-]+)*$/;

function key(name: string): string {
  if (PLAIN_NAME.test(name)) return name;
  try {
    return nameKey(name);
  } catch {
    return name.toLowerCase().replace(/\.$/, "");
  }
}

export function buildZone(z: ZoneData): Zone {
  const nodes = new Map<string, RRsets>();
  const apex = key(z.name);
  const soaRdata = parseRdataText(
    TYPE.SOA,
    `${key(z.soa.mname)}. ${key(z.soa.rname)}. ${z.serial >>> 0} ${z.soa.refresh} ${z.soa.retry} ${z.soa.expire} ${z.soa.minimum}`,
    null,
  );
  const soa = makeRR(apex, TYPE.SOA, z.soa.ttl, soaRdata);
  add(nodes, soa);
  const rr = (name: string, type: string, ttl: number, content: string): RR | null => {
    // Dynamic hosts are most of a big zone: their addresses skip the presentation parser.
    if (type === "A" || type === "AAAA") {
      const owner = key(name);
      const v4 = type === "A" ? parseIPv4(content) : null;
      const wire = v4 ? ipv4ToBytes(v4) : type === "AAAA" ? ipv6ToBytes(content) : null;
      if (!wire || !keyInZone(owner, apex)) return null;
      return makeRR(owner, type === "A" ? TYPE.A : TYPE.AAAA, ttl, { code: 0, wire, names: [] });
    }
    const code = typeCode(type);
    if (code === null) return null;
    try {
      const owner = key(name);
      if (!keyInZone(owner, apex)) return null;
      return makeRR(owner, code, ttl, parseRdataText(code, content, null));
    } catch {
      // Stored content that no longer parses is skipped rather than taking the zone down.
      return null;
    }
  };
  const put = (r: RR | null) => r && add(nodes, r);
  // A nameserver's glue is the zone's own: no hostname's addresses are ever served there
  // (core/reserved.ts keeps hostnames off these names; this holds for data from before it).
  const glueNames = new Set<string>();
  for (const ns of z.nameservers) {
    put(rr(apex, "NS", z.nsTtl, `${key(ns.name)}.`));
    // Glue only for names inside this zone; out-of-zone addresses are not ours to serve.
    if (keyInZone(key(ns.name), apex)) {
      glueNames.add(key(ns.name));
      if (ns.ipv4) put(rr(ns.name, "A", z.nsTtl, ns.ipv4));
      if (ns.ipv6) put(rr(ns.name, "AAAA", z.nsTtl, ns.ipv6));
    }
  }
  // The bulk of a big zone: the owner key is worked out once per host, not per record.
  for (const h of z.hosts) {
    const hk = key(h.name);
    if (!keyInZone(hk, apex) || glueNames.has(hk)) continue;
    const v4 = h.ipv4 ? parseIPv4(h.ipv4) : null;
    const a = v4 ? makeRR(hk, TYPE.A, h.ttl, { code: 0, wire: ipv4ToBytes(v4), names: [] }) : null;
    const v6 = h.ipv6 ? ipv6ToBytes(h.ipv6) : null;
    const aaaa = v6 ? makeRR(hk, TYPE.AAAA, h.ttl, { code: 0, wire: v6, names: [] }) : null;
    const node = nodes.get(hk);
    if (node) {
      if (a) add(nodes, a);
      if (aaaa) add(nodes, aaaa);
    } else {
      // The usual case, a name of its own: no merging. A host without addresses still
      // exists (NODATA, not NXDOMAIN).
      const fresh: RRsets = new Map();
      if (a) fresh.set(a.type, [a]);
      if (aaaa) fresh.set(aaaa.type, [aaaa]);
      nodes.set(hk, fresh);
    }
  }
  for (const r of z.records) put(rr(r.name, r.type, r.ttl, r.content));
  const negativeTtl = Math.min(z.soa.ttl, z.soa.minimum);
  const negativeSoa = makeRR(apex, TYPE.SOA, negativeTtl, soaRdata);
  return finishZone({ id: z.id, name: apex, serial: z.serial, soa, negativeTtl, negativeSoa, nodes, ents: new Set(), cuts: new Set(), dnames: new Set() });
}

/** Derives the empty non-terminals and delegation points from the nodes. */
export function finishZone(zone: Zone): Zone {
  zone.ents.clear();
  zone.cuts.clear();
  zone.dnames.clear();
  for (const [name, node] of zone.nodes) {
    if (name !== zone.name && node.has("NS")) zone.cuts.add(name);
    if (node.has(packetType(TYPE.DNAME))) zone.dnames.add(name);
    let n = name;
    while (n !== zone.name && n !== "") {
      n = parentKey(n);
      if (!keyInZone(n, zone.name) || n === zone.name) break;
      if (!zone.nodes.has(n)) zone.ents.add(n);
    }
  }
  return zone;
}

/** Every record of a zone once, SOA first (the order AXFR sends; it repeats the SOA at the end). */
export function zoneRecords(zone: Zone): RR[] {
  const out: RR[] = [zone.soa];
  for (const node of zone.nodes.values()) {
    for (const set of node.values()) for (const r of set) if (r !== zone.soa) out.push(r);
  }
  return out;
}

/** The served zones, found by longest suffix. */
export class ZoneSet {
  private byName = new Map<string, Zone>();
  private byId = new Map<number, Zone>();
  /** Apex hash (keyHash) -> zone; null where two apexes share a hash. */
  private byHash = new Map<number, { zone: Zone; wire: Uint8Array } | null>();
  /** Bumped on every change so answer caches know to drop entries. */
  generation = 0;
  /** Labels in the longest zone name: no longer suffix of a question can be a zone. */
  maxLabels = 0;

  private recount(): void {
    let m = 0;
    this.byHash.clear();
    for (const z of this.byId.values()) {
      m = Math.max(m, z.name === "" ? 0 : nameInfo(z.name).suffixes.length);
      const h = keyHash(z.name);
      this.byHash.set(h, this.byHash.has(h) ? null : { zone: z, wire: nameInfo(z.name).wire });
    }
    this.maxLabels = m;
  }

  set(zone: Zone): void {
    const old = this.byId.get(zone.id);
    if (old) this.byName.delete(old.name);
    this.byName.set(zone.name, zone);
    this.byId.set(zone.id, zone);
    this.recount();
    this.generation++;
  }
  removeId(id: number): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byName.delete(old.name);
    this.byId.delete(id);
    this.recount();
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
  /** The zone named exactly key. */
  byKey(key: string): Zone | undefined {
    return this.byName.get(key);
  }
  /**
   * The zone whose apex is the wire name at off in b (uncompressed, within b), found by hash
   * and confirmed byte for byte; undefined when there is none or the hash is ambiguous.
   */
  byWire(hash: number, b: Uint8Array, off: number): Zone | undefined {
    const entry = this.byHash.get(hash);
    if (!entry) return undefined;
    const wire = entry.wire;
    if (off + wire.length > b.length) return undefined;
    for (let i = 0; i < wire.length; i++) {
      const c = b[off + i]!;
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== wire[i]) return undefined;
    }
    return entry.zone;
  }
  /** The zone holding a canonical (lower-case) name. */
  find(name: string): Zone | null {
    let n = name;
    for (;;) {
      const z = this.byName.get(n);
      if (z) return z;
      if (n === "") return null;
      n = parentKey(n);
    }
  }
}

/**
 * One record in uncompressed wire form (owner, type, class, TTL, RDATA) exactly as served:
 * unlike dns-packet's codec it keeps escaped labels and opaque RDATA byte for byte. For
 * transfers, which must send what answer() serves.
 */
export function rrWire(rr: RR): Uint8Array {
  const owner = nameInfo(rr.name).wire;
  const out = new Uint8Array(owner.length + 10 + rr.rdata.length);
  out.set(owner, 0);
  let o = owner.length;
  out[o++] = rr.code >> 8;
  out[o++] = rr.code & 0xff;
  out[o++] = 0;
  out[o++] = 1;
  out[o++] = (rr.ttl >>> 24) & 0xff;
  out[o++] = (rr.ttl >>> 16) & 0xff;
  out[o++] = (rr.ttl >>> 8) & 0xff;
  out[o++] = rr.ttl & 0xff;
  out[o++] = rr.rdata.length >> 8;
  out[o++] = rr.rdata.length & 0xff;
  out.set(rr.rdata, o);
  return out;
}
