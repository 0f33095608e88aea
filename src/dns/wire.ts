/**
 * Just enough of the DNS wire format to find things without decoding a whole message: the
 * cache, TSIG and transfers work on the bytes as received and sent, not on dns-packet's
 * decoded text (which loses the question's case and cannot re-create the signed bytes).
 */

import { canonicalName } from "../core/names";

export const HEADER = 12;
export const TYPE_OPT = 41;
export const TYPE_SOA = 6;
export const TYPE_TSIG = 250;
export const TYPE_IXFR = 251;
export const TYPE_AXFR = 252;
export const CLASS_ANY = 255;
/** RFC 1996: the NOTIFY opcode. */
export const OPCODE_NOTIFY = 4;

export const u16 = (b: Uint8Array, off: number): number => (b[off]! << 8) | b[off + 1]!;
export const u32 = (b: Uint8Array, off: number): number => ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;

/**
 * A copy of b[start, end) as a plain Uint8Array. Messages arrive as Node Buffers, whose
 * slice() is a view: writing into a "slice" of one would change the caller's message.
 */
export function copyBytes(b: Uint8Array, start: number, end: number = b.length): Uint8Array {
  const out = new Uint8Array(Math.max(0, Math.min(end, b.length) - start));
  out.set(b.subarray(start, start + out.length));
  return out;
}

export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

/**
 * Offset just past the name starting at off, or -1 when it runs off the end or carries a
 * bad label type. A compression pointer ends the name (it is not followed here).
 */
export function skipName(b: Uint8Array, off: number): number {
  // 128 labels is the most a 255-byte name can hold; more means garbage.
  for (let labels = 0; labels <= 128; labels++) {
    if (off >= b.length) return -1;
    const len = b[off]!;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= b.length ? off + 2 : -1;
    if (len & 0xc0) return -1;
    off += 1 + len;
  }
  return -1;
}

/** Offset just past the resource record at off, or -1. */
export function skipRR(b: Uint8Array, off: number): number {
  const end = skipName(b, off);
  if (end < 0 || end + 10 > b.length) return -1;
  const next = end + 10 + u16(b, end + 8);
  return next <= b.length ? next : -1;
}

/** End of the (first) question, or -1 when there is none or it is malformed. */
export function questionEnd(b: Uint8Array): number {
  if (b.length < HEADER || u16(b, 4) < 1) return -1;
  const end = skipName(b, HEADER);
  return end < 0 || end + 4 > b.length ? -1 : end + 4;
}

/**
 * Reads a name (following pointers, with a hop bound against loops) as lower-case text
 * without the trailing dot; null when malformed.
 */
export function readName(b: Uint8Array, off: number): string | null {
  const labels: string[] = [];
  let total = 0;
  for (let hops = 0; hops < 128; hops++) {
    if (off >= b.length) return null;
    const len = b[off]!;
    if (len === 0) return labels.join(".").toLowerCase();
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= b.length) return null;
      off = ((len & 0x3f) << 8) | b[off + 1]!;
      continue;
    }
    if (len & 0xc0 || off + 1 + len > b.length) return null;
    total += len + 1;
    if (total > 255) return null;
    let s = "";
    for (let i = off + 1; i <= off + len; i++) s += String.fromCharCode(b[i]!);
    labels.push(s);
    off += 1 + len;
  }
  return null;
}

/** A name in uncompressed, lower-case wire form (TSIG digests and transfers need exactly this). */
export function encodeName(name: string): Uint8Array {
  const labels = canonicalName(name).split(".").filter(Boolean);
  const out = new Uint8Array(labels.reduce((n, l) => n + l.length + 1, 1));
  let off = 0;
  for (const l of labels) {
    out[off++] = l.length;
    for (let i = 0; i < l.length; i++) out[off++] = l.charCodeAt(i);
  }
  return out;
}

/** True when the bytes at a and b hold the same uncompressed name, ignoring ASCII case. */
export function sameNameBytes(x: Uint8Array, a: number, y: Uint8Array, b: number, len: number): boolean {
  if (a + len > x.length || b + len > y.length) return false;
  for (let i = 0; i < len; i++) {
    let c = x[a + i]!;
    let d = y[b + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (d >= 0x41 && d <= 0x5a) d |= 0x20;
    if (c !== d) return false;
  }
  return true;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
