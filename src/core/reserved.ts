/**
 * Names a zone needs for itself, and names someone already holds: the one rule that decides
 * whether a name may become a hostname, hold a record, or become a nameserver.
 *
 * Reserved (infrastructure) names of a zone:
 * - the apex;
 * - each of its nameserver names inside it (their glue is the zone's own), `ip4` and `ip6`
 *   (the what-is-my-IP names of a built-in zone), and the host of the public URL;
 * - every name below those.
 * Held names: a hostname and every name below it belong to the hostname's owner; a name
 * holding static records belongs to whoever owns those records (in a built-in zone, the
 * operator).
 *
 * Only zone import (apex NS and glue), `domain ns` and secondary enrolment write at a
 * nameserver name, and none of them may put a nameserver over a name somebody holds.
 */
import { fail } from "./errors";
import { canonicalName, inZone } from "./names";
import type { DomainRow, HostRow, RecordRow } from "./ports";

/** What the rule reads. */
export interface NameStore {
  domains: {
    list(): DomainRow[];
    nameservers(id: number): { name: string }[];
  };
  hosts: {
    byName(name: string): HostRow | null;
    byId(id: number): HostRow | null;
    /** Hostnames strictly below name (a few suffice: the rule only asks whether any exist). */
    below(name: string, limit: number): HostRow[];
  };
  records: {
    /** Live records at name or below it in a domain. */
    atOrBelow(domainId: number, name: string, now: number, limit: number): RecordRow[];
  };
  settings: { get(key: string): string | null };
}

export interface Reservation {
  /** The reserved name the asked-for name is at or below. */
  name: string;
  kind: "apex" | "nameserver" | "what-is-my-ip" | "web-address";
  /** What the zone uses it for, in words ("a nameserver of dyn.example.com"). */
  use: string;
}

/** The host of the stored public URL, canonical, or null. */
function publicUrlHost(store: NameStore): string | null {
  const url = store.settings.get("public_url");
  if (!url) return null;
  try {
    return canonicalName(new URL(url).hostname) || null;
  } catch {
    return null;
  }
}

/** Every nameserver name this server uses in any zone (a name can serve several zones). */
function allNameservers(store: NameStore): { name: string; zone: string }[] {
  return store.domains.list().flatMap((d) => store.domains.nameservers(d.id).map((n) => ({ name: n.name, zone: d.name })));
}

/** The reserved names of zone (apex excluded: it is the zone itself). */
export function infrastructureNames(store: NameStore, zone: DomainRow): Reservation[] {
  const out: Reservation[] = [];
  for (const ns of allNameservers(store)) {
    if (inZone(ns.name, zone.name) && ns.name !== zone.name && !out.some((r) => r.name === ns.name)) {
      out.push({ name: ns.name, kind: "nameserver", use: `a nameserver of ${ns.zone}` });
    }
  }
  if (zone.kind === "builtin") {
    out.push({ name: `ip4.${zone.name}`, kind: "what-is-my-ip", use: "the zone's what-is-my-IPv4 name" });
    out.push({ name: `ip6.${zone.name}`, kind: "what-is-my-ip", use: "the zone's what-is-my-IPv6 name" });
  }
  const url = publicUrlHost(store);
  if (url && inZone(url, zone.name) && url !== zone.name && !out.some((r) => r.name === url))
    out.push({ name: url, kind: "web-address", use: "this server's own web address" });
  return out;
}

/** The reserved name that name is at or below, or null. */
export function reservationOf(store: NameStore, zone: DomainRow, name: string): Reservation | null {
  if (name === zone.name) return { name, kind: "apex", use: `the apex of ${zone.name}` };
  return infrastructureNames(store, zone).find((r) => inZone(name, r.name)) ?? null;
}

/** The hostname at name or the closest one above it, within zone. */
export function enclosingHost(store: Pick<NameStore, "hosts">, zone: DomainRow, name: string): HostRow | null {
  for (let n = name; inZone(n, zone.name) && n !== zone.name; n = n.slice(n.indexOf(".") + 1)) {
    const h = store.hosts.byName(n);
    if (h && h.domainId === zone.id) return h;
  }
  return null;
}

