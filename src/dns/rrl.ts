/**
 * Response rate limiting over UDP, as NSD and Knot do it (the idea of Vixie and Schryver's
 * DNS RRL): a forged-source flood makes us send answers to a victim, and a large answer to a
 * small query multiplies the attacker's traffic. So answers are counted per (source prefix,
 * answer class, name): each such bucket may send `rate` answers a second (a token bucket
 * holding at most one second's worth); beyond that answers are dropped, except every
 * `slip`-th dropped one, which goes out truncated (TC, question only: no larger than the
 * query), so a real resolver that shares the prefix retries over TCP and is answered there.
 * TCP is never limited: its three-way handshake proves the source.
 *
 * The answer class comes from the answer's own bytes, as NSD's classes do:
 *   positive (and ANY)  per question name
 *   NXDOMAIN, NODATA    per zone (the owner of the SOA in authority)
 *   referral            per delegation point (the owner of the NS in authority)
 *   error               per source alone (REFUSED, FORMERR, NOTIMP, SERVFAIL ...)
 * so a random-subdomain flood shares one bucket, and queries for the names a client really
 * uses are never starved by it. A wildcard answer looks like any positive answer and is
 * limited per name.
 *
 * Per packet: a hash over the prefix, the class and the name, and one slot of a fixed-size
 * table in typed arrays; no object is made (the DNS thread calls it for every datagram). Two
 * keys in one slot reset it, as in NSD: a collision gives a burst, never a wrong drop.
 */
import { ipv6ToBytes } from "../core/addresses";
import { HEADER, skipName, skipRR, u16 } from "./wire";

export interface RrlConfig {
  /** Answers per second per bucket; 0 turns limiting off. */
  rate: number;
  /** Every slip-th dropped answer goes out truncated instead (0: none, 1: all). */
  slip: number;
  /** Bits of an IPv4 source that make one source (24 as NSD and Knot). */
  ipv4Prefix: number;
  /** Bits of an IPv6 source that make one source (56 as Knot; NSD takes 64). */
  ipv6Prefix: number;
}

export const RRL_DEFAULTS: RrlConfig = { rate: 200, slip: 2, ipv4Prefix: 24, ipv6Prefix: 56 };

/** What to do with an answer. */
export const RRL_SEND = 0;
export const RRL_DROP = 1;
export const RRL_SLIP = 2;

const CLASS_POSITIVE = 1;
const CLASS_ANY = 2;
const CLASS_NXDOMAIN = 3;
const CLASS_NODATA = 4;
const CLASS_REFERRAL = 5;
const CLASS_ERROR = 6;

const TYPE_ANY = 255;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 16777619;

/** 2^18 slots of 12 bytes: 3 MiB at most, touched only as sources come (zero pages). */
const SLOTS = 1 << 18;

const mix = (h: number, byte: number): number => Math.imul(h ^ byte, FNV_PRIME);

/** Hashes the name at off (following compression pointers), case-folded; h on garbage. */
function hashName(m: Uint8Array, off: number, h: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (off >= m.length) return h;
    const len = m[off]!;
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= m.length) return h;
      off = ((len & 0x3f) << 8) | m[off + 1]!;
      continue;
    }
    if (len > 63) return h;
    h = mix(h, len);
    if (len === 0) return h;
    const end = Math.min(off + 1 + len, m.length);
    for (let k = off + 1; k < end; k++) {
      const c = m[k]!;
      h = mix(h, c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
    }
    off += 1 + len;
  }
  return h;
}

export class ResponseRateLimiter {
  private readonly keys = new Uint32Array(SLOTS);
  private readonly tokens = new Float32Array(SLOTS);
  private readonly stamps = new Uint32Array(SLOTS);
  private drops = 0;
  /** The end of the question in the last answer checked: a slipped answer is cut there. */
  questionEnd = HEADER;

  constructor(private readonly config: RrlConfig) {}

