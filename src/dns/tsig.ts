/**
 * TSIG (RFC 8945) over the message bytes as sent and received: dns-packet has no TSIG codec,
 * and a MAC is only valid over the exact bytes, so signing appends a TSIG record to encoded
 * bytes and verifying strips it from the bytes as received.
 *
 * Used by the primary (verify AXFR/IXFR requests, sign transfer streams and NOTIFY) and by
 * `ipkeep secondary` (sign AXFR requests, verify multi-message transfer streams, sign NOTIFY
 * answers). Times are epoch seconds passed in by the caller, so tests can move the clock.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { IpkeepError } from "../core/errors";
import { canonicalName } from "../core/names";
import { CLASS_ANY, concat, copyBytes, encodeName, HEADER, put16, readName, skipName, skipRR, TYPE_TSIG, u16 } from "./wire";

/** RFC 8945 §5.2.3: the commonly used 5 minutes of clock skew. */
export const DEFAULT_FUDGE = 300;
/** The DNS rcode a server answers with when TSIG fails (the detail goes in the TSIG error field). */
export const RCODE_NOTAUTH = 9;
export const TSIG_ERROR = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
/** RFC 8945 §5.3.1: a client accepts at most 99 unsigned messages in a row. */
const MAX_UNSIGNED_RUN = 99;

/**
 * RFC 8945 §6: HMAC-SHA256 is what we create by default; MD5 and SHA-1 are accepted for keys made
 * explicitly with them (certbot-dns-rfc2136 and cert-manager default to MD5), as RFC 8945 allows
 * for interoperability. HMAC-MD5's name on the wire is the old "hmac-md5.sig-alg.reg.int".
 */
export const HMAC_MD5 = "hmac-md5.sig-alg.reg.int";
const ALGORITHMS: Record<string, string> = {
  [HMAC_MD5]: "md5",
  "hmac-sha1": "sha1",
  "hmac-sha224": "sha224",
  "hmac-sha256": "sha256",
  "hmac-sha384": "sha384",
  "hmac-sha512": "sha512",
};

export interface TsigKey {
  /** Canonical key name: lower case, no trailing dot. */
  name: string;
  /** "hmac-sha256" (default) or another hmac-shaN. */
  algorithm: string;
  secret: Uint8Array;
}

/** Finds a key by its canonical name (the same key name must not be configured twice). */
export type KeyLookup = (name: string) => TsigKey | undefined;

/** The algorithm's name as it goes on the wire ("hmac-md5" is spelled out), or null when unknown. */
export function canonicalAlgorithm(algorithm: string): string | null {
  const alg = canonicalName(algorithm);
  const name = alg === "hmac-md5" ? HMAC_MD5 : alg;
  return ALGORITHMS[name] ? name : null;
}

export function makeKey(name: string, secretBase64: string, algorithm = "hmac-sha256"): TsigKey {
  const alg = canonicalAlgorithm(algorithm);
  if (!alg) throw new IpkeepError("invalid_input", `TSIG algorithm ${algorithm} is not supported (use hmac-sha256)`);
  const n = canonicalName(name);
  if (!n || n.length > 253 || !n.split(".").every((l) => l.length > 0 && l.length <= 63)) {
    throw new IpkeepError("invalid_input", `TSIG key name "${name}" is not a domain name`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secretBase64)) throw new IpkeepError("invalid_input", `TSIG key ${n}: the secret is not base64`);
  const secret = new Uint8Array(Buffer.from(secretBase64, "base64"));
  if (secret.length < 16) throw new IpkeepError("invalid_input", `TSIG key ${n}: the secret is shorter than 128 bits`);
  return { name: n, algorithm: alg, secret };
}

/** "NAME:BASE64" or dig's "ALGORITHM:NAME:BASE64" (as in `dig -y`). */
export function parseKeySpec(spec: string): TsigKey {
  const parts = spec.trim().split(":");
  if (parts.length === 2) return makeKey(parts[0]!, parts[1]!);
  if (parts.length === 3) return makeKey(parts[1]!, parts[2]!, parts[0]!);
  throw new IpkeepError("invalid_input", `TSIG key must be NAME:BASE64SECRET (got ${parts.length} fields)`);
}

