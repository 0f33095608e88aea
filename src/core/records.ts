/**
 * Static DNS records: what a record may contain (per type), where it may sit (names inside
 * its domain, CNAME exclusivity, never over a hostname's dynamic A/AAAA), and the
 * presentation-format text stored for src/dns/rdata.ts to serve. Messages follow ipdock's
 * ("A record content must be a valid IPv4 address") so its clients read familiar errors.
 */
import { parseIPv4, parseIPv6 } from "./addresses";
import { fail } from "./errors";
import { MAX_TTL, MIN_TTL } from "./hosts";
import { inZone, normalizeName, tryName } from "./names";
import type { RecordRow } from "./ports";

export const RECORD_TYPES = ["A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS"] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** An hour: static records change rarely, unlike a hostname's 60 s. */
export const DEFAULT_RECORD_TTL = 3600;
// One TXT value of an SPF/DKIM/verification string fits easily; much more is not a DNS record
// but a file, and would push answers past UDP size for no reason.
export const MAX_TXT = 2048;
// RFC 8659 4.1: tags are at most 15 ASCII letters/digits.
const CAA_TAG = /^[a-z0-9]{1,15}$/;
const PRINTABLE = /^[\x20-\x7e]*$/;
const QUOTED_STRINGS = /^(?:"(?:[^"\\]|\\.)*"\s*)+$/;

export function isRecordType(t: string): t is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(t);
}

export function recordType(input: string): RecordType {
  const t = input.trim().toUpperCase();
  if (!isRecordType(t)) fail("invalid_input", `Unsupported record type "${input.slice(0, 16)}" (supported: ${RECORD_TYPES.join(", ")})`);
  return t;
}

export function recordTtl(ttl: number | undefined, fallback = DEFAULT_RECORD_TTL): number {
  const v = ttl ?? fallback;
  if (!Number.isInteger(v) || v < MIN_TTL || v > MAX_TTL) fail("invalid_input", `TTL must be between ${MIN_TTL} and ${MAX_TTL}`);
  return v;
}

/**
 * The owner name of a record in zone: "@" or "" is the apex; a name ending in "." or already
 * ending in the zone is absolute; anything else is relative to the zone ("www").
 */
export function recordName(input: string, zone: string): string {
  const raw = input.trim();
  let full: string;
  if (raw === "@" || raw === "") full = zone;
  else {
    const lower = raw.toLowerCase();
    const absolute = lower.endsWith(".") || lower === zone || lower.endsWith(`.${zone}`);
    full = absolute ? raw : `${raw}.${zone}`;
  }
  const name = normalizeName(full, { underscore: true, wildcard: true });
  if (!inZone(name, zone)) fail("outside_zone", `${name} is not inside ${zone}`);
  return name;
}

function target(type: string, s: string | undefined, opts: { root?: boolean; underscore?: boolean } = {}): string {
  const v = (s ?? "").trim();
  if (opts.root && v === ".") return ".";
  const name = tryName(v, { underscore: opts.underscore });
  if (!name) fail("invalid_input", `${type} record content must be a valid hostname`);
  return name;
}

function u16(type: string, what: string, v: unknown): number {
  const n = typeof v === "string" && /^\d{1,5}$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535)
    fail("invalid_input", `${type} record ${what} must be an integer between 0 and 65535`);
  return n;
}

/**
 * The stored presentation text for a record's content. MX and SRV take their priority either
 * from `priority` (ipdock's form) or as the first field of content (zone-file form).
 */