  /**
   * The verdict on sending `reply` to a source whose address is src[off ..] (4 bytes for
   * IPv4, 16 for IPv6), at nowMs (any monotonic millisecond clock).
   */
  check(reply: Uint8Array, src: Uint8Array, off: number, v6: boolean, nowMs: number): number {
    if (reply.length < HEADER) return RRL_SEND;
    // The source prefix.
    let h = mix(FNV_OFFSET, v6 ? 6 : 4);
    const bits = v6 ? this.config.ipv6Prefix : this.config.ipv4Prefix;
    for (let i = 0; i * 8 < bits; i++) {
      const keep = bits - i * 8;
      h = mix(h, keep >= 8 ? src[off + i]! : src[off + i]! & ((0xff << (8 - keep)) & 0xff));
    }
    // The answer class and the name it is counted by.
    const rcode = reply[3]! & 0x0f;
    const an = u16(reply, 6);
    const ns = u16(reply, 8);
    let qEnd = HEADER;
    if (u16(reply, 4) > 0) {
      const nameEnd = skipName(reply, HEADER);
      qEnd = nameEnd < 0 || nameEnd + 4 > reply.length ? HEADER : nameEnd + 4;
    }
    this.questionEnd = qEnd;
    let cls: number;
    let nameAt = -1;
    if (rcode === 3) {
      cls = CLASS_NXDOMAIN;
      nameAt = ns > 0 ? this.authorityAt(reply, qEnd, an) : -1;
    } else if (rcode !== 0) {
      cls = CLASS_ERROR;
    } else if (an > 0) {
      cls = qEnd > HEADER && u16(reply, qEnd - 4) === TYPE_ANY ? CLASS_ANY : CLASS_POSITIVE;
      nameAt = qEnd > HEADER ? HEADER : -1;
    } else {
      // No answer: a referral (authority without AA) or NODATA (the zone's SOA).
      cls = ns > 0 && !(reply[2]! & 0x04) ? CLASS_REFERRAL : CLASS_NODATA;
      nameAt = ns > 0 ? this.authorityAt(reply, qEnd, 0) : -1;
    }
    h = mix(h, cls);
    if (nameAt >= 0) h = hashName(reply, nameAt, h);
    // murmur3's finaliser spreads the bits before the slot is taken from the low ones.
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const key = (h | 1) >>> 0; // 0 marks an empty slot
    const slot = h & (SLOTS - 1);
    const rate = this.config.rate;
    const now = nowMs >>> 0;
    if (this.keys[slot] !== key) {
      this.keys[slot] = key;
      this.stamps[slot] = now;
      this.tokens[slot] = rate - 1;
      return RRL_SEND;
    }
    // Modular milliseconds: a slot idle for 49 days only refills less than it could.
    let t = this.tokens[slot]! + (((now - this.stamps[slot]!) >>> 0) * rate) / 1000;
    if (t > rate) t = rate;
    this.stamps[slot] = now;
    if (t >= 1) {
      this.tokens[slot] = t - 1;
      return RRL_SEND;
    }
    this.tokens[slot] = t;
    const slip = this.config.slip;
    if (slip > 0 && ++this.drops % slip === 0) {
      this.drops = 0;
      return RRL_SLIP;
    }
    return RRL_DROP;
  }

  /** Offset of the first authority record's owner name (after `an` answers), or -1. */
  private authorityAt(reply: Uint8Array, qEnd: number, an: number): number {
    let off = qEnd;
    for (let i = 0; i < an && off >= 0; i++) off = skipRR(reply, off);
    return off >= 0 && off < reply.length ? off : -1;
  }
}

/** A slipped answer: header and question of `reply` with TC set and no records (a copy). */
export function slipped(reply: Uint8Array, questionEnd: number): Uint8Array {
  const out = reply.slice(0, questionEnd);
  markSlipped(out);
  return out;
}

/** Sets TC and clears the record counts of the header at b[0 ..]. */
export function markSlipped(b: Uint8Array, at = 0): void {
  b[at + 2]! |= 0x02;
  b.fill(0, at + 6, at + 12);
}

/**
 * A client address as node:dgram gives it, written into out[0 ..] as bytes: 4 (IPv4, also
 * when mapped into IPv6), 6 (IPv6) or 0 (not an address). Dotted quads, the usual case, are
 * read by hand without allocating.
 */
export function peerBytes(peer: string, out: Uint8Array): 0 | 4 | 6 {
  let start = 0;
  if (peer.length > 7 && peer.charCodeAt(0) === 0x3a && /^::ffff:\d/i.test(peer)) start = 7;
  let part = 0;
  let value = 0;
  let digits = 0;
  let v4 = true;
  for (let i = start; i < peer.length; i++) {
    const c = peer.charCodeAt(i);
    if (c === 0x2e && digits > 0 && part < 3) {
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      value = value * 10 + (c - 0x30);
      digits++;
    } else {
      v4 = false;
      break;
    }
  }
  if (v4 && part === 3 && digits > 0 && value <= 255) {
    out[3] = value;
    return 4;
  }
  const b = ipv6ToBytes(peer);
  if (!b) return 0;
  out.set(b);
  return 6;
}