export function keyLookup(keys: Iterable<TsigKey>): KeyLookup {
  const m = new Map<string, TsigKey>();
  for (const k of keys) m.set(k.name, k);
  return (name) => m.get(name);
}

export interface TsigRecord {
  /** Offset of the TSIG record: the message without it is bytes [0, start). */
  start: number;
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  error: number;
  other: Uint8Array;
}

/**
 * The TSIG record of a message: null when there is none, "malformed" when a TSIG is present
 * but not where RFC 8945 allows (last in additional, class ANY) or cannot be read.
 */
export function findTsig(msg: Uint8Array): TsigRecord | null | "malformed" {
  if (msg.length < HEADER) return null;
  const ar = u16(msg, 10);
  if (ar === 0) return null;
  let off = HEADER;
  for (let i = u16(msg, 4); i > 0; i--) {
    off = skipName(msg, off);
    if (off < 0 || off + 4 > msg.length) return null;
    off += 4;
  }
  const count = u16(msg, 6) + u16(msg, 8) + ar;
  let start = -1;
  for (let i = 0; i < count; i++) {
    const nameEnd = skipName(msg, off);
    if (nameEnd < 0 || nameEnd + 10 > msg.length) return null;
    const isTsig = u16(msg, nameEnd) === TYPE_TSIG;
    if (isTsig && i !== count - 1) return "malformed";
    if (isTsig) start = off;
    off = skipRR(msg, off);
    if (off < 0) return isTsig ? "malformed" : null;
  }
  if (start < 0) return null;
  const nameEnd = skipName(msg, start);
  if (u16(msg, nameEnd + 2) !== CLASS_ANY) return "malformed";
  const rdEnd = nameEnd + 10 + u16(msg, nameEnd + 8);
  const keyName = readName(msg, start);
  let p = skipName(msg, nameEnd + 10);
  const algorithm = readName(msg, nameEnd + 10);
  if (keyName === null || algorithm === null || p < 0 || p + 10 > rdEnd) return "malformed";
  const timeSigned = u16(msg, p) * 2 ** 32 + u16(msg, p + 2) * 65536 + u16(msg, p + 4);
  const fudge = u16(msg, p + 6);
  const macLen = u16(msg, p + 8);
  p += 10;
  if (p + macLen + 6 > rdEnd) return "malformed";
  const mac = copyBytes(msg, p, p + macLen);
  p += macLen;
  const originalId = u16(msg, p);
  const error = u16(msg, p + 2);
  const otherLen = u16(msg, p + 4);
  p += 6;
  if (p + otherLen !== rdEnd) return "malformed";
  const other = copyBytes(msg, p, p + otherLen);
  return { start, keyName, algorithm, timeSigned, fudge, mac, originalId, error, other };
}

function u48(t: number): Uint8Array {
  const b = new Uint8Array(6);
  const hi = Math.floor(t / 2 ** 32);
  const lo = t >>> 0;
  put16(b, 0, hi);
  put16(b, 2, lo >>> 16);
  put16(b, 4, lo & 0xffff);
  return b;
}

function be16(v: number): Uint8Array {
  const b = new Uint8Array(2);
  put16(b, 0, v);
  return b;
}

