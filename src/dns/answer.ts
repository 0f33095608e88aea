/**
 * answer(query bytes, zones) -> response bytes. Pure: no sockets, no database. Lookup
 * (a result per CoreDNS's Success/NameError/NoData) is separate from encoding.
 */
import * as packet from "dns-packet";
import type { RR, Zone, ZoneSet } from "./zone";

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** Our EDNS(0) UDP payload size: the 2020 DNS flag day value, avoids IP fragmentation. */
export const EDNS_PAYLOAD = 1232;
/** RFC 1035 limit for UDP without EDNS. */
export const PLAIN_UDP_LIMIT = 512;

const HEADER = 12;
const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;

export type LookupResult =
  | { kind: "success"; answer: RR[]; authority: RR[] }
  | { kind: "nodata"; authority: RR[] }
  | { kind: "nxdomain"; authority: RR[] }
  | { kind: "refused" };

function negativeSoa(zone: Zone): RR {
  return { ...zone.soa, ttl: zone.negativeTtl };
}

/** What the zones say about (name, type); name canonical. */
export function lookup(zones: ZoneSet, name: string, type: string): LookupResult {
  const zone = zones.find(name);
  if (!zone) return { kind: "refused" };
  const answer: RR[] = [];
  let current = name;
  let z: Zone = zone;
  // Follow CNAMEs inside our zones; a bounded chain guards against loops.
  for (let hops = 0; hops < 8; hops++) {
    const node = z.nodes.get(current);
    if (!node) {
      if (hops > 0) return { kind: "success", answer, authority: [] };
      if (z.ents.has(current)) return { kind: "nodata", authority: [negativeSoa(z)] };
      return { kind: "nxdomain", authority: [negativeSoa(z)] };
    }
    const set = node.get(type);
    if (set && set.length) {
      answer.push(...set);
      return { kind: "success", answer, authority: [] };
    }
    const cname = node.get("CNAME");
    if (cname && cname.length && type !== "CNAME") {
      answer.push(cname[0]!);
      const target = String((cname[0] as { data: unknown }).data);
      const nz = zones.find(target);
      if (!nz) return { kind: "success", answer, authority: [] };
      z = nz;
      current = target;
      continue;
    }
    if (hops > 0) return { kind: "success", answer, authority: [] };
    return { kind: "nodata", authority: [negativeSoa(z)] };
  }
  return { kind: "success", answer, authority: [] };
}

/** A header-only reply (FORMERR/NOTIMP/REFUSED for packets we do not process further). */
function headerOnly(query: Uint8Array, rcode: number): Uint8Array | null {
  if (query.length < 2) return null;
  const out = new Uint8Array(HEADER);
  out[0] = query[0]!;
  out[1] = query[1]!;
  const qflags = query.length >= 4 ? (query[2]! << 8) | query[3]! : 0;
  const opcode = qflags & 0x7800;
  const flags = QR | opcode | (qflags & RD) | rcode;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  return out;
}

export interface AnswerOptions {
  transport: "udp" | "tcp";
}

/**
 * Never throws: undecodable input gets FORMERR (or nothing when there is not even an id to
 * answer), so a hostile packet cannot stop the server.
 */
export function answer(query: Uint8Array, zones: ZoneSet, opts: AnswerOptions): Uint8Array | null {
  if (query.length < HEADER) return null;
  // A response must never be answered (reflection loops between servers).
  if (query[2]! & 0x80) return null;
  let q: packet.DecodedPacket;
  try {
    q = packet.decode(Buffer.from(query.buffer, query.byteOffset, query.length));
  } catch {
    return headerOnly(query, RCODE.FORMERR);
  }
  try {
    return respond(query, q, zones, opts);
  } catch {
    return headerOnly(query, RCODE.SERVFAIL);
  }
}

function respond(raw: Uint8Array, q: packet.DecodedPacket, zones: ZoneSet, opts: AnswerOptions): Uint8Array | null {
  const qflags = (raw[2]! << 8) | raw[3]!;
  const opcode = (qflags >> 11) & 0xf;
  if (opcode !== 0) return headerOnly(raw, RCODE.NOTIMP);
  const questions = q.questions ?? [];
  if (questions.length !== 1) return headerOnly(raw, RCODE.FORMERR);
  const question = questions[0]!;
  const opts0 = (q.additionals ?? []).filter((a) => a.type === "OPT");
  if (opts0.length > 1) return headerOnly(raw, RCODE.FORMERR);
  const opt = opts0[0] as packet.OptAnswer | undefined;
  const limit =
    opts.transport === "tcp" ? 65535 : opt ? Math.max(PLAIN_UDP_LIMIT, Math.min(opt.udpPayloadSize ?? 512, EDNS_PAYLOAD)) : PLAIN_UDP_LIMIT;

  const additionals: packet.Answer[] = [];
  if (opt) additionals.push({ type: "OPT", name: ".", udpPayloadSize: EDNS_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] } as unknown as packet.Answer);

  let flags = QR | (qflags & RD);
  let rcode: number = RCODE.NOERROR;
  let answers: RR[] = [];
  let authorities: RR[] = [];
  const qname = question.name;
  const canonical = qname.toLowerCase().replace(/\.$/, "");

  if (opt && (opt.ednsVersion ?? 0) > 0) {
    // BADVERS is extended rcode 16: upper 8 bits (1) go in the OPT TTL field.
    (additionals[0] as { extendedRcode: number }).extendedRcode = 1;
  } else if ((question.class ?? "IN") !== "IN") {
    rcode = RCODE.REFUSED;
  } else {
    const result = lookup(zones, canonical, question.type);
    switch (result.kind) {
      case "refused":
        rcode = RCODE.REFUSED;
        break;
      case "nxdomain":
        rcode = RCODE.NXDOMAIN;
        flags |= AA;
        authorities = result.authority;
        break;
      case "nodata":
        flags |= AA;
        authorities = result.authority;
        break;
      case "success":
        flags |= AA;
        answers = result.answer;
        break;
    }
  }
  // Owner names take the question's spelling (0x20 case randomisation by resolvers).
  const rename = (rr: RR): RR => (rr.name === canonical ? { ...rr, name: qname } : rr);
  const msg: packet.Packet = {
    id: q.id,
    type: "response",
    flags: flags | rcode,
    questions: [question],
    answers: answers.map(rename),
    authorities,
    additionals,
  };
  let out = packet.encode(msg);
  if (out.length > limit) {
    msg.flags = (msg.flags ?? 0) | TC;
    msg.answers = [];
    msg.authorities = [];
    out = packet.encode(msg);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