export function recordContent(type: RecordType, content: string, priority?: number | null): string {
  if (typeof content !== "string") fail("invalid_input", `${type} record content must be a string`);
  const c = content.trim();
  const f = c.split(/\s+/);
  if (priority !== undefined && priority !== null && type !== "MX" && type !== "SRV") fail("invalid_input", "priority is only valid for MX and SRV records");
  switch (type) {
    case "A": {
      const a = parseIPv4(c);
      if (!a) fail("invalid_input", "A record content must be a valid IPv4 address");
      return a;
    }
    case "AAAA": {
      const a = parseIPv6(c);
      if (!a) fail("invalid_input", "AAAA record content must be a valid IPv6 address");
      return a;
    }
    case "CNAME":
      // CNAME targets may be attribute names (_domainkey delegations, acme-dns's fulldomain).
      return target("CNAME", c, { underscore: true });
    case "NS":
      return target("NS", c);
    case "MX": {
      let pref = priority;
      let host = c;
      if ((pref === undefined || pref === null) && f.length === 2) [pref, host] = [u16("MX", "priority", f[0]), f[1]!];
      pref = u16("MX", "priority", pref ?? 10);
      // RFC 7505 null MX: "0 ." says the domain takes no mail.
      return `${pref} ${target("MX", host, { root: true })}`;
    }
    case "SRV": {
      let fields = f;
      let pref = priority;
      if ((pref === undefined || pref === null) && f.length === 4) [pref, ...fields] = [u16("SRV", "priority", f[0]), f[1]!, f[2]!, f[3]!];
      if (fields.length !== 3) fail("invalid_input", 'SRV record content must be "weight port target" (priority separate), e.g. "5 5060 sip.example.com"');
      const p = u16("SRV", "priority", pref ?? 0);
      const w = u16("SRV", "weight", fields[0]);
      const port = u16("SRV", "port", fields[1]);
      return `${p} ${w} ${port} ${target("SRV", fields[2], { root: true })}`;
    }
    case "TXT": {
      if (c.length === 0 || c.length > MAX_TXT || !PRINTABLE.test(c)) {
        fail("invalid_input", `TXT record content must be 1 to ${MAX_TXT} printable ASCII characters`);
      }
      // A value that starts with a quote is zone-file form ("part1" "part2"): it must be well formed.
      if (c.startsWith('"') && !QUOTED_STRINGS.test(c)) fail("invalid_input", "TXT record content has unbalanced quotes");
      const bad = badEscape(c);
      if (bad)
        fail("invalid_input", `TXT record content has an invalid escape "${bad}" (\\DDD must be three digits from 000 to 255; a lone backslash needs \\\\)`);
      return c;
    }
    case "CAA": {
      const m = /^(\d{1,3})\s+([A-Za-z0-9]+)\s+(.+)$/.exec(c);
      const flags = m ? Number(m[1]) : -1;
      const tag = m ? m[2]!.toLowerCase() : "";
      let value = m ? m[3]!.trim() : "";
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (!m || flags > 255 || !CAA_TAG.test(tag) || value.includes('"') || !PRINTABLE.test(value) || value.length > 255) {
        fail("invalid_input", 'CAA record content must be "flags tag value", e.g. 0 issue "letsencrypt.org"');
      }
      return `${flags} ${tag} "${value}"`;
    }
  }
}

/** RFC 1035 5.1: the first escape that is not \\X (X not a digit) or \\DDD with DDD <= 255, or null. */
function badEscape(text: string): string | null {
  for (let i = text.indexOf("\\"); i >= 0; i = text.indexOf("\\", i + 2)) {
    const next = text[i + 1];
    if (next === undefined) return "\\";
    if (next >= "0" && next <= "9") {
      const ddd = text.slice(i + 1, i + 4);
      if (!/^\d{3}$/.test(ddd) || Number(ddd) > 255) return `\\${text.slice(i + 1, i + 4).replace(/\D.*$/, "")}`;
      i += 2; // past the three digits (the loop adds two more)
    }
  }
  return null;
}

/** Stored content split back into what the API shows: MX/SRV priority apart from the rest. */
export function presentContent(type: string, stored: string): { content: string; priority: number | null } {
  if (type === "MX" || type === "SRV") {
    const sp = stored.indexOf(" ");
    return { content: stored.slice(sp + 1), priority: Number(stored.slice(0, sp)) };
  }
  return { content: stored, priority: null };
}

export interface PlacementContext {
  zone: string;
  name: string;
  type: RecordType;
  content: string;
  /** Live records already at name (the record being edited left out). */
  existing: RecordRow[];
  /** A dynamic hostname exists at exactly this name. */
  hostnameHere: boolean;
  /** The domain's own nameserver names (their glue lives at these names). */
  nameservers: string[];
}

/**
 * Where a record may sit. One name holds either one CNAME and nothing else (RFC 1034 3.6.2)
 * or other data; a hostname's A/AAAA belong to its updates, so no static A, AAAA or CNAME may
 * hide or contradict them; the apex NS set is the domain's nameservers.
 */
export function checkPlacement(p: PlacementContext): void {
  const apex = p.name === p.zone;
  if (p.type === "CNAME") {
    if (apex) fail("conflict", "A CNAME record cannot be at the domain apex (it would sit beside SOA and NS)");
    if (p.existing.some((r) => r.type === "CNAME")) fail("conflict", `${p.name} already has a CNAME record`);
    if (p.existing.length > 0 || p.hostnameHere || p.nameservers.includes(p.name)) {
      fail("conflict", `A CNAME record cannot coexist with other records at ${p.name}`);
    }
  } else if (p.existing.some((r) => r.type === "CNAME")) {
    fail("conflict", `${p.name} already has a CNAME record; no other record can sit beside it`);
  }
  if (p.hostnameHere && (p.type === "A" || p.type === "AAAA" || p.type === "NS")) {
    fail("conflict", `${p.name} is a dynamic hostname; its addresses are set by updates, not by records`);
  }
  if (p.type === "NS" && apex) fail("conflict", "The apex NS records are the domain's nameservers and cannot be edited as records");
  if (p.existing.some((r) => r.type === p.type && r.content === p.content)) fail("conflict", `This ${p.type} record already exists at ${p.name}`);
}
