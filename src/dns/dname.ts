/**
 * Domain names as the zone keeps them. A name's key is its presentation form, lower-cased,
 * without the trailing dot, with RFC 1035 escapes for bytes that are not plain text ("\." for
 * a dot inside a label, "\ddd" for the rest), so a key built from wire labels and a key built
 * from zone-file text are the same string. The root is "".
 */

const DOT = 0x2e;
const BACKSLASH = 0x5c;

/**
 * How a byte appears in a key: 0 as itself (lower-cased), 1 behind a backslash ("\\."),
 * 2 as a decimal escape ("\\032"). One table for every key built from wire bytes.
 */
const KEY_FORM = new Uint8Array(256);
for (let c = 0; c < 256; c++) KEY_FORM[c] = c <= 0x20 || c >= 0x7f ? 2 : 0;
for (const c of [DOT, BACKSLASH, 0x22, 0x28, 0x29, 0x3b, 0x40, 0x24]) KEY_FORM[c] = 1;

/** Key text of one label's bytes (lower-cased; escaped where presentation form needs it). */
export function labelKey(b: Uint8Array, start: number, len: number): string {
  let s = "";
  for (let i = start; i < start + len; i++) {
    let c = b[i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    const form = KEY_FORM[c]!;
    if (form === 0) s += String.fromCharCode(c);
    else if (form === 1) s += `\\${String.fromCharCode(c)}`;
    else s += `\\${String(c).padStart(3, "0")}`;
  }
  return s;
}

const scratch = new Uint8Array(256);
// Only ever given bytes 0x21-0x7e, where every single-byte decoding agrees.
const ascii = new TextDecoder("latin1");

/**
 * Keys of a wire name given the offset of each of its labels (uncompressed, already checked
 * to lie within b): the whole name, then each suffix, then the root "". The usual name, all
 * plain text, is lower-cased into one string whose tails are the suffixes; a name needing
 * escapes is built label by label.
 */
export function suffixKeys(b: Uint8Array, labelOffsets: number[]): string[] {
  const count = labelOffsets.length;
  const out: string[] = new Array(count + 1);
  out[count] = "";
  if (count === 0) return out;
  let n = 0;
  let plain = true;
  for (let l = 0; l < count && plain; l++) {
    const off = labelOffsets[l]!;
    const end = off + 1 + b[off]!;
    if (l > 0) scratch[n++] = DOT;
    for (let i = off + 1; i < end; i++) {
      let c = b[i]!;
      if (KEY_FORM[c] !== 0) {
        plain = false;
        break;
      }
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      scratch[n++] = c;
    }
  }
  if (plain) {
    const key = ascii.decode(scratch.subarray(0, n));
    let start = 0;
    for (let l = 0; l < count; l++) {
      out[l] = l === 0 ? key : key.slice(start);
      start += b[labelOffsets[l]!]! + 1;
    }
    return out;
  }
  for (let l = count - 1; l >= 0; l--) {
    const off = labelOffsets[l]!;
    const label = labelKey(b, off + 1, b[off]!);
    out[l] = l === count - 1 ? label : `${label}.${out[l + 1]}`;
  }
  return out;
}

/**
 * 32-bit hashes of names for filters that must not build strings (the negative-answer fast
 * path): labels folded from the root down, ASCII case folded, so a suffix of a query's wire
 * name (suffixHashes) and a key (keyHash) hash alike. Equal hashes prove nothing; a hash
 * missing from a set of names' hashes proves the name is not among them.
 */
const HASH_SEED = 0x811c9dc5;
function foldLabel(h: number, b: ArrayLike<number>, start: number, len: number): number {
  h = Math.imul(h ^ len, 0x01000193);
  for (let i = start; i < start + len; i++) {
    const c = b[i]!;
    h = Math.imul(h ^ (c >= 0x41 && c <= 0x5a ? c | 0x20 : c), 0x01000193);
  }
  return h;
}

/** out[i]: hash of the name from label i (at labelOffsets[i] in b); out[count]: the root's. */
export function suffixHashes(b: Uint8Array, labelOffsets: number[], out: Int32Array): void {
  let h = HASH_SEED | 0;
  out[labelOffsets.length] = h;
  for (let l = labelOffsets.length - 1; l >= 0; l--) {
    const off = labelOffsets[l]!;
    h = foldLabel(h, b, off + 1, b[off]!);
    out[l] = h;
  }
}

/** The hash suffixHashes gives the same name. */
export function keyHash(key: string): number {
  let h = HASH_SEED | 0;
  if (key === "") return h;
  if (key.includes("\\")) {
    const labels = textLabels(key);
    for (let l = labels.length - 1; l >= 0; l--) h = foldLabel(h, labels[l]!, 0, labels[l]!.length);
    return h;
  }
  // Plain keys (the usual case) are folded from their characters: no arrays per name.
  let end = key.length;
  for (let i = key.length - 1; i >= -1; i--) {
    if (i >= 0 && key.charCodeAt(i) !== DOT) continue;
    h = Math.imul(h ^ (end - i - 1), 0x01000193);
    for (let j = i + 1; j < end; j++) {
      const c = key.charCodeAt(j);
      h = Math.imul(h ^ (c >= 0x41 && c <= 0x5a ? c | 0x20 : c), 0x01000193);
    }
    end = i;
  }
  return h;
}

/**
 * Splits presentation text (no trailing-dot handling: "a.b" and "a.b." both give [a, b]) into
 * label bytes, undoing escapes. Throws Error with a reason on a malformed name.
 */
export function textLabels(text: string): Uint8Array[] {
  const labels: Uint8Array[] = [];
  if (text === "" || text === ".") return labels;
  let cur: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === BACKSLASH) {
      const d = /^[0-9]{3}/.exec(text.slice(i + 1, i + 4));
      if (d) {
        const v = Number(d[0]);
        if (v > 255) throw new Error(`bad escape \\${d[0]} in name`);
        cur.push(v);
        i += 3;
      } else {
        if (i + 1 >= text.length) throw new Error("name ends with a backslash");
        cur.push(text.charCodeAt(++i));
      }
    } else if (ch === DOT) {
      if (cur.length === 0) throw new Error(`empty label in name "${text}"`);
      labels.push(Uint8Array.from(cur));
      cur = [];
      if (i === text.length - 1) return checkLabels(labels, text);
    } else {
      if (ch > 0xff) throw new Error(`non-ASCII character in name "${text}" (use an A-label)`);
      cur.push(ch);
    }
  }
  if (cur.length === 0) throw new Error(`empty label in name "${text}"`);
  labels.push(Uint8Array.from(cur));
  return checkLabels(labels, text);
}

