/**
 * Creating and removing served zones (built-in domains).
 */
import { parseIPv4, parseIPv6 } from "./addresses";
import { fail } from "./errors";
import { inZone, normalizeName } from "./names";
import type { Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { ChangeSink, CoreStore, DomainRow } from "./ports";

export interface NameserverSpec {
  name: string;
  ipv4: string | null;
  ipv6: string | null;
}

/** "ns1.example.com" or "ns1.example.com=192.0.2.1[,2001:db8::1]". */
export function parseNameserverSpec(spec: string): NameserverSpec {
  const [rawName, addrs] = spec.split("=", 2);
  const name = normalizeName(rawName);
  let ipv4: string | null = null;
  let ipv6: string | null = null;
  for (const a of (addrs ?? "").split(",").filter(Boolean)) {
    const v4 = parseIPv4(a.trim());
    const v6 = v4 ? null : parseIPv6(a.trim());
    if (v4 && !ipv4) ipv4 = v4;
    else if (v6 && !ipv6) ipv6 = v6;
    else fail("invalid_address", `Invalid nameserver address "${a}" for ${name}`);
  }
  return { name, ipv4, ipv6 };
}

export interface ZoneDeps {
  store: CoreStore;
  platform: Platform;
  changes: ChangeSink;
}

export interface NewZone {
  name: string;
  nameservers: NameserverSpec[];
  kind?: "builtin" | "custom";
  ownerId?: number | null;
}

export function validateZone(z: NewZone): { name: string; nameservers: NameserverSpec[] } {
  const name = normalizeName(z.name);
  if (z.nameservers.length === 0) fail("invalid_input", "A zone needs at least one nameserver (--ns)");
  const seen = new Set<string>();
  for (const ns of z.nameservers) {
    if (seen.has(ns.name)) fail("invalid_input", `Nameserver ${ns.name} given twice`);
    seen.add(ns.name);
    // An in-zone nameserver cannot be found without glue (RFC 1034 4.2.1).
    if (inZone(ns.name, name) && !ns.ipv4 && !ns.ipv6) {
      fail("invalid_input", `Nameserver ${ns.name} is inside ${name} and needs an address: --ns ${ns.name}=IPv4[,IPv6]`);
    }
  }
  return { name, nameservers: z.nameservers };
}

export function createZone(deps: ZoneDeps, z: NewZone): DomainRow {
  const { name, nameservers } = validateZone(z);
  if (deps.store.domains.byName(name)) fail("conflict", `Domain ${name} already exists`);
  const now = nowSeconds(deps.platform.clock);
  const d = deps.store.domains.create(
    {
      name,
      kind: z.kind ?? "builtin",
      ownerId: z.ownerId ?? null,
      verified: (z.kind ?? "builtin") === "builtin",
      // Serial starts at the creation time (as NSD's "unixtime" scheme) and is bumped by one.
      serial: now >>> 0,
      soaMname: nameservers[0]!.name,
      soaRname: `hostmaster.${name}`,
      nameservers,
    },
    now,
  );
  deps.changes.zoneChanged(d.id);
  return d;
}

/**
 * What the parent zone (the registrar) must publish for a zone to reach this server: its NS
 * records, and for each nameserver inside the zone itself its glue, the A/AAAA without which
 * no resolver could find that nameserver (RFC 1034 4.2.1). Lines in master-file form.
 */
export function parentDelegation(zone: string, nameservers: NameserverSpec[]): { ns: string[]; glue: string[] } {
  const ns = nameservers.map((n) => `${zone}. IN NS ${n.name}.`);
  const glue = nameservers
    .filter((n) => inZone(n.name, zone))
    .flatMap((n) => [...(n.ipv4 ? [`${n.name}. IN A ${n.ipv4}`] : []), ...(n.ipv6 ? [`${n.name}. IN AAAA ${n.ipv6}`] : [])]);
  return { ns, glue };
}
