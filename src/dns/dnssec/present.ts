/**
 * Presentation form of the records signing adds (RRSIG, NSEC3, NSEC3PARAM), for master files
 * that validators (ldns-verify-zone, dnssec-verify) and other servers read; every other type
 * goes through rdata.ts's formatRdata.
 */
import { keyToText } from "../dname";
import { formatRdata, typeText } from "../rdata";
import type { RR, Zone } from "../zone";
import { bitmapTypes, base32hex } from "./nsec3";
import { type SignedZone, signedRecords, T_NSEC3, T_NSEC3PARAM, T_RRSIG } from "./sign";

/** RFC 4034 3.2: YYYYMMDDHHmmSS in UTC. */
function time(t: number): string {
  return new Date(t * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function signerName(b: Uint8Array, off: number): [string, number] {
  const labels: string[] = [];
  while (off < b.length && b[off] !== 0) {
    const len = b[off]!;
    labels.push(new TextDecoder("latin1").decode(b.subarray(off + 1, off + 1 + len)));
    off += 1 + len;
  }
  return [labels.length ? `${labels.join(".")}.` : ".", off + 1];
}

const SIGNED_NAMES: Record<number, string> = { 46: "RRSIG", 47: "NSEC", 50: "NSEC3", 51: "NSEC3PARAM" };
const mnemonic = (code: number) => SIGNED_NAMES[code] ?? typeText(code);
const types = (codes: number[]) => codes.map(mnemonic).join(" ");

/** The presentation form of one record's RDATA (type mnemonic and content). */
export function formatSigned(code: number, rdata: Uint8Array): { type: string; content: string } {
  const v = new DataView(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  if (code === T_RRSIG && rdata.length >= 19) {
    const [signer, off] = signerName(rdata, 18);
    const sig = Buffer.from(rdata.subarray(off)).toString("base64");
    return {
      type: "RRSIG",
      content: `${mnemonic(v.getUint16(0))} ${rdata[2]} ${rdata[3]} ${v.getUint32(4)} ${time(v.getUint32(8))} ${time(v.getUint32(12))} ${v.getUint16(16)} ${signer} ${sig}`,
    };
  }
  if (code === T_NSEC3 && rdata.length >= 6) {
    const saltLen = rdata[4]!;
    const salt = saltLen
      ? Buffer.from(rdata.subarray(5, 5 + saltLen))
          .toString("hex")
          .toUpperCase()
      : "-";
    const hashLen = rdata[5 + saltLen]!;
    const next = base32hex(rdata.subarray(6 + saltLen, 6 + saltLen + hashLen));
    const bitmap = types(bitmapTypes(rdata.subarray(6 + saltLen + hashLen)));
    return { type: "NSEC3", content: `${rdata[0]} ${rdata[1]} ${v.getUint16(2)} ${salt} ${next}${bitmap ? ` ${bitmap}` : ""}` };
  }
  if (code === T_NSEC3PARAM && rdata.length >= 5) {
    const saltLen = rdata[4]!;
    const salt = saltLen
      ? Buffer.from(rdata.subarray(5, 5 + saltLen))
          .toString("hex")
          .toUpperCase()
      : "-";
    return { type: "NSEC3PARAM", content: `${rdata[0]} ${rdata[1]} ${v.getUint16(2)} ${salt}` };
  }
  return formatRdata(code, rdata);
}

export function formatRR(rr: RR): string {
  const f = formatSigned(rr.code, rr.rdata);
  return `${keyToText(rr.name)}\t${rr.ttl}\tIN\t${f.type}\t${f.content}`;
}

/** A master file of the signed zone: SOA first, absolute names, every record once. */
export function exportSignedZone(zone: Zone, signed: SignedZone): string {
  const lines = [`; ${keyToText(zone.name)} serial ${zone.serial}, signed, exported by ipkeep`, `$ORIGIN ${keyToText(zone.name)}`];
  for (const rr of signedRecords(zone, signed)) lines.push(formatRR(rr));
  return `${lines.join("\n")}\n`;
}
