/**
 * Custom domains: a user brings a domain, points its NS at this server's nameservers, and
 * asks for verification. Whether the parent really delegates is judged here from the NS names
 * a resolver reports; asking the resolver is the outer layers' job (DelegationLookup).
 */
import { fail } from "./errors";
import { canonicalName, inZone, normalizeName } from "./names";
import type { CoreStore, DomainRow } from "./ports";
import { checkCustomDomainFree, type NameStore } from "./reserved";

/** Asks DNS which nameservers the parent lists for a domain. */
export interface DelegationLookup {
  /** NS names (canonical) for domain; an empty list when there is no delegation (NXDOMAIN, NODATA). */
  nameservers(domain: string): Promise<string[]>;
}

export interface DelegationStatus {
  domain: string;
  /** The nameservers the parent must list: this server's. */
  expected: string[];
  /** What the parent lists now. */
  found: string[];
  /** Ours that the parent does not list. */
  missing: string[];
  /** Listed by the parent but not ours. */
  unexpected: string[];
  delegated: boolean;
}

/**
 * Delegated when the parent lists at least one of our nameservers and nothing else: a
 * foreign server beside ours would answer part of the queries with other data.
 */
export function judgeDelegation(domain: string, expected: string[], found: string[]): DelegationStatus {
  const exp = [...new Set(expected.map(canonicalName))];
  const got = [...new Set(found.map(canonicalName))].sort();
  const missing = exp.filter((n) => !got.includes(n));
  const unexpected = got.filter((n) => !exp.includes(n));
  return { domain, expected: exp, found: got, missing, unexpected, delegated: got.length > 0 && unexpected.length === 0 };
}

/**
 * The nameservers this server announces: those of the built-in zones, in order, without
 * duplicates. A custom domain gets the same NS set so the parent can delegate to it.
 */
export function serverNameservers(store: Pick<CoreStore, "domains">): { name: string; ipv4: string | null; ipv6: string | null }[] {
  const seen = new Map<string, { name: string; ipv4: string | null; ipv6: string | null }>();
  for (const d of store.domains.list()) {
    if (d.kind !== "builtin") continue;
    for (const ns of store.domains.nameservers(d.id)) if (!seen.has(ns.name)) seen.set(ns.name, ns);
  }
  return [...seen.values()];
}

/**
 * A name a user may claim as a custom domain: not already a zone, and neither inside nor
 * around another zone (inside would take names from that zone's users; around would let a
 * claim over someone else's domain wait for verification and block them).
 */
export function checkCustomDomainName(store: NameStore, rawName: string, opts: { admin: boolean }): string {
  const name = normalizeName(rawName);
  for (const d of store.domains.list()) {
    if (d.name === name) fail("conflict", `Domain ${name} already exists`);
    if (inZone(name, d.name)) fail("conflict", `${name} is inside the domain ${d.name}; add hostnames or records there instead`);
    if (!opts.admin && inZone(d.name, name)) fail("conflict", `${name} contains the existing domain ${d.name}`);
  }
  checkCustomDomainFree(store, name);
  return name;
}

/** Who may see a domain: everyone sees built-in zones; a custom domain is its owner's. */
export function domainVisible(d: DomainRow, actor: { userId: number | null; admin: boolean }): boolean {
  return actor.admin || d.kind === "builtin" || d.ownerId === actor.userId;
}
