/**
 * The answer cache in front of answer(): a repeated question reuses the encoded response,
 * with only the id and the question's spelling (0x20 case) patched in. Keyed on the query
 * bytes after the id, question name lower-cased, plus the transport: the OPT record (payload
 * size, DO) is part of those bytes, so different EDNS parameters never share an entry.
 */
import { labelKey } from "./dname";
import { HEADER, questionEnd, sameNameBytes, skipRR, TYPE_IXFR, TYPE_AXFR, TYPE_OPT, u16, u32 } from "./wire";
import type { AppliedDelta, Zone, ZoneSet, ZoneWatcher } from "./zone";

/**
 * Entries per generation. Two generations are kept (the current one and the one before), so
 * memory stays bounded under a flood of unique names while hot names survive the rotation:
 * a hit in the old generation moves the entry to the new one.
 */
const DEFAULT_MAX_ENTRIES = 50_000;
/** Bytes of responses per generation, so a few large TCP answers cannot fill memory either. */
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
/** Larger answers are rare and cheap to rebuild relative to their size; not worth the space. */
const MAX_CACHED_RESPONSE = 16 * 1024;

export type AnswerFn = (query: Uint8Array, transport: "udp" | "tcp", peer: string) => Uint8Array | null;

/**
 * One entry is one byte array, so a full cache is a few tens of thousands of objects for the
 * collector rather than five times that, and a hit touches one block of memory:
 *   [0] transport (0 UDP, 1 TCP)  [1] patch count n  [2-3] question name length
 *   [4-5] key length  [6] class (below)  [8-11] zone id  [12-15] the stamp it was stored under
 *   [16 .. 16+2n) offsets (besides the question at 12) where the response spells the
 *   question's name out  [.. +key length) the key: the query bytes after the id, name
 *   lower-cased  [rest] the response.
 *
 * What a change drops depends on the class (issue 12: the cache drops only what a change can
 * affect):
 * - POSITIVE: an authoritative answer of the question's own RRset (A, AAAA, TXT, CAA, CNAME,
 *   PTR), the apex NS in authority, nothing but glue in additional, in a zone without wildcards
 *   or DNAMEs. It depends on its name's data, the zone's structure (cuts) and NS set: it is
 *   dropped when its name changes, and with everything of its zone on a structural change or
 *   a reload. Indexed by name for that.
 * - NEGATIVE: NODATA (the SOA in authority). It carries the zone's serial: dropped on any change
 *   of its zone.
 * - OTHER: everything else (CNAME chains across zones, additional data of MX/SRV/NS targets,
 *   wildcard synthesis, referrals): dropped on any change anywhere. Such answers are few.
 */
type Entry = Uint8Array;
const E_FIXED = 16;
const POSITIVE = 0;
const NEGATIVE = 1;
const OTHER = 2;
/** Question types whose positive answers hold nothing but the RRset asked for. */
const PLAIN_TYPES = new Set([1, 28, 16, 257, 5, 12]);
/** Owner names that spell the question out; more is not worth an entry. */
const MAX_PATCHES = 255;

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
}

export class AnswerCache implements ZoneWatcher {
  // Keyed by a 32-bit hash of the key bytes; the entry holds the key itself, so a collision is
  // only a miss (the newer entry replaces the older). No key string is built per query.
  private current = new Map<number, Entry>();
  private previous = new Map<number, Entry>();
  /** POSITIVE entries by question name, per generation, so a changed name drops its answers. */
  private currentByName = new Map<string, number[]>();
  private previousByName = new Map<string, number[]>();
  private bytes = 0;
  /** Stamps: per zone for POSITIVE (reloads, structural changes) and NEGATIVE (any change), one for OTHER. */
  private positiveStamp: number[] = [];
  private negativeStamp: number[] = [];
  private otherStamp = 0;
  private counter = 1;
  hits = 0;
  misses = 0;

