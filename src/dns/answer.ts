/**
 * answer(query bytes, zones) -> response bytes. Pure: no sockets, no database. The query is
 * parsed straight from the bytes (the question is copied into the response as received, so
 * its 0x20 case survives); lookup() decides what goes in which section, the way NSD does;
 * encode() writes it with name compression and NSD's truncation rules.
 */
import { keyHash, keyInZone, nameInfo, suffixHashes, suffixKeys } from "./dname";
import { type SignedOf, withDnssec } from "./dnssec/respond";
import { packetType, TYPE } from "./rdata";
import { OPCODE_NOTIFY, skipName, u16 } from "./wire";
import { makeRR, type RR, type RRsets, type Zone, type ZoneSet } from "./zone";

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6 } as const;
/** Our EDNS(0) UDP payload size: the 2020 DNS flag day value, avoids IP fragmentation. */
export const EDNS_PAYLOAD = 1232;
/** RFC 1035 limit for UDP without EDNS. */
export const PLAIN_UDP_LIMIT = 512;

const HEADER = 12;
const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const OPCODE_QUERY = 0;
const OPCODE_UPDATE = 5;
const CLASS_IN = 1;
const CLASS_CH = 3;
const CLASS_ANY = 255;
const TYPE_DNSKEY = 48;
const TYPE_OPT = 41;
const TYPE_IXFR = 251;
const TYPE_AXFR = 252;
/** BADVERS is extended rcode 16: its upper eight bits (1) go in the OPT TTL. */
const BADVERS_HIGH = 1;
/** NSD stops following a CNAME chain after this many links. */
const MAX_CNAME = 8;
/** An OPT record without options: owner, type, class, TTL, RDLENGTH. */
const OPT_SIZE = 11;

export interface AnswerOptions {
  transport: "udp" | "tcp";
  /** The signatures of signed zones (dnssec/signer.ts); absent: every zone is answered unsigned. */
  dnssec?: SignedOf;
}

/** The parts of a query answer() needs, read straight from the bytes. */
interface Query {
  id: number;
  flags: number;
  /** End of the question (name, type, class). */
  qEnd: number;
  /** Key of the question name and of each suffix ("a.b.c", "b.c", "c", ""); see keysOf. */
  suffixes: string[] | null;
  /** Offset in the message of each label of the question name. */
  labelOffsets: number[];
  qtype: number;
  qclass: number;
  opt: { payload: number; version: number; do: boolean } | null;
}

type Bad = { bad: number };

function parse(b: Uint8Array): Query | Bad {
  const flags = u16(b, 2);
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== OPCODE_QUERY && opcode !== OPCODE_NOTIFY && opcode !== OPCODE_UPDATE) return { bad: RCODE.NOTIMP };
  if (u16(b, 4) !== 1) return { bad: RCODE.FORMERR };
  // Question name: plain labels only (a pointer here could only point into the header).
  const labelOffsets: number[] = [];
  let off = HEADER;
  let wireLen = 1;
  for (;;) {
    if (off >= b.length) return { bad: RCODE.FORMERR };
    const len = b[off]!;
    if (len === 0) break;
    if (len > 63) return { bad: RCODE.FORMERR };
    wireLen += len + 1;
    if (wireLen > 255 || off + 1 + len > b.length) return { bad: RCODE.FORMERR };
    labelOffsets.push(off);
    off += 1 + len;
  }
  off++;
  if (off + 4 > b.length) return { bad: RCODE.FORMERR };
  const qtype = u16(b, off);
  const qclass = u16(b, off + 2);
  const qEnd = off + 4;
  // Answer and authority records (NOTIFY and UPDATE carry some) are skipped; OPT is read.
  off = qEnd;
  const skip = u16(b, 6) + u16(b, 8);
  for (let i = 0; i < skip; i++) {
    const end = skipName(b, off);
    if (end < 0 || end + 10 > b.length) return { bad: RCODE.FORMERR };
    off = end + 10 + u16(b, end + 8);
    if (off > b.length) return { bad: RCODE.FORMERR };
  }
  let opt: Query["opt"] = null;
  const arcount = u16(b, 10);
  for (let i = 0; i < arcount; i++) {
    const end = skipName(b, off);
    if (end < 0 || end + 10 > b.length) return { bad: RCODE.FORMERR };
    const type = u16(b, end);
    if (type === TYPE_OPT) {
      // RFC 6891 6.1.1: more than one OPT, or one not owned by the root, is FORMERR.
      if (opt || end !== off + 1 || b[off] !== 0) return { bad: RCODE.FORMERR };
      opt = { payload: u16(b, end + 2), version: b[end + 5]!, do: (b[end + 6]! & 0x80) !== 0 };
    }
    off = end + 10 + u16(b, end + 8);
    if (off > b.length) return { bad: RCODE.FORMERR };
  }
  return { id: u16(b, 0), flags, qEnd, suffixes: null, labelOffsets, qtype, qclass, opt };
}

