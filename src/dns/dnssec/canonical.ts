/**
 * RFC 4034 section 6: canonical names, RDATA and RR order, and the data an RRSIG signs.
 * Names in the zone are keys (lower case already, see dname.ts) and their wire form is
 * nameInfo(key).wire; RDATA parsed from presentation text holds lower-case names too, but
 * RDATA given in RFC 3597's generic form is kept byte for byte, so embedded names of the
 * types listed in RFC 4034 6.2 (as amended by RFC 6840 5.1) are lower-cased here.
 */
import { nameInfo } from "../dname";

/** Where the names sit in the RDATA of the types whose names are canonicalised. */
type Layout = { skip: number; names: number; strings?: number };
const NAME_LAYOUT: Record<number, Layout> = {
  2: { skip: 0, names: 1 }, // NS
  3: { skip: 0, names: 1 }, // MD
  4: { skip: 0, names: 1 }, // MF
  5: { skip: 0, names: 1 }, // CNAME
  6: { skip: 0, names: 2 }, // SOA
  7: { skip: 0, names: 1 }, // MB
  8: { skip: 0, names: 1 }, // MG
  9: { skip: 0, names: 1 }, // MR
  12: { skip: 0, names: 1 }, // PTR
  14: { skip: 0, names: 2 }, // MINFO
  15: { skip: 2, names: 1 }, // MX
  17: { skip: 0, names: 2 }, // RP
  18: { skip: 2, names: 1 }, // AFSDB
  21: { skip: 2, names: 1 }, // RT
  26: { skip: 2, names: 2 }, // PX
  33: { skip: 6, names: 1 }, // SRV
  35: { skip: 4, names: 1, strings: 3 }, // NAPTR: order, preference, flags, services, regexp, replacement
  36: { skip: 2, names: 1 }, // KX
  39: { skip: 0, names: 1 }, // DNAME
};

function hasUpper(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x41 && b[i]! <= 0x5a) return true;
  return false;
}

/** RDATA in canonical form: embedded names of the listed types lower-cased (the same bytes when already so). */
export function canonicalRdata(code: number, rdata: Uint8Array): Uint8Array {
  const layout = NAME_LAYOUT[code];
  if (!layout || !hasUpper(rdata)) return rdata;
  const out = rdata.slice();
  let off = layout.skip;
  for (let s = 0; s < (layout.strings ?? 0) && off < out.length; s++) off += 1 + out[off]!;
  for (let n = 0; n < layout.names; n++) {
    while (off < out.length) {
      const len = out[off]!;
      if (len === 0 || len > 63) {
        off++;
        break;
      }
      for (let i = off + 1; i <= off + len && i < out.length; i++) if (out[i]! >= 0x41 && out[i]! <= 0x5a) out[i]! |= 0x20;
      off += 1 + len;
    }
  }
  return out;
}

/** RFC 4034 6.3: RDATA compared as left-justified unsigned octet sequences. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * RFC 4034 6.1: canonical order of names, label by label from the root, each label compared
 * as lower-case octets. On keys (already lower case).
 */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const la = nameInfo(a);
  const lb = nameInfo(b);
  let i = la.offsets.length - 1;
  let j = lb.offsets.length - 1;
  for (; i >= 0 && j >= 0; i--, j--) {
    const oa = la.offsets[i]!;
    const ob = lb.offsets[j]!;
    const c = compareBytes(la.wire.subarray(oa + 1, oa + 1 + la.wire[oa]!), lb.wire.subarray(ob + 1, ob + 1 + lb.wire[ob]!));
    if (c !== 0) return c;
  }
  return i - j;
}

/** RFC 4034 3.1.3: labels of the owner, not counting the root or a leading wildcard label. */
export function rrsigLabels(owner: string): number {
  const info = nameInfo(owner);
  const n = info.offsets.length;
  return owner === "*" || owner.startsWith("*.") ? n - 1 : n;
}

/** One RRset as it is signed: owner, type, TTL and its RDATAs. */
export interface RRsetData {
  owner: string;
  code: number;
  ttl: number;
  rdatas: Uint8Array[];
}

/**
 * The RRs of an RRset in canonical form and order (RFC 4034 6.3; duplicates once), each as
 * owner | type | class IN | TTL | RDLENGTH | RDATA. The TTL is the original TTL.
 */
export function canonicalRRset(set: RRsetData): Uint8Array {
  const owner = nameInfo(set.owner).wire;
  const rdatas = set.rdatas.map((r) => canonicalRdata(set.code, r)).sort(compareBytes);
  let size = 0;
  let prev: Uint8Array | null = null;
  const kept: Uint8Array[] = [];
  for (const r of rdatas) {
    if (prev && compareBytes(prev, r) === 0) continue;
    kept.push(r);
    size += owner.length + 10 + r.length;
    prev = r;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const r of kept) {
    out.set(owner, o);
    o += owner.length;
    out[o++] = set.code >> 8;
    out[o++] = set.code & 0xff;
    out[o++] = 0;
    out[o++] = 1;
    out[o++] = (set.ttl >>> 24) & 0xff;
    out[o++] = (set.ttl >>> 16) & 0xff;
    out[o++] = (set.ttl >>> 8) & 0xff;
    out[o++] = set.ttl & 0xff;
    out[o++] = r.length >> 8;
    out[o++] = r.length & 0xff;
    out.set(r, o);
    o += r.length;
  }
  return out;
}

/** The fields of an RRSIG before its signature (RFC 4034 3.1). */
export interface RrsigHeader {
  typeCovered: number;
  algorithm: number;
  labels: number;
  originalTtl: number;
  expiration: number;
  inception: number;
  keyTag: number;
  signer: string;
}

/** RRSIG RDATA up to the signature: what is signed first, and what the record starts with. */
export function rrsigPrefix(h: RrsigHeader): Uint8Array {
  const signer = nameInfo(h.signer).wire;
  const out = new Uint8Array(18 + signer.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, h.typeCovered);
  out[2] = h.algorithm;
  out[3] = h.labels;
  v.setUint32(4, h.originalTtl >>> 0);
  v.setUint32(8, h.expiration >>> 0);
  v.setUint32(12, h.inception >>> 0);
  v.setUint16(16, h.keyTag);
  out.set(signer, 18);
  return out;
}

/** The fields of an RRSIG RDATA (for reuse checks and refresh); null when it is too short. */
export function parseRrsig(
  rdata: Uint8Array,
): { typeCovered: number; algorithm: number; originalTtl: number; expiration: number; inception: number; keyTag: number } | null {
  if (rdata.length < 19) return null;
  const v = new DataView(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  return {
    typeCovered: v.getUint16(0),
    algorithm: rdata[2]!,
    originalTtl: v.getUint32(4),
    expiration: v.getUint32(8),
    inception: v.getUint32(12),
    keyTag: v.getUint16(16),
  };
}
