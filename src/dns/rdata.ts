/**
 * RDATA: presentation form (zone files, the records table) <-> wire form. One descriptor per
 * type drives parsing, encoding and printing, so an imported record is stored and exported
 * in one canonical form. Types without a descriptor are accepted in RFC 3597's generic form
 * (`TYPE65 \# 3 000100`) and served as opaque bytes, so an import loses nothing.
 */
import { bytesToIPv6, ipv4ToBytes, ipv6ToBytes, parseIPv4 } from "../core/addresses";
import { keyToText, labelsKey, nameInfo, nameKey } from "./dname";

type Field = "u8" | "u16" | "u32" | "period" | "name" | "str" | "strs" | "hex" | "b64" | "a" | "aaaa" | "tag" | "raw" | "svcparams";

interface TypeDef {
  code: number;
  name: string;
  fields: Field[];
}

const DEFS: TypeDef[] = [
  { code: 1, name: "A", fields: ["a"] },
  { code: 2, name: "NS", fields: ["name"] },
  { code: 5, name: "CNAME", fields: ["name"] },
  { code: 6, name: "SOA", fields: ["name", "name", "u32", "period", "period", "period", "period"] },
  { code: 12, name: "PTR", fields: ["name"] },
  { code: 39, name: "DNAME", fields: ["name"] },
  { code: 13, name: "HINFO", fields: ["str", "str"] },
  { code: 15, name: "MX", fields: ["u16", "name"] },
  { code: 16, name: "TXT", fields: ["strs"] },
  { code: 17, name: "RP", fields: ["name", "name"] },
  { code: 18, name: "AFSDB", fields: ["u16", "name"] },
  { code: 28, name: "AAAA", fields: ["aaaa"] },
  { code: 33, name: "SRV", fields: ["u16", "u16", "u16", "name"] },
  { code: 35, name: "NAPTR", fields: ["u16", "u16", "str", "str", "str", "name"] },
  { code: 36, name: "KX", fields: ["u16", "name"] },
  { code: 43, name: "DS", fields: ["u16", "u8", "u8", "hex"] },
  { code: 44, name: "SSHFP", fields: ["u8", "u8", "hex"] },
  { code: 48, name: "DNSKEY", fields: ["u16", "u8", "u8", "b64"] },
  { code: 52, name: "TLSA", fields: ["u8", "u8", "u8", "hex"] },
  { code: 53, name: "SMIMEA", fields: ["u8", "u8", "u8", "hex"] },
  { code: 59, name: "CDS", fields: ["u16", "u8", "u8", "hex"] },
  { code: 60, name: "CDNSKEY", fields: ["u16", "u8", "u8", "b64"] },
  { code: 61, name: "OPENPGPKEY", fields: ["b64"] },
  { code: 99, name: "SPF", fields: ["strs"] },
  { code: 256, name: "URI", fields: ["u16", "u16", "raw"] },
  { code: 257, name: "CAA", fields: ["u8", "tag", "raw"] },
  { code: 64, name: "SVCB", fields: ["u16", "name", "svcparams"] },
  { code: 65, name: "HTTPS", fields: ["u16", "name", "svcparams"] },
];

/** Known mnemonics whose presentation form we do not parse: accepted only as `\#`. */
const OPAQUE_NAMES: Record<string, number> = {
  WKS: 11,
  LOC: 29,
  CERT: 37,
  APL: 42,
  IPSECKEY: 45,
  DHCID: 49,
  CSYNC: 62,
  ZONEMD: 63,
  EUI48: 108,
  EUI64: 109,
};

/**
 * Types an import refuses: meta types that cannot be stored, and DNSSEC signatures/denial (a
 * signed zone cannot be served without them being answered by DO-aware logic we do not have).
 */
const REFUSED: Record<number, string> = {
  0: "type 0 is reserved",
  41: "OPT is not a record type",
  46: "signed zones are not supported (RRSIG)",
  47: "signed zones are not supported (NSEC)",
  50: "signed zones are not supported (NSEC3)",
  51: "signed zones are not supported (NSEC3PARAM)",
  249: "TKEY is a meta type",
  250: "TSIG is a meta type",
  251: "IXFR is a query type",
  252: "AXFR is a query type",
  253: "MAILB is a query type",
  254: "MAILA is a query type",
  255: "ANY is a query type",
};