/** The question's suffix keys, built on first use: the hashed NXDOMAIN path needs none. */
function keysOf(raw: Uint8Array, q: Query): string[] {
  if (!q.suffixes) q.suffixes = suffixKeys(raw, q.labelOffsets);
  return q.suffixes;
}

/** A header-only reply (FORMERR/NOTIMP for packets we do not process further). */
function headerOnly(query: Uint8Array, rcode: number): Uint8Array | null {
  if (query.length < 2) return null;
  const out = new Uint8Array(HEADER);
  out[0] = query[0]!;
  out[1] = query[1]!;
  const qflags = query.length >= 4 ? u16(query, 2) : 0;
  const flags = QR | (qflags & 0x7800) | (qflags & RD) | rcode;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  return out;
}

/**
 * Never throws: undecodable input gets FORMERR (or nothing when there is not even a header
 * to answer), so a hostile packet cannot stop the server.
 */
export function answer(query: Uint8Array, zones: ZoneSet, opts: AnswerOptions): Uint8Array | null {
  if (query.length < HEADER) return null;
  // A response must never be answered (reflection loops between servers).
  if (query[2]! & 0x80) return null;
  try {
    const q = parse(query);
    if ("bad" in q) return headerOnly(query, q.bad);
    return respond(query, q, zones, opts);
  } catch {
    return headerOnly(query, RCODE.SERVFAIL);
  }
}

/** One RRset placed in a section; owner null means "the question name as received". */
export interface Placed {
  owner: string | null;
  rrs: RR[];
}

/**
 * NSD's sections: the apex NS added to positive answers is optional (left out, without TC,
 * when it does not fit), and additional addresses go A first, then AAAA.
 */
export interface Result {
  rcode: number;
  aa: boolean;
  answer: Placed[];
  authority: Placed[];
  optionalAuthority: Placed[];
  additionalA: Placed[];
  additionalAAAA: Placed[];
  /** A referral: it must carry at least one glue address or be truncated. */
  delegation: boolean;
}

function respond(raw: Uint8Array, q: Query, zones: ZoneSet, opts: AnswerOptions): Uint8Array {
  const opcode = (q.flags >> 11) & 0xf;
  let result: Result;
  let extended = 0;
  let noQuestion = false;
  if (q.opt && q.opt.version > 0) {
    result = empty(RCODE.NOERROR);
    extended = BADVERS_HIGH;
  } else if (opcode === OPCODE_UPDATE) {
    // `ipkeep serve` takes UPDATE before answer() (dns/update.ts); what reaches here (a
    // secondary, which takes no updates) is NOTIMP, as NSD answers.
    return headerOnly(raw, RCODE.NOTIMP)!;
  } else if (opcode === OPCODE_NOTIFY) {
    // answer() serves as a primary: NOTIFY is refused for our zones (as NSD without
    // allow-notify) and NXDOMAIN for names that are not a zone we serve.
    return headerOnly(raw, zones.byKey(keysOf(raw, q)[0]!) ? RCODE.REFUSED : RCODE.NXDOMAIN)!;
  } else if (q.qclass === CLASS_CH) {
    // CHAOS (version.bind, id.server, ...) as NSD with hide-version and hide-identity.
    result = empty(RCODE.REFUSED);
  } else if (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) {
    // NSD drops the question of other classes from its REFUSED answer.
    result = empty(RCODE.REFUSED);
    noQuestion = true;
  } else if (q.qtype === TYPE_AXFR || q.qtype === TYPE_IXFR) {
    // Transfers are the transfer code's (TCP); over UDP NSD says NOTIMP to AXFR, REFUSED to IXFR.
    result = empty(q.qtype === TYPE_AXFR ? RCODE.NOTIMP : RCODE.REFUSED);
  } else {
    // DO on a signed zone: negative answers carry proofs the fast paths do not write.
    if (q.qclass === CLASS_IN && fastNegative && !(opts.dnssec && q.opt?.do)) {
      const fast = hashedNxdomain(raw, q, zones, limit(q, opts)) ?? fastNxdomain(raw, q, zones, limit(q, opts));
      if (fast) return fast;
    }
    result = lookup(zones, keysOf(raw, q), q.qtype, q.qclass === CLASS_ANY);
    // Signed zones (dnssec/respond.ts): signatures and proofs with DO, the apex's DNSKEY & co.
    if (opts.dnssec && q.qclass === CLASS_IN) result = withDnssec(result, zones, keysOf(raw, q)[0]!, q.qtype, opts.dnssec, q.opt?.do === true);
    // NSD answers class ANY from the IN data but not authoritatively.
    if (q.qclass === CLASS_ANY) result.aa = false;
  }
  return encode(raw, q, result, limit(q, opts), extended, noQuestion);
}