  constructor(
    /** The zones answered from: their changes drop what they affect. */
    private readonly zones: ZoneSet,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {
    zones.watch(this);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  clear(): void {
    this.current = new Map();
    this.previous = new Map();
    this.currentByName = new Map();
    this.previousByName = new Map();
    this.bytes = 0;
  }

  /** A zone was loaded afresh or dropped: nothing of it stays. */
  zoneReplaced(id: number): void {
    this.positiveStamp[id] = this.counter++;
    this.negativeStamp[id] = this.counter++;
    this.otherStamp = this.counter++;
  }

  /** A delta was applied to a zone: drop what it can have changed. */
  deltaApplied(id: number, d: Pick<AppliedDelta, "names" | "structural">): void {
    this.negativeStamp[id] = this.counter++;
    this.otherStamp = this.counter++;
    if (d.structural) {
      this.positiveStamp[id] = this.counter++;
      return;
    }
    for (const name of d.names) {
      for (const byName of [this.currentByName, this.previousByName]) {
        const hashes = byName.get(name);
        if (!hashes) continue;
        byName.delete(name);
        for (const h of hashes) {
          this.current.delete(h);
          this.previous.delete(h);
        }
      }
    }
  }

  private valid(e: Entry): boolean {
    const stamp = u32(e, 12);
    const cls = e[6]!;
    if (cls === OTHER) return stamp === this.otherStamp;
    const zone = u32(e, 8);
    return stamp === ((cls === POSITIVE ? this.positiveStamp[zone] : this.negativeStamp[zone]) ?? 0);
  }

  /**
   * Wraps an answer function: cacheable queries are answered from the cache when possible,
   * everything else goes straight through.
   */
  wrap(answer: AnswerFn): AnswerFn {
    return (query, transport, peer) => {
      const qEnd = cacheableQuery(query);
      if (qEnd < 0) return answer(query, transport, peer);
      const t = transport === "udp" ? 0 : 1;
      const h = hashKey(query, qEnd, t);
      const hit = this.lookup(h, query, qEnd, t);
      if (hit) {
        this.hits++;
        return patched(hit, query);
      }
      this.misses++;
      const out = answer(query, transport, peer);
      if (out) this.store(h, query, qEnd, t, out);
      return out;
    };
  }

  private lookup(h: number, query: Uint8Array, qEnd: number, t: number): Entry | undefined {
    const e = this.current.get(h);
    if (e) {
      if (!sameKey(e, query, qEnd, t)) return undefined;
      if (this.valid(e)) return e;
      this.current.delete(h);
      return undefined;
    }
    const old = this.previous.get(h);
    if (!old || !sameKey(old, query, qEnd, t)) return undefined;
    if (!this.valid(old)) {
      this.previous.delete(h);
      return undefined;
    }
    this.insert(h, old, old[6] === POSITIVE ? questionKey(query, qEnd) : null);
    return old;
  }

  private store(h: number, query: Uint8Array, qEnd: number, t: number, out: Uint8Array): void {
    if (out.length > MAX_CACHED_RESPONSE || out.length < qEnd) return;
    // SERVFAIL is a passing failure, not an answer worth repeating. NXDOMAIN comes from a
    // template in answer() about as fast as a hit, and a random-subdomain flood is nothing
    // but unique names: storing them would only churn memory and evict the names that repeat.
    const rcode = out[3]! & 0x0f;
    if (rcode === 2 || rcode === 3) return;
    const nameLen = qEnd - 4 - HEADER;
    // The response must carry our question, spelled the same way up to case, where we patch it.
    if (u16(out, 4) !== 1 || !sameNameBytes(out, HEADER, query, HEADER, nameLen)) return;
    const patch = ownerOffsets(out, query, qEnd, nameLen);
    if (!patch || patch.length > MAX_PATCHES) return;
    const name = questionKey(query, qEnd);
    const zone = name === null ? null : this.zones.find(name);
    const cls = zone ? classOf(out, qEnd, u16(query, qEnd - 4), zone) : OTHER;
    const zoneId = zone?.id ?? 0;
    const stamp = cls === OTHER ? this.otherStamp : ((cls === POSITIVE ? this.positiveStamp[zoneId] : this.negativeStamp[zoneId]) ?? 0);
    const keyLen = query.length - 2;
    const keyAt = E_FIXED + 2 * patch.length;
    const e = new Uint8Array(keyAt + keyLen + out.length);
    e[0] = t;
    e[1] = patch.length;
    e[2] = nameLen >> 8;
    e[3] = nameLen & 0xff;
    e[4] = keyLen >> 8;
    e[5] = keyLen & 0xff;
    e[6] = cls;
    e[8] = zoneId >>> 24;
    e[9] = (zoneId >>> 16) & 0xff;
    e[10] = (zoneId >>> 8) & 0xff;
    e[11] = zoneId & 0xff;
    e[12] = stamp >>> 24;
    e[13] = (stamp >>> 16) & 0xff;
    e[14] = (stamp >>> 8) & 0xff;
    e[15] = stamp & 0xff;
    for (let i = 0; i < patch.length; i++) {
      e[E_FIXED + 2 * i] = patch[i]! >> 8;
      e[E_FIXED + 2 * i + 1] = patch[i]! & 0xff;
    }
    for (let i = 2; i < query.length; i++) {
      const c = query[i]!;
      e[keyAt + i - 2] = i >= HEADER && i < qEnd - 4 && c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
    e.set(out, keyAt + keyLen);
    this.insert(h, e, cls === POSITIVE ? name : null);
  }

  private insert(key: number, e: Entry, name: string | null): void {
    if (this.current.size >= this.maxEntries || this.bytes + e.length > this.maxBytes) {
      this.previous = this.current;
      this.previousByName = this.currentByName;
      this.current = new Map();
      this.currentByName = new Map();
      this.bytes = 0;
    }
    this.current.set(key, e);
    this.bytes += e.length;
    if (name !== null) {
      const list = this.currentByName.get(name);
      if (list) list.push(key);
      else this.currentByName.set(name, [key]);
    }
  }
}

/** The question's name as a zone key (lower-case presentation form), or null when it is odd. */
function questionKey(q: Uint8Array, qEnd: number): string | null {
  let off = HEADER;
  let key = "";
  const end = qEnd - 4;
  while (off < end) {
    const len = q[off]!;
    if (len === 0) break;
    if (len > 63) return null;
    key += (key ? "." : "") + labelKey(q, off + 1, len);
    off += 1 + len;
  }
  return key;
}

/** Which class (see Entry) a response to a question of qtype in zone falls in. */
function classOf(out: Uint8Array, qEnd: number, qtype: number, zone: Zone): number {
  const aa = (out[2]! & 0x04) !== 0;
  const rcode = out[3]! & 0x0f;
  if (!aa || rcode !== 0) return OTHER;
  const an = u16(out, 6);
  const ns = u16(out, 8);
  const ar = u16(out, 10);
  let off = qEnd;
  if (an === 0) {
    // NODATA: exactly the SOA in authority.
    if (ns !== 1) return OTHER;
    const end = skipRR(out, off);
    return end > 0 && typeAt(out, off) === 6 ? NEGATIVE : OTHER;
  }
  if (!PLAIN_TYPES.has(qtype) || zone.wildParents.size > 0 || zone.dnames.size > 0) return OTHER;
  for (let i = 0; i < an; i++) {
    // The question's own name (a pointer to it) and type, nothing synthesized or followed.
    if (out[off] !== 0xc0 || out[off + 1] !== HEADER || typeAt(out, off) !== qtype) return OTHER;
    off = skipRR(out, off);
    if (off < 0) return OTHER;
  }
  for (let i = 0; i < ns; i++) {
    if (typeAt(out, off) !== 2) return OTHER;
    off = skipRR(out, off);
    if (off < 0) return OTHER;
  }
  for (let i = 0; i < ar; i++) {
    const t = typeAt(out, off);
    if (t !== 1 && t !== 28 && t !== TYPE_OPT) return OTHER;
    off = skipRR(out, off);
    if (off < 0) return OTHER;
  }
  return POSITIVE;
}

/** The type of the record at off (its owner skipped), or -1. */
function typeAt(b: Uint8Array, off: number): number {
  let o = off;
  for (;;) {
    if (o >= b.length) return -1;
    const len = b[o]!;
    if (len === 0) {
      o++;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      o += 2;
      break;
    }
    o += 1 + len;
  }
  return o + 2 <= b.length ? u16(b, o) : -1;
}

const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

/** FNV-1a over the transport and the query after the id, the question name lower-cased. */
function hashKey(q: Uint8Array, qEnd: number, t: number): number {
  let h = (0x811c9dc5 ^ t) >>> 0;
  const nameEnd = qEnd - 4;
  for (let i = 2; i < q.length; i++) {
    const c = i >= HEADER && i < nameEnd ? lower(q[i]!) : q[i]!;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

function sameKey(e: Entry, q: Uint8Array, qEnd: number, t: number): boolean {
  if (e[0] !== t || ((e[4]! << 8) | e[5]!) !== q.length - 2) return false;
  const base = E_FIXED + 2 * e[1]! - 2;
  const nameEnd = qEnd - 4;
  for (let i = 2; i < q.length; i++) {
    const c = i >= HEADER && i < nameEnd ? lower(q[i]!) : q[i]!;
    if (e[base + i] !== c) return false;
  }
  return true;
}

/**
 * End of the question when the query is a plain one-question QUERY that may be cached
 * (nothing but an OPT in additional: a TSIG-signed query gets a fresh signature), else -1.
 */
function cacheableQuery(q: Uint8Array): number {
  if (q.length < HEADER || q[2]! & 0xf8) return -1; // a response, or an opcode other than QUERY
  if (u16(q, 4) !== 1 || u16(q, 6) !== 0 || u16(q, 8) !== 0) return -1;
  const ar = u16(q, 10);
  if (ar > 1) return -1;
  const qEnd = questionEnd(q);
  if (qEnd < 0) return -1;
  const qtype = u16(q, qEnd - 4);
  if (qtype === TYPE_AXFR || qtype === TYPE_IXFR) return -1;
  if (ar === 1) {
    // The OPT's owner must be the root (one zero byte), and the record must end the packet.
    if (q[qEnd] !== 0 || u16(q, qEnd + 1) !== TYPE_OPT || skipRR(q, qEnd) !== q.length) return -1;
  } else if (qEnd !== q.length) {
    return -1;
  }
  return qEnd;
}

/** Offsets of records whose owner spells out the question's name; null when unparsable. */
function ownerOffsets(out: Uint8Array, query: Uint8Array, qEnd: number, nameLen: number): number[] | null {
  const patch: number[] = [];
  const count = u16(out, 6) + u16(out, 8) + u16(out, 10);
  let off = qEnd;
  for (let i = 0; i < count; i++) {
    if (out[off] !== undefined && out[off]! < 0xc0 && sameNameBytes(out, off, query, HEADER, nameLen)) patch.push(off);
    off = skipRR(out, off);
    if (off < 0) return null;
  }
  return patch;
}

function patched(e: Entry, query: Uint8Array): Uint8Array {
  const n = e[1]!;
  const out = e.slice(E_FIXED + 2 * n + ((e[4]! << 8) | e[5]!));
  out[0] = query[0]!;
  out[1] = query[1]!;
  const name = query.subarray(HEADER, HEADER + ((e[2]! << 8) | e[3]!));
  out.set(name, HEADER);
  for (let i = 0; i < n; i++) out.set(name, (e[E_FIXED + 2 * i]! << 8) | e[E_FIXED + 2 * i + 1]!);
  return out;
}
