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

/** Lower-cases, strips one trailing dot and converts Unicode labels to A-labels. */
function canonicalText(input: string): string {
  let s = input.trim().toLowerCase();
  if (s.endsWith(".")) s = s.slice(0, -1);
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

/** Leftmost label of a name. */
export function firstLabel(name: string): string {
  const i = name.indexOf(".");
  return i < 0 ? name : name.slice(0, i);
}