function limit(q: Query, opts: AnswerOptions): number {
  return opts.transport === "tcp" ? 65535 : q.opt ? Math.max(PLAIN_UDP_LIMIT, Math.min(q.opt.payload, EDNS_PAYLOAD)) : PLAIN_UDP_LIMIT;
}

/**
 * A zone's negative SOA (authority of NXDOMAIN) encoded once, as encode() writes it after a
 * question naming the apex. Its compression pointers are kept as offsets from the apex in the
 * question ("q") or from the record's own start ("self"), patched per answer.
 */
interface NegativeTemplate {
  bytes: Uint8Array;
  fixups: { at: number; q: boolean; delta: number }[];
  /** Every suffix of the SOA's names: a question spelling one of them out below the apex
   * gives the general encoder other compression targets, so the template does not apply. */
  names: Set<string>;
  /** Their hashes (keyHash), for the path that has no keys. */
  hashes: Set<number>;
}

let fastNegative = true;
/** Tests compare the fast NXDOMAIN path with the general encoder byte for byte. */
export function setFastNegative(on: boolean): void {
  fastNegative = on;
}

/** Per SOA record: a change gives the zone a new one, so a template never outlives its serial. */
const negativeTemplates = new WeakMap<RR, NegativeTemplate | null>();

function negativeTemplate(zone: Zone): NegativeTemplate | null {
  let t = negativeTemplates.get(zone.negativeSoa);
  if (t !== undefined) return t;
  t = null;
  const soa = zone.negativeSoa;
  if (zone.name !== "" && soa.targets.length === 2) {
    const apex = nameInfo(zone.name);
    const w = new Writer(65535);
    w.copy(new Uint8Array(HEADER), 0, HEADER);
    w.copy(apex.wire, 0, apex.wire.length);
    w.pos += 4;
    for (let i = 0; i < apex.suffixes.length; i++) w.remember(apex.suffixes[i]!, HEADER + apex.offsets[i]!);
    const qEnd = w.pos;
    writeRR(w, zone.name, soa);
    const bytes = w.buf.slice(qEnd, w.pos);
    const fixups: NegativeTemplate["fixups"] = [];
    const pointer = (at: number) => {
      const p = ((bytes[at]! & 0x3f) << 8) | bytes[at + 1]!;
      fixups.push(p < qEnd ? { at, q: true, delta: p - HEADER } : { at, q: false, delta: p - qEnd });
    };
    // Owner (a pointer to the apex), then the two names of the RDATA.
    let off = 0;
    let ok = (bytes[0]! & 0xc0) === 0xc0;
    if (ok) pointer(0);
    off = 12;
    for (let n = 0; n < 2 && ok; n++) {
      for (;;) {
        const len = bytes[off]!;
        if (len === 0) {
          off++;
          break;
        }
        if ((len & 0xc0) === 0xc0) {
          pointer(off);
          off += 2;
          break;
        }
        off += 1 + len;
      }
    }
    ok = ok && off + 20 === bytes.length;
    if (ok) {
      const names = new Set<string>();
      for (const target of soa.targets) for (const sfx of nameInfo(target).suffixes) names.add(sfx);
      t = { bytes, fixups, names, hashes: new Set([...names].map(keyHash)) };
    }
  }
  negativeTemplates.set(zone.negativeSoa, t);
  return t;
}

// The longest name has 127 labels; one more slot for the root.
const hashScratch = new Int32Array(128);

