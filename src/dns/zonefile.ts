/**
 * RFC 1035 master files in and out. parseZoneFile reads $ORIGIN, $TTL, parentheses, relative
 * names, "@", comments, quoted strings, escapes and the RFC 3597 generic syntax, and reports
 * every problem with its line number (an import is all or nothing, so the caller refuses the
 * whole file on any error). exportZone writes a file NSD and BIND load.
 */
import type { ZoneData } from "../core/ports";
import { keyInZone, keyToText, nameKey } from "./dname";
import { formatRdata, parsePeriod, parseRdataTokens, refusedType, type Token, TYPE, typeCode, typeText } from "./rdata";
import { type Zone, zoneRecords } from "./zone";

/** NSD's default when a file has neither $TTL nor a TTL on the record. */
const DEFAULT_TTL = 3600;
/** RFC 2181 8: TTLs are 31-bit. */
const MAX_TTL = 0x7fffffff;
/** Enough to fix a file in one go without flooding the terminal. */
const MAX_REPORTED = 20;

export interface ZoneFileRecord {
  line: number;
  /** Owner key. */
  name: string;
  /** Mnemonic (or TYPEnnn) and canonical presentation content, as stored. */
  type: string;
  code: number;
  ttl: number;
  content: string;
  /** Names inside the RDATA. */
  targets: string[];
}

export interface ParsedZone {
  name: string;
  soa: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number; ttl: number };
  /** Apex NS targets in file order, with the TTL of the first. */
  nameservers: string[];
  nsTtl: number;
  /** Everything else, apex NS and SOA excluded. */
  records: ZoneFileRecord[];
}

export class ZoneFileError extends Error {
  constructor(readonly problems: { line: number; message: string }[]) {
    super(problems.map((p) => `line ${p.line}: ${p.message}`).join("\n"));
    this.name = "ZoneFileError";
  }
}

interface Entry {
  line: number;
  /** The line began with blank space: the owner is the previous record's. */
  blankOwner: boolean;
  tokens: Token[];
}

/** Splits a master file into entries (logical lines: parentheses join physical lines). */
function entries(text: string, problems: { line: number; message: string }[]): Entry[] {
  const out: Entry[] = [];
  let line = 1;
  let i = 0;
  let depth = 0;
  let cur: Entry | null = null;
  let atLineStart = true;
  const finish = () => {
    if (cur && cur.tokens.length) out.push(cur);
    cur = null;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
      if (depth === 0) finish();
      atLineStart = true;
      continue;
    }
    if (atLineStart && depth === 0) {
      cur = { line, blankOwner: c === " " || c === "\t", tokens: [] };
    }
    atLineStart = false;
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === ";") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === "(") {
      depth++;
      i++;
      continue;
    }
    if (c === ")") {
      if (depth === 0) problems.push({ line, message: 'unbalanced ")"' });
      else depth--;
      i++;
      continue;
    }
    if (c === '"') {
      const start = line;
      let s = "";
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) {
          if (text[i + 1] === "\n") line++;
          s += text.slice(i, i + 2);
          i += 2;
          continue;
        }
        if (text[i] === "\n") line++;
        s += text[i++];
      }
      if (i >= text.length) {
        problems.push({ line: start, message: "unterminated quoted string" });
        cur = null; // reported once; the broken entry is not parsed further
        break;
      }
      i++;
      cur!.tokens.push({ text: s, quoted: true });
      continue;
    }
    let s = "";
    while (i < text.length && !/[ \t\r\n;()"]/.test(text[i]!)) {
      if (text[i] === "\\" && i + 1 < text.length) {
        s += text.slice(i, i + 2);
        i += 2;
        continue;
      }
      s += text[i++];
    }
    cur!.tokens.push({ text: s, quoted: false });
  }
  if (depth > 0) problems.push({ line, message: 'unbalanced "(": the file ends inside parentheses' });
  finish();
  return out;
}

const CLASS_RE = /^(IN|CH|CS|HS|CLASS[0-9]+)$/i;

/**
 * Parses a master file. zone: the zone's name when known (--zone), also the initial origin.
 * Throws ZoneFileError listing every problem with its line.
 */
