/**
 * Zone-wide changes: importing a zone's contents (all or nothing) and setting SOA timers.
 * Serials follow RFC 1982 so secondaries always see a newer zone after a change.
 */
import { fail } from "./errors";
import type { Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { ChangeSink, ZoneContents, ZoneContentsStore, ZoneSoaFields } from "./ports";
import { checkNameserverFree } from "./reserved";

/** RFC 1982 3.2: a is greater than b (serials compare modulo 2^32; 2^31 apart is undefined). */
export function serialGreater(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}

/** The serial after a change: one more, modulo 2^32 (RFC 1982 addition). */
export function nextSerial(s: number): number {
  return (s + 1) >>> 0;
}

export interface ZoneContentsDeps {
  store: ZoneContentsStore;
  platform: Platform;
  changes: ChangeSink;
}

export interface ImportResult {
  id: number;
  name: string;
  serial: number;
  replaced: boolean;
  records: number;
  /** Set when the file's serial could not be used as is. */
  serialNote: string | null;
  /** Hostnames whose addresses the file set. */
  hostnames: number;
}

/**
 * Serves the zone exactly as the file says, SOA and apex NS included. Re-importing an
 * existing zone keeps the file's serial when it is newer (RFC 1982) and otherwise moves one
 * past the served serial, so secondaries never see the serial go backwards.
 *
 * Hostnames stay dynamic: an A or AAAA record at a hostname's name sets that hostname's
 * address (one per family), and a record the hostname's owner already holds there (its
 * `zone export` lists them) is kept as the owner's, not copied as a static record. The NS set
 * may not name a name somebody holds (core/reserved.ts).
 */
export function importZone(deps: ZoneContentsDeps, z: ZoneContents): ImportResult {
  const now = nowSeconds(deps.platform.clock);
  const { store } = deps;
  return store.transaction(() => {
    const old = store.domains.byName(z.name);
    let serial = z.soa.serial >>> 0;
    let serialNote: string | null = null;
    if (old && !serialGreater(serial, old.serial)) {
      serial = nextSerial(old.serial);
      serialNote = `the file's serial ${z.soa.serial} is not newer than the served ${old.serial}: serving ${serial}`;
    }
    for (const ns of z.nameservers) checkNameserverFree(store, ns, now);
    const addresses = new Map<number, { ipv4?: string; ipv6?: string }>();
    const held = old
      ? new Set(
          store.records
            .list(old.id, now)
            .filter((r) => r.hostnameId !== null)
            .map((r) => `${r.name} ${r.type} ${r.content}`),
        )
      : new Set<string>();
    const records = z.records.filter((r) => {
      const host = store.hosts.byName(r.name);
      if (!host) return !held.has(`${r.name} ${r.type} ${r.content}`);
      if (r.type === "A" || r.type === "AAAA") {
        const family = r.type === "A" ? "ipv4" : "ipv6";
        const a = addresses.get(host.id) ?? {};
        if (a[family] !== undefined && a[family] !== r.content) {
          fail("invalid_input", `${r.name} is a dynamic hostname with one ${r.type} address; the file gives it several`);
        }
        a[family] = r.content;
        addresses.set(host.id, a);
        return false;
      }
      if (r.type === "CNAME" || r.type === "NS") fail("invalid_input", `${r.name} is a dynamic hostname; a ${r.type} record cannot sit there`);
      return !held.has(`${r.name} ${r.type} ${r.content}`);
    });
    const id = store.zoneContents.replace({ ...z, records }, serial, now);
    for (const [hostId, a] of addresses) {
      const host = store.hosts.byId(hostId)!;
      store.hosts.setAddresses(hostId, { ipv4: a.ipv4 ?? host.ipv4, ipv6: a.ipv6 ?? host.ipv6 }, now);
    }
    deps.changes.zoneChanged(id);
    return { id, name: z.name, serial, replaced: !!old, records: z.records.length + z.nameservers.length + 1, serialNote, hostnames: addresses.size };
  });
}

/** RFC 2181 8: TTL-like values are 31-bit. */
const MAX_PERIOD = 0x7fffffff;

export function setZoneSoa(deps: ZoneContentsDeps, name: string, f: ZoneSoaFields): { id: number; serial: number } {
  const d = deps.store.domains.byName(name);
  if (!d) fail("unknown_zone", `Domain ${name} not found`);
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0 || v > MAX_PERIOD) fail("invalid_input", `SOA ${k} must be a number of seconds from 0 to ${MAX_PERIOD}`);
  }
  if (Object.values(f).every((v) => v === undefined)) fail("invalid_input", "Nothing to change: give --refresh, --retry, --expire, --minimum or --ttl");
  const serial = deps.store.zoneContents.setSoa(d.id, f, nowSeconds(deps.platform.clock));
  deps.changes.zoneChanged(d.id);
  return { id: d.id, serial };
}
