/**
 * DNS names: validation, normalisation and zone membership. The only place that decides
 * whether a string is an acceptable name. Names are handled in presentation form,
 * lower-cased, without the trailing dot ("home.dyn.example.com").
 */
import { fail } from "./errors";

// RFC 1035 2.3.4: 63 octets a label, 255 octets on the wire. 255 wire octets leave 253
// characters of presentation text without the trailing dot.
export const MAX_LABEL = 63;
export const MAX_NAME = 253;

const LDH = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Underscore labels (RFC 8552 attribute leaves such as _acme-challenge, _tcp).
const UNDERSCORE = /^_[a-z0-9](?:[a-z0-9-]{0,60}[a-z0-9])?$/;

export interface NameOptions {
  /** Allow leading underscore labels (_acme-challenge, _sip._tcp). Not for hostnames. */
  underscore?: boolean;
  /** Allow a leading "*" label (wildcard owner). */
  wildcard?: boolean;
}

/**
 * The comparable form of a name that is already valid (from our database, the wire or a
 * configuration): lower-cased, without one trailing dot. No validation: normalizeName does that.
 */
export function canonicalName(name: string): string {
  const s = name.toLowerCase();
  return s.endsWith(".") ? s.slice(0, -1) : s;
}

/** Lower-cases, strips one trailing dot and converts Unicode labels to A-labels. */
function canonicalText(input: string): string {
  let s = canonicalName(input.trim());
  // Non-ASCII: let the WHATWG URL parser do IDNA (UTS 46) mapping to punycode.
  if (/[^\x00-\x7f]/.test(s)) {
    try {
      s = new URL(`http://${s}/`).hostname;
    } catch {
      return "";
    }
  }
  return s;
}

// ---- IDNA A-labels (RFC 5890/5891): "xn--" labels must be real punycode ----

const BASE = 36;
/** RFC 3492 6.2: decodes the part after "xn--"; null when it is not valid punycode. */
function punycodeDecode(input: string): string | null {
  const out: number[] = [];
  const d = input.lastIndexOf("-");
  for (let j = 0; j < Math.max(d, 0); j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) return null;
    out.push(c);
  }
  let n = 128;
  let i = 0;
  let bias = 72;
  for (let pos = d > 0 ? d + 1 : 0; pos < input.length; ) {
    const oldi = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (pos >= input.length) return null;
      const c = input.charCodeAt(pos++);
      const digit = c >= 48 && c <= 57 ? c - 22 : c >= 97 && c <= 122 ? c - 97 : -1;
      if (digit < 0) return null;
      i += digit * w;
      if (i > 0x10ffff * 64) return null;
      const t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
      if (digit < t) break;
      w *= BASE - t;
    }
    const len = out.length + 1;
    let delta = oldi === 0 ? Math.floor((i - oldi) / 700) : Math.floor((i - oldi) / 2);
    delta += Math.floor(delta / len);
    let k = 0;
    while (delta > 455) {
      delta = Math.floor(delta / 35);
      k += BASE;
    }
    bias = k + Math.floor((36 * delta) / (delta + 38));
    n += Math.floor(i / len);
    i %= len;
    if (n > 0x10ffff) return null;
    out.splice(i, 0, n);
    i++;
  }
  try {
    return String.fromCodePoint(...out);
  } catch {
    return null;
  }
}

/** The Unicode form of an A-label, or null when the label is not a valid one. */
function aLabelText(label: string): string | null {
  const u = punycodeDecode(label.slice(4));
  if (u === null || !/[^\x00-\x7f]/.test(u)) return null;
  // Valid only when IDNA (UTS 46, via the URL parser) maps the Unicode form back to this very label.
  try {
    return new URL(`http://${u}.invalid/`).hostname === `${label}.invalid` ? u : null;
  } catch {
    return null;
  }
}