export function parseZoneFile(text: string, opts: { zone?: string } = {}): ParsedZone {
  const problems: { line: number; message: string }[] = [];
  const list = entries(text, problems);
  let origin: string | null = null;
  let zone: string | null = null;
  if (opts.zone) {
    try {
      zone = origin = nameKey(opts.zone);
    } catch (e) {
      throw new ZoneFileError([{ line: 0, message: `--zone: ${(e as Error).message}` }]);
    }
  }
  let defaultTtl: number | null = null;
  let lastTtl: number | null = null;
  let lastOwner: string | null = null;
  const records: ZoneFileRecord[] = [];

  for (const e of list) {
    const fail = (message: string) => problems.push({ line: e.line, message });
    const t = e.tokens;
    const head = t[0]!;
    if (!e.blankOwner && !head.quoted && head.text.startsWith("$")) {
      const dir = head.text.toUpperCase();
      if (dir === "$ORIGIN") {
        if (t.length !== 2) {
          fail("$ORIGIN takes one name");
          continue;
        }
        try {
          const o = t[1]!.text;
          const absolute = o.endsWith(".") && !o.endsWith("\\.");
          origin = absolute || origin === null ? nameKey(o) : `${nameKey(o)}.${origin}`;
          if (origin === "" || !origin) throw new Error("the root cannot be a served zone");
          if (zone === null) zone = origin;
        } catch (err) {
          fail(`$ORIGIN: ${(err as Error).message}`);
        }
      } else if (dir === "$TTL") {
        try {
          if (t.length !== 2) throw new Error("$TTL takes one value");
          defaultTtl = ttlValue(t[1]!.text);
        } catch (err) {
          fail(`$TTL: ${(err as Error).message}`);
        }
      } else fail(`${head.text} is not supported (only $ORIGIN and $TTL)`);
      continue;
    }
    try {
      let k = 0;
      let owner: string;
      if (e.blankOwner) {
        if (lastOwner === null) throw new Error("the first record has no owner name");
        owner = lastOwner;
      } else {
        const o = t[k++]!.text;
        if (o === "@") {
          if (origin === null) throw new Error('"@" used before any $ORIGIN (give --zone)');
          owner = origin;
        } else {
          const absolute = o.endsWith(".") && !o.endsWith("\\.");
          if (!absolute && origin === null) throw new Error(`relative name "${o}" before any $ORIGIN (give --zone)`);
          owner = absolute ? nameKey(o) : origin === "" ? nameKey(o) : `${nameKey(o)}.${origin}`;
        }
      }
      let ttl: number | null = null;
      let klass: string | null = null;
      for (let n = 0; n < 2 && k < t.length; n++) {
        const tok = t[k]!.text;
        if (ttl === null && /^[0-9]/.test(tok)) {
          ttl = ttlValue(tok);
          k++;
        } else if (klass === null && CLASS_RE.test(tok) && !t[k]!.quoted) {
          klass = tok.toUpperCase();
          k++;
        }
      }
      if (klass !== null && klass !== "IN" && klass !== "CLASS1") throw new Error(`class ${klass} is not supported (only IN)`);
      const typeTok = t[k++];
      if (!typeTok) throw new Error("record has no type");
      const code = typeCode(typeTok.text);
      if (code === null) throw new Error(`unknown type "${typeTok.text}" (use TYPEnnn with \\# for unknown types)`);
      const refused = refusedType(code);
      if (refused) throw new Error(refused);
      if (zone === null) zone = owner;
      if (!keyInZone(owner, zone)) throw new Error(`${keyToText(owner)} is outside the zone ${keyToText(zone)}`);
      lastOwner = owner;
      const rdata = parseRdataTokens(code, t.slice(k), origin ?? zone);
      if (ttl === null) ttl = defaultTtl ?? lastTtl ?? (code === TYPE.SOA ? soaMinimum(rdata.wire) : DEFAULT_TTL);
      lastTtl = ttl;
      const f = formatRdata(code, rdata.wire);
      records.push({ line: e.line, name: owner, type: f.type, code, ttl, content: f.content, targets: rdata.names });
    } catch (err) {
      fail((err as Error).message);
    }
  }
  if (zone === null && problems.length === 0) problems.push({ line: 0, message: "the file holds no records" });
  if (problems.length) throw new ZoneFileError(problems.slice(0, MAX_REPORTED));
  return checkZone(zone!, records);
}