/**
 * NXDOMAIN for a random-subdomain flood without building a single string: the zone and the
 * name's absence are decided on hashes of the wire labels. Whenever a hash says "maybe" (a
 * name that may exist, a wildcard, a name the SOA spells), null: the keyed paths decide.
 */
function hashedNxdomain(raw: Uint8Array, q: Query, zones: ZoneSet, limit: number): Uint8Array | null {
  const offsets = q.labelOffsets;
  const n = offsets.length;
  const h = hashScratch;
  suffixHashes(raw, offsets, h);
  // The apex: the longest suffix that is a zone (as zoneIndex, shortest first).
  let apexIdx = -1;
  let zone: Zone | undefined;
  for (let i = n, stop = Math.max(0, n - zones.maxLabels); i >= stop; i--) {
    const z = zones.byWire(h[i]!, raw, i === n ? q.qEnd - 5 : offsets[i]!);
    if (z) {
      apexIdx = i;
      zone = z;
    }
  }
  if (apexIdx <= 0 || !zone || zone.dnames.size || hasWildcard(zone, zone.name)) return null;
  if (zone.hashes.has(h[apexIdx - 1]!)) return null;
  const t = negativeTemplate(zone);
  if (!t) return null;
  for (let i = 0; i < apexIdx; i++) if (t.hashes.has(h[i]!)) return null;
  return writeNxdomain(raw, q, t, apexIdx, limit);
}

/**
 * NXDOMAIN for a plain IN question, without building a Result: header, the question as
 * received, the zone's precomputed SOA, OPT. Null whenever anything is out of the ordinary
 * (the general path then answers), so the bytes are exactly what encode() would write.
 */
function fastNxdomain(raw: Uint8Array, q: Query, zones: ZoneSet, limit: number): Uint8Array | null {
  const suffixes = keysOf(raw, q);
  const apexIdx = zoneIndex(zones, suffixes, 0);
  if (apexIdx <= 0) return null;
  const zone = zones.byKey(suffixes[apexIdx]!)!;
  if (zone.dnames.size) return null; // a DNAME above the name redirects it: the general path
  let ce = apexIdx;
  for (let i = apexIdx - 1; i >= 0; i--) {
    const n = suffixes[i]!;
    if (zone.cuts.has(n)) return null;
    if (!zone.nodes.has(n) && !zone.ents.has(n)) break;
    ce = i;
  }
  if (ce === 0 || hasWildcard(zone, suffixes[ce]!)) return null;
  const t = negativeTemplate(zone);
  if (!t) return null;
  for (let i = 0; i < apexIdx; i++) if (t.names.has(suffixes[i]!)) return null;
  return writeNxdomain(raw, q, t, apexIdx, limit);
}

/** The NXDOMAIN answer from the zone's template, the apex at label apexIdx of the question. */
function writeNxdomain(raw: Uint8Array, q: Query, t: NegativeTemplate, apexIdx: number, limit: number): Uint8Array | null {
  const size = q.qEnd + t.bytes.length;
  if (size > limit - (q.opt ? OPT_SIZE : 0)) return null;
  const out = new Uint8Array(size + (q.opt ? OPT_SIZE : 0));
  for (let i = 0; i < q.qEnd; i++) out[i] = raw[i]!;
  out.set(t.bytes, q.qEnd);
  const apexOff = q.labelOffsets[apexIdx]!;
  for (const f of t.fixups) {
    const p = 0xc000 | (f.delta + (f.q ? apexOff : q.qEnd));
    out[q.qEnd + f.at] = p >> 8;
    out[q.qEnd + f.at + 1] = p & 0xff;
  }
  const flags = QR | (q.flags & 0x7800) | (q.flags & RD) | AA | RCODE.NXDOMAIN;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  out[4] = 0;
  out[5] = 1;
  out[6] = 0;
  out[7] = 0;
  out[8] = 0;
  out[9] = 1;
  out[10] = 0;
  out[11] = q.opt ? 1 : 0;
  if (q.opt) {
    // As encode(): root owner, type OPT, our payload size, no extended rcode, DO echoed.
    const p = size;
    out[p + 2] = TYPE_OPT;
    out[p + 3] = EDNS_PAYLOAD >> 8;
    out[p + 4] = EDNS_PAYLOAD & 0xff;
    out[p + 7] = q.opt.do ? 0x80 : 0;
  }
  return out;
}

