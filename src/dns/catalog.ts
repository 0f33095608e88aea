/**
 * A catalog zone (RFC 9432, schema version 2) listing every zone ipkeep serves, so a secondary
 * configured once with the catalog (Knot's `catalog-role: interpret`, BIND's catalog-zones)
 * starts serving a zone added later by itself, and stops serving one removed. It is transferred
 * (AXFR/IXFR, TSIG) and NOTIFYed like the others.
 *
 * It is not stored: it is a view of the zone list, put in front of the store as one more zone
 * source for LiveZones (withCatalog). When the set of served zones changes (a zone added, a
 * custom domain verified or removed: a zone-level row in the change log), the catalog's serial
 * moves and a zone-level row for it is added, so LiveZones loads it afresh and NOTIFY goes out.
 */
import { packZone } from "../core/packed-zone";
import { createHash } from "node:crypto";
import type { Clock } from "../core/platform";
import { nowSeconds } from "../core/platform";
import type { ZoneData } from "../core/ports";
import type { ZoneChange, ZoneSource } from "./live";

/** The catalog's zone id: beyond any id SQLite gives a domain here. */
export const CATALOG_ID = 2_000_000_000;

/**
 * RFC 9432 §4.1: a member's unique label. A hash of its name: the same zone keeps its label
 * across restarts and on every primary, as the RFC asks.
 */
export function memberLabel(zone: string): string {
  return createHash("sha256").update(zone).digest("hex").slice(0, 16);
}

/** The catalog's contents for a list of member zones. */
export function catalogData(name: string, serial: number, members: string[]): ZoneData {
  return {
    id: CATALOG_ID,
    name,
    serial,
    // RFC 9432 §4: the SOA and NS are there for the protocol only ("invalid." is the custom).
    soa: { mname: "invalid", rname: "invalid", refresh: 60, retry: 60, expire: 2_419_200, minimum: 0, ttl: 0 },
    nsTtl: 0,
    nameservers: [{ name: "invalid", ipv4: null, ipv6: null }],
    hosts: [],
    records: [
      { name: `version.${name}`, type: "TXT", ttl: 0, content: '"2"' },
      ...members.map((m) => ({ name: `${memberLabel(m)}.zones.${name}`, type: "PTR", ttl: 0, content: `${m}.` })),
    ],
  };
}

/** The store's zones, with the catalog zone named `name` among them. */
export function withCatalog(source: ZoneSource, name: string, clock: Clock): ZoneSource {
  // Start from the clock, so a restart never goes back (RFC 1982 serial arithmetic).
  let serial = nowSeconds(clock) >>> 0;
  let members: string[] | null = null;
  let reported = -1;
  const refresh = () => {
    const now = source
      .serials()
      .filter((z) => z.served && z.name !== name)
      .map((z) => z.name)
      .sort();
    if (members && now.join(" ") !== members.join(" ")) serial = (serial + 1) >>> 0;
    members = now;
  };
  const soa = () => catalogData(name, serial, []).soa;
  return {
    snapshot: (fn) => source.snapshot(fn),
    serials() {
      refresh();
      return [...source.serials(), { id: CATALOG_ID, name, serial, served: true }];
    },
    packedZone(id, now) {
      if (id !== CATALOG_ID) return source.packedZone(id, now);
      refresh();
      reported = serial;
      return packZone(catalogData(name, serial, members!));
    },
    changesSince(seq, limit) {
      const rows: ZoneChange[] = source.changesSince(seq, limit);
      if (rows.length === 0) return rows;
      refresh();
      // A new member list: the catalog is loaded afresh with it (a zone-level row).
      if (serial !== reported) rows.push({ seq: rows[rows.length - 1]!.seq, domainId: CATALOG_ID, name: null });
      return rows;
    },
    lastChangeSeq: () => source.lastChangeSeq(),
    pruneChanges: (upTo) => source.pruneChanges(upTo),
    soaOf(id) {
      if (id !== CATALOG_ID) return source.soaOf(id);
      refresh();
      return { name, serial, served: true, soa: soa() };
    },
    nodeRecords(id, names, now) {
      if (id !== CATALOG_ID) return source.nodeRecords(id, names, now);
      const data = catalogData(name, serial, members ?? []);
      return names.map((n) => ({
        name: n,
        hostname: false,
        records: data.records.filter((r) => r.name === n).map(({ type, ttl, content }) => ({ type, ttl, content })),
      }));
    },
  };
}
