/**
 * In-memory zones. Built from the stored ZoneData once per change and then only read: the
 * DNS hot path never touches SQLite. Names are keys (see dname.ts): lower-case presentation
 * form without the trailing dot.
 */
import { ipv4ToBytes, ipv6ToBytes, parseIPv4 } from "../core/addresses";
import { type PackedZone, packedRecords } from "../core/packed-zone";
import { canonicalName } from "../core/names";
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
  // biome-ignore lint/suspicious/noExplicitAny: dns-packet's data shapes differ per type
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
  nodes: NodeMap;
  /** Names that exist only because something exists below them (empty non-terminals). */
  ents: Set<string>;
  /** Delegation points: names below the apex that own NS records. */
  cuts: Set<string>;
  /** Names that own a DNAME (RFC 6672): the names below them are redirected. */
  dnames: Set<string>;
  /** How many nodes lie strictly below a name (ancestors of nodes only): empty non-terminals follow from it. */
  below: Map<string, number>;
  /** keyHash of every existing name (nodes and empty non-terminals) -> how many share it. */
  hashes: Map<number, number>;
  /** Names with a wildcard child ("b.c" when "*.b.c" exists). */
  wildParents: Set<string>;
}

/** One owner name's whole contents after a change, in presentation form (none: the name is gone). */
export interface NodeContent {
  name: string;
  /** A hostname holds the name: it exists even without records. */
  hostname: boolean;
  records: { type: string; ttl: number; content: string }[];
}

/** What a commit changed in a zone: its new SOA and serial, and every owner name it touched. */
export interface ZoneDelta {
  id: number;
  serial: number;
  soa: ZoneData["soa"];
  nodes: NodeContent[];
}

/** What applying a delta did, for caches and the transfer journal. */
export interface AppliedDelta {
  /** Owner names whose data changed, and names that became or stopped being empty non-terminals. */
  names: string[];
  /** A delegation, DNAME or wildcard appeared or went: answers elsewhere in the zone may change. */
  structural: boolean;
  /** The records that left and came, SOA excluded (RFC 1995's difference sequence). */
  removed: RR[];
  added: RR[];
  /** The SOA before the change. */
  oldSoa: RR;
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

/**
 * The owner names of a zone and their RRsets, held compactly and made into RRsets (RR objects)
 * only when asked for. Most names of a big zone are dynamic hosts that hold one address per
 * family and nothing else: those are a slot in typed arrays. Other names are one byte array
 * each (their records in wire form, see packNode). Only the apex, which carries the SOA that
 * every change replaces in place, and nodes being built stay ordinary Maps. A name is in
 * exactly one of the three.
 */
export class NodeMap {
  private full = new Map<string, RRsets>();
  private packed = new Map<string, Uint8Array>();
  private slots = new Map<string, number>();
  private v4 = new Uint8Array(0);
  private v6 = new Uint8Array(0);
  private ttls = new Uint32Array(0);
  /** Bit 0: has an IPv4 address, bit 1: an IPv6 one. */
  private flags = new Uint8Array(0);
  private freeSlots: number[] = [];
  private used = 0;
  /** RRsets made from slots lately: the same name asked twice in one answer is the same object. */
  private made = new Map<string, RRsets>();

  get size(): number {
    return this.full.size + this.slots.size + this.packed.size;
  }

  has(name: string): boolean {
    return this.slots.has(name) || this.packed.has(name) || this.full.has(name);
  }

  get(name: string): RRsets | undefined {
    const node = this.full.get(name);
    if (node) return node;
    const slot = this.slots.get(name);
    if (slot !== undefined) return this.materialize(name, slot);
    const bytes = this.packed.get(name);
    return bytes === undefined ? undefined : this.unpack(name, bytes);
  }

  /** A node to change in place (a compact one becomes an ordinary one), created when missing. */
  mutable(name: string): RRsets {
    let node = this.full.get(name);
    if (node) return node;
    const slot = this.slots.get(name);
    const bytes = this.packed.get(name);
    node = slot !== undefined ? this.materialize(name, slot) : bytes !== undefined ? this.unpack(name, bytes) : new Map();
    if (slot !== undefined) this.release(name, slot);
    if (bytes !== undefined) {
      this.packed.delete(name);
      this.made.delete(name);
    }
    this.full.set(name, node);
    return node;
  }