const BY_CODE = new Map(DEFS.map((d) => [d.code, d]));
const BY_NAME = new Map(DEFS.map((d) => [d.name, d]));

/** Types served with structured data (and dns-packet objects) rather than opaque bytes. */
export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DNAME: 39, DS: 43, CAA: 257, ANY: 255 } as const;
const PACKET_NAMES: Record<number, string> = { 1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 257: "CAA" };

/** Type code of a mnemonic or `TYPEnnn`; null when unknown. */
export function typeCode(mnemonic: string): number | null {
  const m = mnemonic.toUpperCase();
  const def = BY_NAME.get(m);
  if (def) return def.code;
  if (m in OPAQUE_NAMES) return OPAQUE_NAMES[m]!;
  const t = /^TYPE([0-9]{1,5})$/.exec(m);
  if (t && Number(t[1]) <= 65535) return Number(t[1]);
  const u = /^UNKNOWN_([0-9]{1,5})$/.exec(m);
  if (u && Number(u[1]) <= 65535) return Number(u[1]);
  for (const [code, why] of Object.entries(REFUSED)) if (why.includes(m) && m.length > 1 && /^[A-Z0-9]+$/.test(m)) return Number(code);
  return null;
}

/** Mnemonic for zone files: the descriptor's name, else TYPEnnn (RFC 3597). */
export function typeText(code: number): string {
  return BY_CODE.get(code)?.name ?? `TYPE${code}`;
}

/** A type's best-known mnemonic, for messages (HTTPS rather than TYPE65). */
export function typeName(code: number): string {
  const opaque = Object.entries(OPAQUE_NAMES).find(([, c]) => c === code);
  return opaque ? opaque[0] : typeText(code);
}

/** The type key dns-packet uses: its own name for the structured types, UNKNOWN_n for the rest. */
export function packetType(code: number): string {
  return PACKET_NAMES[code] ?? `UNKNOWN_${code}`;
}

/** Why a type cannot be imported, or null. */
export function refusedType(code: number): string | null {
  return REFUSED[code] ?? null;
}

/** One presentation token: text with escapes still in it; quoted tokens are character-strings. */
export interface Token {
  text: string;
  quoted: boolean;
}

/** Splits stored presentation RDATA into tokens (quotes, escapes; no parentheses or comments). */
export function tokenize(content: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < content.length) {
    const c = content[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === '"') {
      let s = "";
      i++;
      while (i < content.length && content[i] !== '"') {
        if (content[i] === "\\" && i + 1 < content.length) {
          s += content.slice(i, i + 2);
          i += 2;
        } else s += content[i++];
      }
      if (i >= content.length) throw new Error("unterminated quoted string");
      i++;
      out.push({ text: s, quoted: true });
      continue;
    }
    let s = "";
    while (i < content.length && !/[ \t\n\r"]/.test(content[i]!)) {
      if (content[i] === "\\" && i + 1 < content.length) {
        s += content.slice(i, i + 2);
        i += 2;
      } else s += content[i++];
    }
    out.push({ text: s, quoted: false });
  }
  return out;
}

/** Bytes of a character-string token with escapes undone (UTF-8 for non-ASCII text). */
export function unescapeText(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c && i + 1 < text.length) {
      const d = /^[0-9]{3}/.exec(text.slice(i + 1, i + 4));
      if (d) {
        const v = Number(d[0]);
        if (v > 255) throw new Error(`bad escape \\${d[0]}`);
        out.push(v);
        i += 3;
      } else out.push(text.charCodeAt(++i));
    } else if (ch < 0x80) out.push(ch);
    else out.push(...new TextEncoder().encode(text[i]!));
  }
  return Uint8Array.from(out);
}

function quoteBytes(b: Uint8Array): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c < 0x20 || c >= 0x7f) s += `\\${String(c).padStart(3, "0")}`;
    else s += String.fromCharCode(c);
  }
  return `${s}"`;
}

/** RFC 2308 / BIND time values: plain seconds or units (1h30m, 2w). */
export function parsePeriod(text: string): number {
  if (/^[0-9]+$/.test(text)) return checkU32(Number(text), text);
  const re = /([0-9]+)([smhdw])/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let used = 0;
  const mult: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  while ((m = re.exec(text.toLowerCase()))) {
    total += Number(m[1]) * mult[m[2]!]!;
    used = re.lastIndex;
  }
  if (used !== text.length || used === 0) throw new Error(`"${text}" is not a number of seconds`);
  return checkU32(total, text);
}

