/**
 * The ipkeep side of the differential test (in-process for now).
 */
import { readFileSync } from "node:fs";
import { answer } from "../../src/dns/answer";
import { startDns } from "../../src/dns/server";
import { buildZone, ZoneSet } from "../../src/dns/zone";
import { parseZoneFile } from "../../src/dns/zonefile";

export interface Ipkeep {
  port: number;
  stop(): Promise<void>;
}

export async function startIpkeep(zone: string, file: string): Promise<Ipkeep> {
  const p = parseZoneFile(readFileSync(file, "utf8"), { zone });
  const zones = new ZoneSet();
  zones.set(buildZone({ id: 1, name: p.name, serial: p.soa.serial, soa: p.soa, nsTtl: p.nsTtl, nameservers: p.nameservers.map((n) => ({ name: n, ipv4: null, ipv6: null })), hosts: [], records: p.records }));
  const srv = await startDns([{ host: "127.0.0.1", port: 0 }], (q, transport) => answer(q, zones, { transport }));
  return { port: srv.addresses[0]!.port, stop: () => srv.close() };
}