function hmac(key: TsigKey, parts: Uint8Array[]): Uint8Array {
  const h = createHmac(ALGORITHMS[key.algorithm]!, key.secret);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** RFC 8945 §4.3.3 "TSIG variables" (full form). */
function variables(key: TsigKey, time: number, fudge: number, error: number, other: Uint8Array): Uint8Array {
  return concat([
    encodeName(key.name),
    be16(CLASS_ANY),
    new Uint8Array(4),
    encodeName(key.algorithm),
    u48(time),
    be16(fudge),
    be16(error),
    be16(other.length),
    other,
  ]);
}

/** RFC 8945 §4.3.1: the prior MAC is digested with its length in front. */
function withLength(mac: Uint8Array): Uint8Array[] {
  return [be16(mac.length), mac];
}

function tsigRecord(key: TsigKey, time: number, fudge: number, mac: Uint8Array, originalId: number, error: number, other: Uint8Array): Uint8Array {
  const rdata = concat([encodeName(key.algorithm), u48(time), be16(fudge), be16(mac.length), mac, be16(originalId), be16(error), be16(other.length), other]);
  const head = new Uint8Array(10);
  put16(head, 0, TYPE_TSIG);
  put16(head, 2, CLASS_ANY);
  put16(head, 8, rdata.length);
  return concat([encodeName(key.name), head, rdata]);
}

function appendRecord(msg: Uint8Array, rr: Uint8Array): Uint8Array {
  const out = concat([msg, rr]);
  put16(out, 10, u16(msg, 10) + 1);
  return out;
}

/** The message as it was before the TSIG was added: record removed, ARCOUNT and id restored. */
function stripped(msg: Uint8Array, t: TsigRecord): Uint8Array {
  const out = copyBytes(msg, 0, t.start);
  put16(out, 10, u16(msg, 10) - 1);
  put16(out, 0, t.originalId);
  return out;
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface Signed {
  message: Uint8Array;
  /** Needed to verify the answer (it is digested into the response's MAC). */
  mac: Uint8Array;
}

/** Signs a request (an AXFR/SOA query, a NOTIFY). */
export function signRequest(msg: Uint8Array, key: TsigKey, now: number, fudge = DEFAULT_FUDGE): Signed {
  const none = new Uint8Array(0);
  const mac = hmac(key, [msg, variables(key, now, fudge, 0, none)]);
  return { message: appendRecord(msg, tsigRecord(key, now, fudge, mac, u16(msg, 0), 0, none)), mac };
}

export type RequestCheck =
  | { kind: "unsigned" }
  /** message: the request without its TSIG; mac: digested into every response. */
  | { kind: "ok"; key: TsigKey; mac: Uint8Array; message: Uint8Array }
  /** Answer with errorResponse(); key is set when the MAC was good (BADTIME is then signed). */
  | { kind: "error"; error: number; record: TsigRecord | null; key?: TsigKey; mac?: Uint8Array };

/** Verifies a signed request (RFC 8945 §5.2): key, MAC, then time. */
export function verifyRequest(msg: Uint8Array, keys: KeyLookup, now: number): RequestCheck {
  const t = findTsig(msg);
  if (t === null) return { kind: "unsigned" };
  if (t === "malformed") return { kind: "error", error: -1, record: null };
  const key = keys(t.keyName);
  if (!key || key.algorithm !== t.algorithm) return { kind: "error", error: TSIG_ERROR.BADKEY, record: t };
  const message = stripped(msg, t);
  const expected = hmac(key, [message, variables(key, t.timeSigned, t.fudge, t.error, t.other)]);
  if (!sameMac(expected, t.mac)) return { kind: "error", error: TSIG_ERROR.BADSIG, record: t };
  if (Math.abs(now - t.timeSigned) > t.fudge) return { kind: "error", error: TSIG_ERROR.BADTIME, record: t, key, mac: t.mac };
  return { kind: "ok", key, mac: t.mac, message };
}

/**
 * The answer to a request whose TSIG failed: rcode NOTAUTH with the TSIG error; unsigned for
 * BADKEY/BADSIG (we cannot or must not prove anything), signed with our time for BADTIME.
 * FORMERR without TSIG for a malformed one.
 */
export function errorResponse(request: Uint8Array, check: Extract<RequestCheck, { kind: "error" }>, now: number): Uint8Array | null {
  if (request.length < HEADER) return null;
  const t = check.record;
  const qEnd = questionSectionEnd(request, t?.start ?? request.length);
  const head = copyBytes(request, 0, qEnd < 0 ? HEADER : qEnd);
  if (qEnd < 0) put16(head, 4, 0);
  const opcodeRd = (u16(request, 2) & 0x7900) | 0x8000;
  put16(head, 2, opcodeRd | (check.error === -1 || !t ? 1 : RCODE_NOTAUTH));
  put16(head, 6, 0);
  put16(head, 8, 0);
  put16(head, 10, 0);
  if (check.error === -1 || !t) return head;
  const keyForRecord: TsigKey = check.key ?? { name: t.keyName, algorithm: t.algorithm, secret: new Uint8Array(0) };
  if (check.error === TSIG_ERROR.BADTIME && check.key && check.mac) {
    const other = u48(now);
    const mac = hmac(check.key, [...withLength(check.mac), head, variables(check.key, now, t.fudge, check.error, other)]);
    return appendRecord(head, tsigRecord(check.key, now, t.fudge, mac, t.originalId, check.error, other));
  }
  return appendRecord(head, tsigRecord(keyForRecord, now, t.fudge, new Uint8Array(0), t.originalId, check.error, new Uint8Array(0)));
}

function questionSectionEnd(msg: Uint8Array, limit: number): number {
  let off = HEADER;
  for (let i = u16(msg, 4); i > 0; i--) {
    const end = skipName(msg, off);
    if (end < 0 || end + 4 > limit) return -1;
    off = end + 4;
  }
  return off;
}

/**
 * Signs the messages of a response stream (RFC 8945 §5.3): the first over the request's MAC
 * and the full variables, each later one over the previous MAC and the timers only. Every
 * message is signed unless unsigned() is asked for.
 */
export class ResponseSigner {
  private prior: Uint8Array;
  private first = true;

  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
    private readonly fudge = DEFAULT_FUDGE,
  ) {
    this.prior = requestMac;
  }

  private pending: Uint8Array[] = [];

  sign(msg: Uint8Array, now: number): Uint8Array {
    const none = new Uint8Array(0);
    const tail = this.first ? variables(this.key, now, this.fudge, 0, none) : concat([u48(now), be16(this.fudge)]);
    const mac = hmac(this.key, [...withLength(this.prior), ...this.pending, msg, tail]);
    this.prior = mac;
    this.first = false;
    this.pending = [];
    return appendRecord(msg, tsigRecord(this.key, now, this.fudge, mac, u16(msg, 0), 0, none));
  }

  /**
   * Sends a message of the stream unsigned (RFC 8945 §5.3.1 allows runs of up to 99); it is
   * digested into the next signed one. Not for the first or the last message.
   */
  unsigned(msg: Uint8Array): Uint8Array {
    if (this.first) throw new Error("the first message of a TSIG stream must be signed");
    this.pending.push(msg);
    return msg;
  }
}

export type StreamCheck = { ok: true; signed: boolean } | { ok: false; reason: string };

/**
 * Verifies the messages of a response stream, as `ipkeep secondary` receives an AXFR: the
 * first message must be signed, later ones may come unsigned in runs of up to 99 (they are
 * then digested into the next signed one), and the last must be signed (check complete()).
 */
export class ResponseVerifier {
  private prior: Uint8Array;
  private first = true;
  private pending: Uint8Array[] = [];

  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
  ) {
    this.prior = requestMac;
  }

  verify(msg: Uint8Array, now: number): StreamCheck {
    const t = findTsig(msg);
    if (t === "malformed") return { ok: false, reason: "malformed TSIG record" };
    if (t === null) {
      if (this.first) return { ok: false, reason: "the first response is not signed" };
      if (this.pending.length >= MAX_UNSIGNED_RUN) return { ok: false, reason: "more than 99 unsigned messages in a row" };
      this.pending.push(msg);
      return { ok: true, signed: false };
    }
    if (t.keyName !== this.key.name || t.algorithm !== this.key.algorithm) return { ok: false, reason: `signed with another key (${t.keyName})` };
    if (t.error !== 0) return { ok: false, reason: `TSIG error ${t.error}` };
    const tail = this.first ? variables(this.key, t.timeSigned, t.fudge, t.error, t.other) : concat([u48(t.timeSigned), be16(t.fudge)]);
    const expected = hmac(this.key, [...withLength(this.prior), ...this.pending, stripped(msg, t), tail]);
    if (!sameMac(expected, t.mac)) return { ok: false, reason: "bad TSIG signature" };
    if (Math.abs(now - t.timeSigned) > t.fudge) return { ok: false, reason: "TSIG time outside the fudge window (check the clocks)" };
    this.prior = t.mac;
    this.first = false;
    this.pending = [];
    return { ok: true, signed: true };
  }

  /** True when the last message seen was signed (a stream must end with a signed message). */
  complete(): boolean {
    return !this.first && this.pending.length === 0;
  }
}