function ttlValue(text: string): number {
  const v = parsePeriod(text);
  if (v > MAX_TTL) throw new Error(`TTL ${text} is above 2^31-1`);
  return v;
}

function soaMinimum(wire: Uint8Array): number {
  const o = wire.length - 4;
  return ((wire[o]! << 24) | (wire[o + 1]! << 16) | (wire[o + 2]! << 8) | wire[o + 3]!) >>> 0;
}

/** Zone-level rules NSD also enforces when loading. */
function checkZone(zone: string, all: ZoneFileRecord[]): ParsedZone {
  const problems: { line: number; message: string }[] = [];
  const soas = all.filter((r) => r.code === TYPE.SOA);
  if (soas.length === 0) problems.push({ line: 0, message: `no SOA record for ${keyToText(zone)}` });
  for (const s of soas.slice(1)) problems.push({ line: s.line, message: "a second SOA record" });
  for (const s of soas) if (s.name !== zone) problems.push({ line: s.line, message: `SOA must be at the zone apex ${keyToText(zone)}` });
  const apexNs = all.filter((r) => r.code === TYPE.NS && r.name === zone);
  if (apexNs.length === 0) problems.push({ line: soas[0]?.line ?? 0, message: `no NS records at the apex ${keyToText(zone)}` });
  const byOwner = new Map<string, ZoneFileRecord[]>();
  for (const r of all) {
    const l = byOwner.get(r.name);
    if (l) l.push(r);
    else byOwner.set(r.name, [r]);
  }
  for (const [owner, list] of byOwner) {
    const cnames = list.filter((r) => r.code === TYPE.CNAME);
    if (cnames.length > 1) problems.push({ line: cnames[1]!.line, message: `more than one CNAME at ${keyToText(owner)}` });
    if (cnames.length && list.length > cnames.length) {
      const other = list.find((r) => r.code !== TYPE.CNAME)!;
      problems.push({ line: Math.max(other.line, cnames[0]!.line), message: `CNAME and other data at ${keyToText(owner)}` });
    }
    if (cnames.length && owner === zone) problems.push({ line: cnames[0]!.line, message: "CNAME at the zone apex" });
  }
  if (problems.length) throw new ZoneFileError(problems.sort((a, b) => a.line - b.line).slice(0, MAX_REPORTED));
  const soa = soas[0]!;
  const f = soa.content.split(" ");
  return {
    name: zone,
    soa: {
      mname: soa.targets[0]!,
      rname: soa.targets[1]!,
      serial: Number(f[2]),
      refresh: Number(f[3]),
      retry: Number(f[4]),
      expire: Number(f[5]),
      minimum: Number(f[6]),
      ttl: soa.ttl,
    },
    nameservers: [...new Set(apexNs.map((r) => r.targets[0]!))],
    nsTtl: apexNs[0]!.ttl,
    records: all.filter((r) => r.code !== TYPE.SOA && !(r.code === TYPE.NS && r.name === zone)),
  };
}

/** A master file for a zone: SOA first, absolute names, every record once. */
export function exportZone(zone: Zone): string {
  const lines = [`; ${keyToText(zone.name)} serial ${zone.serial}, exported by ipkeep`, `$ORIGIN ${keyToText(zone.name)}`];
  for (const rr of zoneRecords(zone)) {
    const f = formatRdata(rr.code, rr.rdata);
    lines.push(`${keyToText(rr.name)}\t${rr.ttl}\tIN\t${f.type === typeText(rr.code) ? f.type : f.type}\t${f.content}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A parsed file as the ZoneData DNS builds zones from (tests, benchmarks). */
export function zoneDataOf(p: ParsedZone, id = 1): ZoneData {
  return {
    id,
    name: p.name,
    serial: p.soa.serial,
    soa: p.soa,
    nsTtl: p.nsTtl,
    nameservers: p.nameservers.map((name) => ({ name, ipv4: null, ipv6: null })),
    hosts: [],
    records: p.records.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, content: r.content })),
  };
}