  /** After a build: every ordinary node but the SOA's becomes compact. */
  seal(): void {
    for (const [name, node] of this.full) {
      if (node.has("SOA")) continue;
      this.full.delete(name);
      this.set(name, node);
    }
  }

  set(name: string, node: RRsets): void {
    this.delete(name);
    const a = node.get("A");
    const aaaa = node.get("AAAA");
    const compact =
      node.size === (a ? 1 : 0) + (aaaa ? 1 : 0) &&
      (!a || (a.length === 1 && a[0]!.rdata.length === 4)) &&
      (!aaaa || (aaaa.length === 1 && aaaa[0]!.rdata.length === 16)) &&
      (!a || !aaaa || a[0]!.ttl === aaaa[0]!.ttl);
    if (!compact) {
      if (node.has("SOA")) this.full.set(name, node);
      else this.packed.set(name, packNode(node));
      return;
    }
    const [v4, v6] = [a?.[0], aaaa?.[0]];
    this.setHost(name, v4?.rdata ?? null, v6?.rdata ?? null, v4?.ttl ?? v6?.ttl ?? 0);
  }

  /** A host's addresses (4 and 16 bytes, or null) without any RR object; the name must be new. */
  setHost(name: string, v4: Uint8Array | null, v6: Uint8Array | null, ttl: number): void {
    const slot = this.freeSlots.pop() ?? this.used++;
    if (slot >= this.ttls.length) this.grow(Math.max(1024, this.ttls.length * 2));
    if (v4) this.v4.set(v4, slot * 4);
    if (v6) this.v6.set(v6, slot * 16);
    this.ttls[slot] = ttl;
    this.flags[slot] = (v4 ? 1 : 0) | (v6 ? 2 : 0);
    this.slots.set(name, slot);
  }

  delete(name: string): boolean {
    const slot = this.slots.get(name);
    if (slot !== undefined) {
      this.release(name, slot);
      return true;
    }
    if (this.packed.delete(name)) {
      this.made.delete(name);
      return true;
    }
    return this.full.delete(name);
  }

  /** Whether the name is a compact host (no NS, DNAME or anything but addresses). */
  isHost(name: string): boolean {
    return this.slots.has(name);
  }

  keys(): IterableIterator<string> {
    return concat(concat(this.full.keys(), this.packed.keys()), this.slots.keys());
  }

  *values(): IterableIterator<RRsets> {
    for (const [, node] of this.entries()) yield node;
  }

  *entries(): IterableIterator<[string, RRsets]> {
    yield* this.full.entries();
    for (const [name, bytes] of this.packed) yield [name, this.unpack(name, bytes)];
    for (const [name, slot] of this.slots) yield [name, this.materialize(name, slot)];
  }

  [Symbol.iterator](): IterableIterator<[string, RRsets]> {
    return this.entries();
  }

  private release(name: string, slot: number): void {
    this.slots.delete(name);
    this.made.delete(name);
    this.freeSlots.push(slot);
  }

  private grow(cap: number): void {
    const v4 = new Uint8Array(cap * 4);
    v4.set(this.v4);
    const v6 = new Uint8Array(cap * 16);
    v6.set(this.v6);
    const ttls = new Uint32Array(cap);
    ttls.set(this.ttls);
    const flags = new Uint8Array(cap);
    flags.set(this.flags);
    [this.v4, this.v6, this.ttls, this.flags] = [v4, v6, ttls, flags];
  }

  private unpack(name: string, bytes: Uint8Array): RRsets {
    const cached = this.made.get(name);
    if (cached) return cached;
    const node = unpackNode(name, bytes);
    if (this.made.size >= 4096) this.made.clear();
    this.made.set(name, node);
    return node;
  }

