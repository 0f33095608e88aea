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

interface Entry {
  bytes: Uint8Array;
  /** Offsets (besides the question at 12) where the question's name is spelled out. */
  patch: number[];
  /** Length of the question name in bytes. */
  nameLen: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
}

export class AnswerCache {
  private current = new Map<string, Entry>();
  private previous = new Map<string, Entry>();
  private bytes = 0;
  private generation = -1;
  private scratch = Buffer.allocUnsafe(65536);
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
      const key = this.key(query, qEnd, transport);
      const hit = this.lookup(key);
      if (hit) {
        this.hits++;
        return patched(hit, query);
      }
      this.misses++;
      const out = answer(query, transport, peer);
      if (out) this.store(key, query, qEnd, out);
      return out;
    };
  }

  private key(query: Uint8Array, qEnd: number, transport: "udp" | "tcp"): string {
    const s = this.scratch;
    const n = query.length - 2;
    s[0] = transport === "udp" ? 0x75 : 0x74;
    s.set(query.subarray(2), 1);
    // The question name: bytes 12..qEnd-4 of the query, shifted by -2 +1 here.
    for (let i = HEADER - 1; i < qEnd - 5; i++) {
      const c = s[i]!;
      if (c >= 0x41 && c <= 0x5a) s[i] = c | 0x20;
    }
    return s.toString("latin1", 0, n + 1);
  }

  private lookup(key: string): Entry | undefined {
    const gen = this.zonesGeneration();
    if (gen !== this.generation) {
      this.generation = gen;
      this.clear();
      return undefined;
    }
    const e = this.current.get(key);
    if (e) return e;
    const old = this.previous.get(key);
    if (old) this.insert(key, old);
    return old;
  }

  private store(key: string, query: Uint8Array, qEnd: number, out: Uint8Array): void {
    if (out.length > MAX_CACHED_RESPONSE || out.length < qEnd) return;
    // SERVFAIL is a passing failure, not an answer worth repeating.
    if ((out[3]! & 0x0f) === 2) return;
    const nameLen = qEnd - 4 - HEADER;
    // The response must carry our question, spelled the same way up to case, where we patch it.
    if (u16(out, 4) !== 1 || !sameNameBytes(out, HEADER, query, HEADER, nameLen)) return;
    const patch = ownerOffsets(out, query, qEnd, nameLen);
    if (!patch) return;
    this.insert(key, { bytes: out.slice(), patch, nameLen });
  }

  private insert(key: string, e: Entry): void {
    if (this.current.size >= this.maxEntries || this.bytes + e.bytes.length > this.maxBytes) {
      this.previous = this.current;
      this.current = new Map();
      this.bytes = 0;
    }
    this.current.set(key, e);
    this.bytes += e.bytes.length;
  }
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
  const out = e.bytes.slice();
  out[0] = query[0]!;
  out[1] = query[1]!;
  const name = query.subarray(HEADER, HEADER + e.nameLen);
  out.set(name, HEADER);
  for (const off of e.patch) out.set(name, off);
  return out;
}