function empty(rcode: number): Result {
  return { rcode, aa: false, answer: [], authority: [], optionalAuthority: [], additionalA: [], additionalAAAA: [], delegation: false };
}

function withAA(r: Result): Result {
  r.aa = true;
  return r;
}

function typeKey(code: number): string {
  switch (code) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 257:
      return "CAA";
    default:
      return `UNKNOWN_${code}`;
  }
}

/**
 * The index of the served zone's apex among the suffixes (the longest match), or -1. Only
 * suffixes with as many labels as some zone has are tried, shortest first: two or three
 * lookups of short strings for a query of any depth.
 */
function zoneIndex(zones: ZoneSet, suffixes: string[], from: number): number {
  const last = suffixes.length - 1; // suffixes[last] is the root
  const stop = Math.max(from, last - zones.maxLabels);
  let found = -1;
  for (let i = last; i >= stop; i--) if (zones.byKey(suffixes[i]!)) found = i;
  return found;
}

/** Whether key has a wildcard child ("*.key"): a negative answer then costs no "*." string per query. */
function hasWildcard(zone: Zone, key: string): boolean {
  return zone.wildParents.has(key);
}

const DNAME_KEY = packetType(TYPE.DNAME);

class Builder {
  r: Result = withAA(empty(RCODE.NOERROR));
  private seen: RR[][] = [];
  private cnames = 0;

  constructor(private classAny: boolean) {}

  place(section: Placed[], owner: string | null, rrs: RR[]): boolean {
    // NSD never puts one RRset in the message twice (an A both in answer and as glue).
    if (this.seen.includes(rrs)) return false;
    this.seen.push(rrs);
    section.push({ owner, rrs });
    return true;
  }

  negative(zone: Zone, rcode: number): void {
    this.r.rcode = rcode;
    // As NSD: class ANY questions get no SOA (it would claim class IN authority).
    if (this.classAny) return;
    this.place(this.r.authority, zone.name, [zone.negativeSoa]);
  }

  /**
   * A and AAAA of the targets of NS, MX and SRV records, when the zone holds them (also by
   * wildcard). Glue below a cut only for NS, as NSD.
   */
  additional(zone: Zone, set: RR[]): void {
    const code = set[0]!.code;
    if (code !== TYPE.NS && code !== TYPE.MX && code !== TYPE.SRV) return;
    for (const rr of set) {
      const t = rr.targets[0]!;
      if (!keyInZone(t, zone.name)) continue;
      const found = addressNode(zone, t, code === TYPE.NS);
      if (!found) continue;
      const a = found.node.get("A");
      if (a) this.place(this.r.additionalA, found.owner, a);
      const aaaa = found.node.get("AAAA");
      if (aaaa) this.place(this.r.additionalAAAA, found.owner, aaaa);
    }
  }

  referral(zone: Zone, cut: string): void {
    // AA stays set when a CNAME chain led here from authoritative data.
    this.r.aa = this.cnames > 0;
    this.r.delegation = true;
    const ns = zone.nodes.get(cut)!.get("NS")!;
    this.place(this.r.authority, cut, ns);
    this.additional(zone, ns);
  }

  /** Resolves name (suffix keys) in zone whose apex sits at suffixes[apexIdx]. */
  resolve(zones: ZoneSet, zone: Zone, suffixes: string[], apexIdx: number, qtype: number, owner: string | null): void {
    let ce = apexIdx;
    for (let i = apexIdx - 1; i >= 0; i--) {
      // RFC 6672: a DNAME on a name above the question (the apex included) redirects it.
      const dname = zone.dnames.size ? zone.nodes.get(suffixes[i + 1]!)?.get(DNAME_KEY) : undefined;
      if (dname) {
        this.dname(zones, suffixes, i + 1, dname, qtype, owner);
        return;
      }
      const n = suffixes[i]!;
      if (zone.cuts.has(n) && !(i === 0 && qtype === TYPE.DS)) {
        this.referral(zone, n);
        return;
      }
      if (!zone.nodes.has(n) && !zone.ents.has(n)) break;
      ce = i;
    }
    if (ce === 0) {
      this.exact(zones, zone, zone.nodes.get(suffixes[0]!), suffixes[0]!, qtype, owner);
      return;
    }
    // RFC 4592: only the closest encloser's wildcard, and never past an existing name.
    const wild = hasWildcard(zone, suffixes[ce]!) ? zone.nodes.get(`*.${suffixes[ce]}`) : undefined;
    if (wild) {
      this.exact(zones, zone, wild, suffixes[0]!, qtype, owner);
      return;
    }
    this.negative(zone, RCODE.NXDOMAIN);
  }

