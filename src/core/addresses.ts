/**
 * IPv4 and IPv6 parsing and formatting. Strict on input (no octal, hex or shorthand IPv4,
 * no zone ids), canonical on output (RFC 5952 for IPv6), so a stored address compares equal
 * to the same address written any other way.
 */

export type Family = 4 | 6;

const V4_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;

/** Canonical dotted quad or null. "010.1.1.1", "1.1.1", "0x1.1.1.1" are all refused. */
export function parseIPv4(input: string): string | null {
  const parts = input.split(".");
  if (parts.length !== 4) return null;
  for (const p of parts) {
    if (!V4_OCTET.test(p) || Number(p) > 255) return null;
  }
  return parts.map(Number).join(".");
}

export function ipv4ToBytes(addr: string): Uint8Array {
  return Uint8Array.from(addr.split(".").map(Number));
}

/** 16 bytes or null. Accepts "::", embedded IPv4 tails, upper case; refuses zone ids. */
export function ipv6ToBytes(input: string): Uint8Array | null {
  let s = input;
  if (s.length < 2 || s.length > 45 || s.includes("%")) return null;
  const out = new Uint8Array(16);
  // An embedded IPv4 tail occupies the last two groups.
  let tail: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(":");
  if (s.indexOf(".", lastColon) > 0) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return null;
    tail = ipv4ToBytes(v4);
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (h: string): number[] | null => {
    if (h === "") return [];
    const groups = h.split(":");
    const vals: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      vals.push(parseInt(g, 16));
    }
    return vals;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return null;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + rest.length > 7) return null;
  const groups = [...head, ...new Array(8 - head.length - rest.length).fill(0), ...rest];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = groups[i]! >> 8;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** RFC 5952 text: lower case, no leading zeros, longest run (>= 2) of zero groups as "::". */
export function bytesToIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[i * 2]! << 8) | b[i * 2 + 1]!);
  // IPv4-mapped addresses keep their dotted tail (RFC 5952 section 5).
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestLen < 2) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLen).join(":");
  return `${left}::${right}`;
}

/** Canonical IPv6 text or null. */
export function parseIPv6(input: string): string | null {
  const b = ipv6ToBytes(input);
  return b ? bytesToIPv6(b) : null;
}

/** Canonical address with its family, or null. */
export function parseIP(input: string): { family: Family; address: string } | null {
  const v4 = parseIPv4(input);
  if (v4) return { family: 4, address: v4 };
  const v6 = parseIPv6(input);
  if (v6) return { family: 6, address: v6 };
  return null;
}

/** Strips an IPv4-mapped IPv6 socket address ("::ffff:1.2.3.4") down to its IPv4 form. */
export function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

export interface Cidr {
  family: Family;
  bytes: Uint8Array;
  prefix: number;
}

/** "192.0.2.0/24", "2001:db8::/32", or a bare address (full-length prefix). */
export function parseCidr(input: string): Cidr | null {
  const [addr, len, ...extra] = input.trim().split("/");
  if (extra.length || addr === undefined) return null;
  const ip = parseIP(addr);
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (len !== undefined) {
    if (!/^[0-9]{1,3}$/.test(len)) return null;
    prefix = Number(len);
    if (prefix > max) return null;
  }
  const bytes = ip.family === 4 ? ipv4ToBytes(ip.address) : ipv6ToBytes(ip.address)!;
  return { family: ip.family, bytes, prefix };
}

/** True when address (any text form) lies inside cidr. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  const ip = parseIP(unmapIPv4(address));
  if (!ip || ip.family !== cidr.family) return false;
  const bytes = ip.family === 4 ? ipv4ToBytes(ip.address) : ipv6ToBytes(ip.address)!;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
  }
  return true;
}

/**
 * An IPv6 address made of the first `prefixLen` bits of prefix and the remaining bits of
 * interfaceId (both canonical IPv6 text).
 */
export function composeIPv6(prefix: string, prefixLen: number, interfaceId: string): string {
  const p = ipv6ToBytes(prefix)!;
  const id = ipv6ToBytes(interfaceId)!;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bitsLeft = prefixLen - i * 8;
    const mask = bitsLeft >= 8 ? 0xff : bitsLeft <= 0 ? 0 : (0xff << (8 - bitsLeft)) & 0xff;
    out[i] = (p[i]! & mask) | (id[i]! & ~mask & 0xff);
  }
  return bytesToIPv6(out);
}

/** True when every bit after prefixLen is zero (the value names a network, not a host). */
export function isNetworkAddress(address: string, prefixLen: number): boolean {
  const b = ipv6ToBytes(address);
  if (!b) return false;
  for (let bit = prefixLen; bit < 128; bit++) {
    if (b[bit >> 3]! & (0x80 >> (bit & 7))) return false;
  }
  return true;
}

/** The low 64 bits of an IPv6 address as "::xxxx:..." (its interface id). */
export function interfaceIdOf(address: string): string {
  const b = ipv6ToBytes(address)!;
  const out = new Uint8Array(16);
  out.set(b.subarray(8), 8);
  return bytesToIPv6(out);
}
