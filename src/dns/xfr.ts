/**
 * Zone transfers out (AXFR, RFC 5936; IXFR, RFC 1995, from the journal of applied deltas, or
 * the whole zone when the journal does not reach back far enough) and TSIG on every query
 * that carries one. Transfers go to addresses in --xfr-allow or to whoever signs with a key we
 * know (--tsig-key, enrolled secondaries).
 */
import { type Cidr, cidrContains } from "../core/addresses";
import { serialGreater } from "../core/zone-contents";
import { type SignedZone, signedRecords } from "./dnssec/sign";
import { entryRecords, type Journal } from "./journal";
import { errorResponse, type KeyLookup, ResponseSigner, type RequestCheck, verifyRequest } from "./tsig";
import { copyBytes, HEADER, put16, questionEnd, readName, TYPE_AXFR, TYPE_IXFR, u16, u32, skipName } from "./wire";
import { type RR, rrWire, type Zone, type ZoneSet, zoneRecords } from "./zone";

const QR = 0x8000;
const AA = 0x0400;
const RCODE_FORMERR = 1;
const RCODE_NOTIMP = 4;
const RCODE_REFUSED = 5;
const RCODE_NOTAUTH = 9;
/**
 * Bytes of records per transfer message: well under the 64 KiB a TCP message may hold, with
 * room for the question and a TSIG, and small enough that a secondary's first message comes
 * quickly. (NSD uses 16 KiB as well.)
 */
const MESSAGE_BUDGET = 16 * 1024;

export interface XfrPolicy {
  /** Addresses that may transfer without TSIG. */
  allow: Cidr[];
  /** The keys we accept, read per request (enrolled secondaries change while we run). */
  keys: () => KeyLookup;
  /**
   * Keys accepted besides those on signed ordinary queries, never on transfers: update
   * tokens' DNS UPDATE keys (certbot-dns-rfc2136 signs its SOA lookups with its key).
   */
  queryKeys?: KeyLookup;
  /** Epoch seconds. */
  now: () => number;
  /** The deltas IXFR answers from (none: IXFR always sends the whole zone). */
  journal?: Journal;
  /** A zone's signatures (dnssec/signer.ts): a signed zone is transferred signed. */
  signed?: (zone: Zone) => SignedZone | undefined;
  /** Told of every transfer sent (for /metrics). */
  sent?: (kind: "axfr" | "ixfr" | "ixfr-full" | "uptodate", bytes: number) => void;
}

/** Encoded records per zone, for as long as its SOA (every change gives it a new one) stands. */
const encodedRecords = new WeakMap<Zone, { soa: RR; signed: SignedZone | undefined; rrs: Uint8Array[] }>();

/**
 * The zone's records in wire form, SOA first, exactly as answer() serves them; a signed zone
 * with its DNSKEY, CDS, CDNSKEY, NSEC3PARAM, NSEC3 chain and signatures. Signatures only
 * change with the serial (a refresh bumps it), so the SOA still says when to encode again.
 */
function recordsOf(zone: Zone, signed: SignedZone | undefined): Uint8Array[] {
  const cached = encodedRecords.get(zone);
  if (cached && cached.soa === zone.soa && cached.signed === signed) return cached.rrs;
  const rrs = (signed ? signedRecords(zone, signed) : zoneRecords(zone)).map(rrWire);
  encodedRecords.set(zone, { soa: zone.soa, signed, rrs });
  return rrs;
}

interface Parsed {
  qtype: number;
  qname: string;
  qEnd: number;
}

function transferQuestion(q: Uint8Array): Parsed | null {
  if (q.length < HEADER || q[2]! & 0xf8 || u16(q, 4) !== 1) return null;
  const qEnd = questionEnd(q);
  if (qEnd < 0) return null;
  const qtype = u16(q, qEnd - 4);
  if (qtype !== TYPE_AXFR && qtype !== TYPE_IXFR) return null;
  const qname = readName(q, HEADER);
  return qname === null ? null : { qtype, qname, qEnd };
}

/** A reply with the question (as received) and no records. */
function bare(q: Uint8Array, qEnd: number, flags: number): Uint8Array {
  const out = copyBytes(q, 0, qEnd);
  put16(out, 2, QR | (u16(q, 2) & 0x7900) | flags);
  put16(out, 4, 1);
  put16(out, 6, 0);
  put16(out, 8, 0);
  put16(out, 10, 0);
  return out;
}

/** The client's serial from an IXFR query's authority SOA, or null. */
function ixfrClientSerial(q: Uint8Array, qEnd: number): number | null {
  if (u16(q, 8) < 1 || u16(q, 6) !== 0) return null;
  const nameEnd = skipName(q, qEnd);
  if (nameEnd < 0 || nameEnd + 10 > q.length || u16(q, nameEnd) !== 6) return null;
  let p = skipName(q, nameEnd + 10);
  if (p < 0) return null;
  p = skipName(q, p);
  if (p < 0 || p + 4 > q.length) return null;
  return u32(q, p);
}

