/**
 * Domain names as the zone keeps them. A name's key is its presentation form, lower-cased,
 * without the trailing dot, with RFC 1035 escapes for bytes that are not plain text ("\." for
 * a dot inside a label, "\ddd" for the rest), so a key built from wire labels and a key built
 * from zone-file text are the same string. The root is "".
 */

const DOT = 0x2e;
const BACKSLASH = 0x5c;

/** Key text of one label's bytes (lower-cased; escaped where presentation form needs it). */
export function labelKey(b: Uint8Array, start: number, len: number): string {
  let s = "";
  for (let i = start; i < start + len; i++) {
    let c = b[i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c === DOT || c === BACKSLASH || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) {
      s += `\\${String.fromCharCode(c)}`;
    } else if (c <= 0x20 || c >= 0x7f) s += `\\${String(c).padStart(3, "0")}`;
    else s += String.fromCharCode(c);
  }
  return s;
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
