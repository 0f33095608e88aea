/**
 * A transferred zone as ZoneData, the same shape the primary builds its zones from, so the
 * secondary serves through the same buildZone() and answer(). RDATA goes back to
 * presentation text; types we cannot render are carried in RFC 3597 form (\# len hex).
 */
import * as packet from "dns-packet";
import { typeCode } from "../dns/rdata";
import type { ZoneData } from "../core/ports";
import type { ZoneDelta } from "../dns/zone";
import type { IxfrDelta } from "./axfr";
import { canonicalName } from "../core/names";

const host = (s: string) => `${canonicalName(s)}.`;
const canonical = canonicalName;

/** A character-string in presentation form: quoted, with " and \ and non-printables escaped. */
function quote(b: Uint8Array | string): string {
  const bytes = typeof b === "string" ? new TextEncoder().encode(b) : b;
  let out = '"';
  for (const c of bytes) {
    if (c === 0x22 || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c < 0x20 || c > 0x7e) out += `\\${String(c).padStart(3, "0")}`;
    else out += String.fromCharCode(c);
  }
  return `${out}"`;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Types never carried: the transfer's framing, not zone data. */
const NOT_DATA = new Set(["SOA", "OPT", "TSIG", "TKEY"]);

/**
 * A type dns-packet decodes into fields of its own (DNSSEC's RRSIG, DNSKEY, DS, NSEC, NSEC3;
 * HINFO, SSHFP, NAPTR, TLSA, RP): encoded back to its RDATA and carried in RFC 3597 form, so
 * a signed zone is kept as transferred, byte for byte (issue 18).
 */
function generic(rr: packet.Answer): { type: string; content: string } | null {
  if (NOT_DATA.has(rr.type)) return null;
  const code = typeCode(rr.type);
  if (code === null) return null;
  try {
    const codec = (packet as unknown as { record(type: string): { encode(d: unknown): Uint8Array } }).record(rr.type);
    // The codec writes RDLENGTH first.
    const b = codec.encode((rr as { data: unknown }).data).subarray(2);
    return { type: `TYPE${code}`, content: `\\# ${b.length}${b.length ? ` ${hex(b)}` : ""}` };
  } catch {
    return null;
  }
}

/** Presentation text of one record's data, or null for what we do not carry (SOA, OPT, TSIG). */
export function presentation(rr: packet.Answer): { type: string; content: string } | null {
  const d = (rr as { data: unknown }).data as never;
  switch (rr.type) {
    case "A":
    case "AAAA":
      return { type: rr.type, content: String(d) };
    case "NS":
    case "CNAME":
    case "PTR":
    case "DNAME":
      return { type: rr.type, content: host(String(d)) };
    case "MX": {
      const m = d as { preference: number; exchange: string };
      return { type: "MX", content: `${m.preference} ${host(m.exchange)}` };
    }
    case "SRV": {
      const s = d as { priority: number; weight: number; port: number; target: string };
      return { type: "SRV", content: `${s.priority} ${s.weight} ${s.port} ${host(s.target)}` };
    }
    case "TXT": {
      const parts = (Array.isArray(d) ? d : [d]) as (Uint8Array | string)[];
      return { type: "TXT", content: parts.map(quote).join(" ") };
    }
    case "CAA": {
      const c = d as { flags: number; tag: string; value: string; issuerCritical?: boolean };
      return { type: "CAA", content: `${c.flags ?? 0} ${c.tag} ${quote(c.value)}` };
    }
    default: {
      const m = /^UNKNOWN_(\d+)$/.exec(rr.type);
      if (m && d && typeof d === "object" && "length" in (d as object)) {
        const b = d as Uint8Array;
        return { type: `TYPE${m[1]}`, content: `\\# ${b.length}${b.length ? ` ${hex(b)}` : ""}` };
      }
      return generic(rr);
    }
  }
}

/**
 * Turns an AXFR's records (SOA first; the closing SOA already removed) into ZoneData.
 * Apex NS become the nameserver set; everything else, glue included, is a record.
 */
export function zoneDataFromTransfer(id: number, zone: string, records: packet.Answer[]): ZoneData {
  const apex = canonical(zone);
  const soa = records[0];
  if (!soa || soa.type !== "SOA" || canonical(soa.name) !== apex) throw new Error(`transfer of ${zone} does not start with its SOA`);
  const s = (soa as packet.Answer & { data: packet.SoaData }).data;
  const out: ZoneData = {
    id,
    name: apex,
    serial: (s.serial ?? 0) >>> 0,
    soa: {
      mname: canonical(s.mname),
      rname: canonical(s.rname),
      refresh: s.refresh ?? 3600,
      retry: s.retry ?? 600,
      expire: s.expire ?? 1209600,
      minimum: s.minimum ?? 60,
      ttl: soa.ttl ?? 3600,
    },
    nsTtl: 3600,
    nameservers: [],
    hosts: [],
    records: [],
  };
  let nsTtlSet = false;
  for (const rr of records.slice(1)) {
    if (rr.type === "SOA" || rr.type === "OPT" || ((rr as { class?: string }).class !== undefined && (rr as { class?: string }).class !== "IN")) continue;
    const name = canonical(rr.name);
    if (name !== apex && !name.endsWith(`.${apex}`)) continue; // not ours: never serve it
    const ttl = rr.ttl ?? 0;
    if (rr.type === "NS" && name === apex) {
      if (!nsTtlSet) {
        out.nsTtl = ttl;
        nsTtlSet = true;
      }
      out.nameservers.push({ name: canonical(String(rr.data)), ipv4: null, ipv6: null });
      continue;
    }
    const p = presentation(rr);
    if (p) out.records.push({ name, type: p.type, ttl, content: p.content });
  }
  return out;
}

/**
 * Applies IXFR difference sequences (RFC 1995) to a held copy: each removed record goes (the
 * first equal one), each added one comes, the SOA becomes the last sequence's. Returns the new
 * copy and the owner names that changed.
 */
export function applyIxfr(held: ZoneData, deltas: IxfrDelta[]): { data: ZoneData; names: string[] } {
  const apex = held.name;
  const data: ZoneData = { ...held, soa: { ...held.soa }, nameservers: [...held.nameservers], records: [...held.records] };
  const names = new Set<string>();
  const key = (name: string, type: string, content: string) => `${name} ${type} ${content}`;
  for (const d of deltas) {
    for (const rr of d.removed) {
      const name = canonical(rr.name);
      names.add(name);
      if (rr.type === "NS" && name === apex) {
        const target = canonical(String(rr.data));
        data.nameservers = data.nameservers.filter((n) => n.name !== target);
        continue;
      }
      const p = presentation(rr);
      if (!p) continue;
      const k = key(name, p.type, p.content);
      const at = data.records.findIndex((r) => key(r.name, r.type, r.content) === k);
      if (at >= 0) data.records.splice(at, 1);
    }
    for (const rr of d.added) {
      const name = canonical(rr.name);
      if (name !== apex && !name.endsWith(`.${apex}`)) continue;
      names.add(name);
      if (rr.type === "NS" && name === apex) {
        data.nameservers.push({ name: canonical(String(rr.data)), ipv4: null, ipv6: null });
        data.nsTtl = (rr as { ttl?: number }).ttl ?? data.nsTtl;
        continue;
      }
      const p = presentation(rr);
      if (p) data.records.push({ name, type: p.type, ttl: (rr as { ttl?: number }).ttl ?? 0, content: p.content });
    }
    const s = (d.soa as packet.Answer & { data: packet.SoaData }).data;
    data.serial = (s.serial ?? 0) >>> 0;
    data.soa = {
      mname: canonical(s.mname),
      rname: canonical(s.rname),
      refresh: s.refresh ?? data.soa.refresh,
      retry: s.retry ?? data.soa.retry,
      expire: s.expire ?? data.soa.expire,
      minimum: s.minimum ?? data.soa.minimum,
      ttl: (d.soa as { ttl?: number }).ttl ?? data.soa.ttl,
    };
  }
  return { data, names: [...names] };
}

/** The delta that serves a copy's changed names, each with all it now holds (as buildZone adds it). */
export function zoneDeltaOf(data: ZoneData, names: string[]): ZoneDelta {
  const wanted = new Set(names);
  const byName = new Map<string, { type: string; ttl: number; content: string }[]>();
  for (const n of names) byName.set(n, []);
  for (const ns of data.nameservers) if (wanted.has(data.name)) byName.get(data.name)!.push({ type: "NS", ttl: data.nsTtl, content: `${ns.name}.` });
  for (const r of data.records) if (wanted.has(r.name)) byName.get(r.name)!.push({ type: r.type, ttl: r.ttl, content: r.content });
  return { id: data.id, serial: data.serial, soa: data.soa, nodes: [...byName].map(([name, records]) => ({ name, hostname: false, records })) };
}