// Scripts that a label may not mix (UTS 39's "single script" for the alphabets look-alikes come
// from); Han with Hiragana/Katakana (Japanese) or Hangul (Korean) is one writing system.
const SCRIPTS: [string, RegExp][] = [
  ["Latin", /\p{Script=Latin}/u],
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
  ["Armenian", /\p{Script=Armenian}/u],
  ["Georgian", /\p{Script=Georgian}/u],
  ["Hebrew", /\p{Script=Hebrew}/u],
  ["Arabic", /\p{Script=Arabic}/u],
  ["Cherokee", /\p{Script=Cherokee}/u],
  ["Thai", /\p{Script=Thai}/u],
  ["CJK", /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u],
];

/**
 * A label of name (canonical, A-labels) whose letters come from two scripts (Cyrillic "а"
 * beside Latin "host"), or null. Digits and hyphens belong to every script.
 */
export function mixedScriptLabel(name: string): string | null {
  for (const label of name.split(".")) {
    if (!label.startsWith("xn--")) continue;
    const text = aLabelText(label);
    if (text === null) return label;
    const seen = new Set<string>();
    for (const ch of text) {
      if (/[\p{Nd}-]/u.test(ch)) continue;
      const script = SCRIPTS.find(([, re]) => re.test(ch))?.[0] ?? "other";
      seen.add(script);
    }
    if (seen.size > 1) return label;
  }
  return null;
}

/** Returns the reason a (canonical) name is invalid, or null when it is fine. */
export function nameProblem(name: string, opts: NameOptions = {}): string | null {
  if (name.length === 0) return "name is empty";
  if (name.length > MAX_NAME) return `name is longer than ${MAX_NAME} characters`;
  const labels = name.split(".");
  let prefix = true; // still among leading special labels
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label.length === 0) return "name has an empty label";
    if (label.length > MAX_LABEL) return `label "${label.slice(0, 20)}…" is longer than ${MAX_LABEL} characters`;
    if (label === "*") {
      if (!opts.wildcard || i !== 0) return "a wildcard is only allowed as the first label";
      continue;
    }
    if (label.startsWith("_")) {
      if (!opts.underscore || !prefix) return `label "${label}" may not start with an underscore here`;
      if (!UNDERSCORE.test(label)) return `label "${label}" is not a valid underscore label`;
      continue;
    }
    prefix = false;
    if (!LDH.test(label)) return `label "${label}" must be letters, digits and inner hyphens`;
    // RFC 5891 4.2.3.1: "--" in positions 3 and 4 is for A-labels only, and those must decode.
    if (label.slice(2, 4) === "--") {
      if (!label.startsWith("xn--")) return `label "${label}" has "--" in the third and fourth place, reserved for IDNA`;
      if (aLabelText(label) === null) return `label "${label}" is not a valid internationalized (punycode) label`;
    }
  }
  if (labels.length < 2) return "name must have at least two labels";
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return "top-level label may not be all digits";
  return null;
}

/** Canonical form of a name or null when it is not valid. */
export function tryName(input: unknown, opts: NameOptions = {}): string | null {
  if (typeof input !== "string") return null;
  const s = canonicalText(input);
  return nameProblem(s, opts) === null ? s : null;
}

/** Canonical form of a name; throws invalid_hostname with the reason otherwise. */
export function normalizeName(input: unknown, opts: NameOptions = {}): string {
  if (typeof input !== "string") fail("invalid_hostname", "Hostname must be a string");
  const s = canonicalText(input);
  const problem = nameProblem(s, opts);
  if (problem) fail("invalid_hostname", `Invalid hostname: ${problem}`);
  return s;
}

/** A hostname that may carry dynamic A/AAAA: plain LDH labels only. */
export function normalizeHostname(input: unknown): string {
  return normalizeName(input, {});
}

/** True when name is zone itself or below it (both canonical). */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** The most specific zone containing name, from a list of canonical zone names. */
export function findZone(name: string, zones: Iterable<string>): string | null {
  let best: string | null = null;
  for (const z of zones) {
    if (inZone(name, z) && (best === null || z.length > best.length)) best = z;
  }
  return best;
}

/** The part of name left of zone ("home" for home.dyn.example.com in dyn.example.com), "" at the apex. */
export function relativeName(name: string, zone: string): string {
  if (name === zone) return "";
  return name.slice(0, name.length - zone.length - 1);
}