function messages(q: Uint8Array, qEnd: number, records: Uint8Array[], flags: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const question = q.subarray(HEADER, qEnd);
  let batch: Uint8Array[] = [];
  let size = 0;
  const flush = () => {
    // RFC 5936 §2.2: the question in the first message; later ones may leave it out.
    const first = out.length === 0;
    const msg = new Uint8Array(HEADER + (first ? question.length : 0) + size);
    msg[0] = q[0]!;
    msg[1] = q[1]!;
    put16(msg, 2, QR | AA | (u16(q, 2) & 0x7900) | flags);
    put16(msg, 4, first ? 1 : 0);
    put16(msg, 6, batch.length);
    let off = HEADER;
    if (first) {
      msg.set(question, off);
      off += question.length;
    }
    for (const rr of batch) {
      msg.set(rr, off);
      off += rr.length;
    }
    out.push(msg);
    batch = [];
    size = 0;
  };
  for (const rr of records) {
    if (size + rr.length > MESSAGE_BUDGET && batch.length) flush();
    batch.push(rr);
    size += rr.length;
  }
  flush();
  return out;
}

export interface Transfers {
  /** For the TCP transport: answers AXFR/IXFR (several messages); null for other queries. */
  stream(query: Uint8Array, peer: string): Uint8Array[] | null;
  /**
   * Wraps the ordinary answer function: TSIG-signed queries are verified and their answers
   * signed; AXFR/IXFR over UDP get what RFC 1995/5936 allow there.
   */
  wrap(
    answer: (query: Uint8Array, transport: "udp" | "tcp") => Uint8Array | null,
  ): (query: Uint8Array, transport: "udp" | "tcp", peer: string) => Uint8Array | null;
}

export function createTransfers(zones: () => ZoneSet, policy: XfrPolicy): Transfers {
  const allowed = (peer: string) => policy.allow.some((c) => cidrContains(c, peer));

  function transfer(q: Uint8Array, p: Parsed, peer: string, tcp: boolean, check: RequestCheck): Uint8Array[] {
    const signed = check.kind === "ok";
    const signer = check.kind === "ok" ? new ResponseSigner(check.key, check.mac) : null;
    const sign = (msgs: Uint8Array[]) => {
      if (!signer) return msgs;
      const now = policy.now();
      return msgs.map((m) => signer.sign(m, now));
    };
    // AXFR is TCP only (RFC 5936 §4.2); NSD answers NOTIMP over UDP, so do we.
    if (p.qtype === TYPE_AXFR && !tcp) return sign([bare(q, p.qEnd, RCODE_NOTIMP)]);
    if (!signed && !allowed(peer)) return [bare(q, p.qEnd, RCODE_REFUSED)];
    const zone = zones().find(p.qname);
    if (!zone || zone.name !== p.qname || u16(q, p.qEnd - 2) !== 1) return sign([bare(q, p.qEnd, RCODE_NOTAUTH)]);
    const soa = rrWire(zone.soa);
    const sent = (kind: "axfr" | "ixfr" | "ixfr-full" | "uptodate", msgs: Uint8Array[]) => {
      policy.sent?.(
        kind,
        msgs.reduce((n, m) => n + m.length, 0),
      );
      return sign(msgs);
    };
    if (p.qtype === TYPE_IXFR) {
      const theirs = ixfrClientSerial(q, p.qEnd);
      if (theirs === null) return sign([bare(q, p.qEnd, RCODE_FORMERR)]);
      // Up to date: the current SOA alone says so. Over UDP the SOA alone also tells the
      // client to come back over TCP (RFC 1995 §2).
      if (theirs === zone.serial || serialGreater(theirs, zone.serial) || !tcp) return sent("uptodate", messages(q, p.qEnd, [soa], 0));
      // RFC 1995 §4: the current SOA, then per delta the old SOA, what left, the new SOA, what
      // came, and the current SOA again.
      const deltas = policy.journal?.since(zone.id, theirs);
      if (deltas && deltas.length > 0 && deltas[deltas.length - 1]!.to === zone.serial) {
        const records: Uint8Array[] = [soa];
        for (const d of deltas) records.push(...entryRecords(d));
        records.push(soa);
        return sent("ixfr", messages(q, p.qEnd, records, 0));
      }
    }
    // AXFR, and IXFR from a serial the journal does not reach: the whole zone (RFC 1995 §4).
    return sent(p.qtype === TYPE_IXFR ? "ixfr-full" : "axfr", messages(q, p.qEnd, [...recordsOf(zone, policy.signed?.(zone)), soa], 0));
  }

  function checkTsig(q: Uint8Array, transfer = true): RequestCheck {
    // Most queries carry at most an OPT; only then is the walk for a TSIG worth doing.
    if (q.length < HEADER || u16(q, 10) === 0) return { kind: "unsigned" };
    const keys = policy.keys();
    const extra = transfer ? undefined : policy.queryKeys;
    return verifyRequest(q, extra ? (name) => keys(name) ?? extra(name) : keys, policy.now());
  }

  return {
    stream(query, peer) {
      const p = transferQuestion(query);
      if (!p) return null;
      const check = checkTsig(query);
      if (check.kind === "error") {
        const e = errorResponse(query, check, policy.now());
        return e ? [e] : [];
      }
      const q = check.kind === "ok" ? check.message : query;
      return transfer(q, transferQuestion(q) ?? p, peer, true, check);
    },
    wrap(answer) {
      return (query, transport, peer) => {
        const check = checkTsig(query, transferQuestion(query) !== null);
        if (check.kind === "error") return errorResponse(query, check, policy.now());
        const q = check.kind === "ok" ? check.message : query;
        const p = transferQuestion(q);
        if (p) {
          // Over TCP the stream handler has answered already; this is UDP.
          const msgs = transfer(q, p, peer, transport === "tcp", check);
          return msgs[0] ?? null;
        }
        if (check.kind !== "ok") return answer(query, transport);
        const out = answer(q, transport);
        return out && new ResponseSigner(check.key, check.mac).sign(out, policy.now());
      };
    },
  };
}
