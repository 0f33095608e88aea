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
  /** The DS records the parent has for domain ("TAG ALG DIGESTTYPE HEXDIGEST", digest in upper case); none: []. */
  ds?(domain: string): Promise<string[]>;
}

/** What the parent's DS says about a zone's signing. */
export interface DnssecStatus {
  /**
   * secure: the parent has our key's DS; insecure: signed, but the parent has no DS (resolvers
   * do not validate it); bogus: the parent has a DS that is not our key's, or any DS while we
   * serve the zone unsigned (validating resolvers fail the zone: fix it now); unsigned: off, no DS.
   */
  state: "secure" | "insecure" | "bogus" | "unsigned";
  signed: boolean;
  /** Our key's DS ("TAG ALG 2 HEX"), null when the zone is not signed. */
  expected: string | null;
  /** What the parent has. */
  found: string[];
  /** What to do, in plain words (null when nothing). */
  advice: string | null;
}

/** The one rule for the DS a parent should have: ours, and only while we sign. */
export function judgeDnssec(zone: string, expected: string | null, found: string[], withdrawing = false): DnssecStatus {
  const norm = (d: string) => d.trim().split(/\s+/).join(" ").toUpperCase();
  const got = found.map(norm);
  const want = expected ? norm(expected) : null;
  const at = "at the registrar (or in the parent zone)";
  if (want === null) {
    if (got.length === 0) return { state: "unsigned", signed: false, expected: null, found: got, advice: null };
    return {
      state: "bogus",
      signed: false,
      expected: null,
      found: got,
      advice: `${zone} is served unsigned but the parent has a DS: remove it ${at} now, or turn signing on again (ipkeep domain dnssec ${zone} on)`,
    };
  }
  const finish = `ipkeep domain dnssec ${zone} off --now`;
  if (withdrawing) {
    // Being withdrawn: the CDS says "delete"; once the DS is gone, unsigned is safe.
    if (got.length === 0)
      return {
        state: "insecure",
        signed: true,
        expected: want,
        found: got,
        advice: `The parent has no DS any more: finish turning signing off with ${finish}`,
      };
    return {
      state: got.includes(want) ? "secure" : "bogus",
      signed: true,
      expected: want,
      found: got,
      advice: `Signing is being turned off: remove the DS ${at} (a parent that reads CDS does it by itself), then ${finish}`,
    };
  }
  if (got.includes(want)) return { state: "secure", signed: true, expected: want, found: got, advice: null };
  if (got.length === 0)
    return { state: "insecure", signed: true, expected: want, found: got, advice: `Add this DS ${at} to make ${zone} secure: ${zone}. IN DS ${want}` };
  return {
    state: "bogus",
    signed: true,
    expected: want,
    found: got,
    advice: `The parent's DS is not this zone's key: replace it ${at} with ${zone}. IN DS ${want}`,
  };
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
