/**
 * Responses as zone-file text for answer tables: "owner TTL TYPE rdata", owner names as they
 * are on the wire (case kept), RDATA in ipkeep's presentation form (names lower-cased).
 */
import { labelsKey } from "../../src/dns/dname";
import { formatRdata } from "../../src/dns/rdata";

export interface Decoded {
  id: number;
  rcode: string;
  flags: string[];
  opcode: number;
  question: string;
  answer: string[];
  authority: string[];
  additional: string[];
  /** "udp=1232 version=0 do=0" or null when there is no OPT. */
  opt: string | null;
  size: number;
}

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

function readName(b: Uint8Array, off: number, keepCase: boolean): [string, number] {
  const labels: string[] = [];
  let end = -1;
  for (let hops = 0; hops < 128; hops++) {
    const len = b[off]!;
    if (len === 0) {
      if (end < 0) end = off + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = off + 2;
      off = ((len & 0x3f) << 8) | b[off + 1]!;
      continue;
    }
    const l = b.subarray(off + 1, off + 1 + len);
    labels.push(keepCase ? String.fromCharCode(...l).replace(/[.\\]/g, (c) => `\\${c}`) : labelsKey([l]));
    off += 1 + len;
  }
  return [labels.length ? `${labels.join(".")}.` : ".", end];
}

function nameWire(text: string): number[] {
  if (text === ".") return [0];
  const out: number[] = [];
  for (const l of text.slice(0, -1).split(/(?<!\\)\./)) {
    const raw = l.replace(/\\(.)/g, "$1");
    out.push(raw.length, ...Array.from(raw, (c) => c.charCodeAt(0)));
  }
  out.push(0);
  return out;
}

export function decodeResponse(b: Uint8Array): Decoded {
  const u16 = (o: number) => (b[o]! << 8) | b[o + 1]!;
  const flagsWord = u16(2);
  const flags = (
    [
      [0x8000, "qr"],
      [0x0400, "aa"],
      [0x0200, "tc"],
      [0x0100, "rd"],
      [0x0080, "ra"],
      [0x0020, "ad"],
      [0x0010, "cd"],
    ] as const
  )
    .filter(([bit]) => flagsWord & bit)
    .map(([, n]) => n);
  let off = 12;
  let question = "";
  for (let i = 0; i < u16(4); i++) {
    const [n, end] = readName(b, off, true);
    question = `${n} ${u16(end)} ${u16(end + 2)}`;
    off = end + 4;
  }
  const sections: string[][] = [[], [], []];
  let opt: string | null = null;
  let ext = 0;
  const counts = [u16(6), u16(8), u16(10)];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const [owner, end] = readName(b, off, true);
      const type = u16(end);
      const klass = u16(end + 2);
      const ttl = ((b[end + 4]! << 24) | (b[end + 5]! << 16) | (b[end + 6]! << 8) | b[end + 7]!) >>> 0;
      const len = u16(end + 8);
      const rdStart = end + 10;
      off = rdStart + len;
      if (type === 41) {
        ext = b[end + 4]!;
        opt = `udp=${klass} version=${b[end + 5]} do=${(b[end + 6]! & 0x80) >> 7}`;
        continue;
      }
      let rdata = b.subarray(rdStart, rdStart + len);
      // Names inside these types may be compressed: rebuild the RDATA uncompressed.
      if (type === 2 || type === 5 || type === 12 || type === 15 || type === 6) {
        const parts: number[] = [];
        let p = rdStart;
        if (type === 15) {
          parts.push(b[p]!, b[p + 1]!);
          p += 2;
        }
        const names = type === 6 ? 2 : 1;
        for (let k = 0; k < names; k++) {
          const [n, e] = readName(b, p, false);
          parts.push(...nameWire(n));
          p = e;
        }
        for (; p < rdStart + len; p++) parts.push(b[p]!);
        rdata = Uint8Array.from(parts);
      }
      const f = formatRdata(type, rdata);
      sections[s]!.push(`${owner} ${ttl}${klass === 1 ? "" : ` CLASS${klass}`} ${f.type} ${f.content}`);
    }
  }
  const rcodeNum = (ext << 4) | (flagsWord & 0xf);
  return {
    id: u16(0),
    rcode: rcodeNum === 16 ? "BADVERS" : (RCODES[rcodeNum] ?? String(rcodeNum)),
    flags,
    opcode: (flagsWord >> 11) & 0xf,
    question,
    answer: sections[0]!,
    authority: sections[1]!,
    additional: sections[2]!,
    opt,
    size: b.length,
  };
}