/** Who holds a static record: its hostname's owner, else the custom domain's owner, else the operator (null). */
function recordHolder(store: NameStore, zone: DomainRow, r: RecordRow): number | null {
  if (r.hostnameId !== null) return store.hosts.byId(r.hostnameId)?.ownerId ?? null;
  return zone.kind === "custom" ? zone.ownerId : null;
}

/**
 * Refuses (409 conflict) a new hostname at name for ownerId: reserved names, a name inside
 * another owner's hostname, a name above another owner's hostnames or records, or one over
 * the operator's static records.
 */
export function checkHostnameFree(store: NameStore, zone: DomainRow, name: string, ownerId: number, now: number): void {
  const reserved = reservationOf(store, zone, name);
  if (reserved) {
    const at = reserved.name === name ? "" : ` (it is below ${reserved.name})`;
    fail("conflict", `${name} is reserved for ${reserved.use}${at} and cannot be a hostname`);
  }
  const above = enclosingHost(store, zone, name.slice(name.indexOf(".") + 1));
  if (above && above.ownerId !== ownerId) fail("conflict", `${name} is inside another user's hostname ${above.name}`);
  if (store.hosts.below(name, 8).some((h) => h.ownerId !== ownerId)) fail("conflict", `${name} contains another user's hostnames`);
  for (const r of store.records.atOrBelow(zone.id, name, now, 64)) {
    if (r.name === name && (r.type === "A" || r.type === "AAAA" || r.type === "CNAME" || r.type === "NS")) {
      fail("conflict", `${name} already has ${r.type} records; a hostname there would contradict them`);
    }
    if (recordHolder(store, zone, r) !== ownerId) fail("conflict", `${name} holds records of another owner (${r.type} at ${r.name})`);
  }
}

/**
 * Refuses a static record at name of type that would touch what the zone itself serves:
 * anything at or below a nameserver name (its glue comes from the NS set), and an NS or CNAME
 * record at or above any reserved name (a delegation or alias would take it over).
 */
export function checkRecordPlace(store: NameStore, zone: DomainRow, name: string, type: string): void {
  const reserved = reservationOf(store, zone, name);
  if (reserved?.kind === "nameserver") {
    fail("conflict", `${name} is at or below ${reserved.name}, ${reserved.use}; its addresses are the zone's glue (change them with ipkeep domain ns)`);
  }
  if ((type === "NS" || type === "CNAME") && name !== zone.name) {
    const covered = infrastructureNames(store, zone).find((r) => inZone(r.name, name));
    if (covered) fail("conflict", `A ${type} record at ${name} would take over ${covered.name}, ${covered.use}`);
    if (type === "NS" && store.hosts.below(name, 1).length > 0) fail("conflict", `An NS record at ${name} would hide the hostnames below it`);
  }
}

/**
 * Refuses a nameserver name that somebody holds: a hostname at or above it, hostnames below
 * it, or records of a user there, in any zone; or a name inside a user's custom domain.
 */
export function checkNameserverFree(store: NameStore, nsName: string, now: number): void {
  for (const zone of store.domains.list()) {
    if (!inZone(nsName, zone.name)) continue;
    if (zone.kind === "custom") fail("conflict", `${nsName} is inside the custom domain ${zone.name}, which belongs to a user`);
    const holder = enclosingHost(store, zone, nsName);
    if (holder) fail("conflict", `${nsName} is held by the hostname ${holder.name}; remove it before making it a nameserver`);
    if (store.hosts.below(nsName, 1).length > 0) fail("conflict", `${nsName} has hostnames below it`);
    const held = store.records.atOrBelow(zone.id, nsName, now, 64).find((r) => r.hostnameId !== null);
    if (held) fail("conflict", `${nsName} holds a user's ${held.type} record`);
  }
}

/** Names a user's custom domain may not contain: this server's nameservers and web address. */
export function checkCustomDomainFree(store: NameStore, domain: string): void {
  for (const ns of allNameservers(store)) {
    if (inZone(ns.name, domain)) fail("conflict", `${domain} contains ${ns.name}, a nameserver of this server`);
  }
  const url = publicUrlHost(store);
  if (url && inZone(url, domain)) fail("conflict", `${domain} contains ${url}, this server's own web address`);
}