  private materialize(name: string, slot: number): RRsets {
    const cached = this.made.get(name);
    if (cached) return cached;
    const node: RRsets = new Map();
    const f = this.flags[slot]!;
    const ttl = this.ttls[slot]!;
    if (f & 1) node.set("A", [makeRR(name, TYPE.A, ttl, { code: 0, wire: this.v4.slice(slot * 4, slot * 4 + 4), names: [] })]);
    if (f & 2) node.set("AAAA", [makeRR(name, TYPE.AAAA, ttl, { code: 0, wire: this.v6.slice(slot * 16, slot * 16 + 16), names: [] })]);
    if (this.made.size >= 4096) this.made.clear();
    this.made.set(name, node);
    return node;
  }
}

/**
 * A node's records as one byte array, in the node's order: per record its type (2 bytes), TTL
 * (4), RDATA length (2), RDATA, then the names inside the RDATA (a count, then per name its
 * length in 2 bytes and its key text, which is ASCII).
 */
function packNode(node: RRsets): Uint8Array {
  let size = 0;
  for (const set of node.values()) for (const r of set) size += 9 + r.rdata.length + r.targets.reduce((n, t) => n + 2 + t.length, 0);
  const out = new Uint8Array(size);
  let o = 0;
  for (const set of node.values()) {
    for (const r of set) {
      out[o++] = r.code >> 8;
      out[o++] = r.code & 0xff;
      out[o++] = (r.ttl >>> 24) & 0xff;
      out[o++] = (r.ttl >>> 16) & 0xff;
      out[o++] = (r.ttl >>> 8) & 0xff;
      out[o++] = r.ttl & 0xff;
      out[o++] = r.rdata.length >> 8;
      out[o++] = r.rdata.length & 0xff;
      out.set(r.rdata, o);
      o += r.rdata.length;
      out[o++] = r.targets.length;
      for (const t of r.targets) {
        out[o++] = t.length >> 8;
        out[o++] = t.length & 0xff;
        for (let i = 0; i < t.length; i++) out[o++] = t.charCodeAt(i);
      }
    }
  }
  return out;
}

function unpackNode(name: string, b: Uint8Array): RRsets {
  const node: RRsets = new Map();
  let o = 0;
  while (o < b.length) {
    const code = (b[o]! << 8) | b[o + 1]!;
    const ttl = ((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0;
    const len = (b[o + 6]! << 8) | b[o + 7]!;
    o += 8;
    const wire = b.slice(o, o + len);
    o += len;
    const names: string[] = [];
    for (let n = b[o++]!; n > 0; n--) {
      const l = (b[o]! << 8) | b[o + 1]!;
      o += 2;
      names.push(String.fromCharCode(...b.subarray(o, o + l)));
      o += l;
    }
    const rr = makeRR(name, code, ttl, { code, wire, names });
    const set = node.get(rr.type);
    if (set) set.push(rr);
    else node.set(rr.type, [rr]);
  }
  return node;
}

function* concat<T>(a: Iterable<T>, b: Iterable<T>): IterableIterator<T> {
  yield* a;
  yield* b;
}

function add(nodes: NodeMap, rr: RR): void {
  const node = nodes.mutable(rr.name);
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
    return canonicalName(name);
  }
}

function soaRR(apex: string, serial: number, soa: ZoneData["soa"], ttl: number): RR {
  const rdata = parseRdataText(
    TYPE.SOA,
    `${key(soa.mname)}. ${key(soa.rname)}. ${serial >>> 0} ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minimum}`,
    null,
  );
  return makeRR(apex, TYPE.SOA, ttl, rdata);
}

/** One stored record as served, or null when it cannot be (outside the zone, unparsable). */
function recordRR(apex: string, name: string, type: string, ttl: number, content: string): RR | null {
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
}

function setSoa(zone: Zone, serial: number, soa: ZoneData["soa"]): void {
  zone.serial = serial >>> 0;
  zone.soa = soaRR(zone.name, serial, soa, soa.ttl);
  zone.negativeTtl = Math.min(soa.ttl, soa.minimum);
  zone.negativeSoa = soaRR(zone.name, serial, soa, zone.negativeTtl);
}

/** The typed arrays of a packed zone, to transfer rather than copy. */
export function packedBuffers(p: PackedZone): ArrayBuffer[] {
  return [p.ttls.buffer, p.flags.buffer, p.v4.buffer, p.v6.buffer] as ArrayBuffer[];
}

type HostVisitor = (name: string, v4: Uint8Array | null, v6: Uint8Array | null, ttl: number) => void;

export function buildZone(z: ZoneData): Zone {
  return assemble(
    z,
    (visit) => {
      for (const h of z.hosts) {
        const v4 = h.ipv4 ? parseIPv4(h.ipv4) : null;
        visit(h.name, v4 ? ipv4ToBytes(v4) : null, h.ipv6 ? ipv6ToBytes(h.ipv6) : null, h.ttl);
      }
    },
    z.records,
  );
}

export function buildPackedZone(p: PackedZone): Zone {
  return assemble(
    p.head,
    (visit) => {
      if (p.hostCount === 0) return;
      let i = 0;
      for (const name of p.names.split("\n")) {
        const f = p.flags[i]!;
        visit(name, f & 1 ? p.v4.subarray(i * 4, i * 4 + 4) : null, f & 2 ? p.v6.subarray(i * 16, i * 16 + 16) : null, p.ttls[i]!);
        i++;
      }
    },
    packedRecords(p),
  );
}

function assemble(z: Omit<ZoneData, "hosts" | "records">, hosts: (visit: HostVisitor) => void, records: ZoneData["records"]): Zone {
  const nodes = new NodeMap();
  const apex = key(z.name);
  const put = (r: RR | null) => r && add(nodes, r);
  const zone: Zone = {
    id: z.id,
    name: apex,
    serial: 0,
    soa: null as unknown as RR,
    negativeTtl: 0,
    negativeSoa: null as unknown as RR,
    nodes,
    ents: new Set(),
    cuts: new Set(),
    dnames: new Set(),
    below: new Map(),
    hashes: new Map(),
    wildParents: new Set(),
  };
  setSoa(zone, z.serial, z.soa);
  add(nodes, zone.soa);
  // A nameserver's glue is the zone's own: no hostname's addresses are ever served there
  // (core/reserved.ts keeps hostnames off these names; this holds for data from before it).
  const glueNames = new Set<string>();
  for (const ns of z.nameservers) {
    put(recordRR(apex, apex, "NS", z.nsTtl, `${key(ns.name)}.`));
    // Glue only for names inside this zone; out-of-zone addresses are not ours to serve.
    if (keyInZone(key(ns.name), apex)) {
      glueNames.add(key(ns.name));
      if (ns.ipv4) put(recordRR(apex, ns.name, "A", z.nsTtl, ns.ipv4));
      if (ns.ipv6) put(recordRR(apex, ns.name, "AAAA", z.nsTtl, ns.ipv6));
    }
  }
  // The bulk of a big zone: the owner key is worked out once per host, not per record, and
  // a host of its own name becomes a compact slot with no RR object at all.
  hosts((name, a4, a6, ttl) => {
    const hk = key(name);
    if (!keyInZone(hk, apex) || glueNames.has(hk)) return;
    if (!nodes.has(hk)) {
      // A host without addresses still exists (NODATA, not NXDOMAIN).
      nodes.setHost(hk, a4, a6, ttl);
      return;
    }
    if (a4) add(nodes, makeRR(hk, TYPE.A, ttl, { code: 0, wire: a4.slice(), names: [] }));
    if (a6) add(nodes, makeRR(hk, TYPE.AAAA, ttl, { code: 0, wire: a6.slice(), names: [] }));
  });
  for (const r of records) put(recordRR(apex, r.name, r.type, r.ttl, r.content));
  nodes.seal();
  return finishZone(zone);
}

/** Derives the empty non-terminals, delegation points, DNAMEs and name hashes from the nodes. */
export function finishZone(zone: Zone): Zone {
  zone.ents.clear();
  zone.cuts.clear();
  zone.dnames.clear();
  zone.below.clear();
  zone.hashes.clear();
  zone.wildParents.clear();
  for (const name of zone.nodes.keys()) {
    markNode(zone, name, zone.nodes.isHost(name) ? null : zone.nodes.get(name)!);
    if (name === zone.name) continue;
    for (let n = parentKey(name); keyInZone(n, zone.name); n = parentKey(n)) {
      zone.below.set(n, (zone.below.get(n) ?? 0) + 1);
      if (n === zone.name) break;
    }
  }
  for (const n of zone.below.keys()) if (n !== zone.name && !zone.nodes.has(n)) zone.ents.add(n);
  for (const n of zone.ents) countHash(zone, n, 1);
  return zone;
}

function countHash(zone: Zone, name: string, by: 1 | -1): void {
  const h = keyHash(name);
  const n = (zone.hashes.get(h) ?? 0) + by;
  if (n > 0) zone.hashes.set(h, n);
  else zone.hashes.delete(h);
}

/** The per-name indexes of an existing node (null: a compact host, addresses only). */
function markNode(zone: Zone, name: string, node: RRsets | null): void {
  if (node && name !== zone.name && node.has("NS")) zone.cuts.add(name);
  if (node?.has(DNAME)) zone.dnames.add(name);
  if (name.startsWith("*.")) zone.wildParents.add(name.slice(2));
  countHash(zone, name, 1);
}

function unmarkNode(zone: Zone, name: string): void {
  zone.cuts.delete(name);
  zone.dnames.delete(name);
  if (name.startsWith("*.")) zone.wildParents.delete(name.slice(2));
  countHash(zone, name, -1);
}

const DNAME = packetType(TYPE.DNAME);

/** A name's empty-non-terminal status from the nodes and counts; changes are recorded in touched. */
function settleEnt(zone: Zone, name: string, touched: Set<string>): void {
  const ent = name !== zone.name && !zone.nodes.has(name) && (zone.below.get(name) ?? 0) > 0;
  if (ent === zone.ents.has(name)) return;
  if (ent) {
    zone.ents.add(name);
    countHash(zone, name, 1);
  } else {
    zone.ents.delete(name);
    countHash(zone, name, -1);
  }
  touched.add(name);
}

function rrsetKeys(set: RR[] | undefined): string {
  return (set ?? []).map(rrKey).join("|");
}

function rrKey(r: RR): string {
  let s = `${r.name} ${r.code} ${r.ttl} `;
  for (let i = 0; i < r.rdata.length; i++) s += String.fromCharCode(r.rdata[i]!);
  return s;
}

/**
 * Applies a delta in place, in time proportional to the names it carries: each named node is
 * replaced by its new contents (or removed), the SOA takes the new serial, and the indexes
 * (empty non-terminals, cuts, DNAMEs, wildcards, name hashes) follow. The zone's readers are
 * on this thread, so nobody sees it half done.
 */
export function applyDelta(zone: Zone, d: ZoneDelta): AppliedDelta {
  const oldSoa = zone.soa;
  const apexNode = zone.nodes.get(zone.name);
  setSoa(zone, d.serial, d.soa);
  apexNode?.set(oldSoa.type, [zone.soa]);
  const names = new Set<string>();
  const removed: RR[] = [];
  const added: RR[] = [];
  let structural = false;
  for (const c of d.nodes) {
    const name = key(c.name);
    if (!keyInZone(name, zone.name)) continue;
    const tmp = new NodeMap();
    const fresh = tmp.mutable(name);
    if (name === zone.name) fresh.set(zone.soa.type, [zone.soa]);
    for (const r of c.records) {
      const rr = recordRR(zone.name, name, r.type, r.ttl, r.content);
      if (rr && rr.name === name) add(tmp, rr);
    }
    const old = zone.nodes.get(name);
    // The transfer journal's difference: what left and what came (the SOA apart).
    const before = new Map<string, RR>();
    if (old) for (const set of old.values()) for (const r of set) if (r !== zone.soa && r !== oldSoa) before.set(rrKey(r), r);
    for (const set of fresh.values()) {
      for (const r of set) {
        if (r === zone.soa) continue;
        const k = rrKey(r);
        if (before.has(k)) before.delete(k);
        else added.push(r);
      }
    }
    removed.push(...before.values());
    const exists = fresh.size > 0 || c.hostname;
    const had = old !== undefined;
    if (old) {
      if (old.has("NS") !== fresh.has("NS") || old.has(DNAME) !== fresh.has(DNAME)) structural = true;
      // The apex NS set rides in every positive answer's authority section.
      if (name === zone.name && rrsetKeys(old.get("NS")) !== rrsetKeys(fresh.get("NS"))) structural = true;
      unmarkNode(zone, name);
    } else if (exists && (fresh.has("NS") || fresh.has(DNAME))) {
      structural = true;
    }
    if (name.startsWith("*.") && had !== exists) structural = true;
    names.add(name);
    if (exists) {
      zone.nodes.set(name, fresh);
      markNode(zone, name, fresh);
    } else {
      zone.nodes.delete(name);
    }
    if (had !== exists && name !== zone.name) {
      // A node came or went: the counts of the names above it, and their ENT status.
      for (let n = parentKey(name); keyInZone(n, zone.name); n = parentKey(n)) {
        const v = (zone.below.get(n) ?? 0) + (exists ? 1 : -1);
        if (v > 0) zone.below.set(n, v);
        else zone.below.delete(n);
        settleEnt(zone, n, names);
        if (n === zone.name) break;
      }
    }
    settleEnt(zone, name, names);
  }
  return { names: [...names], structural, removed, added, oldSoa };
}

/** Every record of a zone once, SOA first (the order AXFR sends; it repeats the SOA at the end). */
export function zoneRecords(zone: Zone): RR[] {
  const out: RR[] = [zone.soa];
  for (const node of zone.nodes.values()) {
    for (const set of node.values()) for (const r of set) if (r !== zone.soa) out.push(r);
  }
  return out;
}

const GC_EVERY_DELTAS = 2048;

/** Told of every change to a ZoneSet (the answer caches). */
export interface ZoneWatcher {
  /** Everything of the zone may have changed (loaded afresh, or dropped). */
  zoneReplaced(id: number): void;
  /** A delta was applied: only what it names (or, structural, the zone) changed. */
  deltaApplied(id: number, d: AppliedDelta): void;
}

/** The served zones, found by longest suffix. */
export class ZoneSet {
  private byName = new Map<string, Zone>();
  private byId = new Map<number, Zone>();
  /** Apex hash (keyHash) -> zone; null where two apexes share a hash. */
  private byHash = new Map<number, { zone: Zone; wire: Uint8Array } | null>();
  /** Every zone's NS targets: answers anywhere may carry their addresses as glue. */
  private nsTargets = new Set<string>();
  private watchers: ZoneWatcher[] = [];
  private deltas = 0;
  /** Labels in the longest zone name: no longer suffix of a question can be a zone. */
  maxLabels = 0;

  watch(w: ZoneWatcher): void {
    this.watchers.push(w);
  }

  private recount(): void {
    let m = 0;
    this.byHash.clear();
    this.nsTargets.clear();
    for (const z of this.byId.values()) {
      m = Math.max(m, z.name === "" ? 0 : nameInfo(z.name).suffixes.length);
      const h = keyHash(z.name);
      this.byHash.set(h, this.byHash.has(h) ? null : { zone: z, wire: nameInfo(z.name).wire });
      for (const ns of z.nodes.get(z.name)?.get("NS") ?? []) for (const t of ns.targets) this.nsTargets.add(t);
    }
    this.maxLabels = m;
  }

  set(zone: Zone): void {
    const old = this.byId.get(zone.id);
    if (old) this.byName.delete(old.name);
    this.byName.set(zone.name, zone);
    this.byId.set(zone.id, zone);
    this.recount();
    for (const w of this.watchers) w.zoneReplaced(zone.id);
  }
  removeId(id: number): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byName.delete(old.name);
    this.byId.delete(id);
    this.recount();
    for (const w of this.watchers) w.zoneReplaced(id);
  }
  /**
   * Applies a delta to a served zone in place (applyDelta); null when the zone is not here.
   * A change at a nameserver's name may show as glue in any zone's answers: then every zone
   * counts as replaced.
   */
  apply(d: ZoneDelta): AppliedDelta | null {
    const zone = this.byId.get(d.id);
    if (!zone) return null;
    // Each delta leaves a little garbage (the rows read, the RRs replaced, the message): a
    // collection now and then keeps a storm of updates from growing the heap to its GC limit.
    if (++this.deltas % GC_EVERY_DELTAS === 0) (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun?.gc(false);
    const applied = applyDelta(zone, d);
    if (applied.names.includes(zone.name)) this.recount();
    if (applied.names.some((n) => this.nsTargets.has(n))) {
      for (const id of this.byId.keys()) for (const w of this.watchers) w.zoneReplaced(id);
    } else {
      for (const w of this.watchers) w.deltaApplied(d.id, applied);
    }
    return applied;
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