  exact(zones: ZoneSet, zone: Zone, node: RRsets | undefined, name: string, qtype: number, owner: string | null): void {
    if (!node || node.size === 0) {
      this.negative(zone, RCODE.NOERROR);
      return;
    }
    let set: RR[] | undefined;
    if (qtype === TYPE.ANY) set = anyRRset(node);
    else set = node.get(typeKey(qtype));
    if (set) {
      this.place(this.r.answer, owner, set);
      this.additional(zone, set);
      // NSD adds the apex NS (optional) except for ANY, DS and DNSKEY, whose answers are large.
      const apexNs = zone.nodes.get(zone.name)?.get("NS");
      if (apexNs && !this.classAny && qtype !== TYPE.ANY && qtype !== TYPE.DS && qtype !== TYPE_DNSKEY) {
        if (this.place(this.r.optionalAuthority, zone.name, apexNs)) this.additional(zone, apexNs);
      }
      return;
    }
    const cname = node.get("CNAME");
    if (cname && qtype !== TYPE.CNAME) {
      if (!this.place(this.r.answer, owner, cname)) return; // a loop: stop where NSD stops
      this.follow(zones, cname[0]!.targets[0]!, qtype);
      return;
    }
    this.negative(zone, RCODE.NOERROR);
  }

  /** Goes on with a CNAME's target, when one of our zones holds it. */
  follow(zones: ZoneSet, target: string, qtype: number): void {
    if (++this.cnames > MAX_CNAME) return;
    const suffixes = [...nameInfo(target).suffixes, ""];
    const apexIdx = zoneIndex(zones, suffixes, 0);
    if (apexIdx < 0) return;
    this.resolve(zones, zones.byKey(suffixes[apexIdx]!)!, suffixes, apexIdx, qtype, target);
  }

  /**
   * The name suffixes[0] lies below the DNAME owned by suffixes[at]: the DNAME, a CNAME from
   * the name to the same labels under the DNAME's target (with the DNAME's TTL), then that
   * target as for any CNAME; YXDOMAIN when the new name would be too long (RFC 6672 §2.2).
   */
  dname(zones: ZoneSet, suffixes: string[], at: number, dname: RR[], qtype: number, owner: string | null): void {
    const d = dname[0]!;
    if (!this.place(this.r.answer, suffixes[at]!, dname)) return;
    const name = suffixes[0]!;
    const prefix = name.slice(0, name.length - suffixes[at]!.length - (suffixes[at] === "" ? 0 : 1));
    const base = d.targets[0]!;
    const target = base === "" ? prefix : `${prefix}.${base}`;
    let wire: Uint8Array;
    try {
      wire = nameInfo(target).wire;
    } catch {
      this.r.rcode = RCODE.YXDOMAIN;
      return;
    }
    this.place(this.r.answer, owner, [makeRR(name, TYPE.CNAME, d.ttl, { code: TYPE.CNAME, wire, names: [target] })]);
    if (qtype !== TYPE.CNAME) this.follow(zones, target, qtype);
  }
}

/**
 * RFC 8482 as NSD: one RRset. The first of A, AAAA, SOA, MX, PTR in zone order; failing
 * those, the last other RRset; DNSKEY/RRSIG/NSEC only when nothing else exists.
 */
function anyRRset(node: RRsets): RR[] | undefined {
  let normal: RR[] | undefined;
  let nonPreferred: RR[] | undefined;
  for (const set of node.values()) {
    const c = set[0]!.code;
    if (c === TYPE.A || c === TYPE.AAAA || c === TYPE.SOA || c === TYPE.MX || c === TYPE.PTR) return set;
    if (c === TYPE_DNSKEY || c === 46 || c === 47) nonPreferred = set;
    else normal = set;
  }
  return normal ?? nonPreferred;
}

/** True when name sits below a delegation point of the zone (it is glue, not zone data). */
function belowCut(zone: Zone, name: string): boolean {
  if (zone.cuts.size === 0) return false;
  const info = nameInfo(name);
  for (let i = 1; i < info.suffixes.length; i++) {
    const n = info.suffixes[i]!;
    if (n === zone.name) return false;
    if (zone.cuts.has(n)) return true;
  }
  return false;
}

