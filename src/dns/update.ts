/**
 * DNS UPDATE (RFC 2136) on the wire: TSIG first (RFC 8945; nothing is looked at before the
 * signature is good), then the message read into core's terms (core/dyn-update.ts decides
 * what it means), and the answer signed with the same key.
 *
 * Unsigned updates are REFUSED without any lookup; every update is rate limited per source
 * before that (a flood is dropped once its source is over the limit). Over UDP and TCP alike:
 * the DNS thread hands every UPDATE to the main thread (udp-worker.ts).
 */
import type { DynUpdateResult, UpdateMessage, UpdateRR } from "../core/dyn-update";
import { RCODES } from "../core/dyn-update";
import { formatRdata, parseRdataText, typeText } from "./rdata";
import { errorResponse, findTsig, ResponseSigner, type TsigKey, verifyRequest } from "./tsig";
import { concat, copyBytes, encodeName, HEADER, put16, readName, skipName, skipRR, TYPE_SOA, u16 } from "./wire";

export const OPCODE_UPDATE = 5;
const QR = 0x8000;
const CLASS_IN = 1;
const CLASS_NONE = 254;
const CLASS_ANY = 255;
const META: Record<number, string> = { 41: "OPT", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY" };
/** Types whose RDATA may carry compressed names (RFC 3597 §4: RFC 1035's, plus SRV as sent in practice). */
const NAME_FIELDS: Record<number, ("name" | number)[]> = {
  2: ["name"],
  5: ["name"],
  12: ["name"],
  15: [2, "name"],
  6: ["name", "name", 20],
  33: [6, "name"],
};

/** True for an UPDATE request (not a response): the main thread answers those. */
export function isUpdate(q: Uint8Array): boolean {
  return q.length >= HEADER && (q[2]! & 0x80) === 0 && ((q[2]! >> 3) & 0x0f) === OPCODE_UPDATE;
}

export interface UpdateHandlerDeps {
  /** The key of this name and whose it is (any value that identifies the token), or null. */
  key(name: string): { key: TsigKey; owner: unknown } | null;
  /** Epoch seconds (TSIG's clock). */
  now(): number;
  /** Is this source within its rate (and not locked out)? Spends one when it is. */
  admitSource(peer: string): boolean;
  /** A wrong key or a bad signature from this source (counts towards its lockout). */
  badCredentials(peer: string): void;
  /** The message's meaning; a Promise when it is answered once durable (a batch's commit). */
  perform(owner: unknown, keyName: string, msg: UpdateMessage, peer: string): DynUpdateResult | Promise<DynUpdateResult>;
  /** Told once per answered message. */
  onResult?(r: { peer: string; keyName: string | null; zone: string | null; rcode: number; reason?: string }): void;
}

class Malformed extends Error {}

/** The RDATA with its names uncompressed, so it can be read and compared on its own. */
function rdataOf(msg: Uint8Array, type: number, start: number, len: number): Uint8Array {
  const fields = NAME_FIELDS[type];
  if (!fields || len === 0) return copyBytes(msg, start, start + len);
  const parts: Uint8Array[] = [];
  let off = start;
  const end = start + len;
  for (const f of fields) {
    if (f === "name") {
      const n = readName(msg, off);
      const next = skipName(msg, off);
      if (n === null || next < 0 || next > end) throw new Malformed("bad name in RDATA");
      parts.push(encodeName(n));
      off = next;
    } else {
      if (off + f > end) throw new Malformed("short RDATA");
      parts.push(copyBytes(msg, off, off + f));
      off += f;
    }
  }
  if (off !== end) throw new Malformed("trailing RDATA");
  return concat(parts);
}

function txtOf(wire: Uint8Array): string {
  let s = "";
  for (let o = 0; o < wire.length; ) {
    const l = wire[o]!;
    if (o + 1 + l > wire.length) throw new Malformed("bad TXT");
    for (let i = o + 1; i <= o + l; i++) s += String.fromCharCode(wire[i]!);
    o += 1 + l;
  }
  return s;
}

/** Reads a (TSIG-stripped) UPDATE message into core's terms; Malformed when it cannot. */
export function parseUpdate(msg: Uint8Array): { zone: string; zoneEnd: number; zclass: number; message: UpdateMessage } {
  if (msg.length < HEADER) throw new Malformed("short");
  // §3.1.1: exactly one zone, of type SOA.
  if (u16(msg, 4) !== 1) throw new Malformed("ZOCOUNT must be 1");
  const zone = readName(msg, HEADER);
  const zEnd = skipName(msg, HEADER);
  if (zone === null || zEnd < 0 || zEnd + 4 > msg.length) throw new Malformed("bad zone section");
  if (u16(msg, zEnd) !== TYPE_SOA) throw new Malformed("ZTYPE must be SOA");
  const zclass = u16(msg, zEnd + 2);
  let off = zEnd + 4;
  const read = (count: number): UpdateRR[] => {
    const out: UpdateRR[] = [];
    for (let i = 0; i < count; i++) {
      const name = readName(msg, off);
      const nEnd = skipName(msg, off);
      if (name === null || nEnd < 0 || nEnd + 10 > msg.length) throw new Malformed("bad RR");
      const type = u16(msg, nEnd);
      const cls = u16(msg, nEnd + 2);
      const ttl = ((msg[nEnd + 4]! << 24) | (msg[nEnd + 5]! << 16) | (msg[nEnd + 6]! << 8) | msg[nEnd + 7]!) >>> 0;
      const rdlength = u16(msg, nEnd + 8);
      const rdStart = nEnd + 10;
      if (rdStart + rdlength > msg.length) throw new Malformed("RDATA runs past the end");
      const wire = rdataOf(msg, type, rdStart, rdlength);
      const mnemonic = META[type] ?? typeText(type);
      let content: string | null = null;
      let txt: string | undefined;
      if (rdlength > 0) {
        content = formatRdata(type, wire).content;
        if (type === 16) txt = txtOf(wire);
      }
      out.push({
        name,
        type: mnemonic,
        cls: cls === zclass ? "zone" : cls === CLASS_ANY ? "any" : cls === CLASS_NONE ? "none" : "other",
        ttl,
        rdlength,
        content,
        txt,
      });
      off = rdStart + rdlength;
    }
    return out;
  };
  const prereqs = read(u16(msg, 6));
  const updates = read(u16(msg, 8));
  // The additional section (RFC 2136 §3.8: ignored) may hold an OPT; it is not read.
  return { zone, zoneEnd: zEnd + 4, zclass, message: { zone, prereqs, updates } };
}

/** The answer: header with the rcode, the zone section as asked (RFC 2136 §3.8 allows it). */
function reply(msg: Uint8Array, zoneEnd: number, rcode: number): Uint8Array {
  const end = zoneEnd > HEADER && zoneEnd <= msg.length ? zoneEnd : HEADER;
  const out = copyBytes(msg, 0, end);
  put16(out, 2, QR | (OPCODE_UPDATE << 11) | rcode);
  put16(out, 4, end > HEADER ? 1 : 0);
  put16(out, 6, 0);
  put16(out, 8, 0);
  put16(out, 10, 0);
  return out;
}

/** End of the zone section when it can be found (to echo it), else HEADER. */
function zoneSectionEnd(msg: Uint8Array): number {
  if (msg.length < HEADER || u16(msg, 4) !== 1) return HEADER;
  const e = skipName(msg, HEADER);
  return e < 0 || e + 4 > msg.length ? HEADER : e + 4;
}

/** True when every section reads to exactly the end of the message. */
function walks(q: Uint8Array): boolean {
  let off = HEADER;
  for (let i = u16(q, 4); i > 0; i--) {
    off = skipName(q, off);
    if (off < 0 || off + 4 > q.length) return false;
    off += 4;
  }
  for (let i = u16(q, 6) + u16(q, 8) + u16(q, 10); i > 0; i--) {
    off = skipRR(q, off);
    if (off < 0) return false;
  }
  return off === q.length;
}

/** Canonical RDATA for comparing values: the wire form read back (names lower case). */
export function canonicalRdata(type: string, content: string): string {
  try {
    const code = Object.entries(META).find(([, n]) => n === type)?.[0];
    if (code) return content;
    const r = parseRdataText(typeCodeOf(type), content, null);
    const text = formatRdata(r.code, r.wire).content;
    return type === "TXT" || type === "CAA" ? text : text.toLowerCase();
  } catch {
    return content;
  }
}

function typeCodeOf(type: string): number {
  const m = /^TYPE(\d+)$/.exec(type);
  if (m) return Number(m[1]);
  const codes: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DNAME: 39, DS: 43, CAA: 257 };
  const c = codes[type];
  if (c === undefined) throw new Error("unknown type");
  return c;
}