function checkLabels(labels: Uint8Array[], text: string): Uint8Array[] {
  let wire = 1;
  for (const l of labels) {
    if (l.length > 63) throw new Error(`label longer than 63 octets in "${text}"`);
    wire += l.length + 1;
  }
  if (wire > 255) throw new Error(`name longer than 255 octets: "${text.slice(0, 40)}…"`);
  return labels;
}

export function labelsKey(labels: Uint8Array[]): string {
  return labels.map((l) => labelKey(l, 0, l.length)).join(".");
}

/** Canonical key of presentation text (absolute; a trailing dot is optional). */
export function nameKey(text: string): string {
  return labelsKey(textLabels(text));
}

/** A name prepared for writing: uncompressed wire form and, per label, its key suffix. */
export interface NameInfo {
  key: string;
  wire: Uint8Array;
  /** Byte offset of each label in wire. */
  offsets: number[];
  /** Key of the name starting at each label ("a.b.c", "b.c", "c"). */
  suffixes: string[];
}

const infoCache = new Map<string, NameInfo>();
/** Zone names repeat endlessly; stray names (from queries) must not grow the cache forever. */
const INFO_CACHE_MAX = 200_000;

export function nameInfo(key: string): NameInfo {
  let info = infoCache.get(key);
  if (info) return info;
  const labels = textLabels(key);
  const wire = new Uint8Array(labels.reduce((n, l) => n + l.length + 1, 1));
  const offsets: number[] = [];
  const suffixes: string[] = [];
  const keys = labels.map((l) => labelKey(l, 0, l.length));
  let off = 0;
  for (let i = 0; i < labels.length; i++) {
    offsets.push(off);
    suffixes.push(keys.slice(i).join("."));
    wire[off++] = labels[i]!.length;
    wire.set(labels[i]!, off);
    off += labels[i]!.length;
  }
  info = { key, wire, offsets, suffixes };
  if (infoCache.size >= INFO_CACHE_MAX) infoCache.clear();
  infoCache.set(key, info);
  return info;
}

/** Parent key ("b.c" for "a.b.c"; "" for a single label), escape-aware. */
export function parentKey(key: string): string {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === BACKSLASH) {
      i += /^[0-9]{3}/.test(key.slice(i + 1, i + 4)) ? 3 : 1;
      continue;
    }
    if (c === DOT) return key.slice(i + 1);
  }
  return "";
}

/** True when name is zone itself or below it (both keys). */
export function keyInZone(name: string, zone: string): boolean {
  if (zone === "") return true;
  if (name === zone) return true;
  if (!name.endsWith(zone) || name.charCodeAt(name.length - zone.length - 1) !== DOT) return false;
  // "a\.b" must not count as below "b": the dot before the suffix must not be escaped.
  let backslashes = 0;
  for (let i = name.length - zone.length - 2; i >= 0 && name.charCodeAt(i) === BACKSLASH; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** Presentation form for zone files (absolute, trailing dot). */
export function keyToText(key: string): string {
  return key === "" ? "." : `${key}.`;
}