function checkU32(n: number, text: string): number {
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new Error(`"${text}" is out of range`);
  return n;
}

function num(text: string, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > max) throw new Error(`"${text}" is not a number from 0 to ${max}`);
  return Number(text);
}

function hexBytes(text: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new Error(`"${text.slice(0, 20)}" is not an even number of hex digits`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function b64Bytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error("invalid base64");
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0"))
    .join("")
    .toUpperCase();
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/**
 * Resolves a name token: "@" is the origin, names without a trailing dot are relative to the
 * origin (zone files) or absolute when origin is null (stored content). Returns the key.
 */
export function resolveName(text: string, origin: string | null): string {
  if (text === "@") {
    if (origin === null) throw new Error('"@" needs an origin');
    return origin;
  }
  const absolute = (text.endsWith(".") && !text.endsWith("\\.")) || text.endsWith("\\\\.");
  if (absolute || origin === null) return nameKey(text);
  const rel = nameKey(text);
  return origin === "" ? rel : `${rel}.${origin}`;
}

class Bytes {
  parts: number[] = [];
  u8(v: number) {
    this.parts.push(v & 0xff);
  }
  u16(v: number) {
    this.parts.push((v >> 8) & 0xff, v & 0xff);
  }
  u32(v: number) {
    this.parts.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  add(b: Uint8Array) {
    for (const x of b) this.parts.push(x);
  }
}

/** A parsed record's RDATA: wire bytes (names uncompressed) plus the names it holds. */
export interface Rdata {
  code: number;
  wire: Uint8Array;
  /** Keys of the names in the RDATA, in order (SOA: mname, rname; MX: exchange; ...). */
  names: string[];
}

/** Parses RDATA tokens of a type. Throws Error with a reason on bad input. */
export function parseRdataTokens(code: number, tokens: Token[], origin: string | null): Rdata {
  if (tokens.length >= 1 && tokens[0]!.text === "\\#" && !tokens[0]!.quoted) {
    // RFC 3597 generic form: \# length hex...
    if (tokens.length < 2) throw new Error("\\# needs a length");
    const len = num(tokens[1]!.text, 65535);
    const wire = hexBytes(
      tokens
        .slice(2)
        .map((t) => t.text)
        .join(""),
    );
    if (wire.length !== len) throw new Error(`\\# length ${len} does not match ${wire.length} bytes of data`);
    const def = BY_CODE.get(code);
    // A known type in generic form still gets its names understood (glue, CNAME chains).
    if (def) return { code, wire, names: namesFromWire(def, wire) };
    return { code, wire, names: [] };
  }
  const def = BY_CODE.get(code);
  if (!def) throw new Error(`${typeName(code)} is only accepted in the RFC 3597 generic form (\\# length hex)`);
  const out = new Bytes();
  const names: string[] = [];
  let t = 0;
  const need = (what: string): Token => {
    const tok = tokens[t++];
    if (!tok) throw new Error(`${def.name} record is missing its ${what}`);
    return tok;
  };
  for (const f of def.fields) {
    switch (f) {
      case "u8":
        out.u8(num(need("number").text, 255));
        break;
      case "u16":
        out.u16(num(need("number").text, 65535));
        break;
      case "u32":
        out.u32(checkU32(num(need("number").text, 0xffffffff), "serial"));
        break;
      case "period":
        out.u32(parsePeriod(need("time value").text));
        break;
      case "name": {
        const key = resolveName(need("name").text, origin);
        names.push(key);
        out.add(nameInfo(key).wire);
        break;
      }
      case "str":
      case "tag": {
        const b = unescapeText(need("string").text);
        if (b.length > 255) throw new Error("a character-string is longer than 255 octets");
        if (f === "tag" && (b.length === 0 || !/^[A-Za-z0-9]+$/.test(new TextDecoder().decode(b)))) throw new Error("CAA tag must be letters and digits");
        out.u8(b.length);
        out.add(b);
        break;
      }
      case "strs": {
        if (t >= tokens.length) throw new Error(`${def.name} record needs at least one string`);
        for (; t < tokens.length; t++) {
          const b = unescapeText(tokens[t]!.text);
          // Longer text is split into 255-octet character-strings (RFC 1035 3.3.14 limit).
          for (let i = 0; i === 0 || i < b.length; i += 255) {
            const part = b.subarray(i, i + 255);
            out.u8(part.length);
            out.add(part);
          }
        }
        break;
      }
      case "svcparams":
        out.add(parseSvcParams(tokens.slice(t)));
        t = tokens.length;
        break;
      case "raw": {
        const tok = need("value");
        out.add(unescapeText(tok.text));
        break;
      }
      case "hex":
        if (t >= tokens.length) throw new Error(`${def.name} record is missing its hex data`);
        out.add(
          hexBytes(
            tokens
              .slice(t)
              .map((x) => x.text)
              .join(""),
          ),
        );
        t = tokens.length;
        break;
      case "b64":
        if (t >= tokens.length) throw new Error(`${def.name} record is missing its base64 data`);
        out.add(
          b64Bytes(
            tokens
              .slice(t)
              .map((x) => x.text)
              .join(""),
          ),
        );
        t = tokens.length;
        break;
      case "a": {
        const a = parseIPv4(need("IPv4 address").text);
        if (!a || a !== tokens[t - 1]!.text) throw new Error(`"${tokens[t - 1]!.text}" is not an IPv4 address`);
        out.add(ipv4ToBytes(a));
        break;
      }
      case "aaaa": {
        const b = ipv6ToBytes(need("IPv6 address").text);
        if (!b) throw new Error(`"${tokens[t - 1]!.text}" is not an IPv6 address`);
        out.add(b);
        break;
      }
    }
  }
  if (t < tokens.length) throw new Error(`unexpected "${tokens[t]!.text}" after the ${def.name} data`);
  const wire = Uint8Array.from(out.parts);
  if (wire.length > 65535) throw new Error("RDATA longer than 65535 octets");
  return { code, wire, names };
}

export function parseRdataText(code: number, content: string, origin: string | null): Rdata {
  const c = content.trim();
  // Stored TXT may be plain unquoted text (the JSON API): one string, split at 255 octets.
  if ((code === TYPE.TXT || code === 99) && !c.startsWith('"') && !c.startsWith("\\#")) return parseRdataTokens(code, [{ text: c, quoted: true }], origin);
  return parseRdataTokens(code, tokenize(c), origin);
}

/** Reads an uncompressed wire name at off; returns [key, next offset]. */
function wireName(b: Uint8Array, off: number): [string, number] {
  const labels: Uint8Array[] = [];
  for (;;) {
    if (off >= b.length) throw new Error("truncated name");
    const len = b[off]!;
    if (len === 0) return [labelsKey(labels), off + 1];
    if (len > 63 || off + 1 + len > b.length) throw new Error("bad name");
    labels.push(b.subarray(off + 1, off + 1 + len));
    off += 1 + len;
  }
}

function namesFromWire(def: TypeDef, wire: Uint8Array): string[] {
  try {
    return fieldsFromWire(def, wire).names;
  } catch {
    return [];
  }
}

/** Decodes wire RDATA by descriptor into presentation parts and names. Throws on mismatch. */
function fieldsFromWire(def: TypeDef, b: Uint8Array): { parts: string[]; names: string[] } {
  const parts: string[] = [];
  const names: string[] = [];
  let off = 0;
  const need = (n: number) => {
    if (off + n > b.length) throw new Error("short RDATA");
  };
  for (const f of def.fields) {
    switch (f) {
      case "u8":
        need(1);
        parts.push(String(b[off++]));
        break;
      case "u16":
        need(2);
        parts.push(String((b[off]! << 8) | b[off + 1]!));
        off += 2;
        break;
      case "u32":
      case "period":
        need(4);
        parts.push(String(((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0));
        off += 4;
        break;
      case "name": {
        const [key, next] = wireName(b, off);
        names.push(key);
        parts.push(keyToText(key));
        off = next;
        break;
      }
      case "str":
      case "tag": {
        need(1);
        const len = b[off]!;
        need(1 + len);
        const s = b.subarray(off + 1, off + 1 + len);
        parts.push(f === "tag" ? new TextDecoder().decode(s) : quoteBytes(s));
        off += 1 + len;
        break;
      }
      case "strs":
        if (off >= b.length) throw new Error("empty TXT");
        while (off < b.length) {
          const len = b[off]!;
          need(1 + len);
          parts.push(quoteBytes(b.subarray(off + 1, off + 1 + len)));
          off += 1 + len;
        }
        break;
      case "svcparams":
        parts.push(...formatSvcParams(b.subarray(off)));
        off = b.length;
        break;
      case "raw":
        parts.push(quoteBytes(b.subarray(off)));
        off = b.length;
        break;
      case "hex":
        if (off >= b.length) throw new Error("empty hex");
        parts.push(hex(b.subarray(off)));
        off = b.length;
        break;
      case "b64":
        if (off >= b.length) throw new Error("empty base64");
        parts.push(b64(b.subarray(off)));
        off = b.length;
        break;
      case "a":
        need(4);
        parts.push(Array.from(b.subarray(off, off + 4)).join("."));
        off += 4;
        break;
      case "aaaa":
        need(16);
        parts.push(bytesToIPv6(b.subarray(off, off + 16)));
        off += 16;
        break;
    }
  }
  if (off !== b.length) throw new Error("trailing RDATA");
  return { parts, names };
}

/**
 * Presentation form of wire RDATA: the type's own syntax when it has a descriptor and the
 * bytes fit it, else RFC 3597's generic form. Names absolute with a trailing dot.
 */
export function formatRdata(code: number, wire: Uint8Array): { type: string; content: string } {
  const def = BY_CODE.get(code);
  if (def) {
    try {
      return { type: def.name, content: fieldsFromWire(def, wire).parts.join(" ") };
    } catch {
      /* falls through to the generic form */
    }
  }
  return { type: `TYPE${code}`, content: `\\# ${wire.length}${wire.length ? ` ${hex(wire)}` : ""}` };
}

/** Object form dns-packet encodes for the structured types (used by transfers); Buffer otherwise. */
export function packetData(code: number, wire: Uint8Array, names: string[]): unknown {
  const u16 = (o: number) => (wire[o]! << 8) | wire[o + 1]!;
  const u32 = (o: number) => ((wire[o]! << 24) | (wire[o + 1]! << 16) | (wire[o + 2]! << 8) | wire[o + 3]!) >>> 0;
  try {
    switch (code) {
      case TYPE.A:
        return Array.from(wire).join(".");
      case TYPE.AAAA:
        return bytesToIPv6(wire);
      case TYPE.NS:
      case TYPE.CNAME:
      case TYPE.PTR:
        return names[0];
      case TYPE.MX:
        return { preference: u16(0), exchange: names[0] };
      case TYPE.SRV: {
        return { priority: u16(0), weight: u16(2), port: u16(4), target: names[0] };
      }
      case TYPE.SOA: {
        const o = wire.length - 20;
        return { mname: names[0], rname: names[1], serial: u32(o), refresh: u32(o + 4), retry: u32(o + 8), expire: u32(o + 12), minimum: u32(o + 16) };
      }
      case TYPE.TXT: {
        const out: Buffer[] = [];
        for (let o = 0; o < wire.length; o += 1 + wire[o]!) out.push(Buffer.from(wire.subarray(o + 1, o + 1 + wire[o]!)));
        return out;
      }
      case TYPE.CAA: {
        const tagLen = wire[1]!;
        const flags = wire[0]!;
        return {
          flags,
          tag: new TextDecoder().decode(wire.subarray(2, 2 + tagLen)),
          value: new TextDecoder().decode(wire.subarray(2 + tagLen)),
          issuerCritical: (flags & 128) !== 0,
        };
      }
    }
  } catch {
    /* fall through */
  }
  return Buffer.from(wire);
}

/** RFC 9460 SvcParamKeys with a presentation syntax of their own. */
const SVC_KEYS: Record<string, number> = { mandatory: 0, alpn: 1, "no-default-alpn": 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6 };
const SVC_NAMES = Object.fromEntries(Object.entries(SVC_KEYS).map(([k, v]) => [v, k]));

function svcKey(name: string): number {
  if (name in SVC_KEYS) return SVC_KEYS[name]!;
  const m = /^key([0-9]{1,5})$/.exec(name);
  if (m && Number(m[1]) <= 65535) return Number(m[1]);
  throw new Error(`unknown SvcParamKey "${name}"`);
}

/** Comma-separated list values; "\," is a comma inside an item. */
function svcList(value: string): string[] {
  return value.split(/(?<!\\),/).map((v) => v.replace(/\\,/g, ","));
}

/** RFC 9460 2.1: key=value pairs, written in ascending key order. */
function parseSvcParams(tokens: Token[]): Uint8Array {
  const params = new Map<number, Uint8Array>();
  for (let i = 0; i < tokens.length; i++) {
    let text = tokens[i]!.text;
    // key="quoted value" arrives as two tokens: key= and the quoted string.
    if (text.endsWith("=") && tokens[i + 1]?.quoted) text += tokens[++i]!.text;
    const eq = text.indexOf("=");
    const name = (eq < 0 ? text : text.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? null : text.slice(eq + 1);
    const key = svcKey(name);
    if (params.has(key)) throw new Error(`SvcParamKey ${name} given twice`);
    const out = new Bytes();
    const need = () => {
      if (value === null || value === "") throw new Error(`SvcParamKey ${name} needs a value`);
      return value;
    };
    switch (key) {
      case 0:
        for (const k of svcList(need())) out.u16(svcKey(k));
        break;
      case 1:
        for (const id of svcList(need())) {
          const b = unescapeText(id);
          if (b.length === 0 || b.length > 255) throw new Error("an alpn id must be 1 to 255 octets");
          out.u8(b.length);
          out.add(b);
        }
        break;
      case 2:
        if (value !== null) throw new Error("no-default-alpn takes no value");
        break;
      case 3:
        out.u16(num(need(), 65535));
        break;
      case 4:
        for (const a of svcList(need())) {
          const v4 = parseIPv4(a);
          if (!v4 || v4 !== a) throw new Error(`"${a}" is not an IPv4 address`);
          out.add(ipv4ToBytes(v4));
        }
        break;
      case 5:
        out.add(b64Bytes(need()));
        break;
      case 6:
        for (const a of svcList(need())) {
          const b = ipv6ToBytes(a);
          if (!b) throw new Error(`"${a}" is not an IPv6 address`);
          out.add(b);
        }
        break;
      default:
        out.add(value === null ? new Uint8Array(0) : unescapeText(value));
    }
    params.set(key, Uint8Array.from(out.parts));
  }
  const all = new Bytes();
  for (const key of [...params.keys()].sort((a, b) => a - b)) {
    const v = params.get(key)!;
    all.u16(key);
    all.u16(v.length);
    all.add(v);
  }
  return Uint8Array.from(all.parts);
}

function formatSvcParams(b: Uint8Array): string[] {
  const out: string[] = [];
  let off = 0;
  let last = -1;
  while (off < b.length) {
    if (off + 4 > b.length) throw new Error("short SvcParam");
    const key = (b[off]! << 8) | b[off + 1]!;
    const len = (b[off + 2]! << 8) | b[off + 3]!;
    if (key <= last || off + 4 + len > b.length) throw new Error("bad SvcParams");
    last = key;
    const v = b.subarray(off + 4, off + 4 + len);
    off += 4 + len;
    const name = SVC_NAMES[key] ?? `key${key}`;
    const list = (size: number, f: (x: Uint8Array) => string) => {
      if (v.length === 0 || v.length % size) throw new Error("bad SvcParam list");
      const items: string[] = [];
      for (let i = 0; i < v.length; i += size) items.push(f(v.subarray(i, i + size)));
      return items.join(",");
    };
    switch (key) {
      case 0:
        out.push(`${name}=${list(2, (x) => SVC_NAMES[(x[0]! << 8) | x[1]!] ?? `key${(x[0]! << 8) | x[1]!}`)}`);
        break;
      case 1: {
        const ids: string[] = [];
        for (let i = 0; i < v.length; ) {
          const l = v[i]!;
          if (l === 0 || i + 1 + l > v.length) throw new Error("bad alpn");
          ids.push(
            quoteBytes(v.subarray(i + 1, i + 1 + l))
              .slice(1, -1)
              .replace(/,/g, "\\,"),
          );
          i += 1 + l;
        }
        out.push(`${name}="${ids.join(",")}"`);
        break;
      }
      case 2:
        if (v.length) throw new Error("bad no-default-alpn");
        out.push(name);
        break;
      case 3:
        if (v.length !== 2) throw new Error("bad port");
        out.push(`${name}=${(v[0]! << 8) | v[1]!}`);
        break;
      case 4:
        out.push(`${name}=${list(4, (x) => Array.from(x).join("."))}`);
        break;
      case 5:
        out.push(`${name}=${b64(v)}`);
        break;
      case 6:
        out.push(`${name}=${list(16, bytesToIPv6)}`);
        break;
      default:
        out.push(v.length ? `${name}=${quoteBytes(v)}` : name);
    }
  }
  return out;
}
