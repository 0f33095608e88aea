/**
 * IPv4 and IPv6 parsing and formatting. Strict on input (no octal, hex or shorthand IPv4,
 * no zone ids), canonical on output (RFC 5952 for IPv6), so a stored address compares equal
 * to the same address written any other way.
 */

export type Family = 4 | 6;

const V4_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;

/** Canonical dotted quad or null. "010.1.1.1", "1.1.1", "0x1.1.1.1" are all refused. */
export function parseIPv4(input: string): string | null {
  // By hand rather than split + regex: zones load a stored address per host at start-up.
  // Four dot-separated decimal octets, no leading zeros, each at most 255: such input is
  // already its own canonical form.
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= input.length; i++) {
    const c = i < input.length ? input.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || ++parts > 4) return null;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if ((digits === 1 && value === 0) || ++digits > 3) return null;
      value = value * 10 + (c - 0x30);
    } else {
      return null;
    }
  }
  return parts === 4 ? input : null;
}

export function ipv4ToBytes(addr: string): Uint8Array {
  // A dotted quad by hand (start-up converts one per host); anything else as it always was.
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i);
    if (c === 0x2e && digits > 0 && part < 3) {
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      value = value * 10 + (c - 0x30);
      digits++;
    } else {
      return Uint8Array.from(addr.split(".").map(Number));
    }
  }
  if (part !== 3 || digits === 0) return Uint8Array.from(addr.split(".").map(Number));
  out[3] = value;
  return out;
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
  const head = hexGroups(halves[0]!);
  const rest = halves.length === 2 ? hexGroups(halves[1]!) : [];
  if (!head || !rest) return null;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + rest.length > 7) return null;
  // The groups left out by "::" are zero, as the new array already is.
  for (let i = 0; i < head.length; i++) {
    out[i * 2] = head[i]! >> 8;
    out[i * 2 + 1] = head[i]! & 0xff;
  }
  for (let i = 0, at = 8 - rest.length; i < rest.length; i++, at++) {
    out[at * 2] = rest[i]! >> 8;
    out[at * 2 + 1] = rest[i]! & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** Values of colon-separated groups of one to four hex digits; [] for ""; null if malformed. */
function hexGroups(h: string): number[] | null {
  const vals: number[] = [];
  if (h === "") return vals;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= h.length; i++) {
    const c = i < h.length ? h.charCodeAt(i) : 0x3a;
    if (c === 0x3a) {
      if (digits === 0) return null;
      vals.push(value);
      digits = 0;
      value = 0;
      continue;
    }
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return null;
    if (++digits > 4) return null;
    value = value * 16 + d;
  }
  return vals;
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

export type UnusableReason = "unspecified" | "multicast" | "broadcast";

/**
 * Why an address can never be a host's A or AAAA, or null when it can: the unspecified
 * address (0.0.0.0, ::), multicast (224.0.0.0/4, ff00::/8) and the limited broadcast
 * 255.255.255.255, also when written IPv4-mapped. Private, loopback and link-local addresses
 * are allowed: LAN names are a real use. The one rule for every path that sets an address.
 */
export function unusableHostAddress(address: string): UnusableReason | null {
  let ip = parseIP(address);
  if (!ip) return null;
  // "::ffff:224.0.0.1" and "::ffff:e000:1" alike: canonical text first, then the IPv4 inside.
  if (ip.family === 6 && unmapIPv4(ip.address) !== ip.address) ip = parseIP(unmapIPv4(ip.address))!;
  if (ip.family === 4) {
    if (ip.address === "0.0.0.0") return "unspecified";
    if (ip.address === "255.255.255.255") return "broadcast";
    const first = Number(ip.address.slice(0, ip.address.indexOf(".")));
    return first >= 224 && first <= 239 ? "multicast" : null;
  }
  if (ip.address === "::") return "unspecified";
  return ipv6ToBytes(ip.address)![0] === 0xff ? "multicast" : null;
}

/** Strips an IPv4-mapped IPv6 socket address ("::ffff:1.2.3.4") down to its IPv4 form. */
export function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/**
 * The network a client address belongs to, as a short key: the first v4Bits of an IPv4
 * address (IPv4-mapped IPv6 counts as IPv4), the first v6Bits of an IPv6 one. Per-source
 * limits (DNS over TCP, response rate limiting) count by it, so one host with many IPv6
 * addresses (a /64 is one customer) is one source. "" for text that is no address.
 */
export function sourcePrefix(address: string, v4Bits: number, v6Bits: number): string {
  const plain = unmapIPv4(address);
  const v4 = parseIPv4(plain);
  const bytes = v4 ? ipv4ToBytes(v4) : ipv6ToBytes(plain);
  if (!bytes) return "";
  const bits = v4 ? v4Bits : v6Bits;
  let key = v4 ? "4:" : "6:";
  for (let i = 0; i * 8 < bits; i++) {
    const keep = bits - i * 8;
    const b = keep >= 8 ? bytes[i]! : bytes[i]! & ((0xff << (8 - keep)) & 0xff);
    key += b.toString(16).padStart(2, "0");
  }
  return key;
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
