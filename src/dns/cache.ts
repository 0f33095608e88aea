/**
 * The answer cache in front of answer(): a repeated question reuses the encoded response,
 * with only the id and the question's spelling (0x20 case) patched in. Keyed on the query
 * bytes after the id, question name lower-cased, plus the transport: the OPT record (payload
 * size, DO) is part of those bytes, so different EDNS parameters never share an entry.
 */
import { HEADER, questionEnd, sameNameBytes, skipRR, TYPE_IXFR, TYPE_AXFR, TYPE_OPT, u16 } from "./wire";

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
 *   [4-5] key length  [6 .. 6+2n) offsets (besides the question at 12) where the response
 *   spells the question's name out  [.. +key length) the key: the query bytes after the id,
 *   name lower-cased  [rest] the response.
 */
type Entry = Uint8Array;
const E_FIXED = 6;
/** Owner names that spell the question out; more is not worth an entry. */
const MAX_PATCHES = 255;

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
}

export class AnswerCache {
  // Keyed by a 32-bit hash of the key bytes; the entry holds the key itself, so a collision is
  // only a miss (the newer entry replaces the older). No key string is built per query.
  private current = new Map<number, Entry>();
  private previous = new Map<number, Entry>();
  private bytes = 0;
  private generation = -1;
  hits = 0;
  misses = 0;

  constructor(
    /** The zones' change counter (ZoneSet.generation): any change drops every entry. */
    private readonly zonesGeneration: () => number,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  get size(): number {
    return this.current.size + this.previous.size;
  }

  clear(): void {
    this.current = new Map();
    this.previous = new Map();
    this.bytes = 0;
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
    const gen = this.zonesGeneration();
    if (gen !== this.generation) {
      this.generation = gen;
      this.clear();
      return undefined;
    }
    const e = this.current.get(h);
    if (e) return sameKey(e, query, qEnd, t) ? e : undefined;
    const old = this.previous.get(h);
    if (!old || !sameKey(old, query, qEnd, t)) return undefined;
    this.insert(h, old);
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
    const keyLen = query.length - 2;
    const keyAt = E_FIXED + 2 * patch.length;
    const e = new Uint8Array(keyAt + keyLen + out.length);
    e[0] = t;
    e[1] = patch.length;
    e[2] = nameLen >> 8;
    e[3] = nameLen & 0xff;
    e[4] = keyLen >> 8;
    e[5] = keyLen & 0xff;
    for (let i = 0; i < patch.length; i++) {
      e[E_FIXED + 2 * i] = patch[i]! >> 8;
      e[E_FIXED + 2 * i + 1] = patch[i]! & 0xff;
    }
    for (let i = 2; i < query.length; i++) {
      const c = query[i]!;
      e[keyAt + i - 2] = i >= HEADER && i < qEnd - 4 && c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
    e.set(out, keyAt + keyLen);
    this.insert(h, e);
  }

  private insert(key: number, e: Entry): void {
    if (this.current.size >= this.maxEntries || this.bytes + e.length > this.maxBytes) {
      this.previous = this.current;
      this.current = new Map();
      this.bytes = 0;
    }
    this.current.set(key, e);
    this.bytes += e.length;
  }
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
