/**
 * NSEC3 (RFC 5155) as RFC 9276 advises: SHA-1, no extra iterations, an empty salt, no opt-out.
 * Hashing, the Base32hex owner label, type bitmaps and the NSEC3 / NSEC3PARAM RDATA.
 */
import { createHash } from "node:crypto";
import { nameInfo } from "../dname";

export const NSEC3_HASH_SHA1 = 1;
export const NSEC3_ITERATIONS = 0;
export const HASH_BYTES = 20;

/** IH(salt, name, 0) = SHA-1(canonical wire name || salt), the salt being empty. */
export function nsec3Hash(name: string): Uint8Array {
  return new Uint8Array(createHash("sha1").update(nameInfo(name).wire).digest());
}

const B32HEX = "0123456789abcdefghijklmnopqrstuv";

/** RFC 4648 Base32hex without padding, lower case (the owner label of an NSEC3). */
export function base32hex(b: Uint8Array): string {
  let out = "";
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < b.length; i++) {
    acc = (acc << 8) | b[i]!;
    bits += 8;
    while (bits >= 5) {
      out += B32HEX[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32HEX[(acc << (5 - bits)) & 31];
  return out;
}

export function fromBase32hex(s: string): Uint8Array | null {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of s.toLowerCase()) {
    const v = B32HEX.indexOf(ch);
    if (v < 0) return null;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
      acc &= (1 << bits) - 1;
    }
  }
  return Uint8Array.from(out);
}

/** RFC 4034 4.1.2: the type bit maps field for a set of types. */
export function typeBitmap(types: Iterable<number>): Uint8Array {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const out: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const window = sorted[i]! >> 8;
    const bits = new Uint8Array(32);
    let len = 0;
    for (; i < sorted.length && sorted[i]! >> 8 === window; i++) {
      const low = sorted[i]! & 0xff;
      bits[low >> 3]! |= 0x80 >> (low & 7);
      len = (low >> 3) + 1;
    }
    out.push(window, len, ...bits.subarray(0, len));
  }
  return Uint8Array.from(out);
}

/** The types a bitmap lists. */
export function bitmapTypes(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 0; o + 2 <= b.length; ) {
    const window = b[o]!;
    const len = b[o + 1]!;
    for (let i = 0; i < len && o + 2 + i < b.length; i++) {
      for (let bit = 0; bit < 8; bit++) if (b[o + 2 + i]! & (0x80 >> bit)) out.push(window * 256 + i * 8 + bit);
    }
    o += 2 + len;
  }
  return out;
}

/** NSEC3 RDATA: SHA-1, no flags (no opt-out), 0 iterations, no salt, the next hash, the bitmap. */
export function nsec3Rdata(next: Uint8Array, bitmap: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + next.length + bitmap.length);
  out[0] = NSEC3_HASH_SHA1;
  out[1] = 0;
  out[2] = 0;
  out[3] = NSEC3_ITERATIONS;
  out[4] = 0; // salt length
  out[5] = next.length;
  out.set(next, 6);
  out.set(bitmap, 6 + next.length);
  return out;
}

/** NSEC3PARAM RDATA: SHA-1, flags 0, 0 iterations, no salt. */
export const NSEC3PARAM_RDATA = Uint8Array.from([NSEC3_HASH_SHA1, 0, 0, NSEC3_ITERATIONS, 0]);
