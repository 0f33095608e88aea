/**
 * A zone's data packed: a handful of strings and typed arrays instead of an object per host
 * and record. The store reads a zone into it row by row (no array of a hundred thousand row
 * objects), the DNS thread gets it posted (a few buffers, cheap to copy or transfer), and
 * dns/zone.ts builds a zone from it.
 */
import { ipv4ToBytes, ipv6ToBytes, parseIPv4 } from "./addresses";
import type { ZoneData } from "./ports";

export interface PackedZone {
  head: Omit<ZoneData, "hosts" | "records">;
  hostCount: number;
  /** Host names, "\n"-separated. */
  names: string;
  ttls: Uint32Array;
  /** Bit 0: an IPv4 address, bit 1: an IPv6 one. */
  flags: Uint8Array;
  v4: Uint8Array;
  v6: Uint8Array;
  /** Records as "name\0type\0ttl\0content", "\x01"-separated (neither byte occurs in them). */
  records: string;
}

/** Fills a PackedZone host by host. */
export class ZonePacker {
  private names: string[] = [];
  private ttls = new Uint32Array(1024);
  private flags = new Uint8Array(1024);
  private v4 = new Uint8Array(4096);
  private v6 = new Uint8Array(16384);
  private records: string[] = [];

  constructor(private head: PackedZone["head"]) {}

  host(name: string, ipv4: string | null, ipv6: string | null, ttl: number): void {
    const i = this.names.length;
    if (i === this.ttls.length) this.grow(i * 2);
    this.names.push(name);
    this.ttls[i] = ttl;
    const a = ipv4 ? parseIPv4(ipv4) : null;
    const b = ipv6 ? ipv6ToBytes(ipv6) : null;
    if (a) this.v4.set(ipv4ToBytes(a), i * 4);
    if (b) this.v6.set(b, i * 16);
    this.flags[i] = (a ? 1 : 0) | (b ? 2 : 0);
  }

  record(name: string, type: string, ttl: number, content: string): void {
    this.records.push(`${name}\0${type}\0${ttl}\0${content}`);
  }

  done(): PackedZone {
    const n = this.names.length;
    return {
      head: this.head,
      hostCount: n,
      names: this.names.join("\n"),
      ttls: this.ttls.slice(0, n),
      flags: this.flags.slice(0, n),
      v4: this.v4.slice(0, n * 4),
      v6: this.v6.slice(0, n * 16),
      records: this.records.join("\x01"),
    };
  }

  private grow(cap: number): void {
    const grown = <T extends Uint8Array | Uint32Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.ttls = grown(this.ttls, cap);
    this.flags = grown(this.flags, cap);
    this.v4 = grown(this.v4, cap * 4);
    this.v6 = grown(this.v6, cap * 16);
  }
}

export function packZone(z: ZoneData): PackedZone {
  const p = new ZonePacker({ id: z.id, name: z.name, serial: z.serial, soa: z.soa, nsTtl: z.nsTtl, nameservers: z.nameservers });
  for (const h of z.hosts) p.host(h.name, h.ipv4, h.ipv6, h.ttl);
  for (const r of z.records) p.record(r.name, r.type, r.ttl, r.content);
  return p.done();
}

/** The records of a packed zone, as ZoneData lists them. */
export function packedRecords(p: PackedZone): ZoneData["records"] {
  if (p.records === "") return [];
  return p.records.split("\x01").map((line) => {
    const [name, type, ttl, content] = line.split("\0") as [string, string, string, string];
    return { name, type, ttl: Number(ttl), content };
  });
}