/** The node holding a name's addresses: the name itself or, failing that, its wildcard. */
function addressNode(zone: Zone, name: string, allowGlue: boolean): { owner: string; node: RRsets } | null {
  if (!allowGlue && belowCut(zone, name)) return null;
  const node = zone.nodes.get(name);
  if (node) return { owner: name, node };
  if (zone.ents.has(name)) return null;
  const info = nameInfo(name);
  for (let i = 1; i < info.suffixes.length; i++) {
    const n = info.suffixes[i]!;
    if (zone.nodes.has(n) || zone.ents.has(n) || n === zone.name) {
      const wild = zone.nodes.get(`*.${n}`);
      return wild ? { owner: name, node: wild } : null;
    }
  }
  return null;
}

/** What the zones say about (name, type). suffixes: keys of the name and its ancestors, root last. */
export function lookup(zones: ZoneSet, suffixes: string[], qtype: number, classAny = false): Result {
  let apexIdx = zoneIndex(zones, suffixes, 0);
  if (apexIdx < 0) return empty(RCODE.REFUSED);
  // DS at a zone apex belongs to the parent side of the cut, when we serve the parent.
  if (apexIdx === 0 && qtype === TYPE.DS) {
    const parent = zoneIndex(zones, suffixes, 1);
    if (parent > 0) apexIdx = parent;
  }
  const b = new Builder(classAny);
  b.resolve(zones, zones.byKey(suffixes[apexIdx]!)!, suffixes, apexIdx, qtype, null);
  return b.r;
}

// Slack beyond 64 KiB: an RRset is written first, then checked against the limit.
const SCRATCH = new Uint8Array(65535 + 70000);

/** Message writer with name compression and roll-back for RRsets that do not fit. */
class Writer {
  buf: Uint8Array;
  pos = 0;
  // A response holds a handful of names: parallel arrays scanned linearly beat a Map here,
  // and roll-back is a truncation.
  private keys: string[] = [];
  private offs: number[] = [];