/** The DNS handler for UPDATE messages (the server routes them here before anything else). */
export function createUpdateHandler(
  deps: UpdateHandlerDeps,
): (q: Uint8Array, transport: "udp" | "tcp", peer: string) => Uint8Array | null | Promise<Uint8Array | null> {
  return (q, _transport, peer) => {
    if (q.length < HEADER) return null;
    // Before any lookup or HMAC: a source over its rate (a flood, signed or not) gets nothing.
    if (!deps.admitSource(peer)) return null;
    const report = (keyName: string | null, zone: string | null, rcode: number, reason?: string) => deps.onResult?.({ peer, keyName, zone, rcode, reason });
    const t = findTsig(q);
    if (t === null || t === "malformed") {
      // A message that cannot be walked to its end has no TSIG we could find: FORMERR. Else
      // RFC 3007 / 8945: only signed updates are considered, and nothing is looked up.
      const rcode = t === "malformed" || !walks(q) ? RCODES.FORMERR : RCODES.REFUSED;
      report(null, null, rcode, rcode === RCODES.FORMERR ? "malformed" : "unsigned");
      return reply(q, zoneSectionEnd(q), rcode);
    }
    let owner: unknown = null;
    const check = verifyRequest(
      q,
      (name) => {
        const k = deps.key(name);
        owner = k?.owner ?? null;
        return k?.key;
      },
      deps.now(),
    );
    if (check.kind === "error") {
      if (check.error !== -1) deps.badCredentials(peer);
      report(check.record?.keyName ?? null, null, check.error === -1 ? RCODES.FORMERR : RCODES.NOTAUTH, `TSIG error ${check.error}`);
      return errorResponse(q, check, deps.now());
    }
    if (check.kind !== "ok") return null;
    const signer = new ResponseSigner(check.key, check.mac);
    const keyName = check.key.name;
    const m = check.message;
    let zone: string | null = null;
    let zoneEnd = zoneSectionEnd(m);
    const answer = (rcode: number, reason?: string) => {
      report(keyName, zone, rcode, reason);
      return signer.sign(reply(m, zoneEnd, rcode), deps.now());
    };
    const failed = (e: unknown) => (e instanceof Malformed ? answer(RCODES.FORMERR, e.message) : answer(RCODES.SERVFAIL, (e as Error).message));
    try {
      const parsed = parseUpdate(m);
      zone = parsed.zone;
      zoneEnd = parsed.zoneEnd;
      if (parsed.zclass !== CLASS_IN) return answer(RCODES.NOTAUTH, "only class IN is served");
      const r = deps.perform(owner, keyName, parsed.message, peer);
      if (r instanceof Promise) return r.then((x) => answer(RCODES[x.rcode], x.reason), failed);
      return answer(RCODES[r.rcode], r.reason);
    } catch (e) {
      return failed(e);
    }
  };
}