  constructor(readonly limit: number) {
    // answer() runs to completion synchronously, so one scratch buffer serves every call.
    this.buf = SCRATCH;
  }
  u16(v: number): void {
    this.buf[this.pos++] = (v >> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }
  u32(v: number): void {
    this.u16((v >>> 16) & 0xffff);
    this.u16(v & 0xffff);
  }
  /** Copies src[start, end): short runs byte by byte (cheaper than a subarray view). */
  copy(src: Uint8Array, start: number, end: number): void {
    const buf = this.buf;
    let p = this.pos;
    if (end - start > 48) buf.set(src.subarray(start, end), p);
    else for (let i = start; i < end; i++) buf[p++] = src[i]!;
    this.pos += end - start;
  }
  remember(key: string, at: number): void {
    if (at < 0x4000) {
      this.keys.push(key);
      this.offs.push(at);
    }
  }
  private find(key: string): number {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.offs[i]!;
    return -1;
  }
  mark(): [number, number] {
    return [this.pos, this.keys.length];
  }
  rollback([pos, n]: [number, number]): void {
    this.pos = pos;
    this.keys.length = n;
    this.offs.length = n;
  }
  /** Writes a name, compressed against every name written before it. */
  name(key: string, compress: boolean): void {
    if (key === "") {
      this.buf[this.pos++] = 0;
      return;
    }
    const info = nameInfo(key);
    const start = this.pos;
    const n = info.suffixes.length;
    for (let i = 0; i < n; i++) {
      const at = compress ? this.find(info.suffixes[i]!) : -1;
      if (at >= 0) {
        this.copy(info.wire, 0, info.offsets[i]!);
        this.u16(0xc000 | at);
        for (let j = 0; j < i; j++) this.remember(info.suffixes[j]!, start + info.offsets[j]!);
        return;
      }
    }
    this.copy(info.wire, 0, info.wire.length);
    for (let j = 0; j < n; j++) this.remember(info.suffixes[j]!, start + info.offsets[j]!);
  }
}

function writeRR(w: Writer, owner: string | null, rr: RR): boolean {
  // Worst case before writing: owner + fixed part + RDATA uncompressed.
  if (owner === null) w.u16(0xc000 | HEADER);
  else w.name(owner, true);
  w.u16(rr.code);
  w.u16(CLASS_IN);
  w.u32(rr.ttl);
  const lenAt = w.pos;
  w.pos += 2;
  switch (rr.code) {
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.PTR:
      w.name(rr.targets[0]!, true);
      break;
    case TYPE.MX:
      w.u16((rr.rdata[0]! << 8) | rr.rdata[1]!);
      w.name(rr.targets[0]!, true);
      break;
    case TYPE.SOA:
      w.name(rr.targets[0]!, true);
      w.name(rr.targets[1]!, true);
      w.copy(rr.rdata, rr.rdata.length - 20, rr.rdata.length);
      break;
    default:
      w.copy(rr.rdata, 0, rr.rdata.length);
  }
  const len = w.pos - lenAt - 2;
  w.buf[lenAt] = len >> 8;
  w.buf[lenAt + 1] = len & 0xff;
  return w.pos <= w.limit;
}

/** [records, counted in, optional], in the order they are written. */
const SECTIONS: readonly (readonly ["answer" | "authority" | "optionalAuthority" | "additionalA" | "additionalAAAA", number, boolean])[] = [
  ["answer", 0, false],
  ["authority", 1, false],
  ["optionalAuthority", 1, true],
  ["additionalA", 2, true],
  ["additionalAAAA", 2, true],
];

function encode(raw: Uint8Array, q: Query, r: Result, limit: number, extended: number, noQuestion: boolean): Uint8Array {
  const room = limit - (q.opt ? OPT_SIZE : 0);
  const w = new Writer(room);
  const counts = [0, 0, 0];
  // RD is copied; CD is not (NSD clears it: there is no validation here to disable).
  let flags = QR | (q.flags & 0x7800) | (q.flags & RD) | (r.aa ? AA : 0) | (r.rcode & 0xf);
  w.copy(raw, 0, HEADER);
  if (!noQuestion) {
    // The question exactly as received: its case is what 0x20-randomising resolvers check.
    w.copy(raw, HEADER, q.qEnd);
    const keys = keysOf(raw, q);
    for (let i = 0; i < q.labelOffsets.length; i++) w.remember(keys[i]!, q.labelOffsets[i]!);
  }
  let truncated = false;
  for (let s = 0; s < SECTIONS.length && !truncated; s++) {
    const [field, count, optional] = SECTIONS[s]!;
    const list = r[field];
    if (list.length === 0) continue;
    let done = false;
    let added = 0;
    for (const placed of list) {
      const m = w.mark();
      let ok = true;
      for (const rr of placed.rrs) {
        if (!writeRR(w, placed.owner, rr)) {
          ok = false;
          break;
        }
      }
      if (ok) {
        counts[count]! += placed.rrs.length;
        added += placed.rrs.length;
        continue;
      }
      // As NSD: an RRset that does not fit is left out whole. In the answer and authority
      // sections that truncates the message (TC); optional records are just left out, and
      // no later section is tried.
      w.rollback(m);
      if (!optional) {
        truncated = true;
        flags |= TC;
        break;
      }
      done = true;
    }
    if (done) {
      // A referral without a single address would be useless: ask for TCP instead.
      if (s === 3 && added === 0 && r.delegation) flags |= TC;
      break;
    }
  }
  let arcount = counts[2]!;
  if (q.opt) {
    // Root owner, type OPT, our payload size, extended rcode, version 0, DO echoed, no options.
    const b = w.buf;
    let p = w.pos;
    b[p++] = 0;
    b[p++] = 0;
    b[p++] = TYPE_OPT;
    b[p++] = EDNS_PAYLOAD >> 8;
    b[p++] = EDNS_PAYLOAD & 0xff;
    b[p++] = extended;
    b[p++] = 0;
    b[p++] = q.opt.do ? 0x80 : 0;
    b[p++] = 0;
    b[p++] = 0;
    b[p++] = 0;
    w.pos = p;
    arcount++;
  }
  const out = w.buf.slice(0, w.pos);
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  out[4] = 0;
  out[5] = noQuestion ? 0 : 1;
  out[6] = counts[0]! >> 8;
  out[7] = counts[0]! & 0xff;
  out[8] = counts[1]! >> 8;
  out[9] = counts[1]! & 0xff;
  out[10] = arcount >> 8;
  out[11] = arcount & 0xff;
  return out;
}
