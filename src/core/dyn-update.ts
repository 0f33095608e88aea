/**
 * What a DNS UPDATE (RFC 2136) means here: one more update dialect over the same rules as
 * dyndns2. The DNS layer (dns/update.ts) checks the TSIG and reads the message; this module
 * decides, in the RFC's order: the zone (§3.1), the prerequisites (§3.2, read from the
 * database), the update section's form (§3.4.1), what the key's token may change (REFUSED for
 * anything else), and then applies every change of the message in ONE transaction or none.
 *
 * What a token's key may change:
 * - A and AAAA at its hostnames: a hostname holds one address per family, so adding an A
 *   replaces the one there (as a dyndns2 update does); deleting the RRset or the one RR clears
 *   it. History lines, the token's limits and DNS at once, as dyndns2.
 * - TXT at `_acme-challenge.<hostname>` (core/acme.ts: DNS-01 values, expiring after an hour).
 * Everything else is REFUSED and changes nothing.
 */
import { ACME_LABEL, cleanupChallenge, presentChallenge } from "./acme";
import { IpkeepError } from "./errors";
import type { UpdateLimits } from "./limits";
import { inZone } from "./names";
import type { Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { ChallengeStore, ChangeSink, DomainRow, HostRow, RecordRow, UpdateCommit, UpdateLogEntry, UpdateTokenRow } from "./ports";
import { parseIP, unusableHostAddress } from "./addresses";
import type { Actor, LocalResources } from "./resources";
import { policyAllows, policyGrants, tokenRefusal } from "./token-policy";
import { type HostAddresses, tokenCovers } from "./update";

export const RCODES = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
} as const;
export type Rcode = keyof typeof RCODES;

/** An RR of the prerequisite or update section, as read from the wire. */
export interface UpdateRR {
  /** Lower case, no trailing dot. */
  name: string;
  /** Mnemonic ("A", "TXT", "ANY", "TYPE65"). */
  type: string;
  /** "zone": the zone's class (IN); "any" (255), "none" (254), "other": anything else. */
  cls: "zone" | "any" | "none" | "other";
  ttl: number;
  rdlength: number;
  /** Presentation form of the RDATA (null when rdlength is 0). */
  content: string | null;
  /** TXT only: the character-strings joined. */
  txt?: string;
}

export interface UpdateMessage {
  zone: string;
  prereqs: UpdateRR[];
  updates: UpdateRR[];
}

/** What this module reads and writes (the SQLite store implements it). */
export interface DynUpdateStore extends ChallengeStore {
  domains: ChallengeStore["domains"] & {
    byName(name: string): DomainRow | null;
    /** The records served at each name (A/AAAA of hostnames and glue, NS at the apex, records). */
    nodeRecords(id: number, names: string[], now: number): { name: string; records: { type: string; ttl: number; content: string }[] }[];
  };
  records: { atName(domainId: number, name: string, now: number): RecordRow[] };
  updates: { commit(commits: UpdateCommit[]): void };
}

export interface DynUpdateDeps {
  store: DynUpdateStore;
  platform: Platform;
  changes: ChangeSink;
  limits: UpdateLimits;
  /** Canonical form of RDATA for comparing values (the DNS layer's wire form). */
  canonical(type: string, content: string): string;
  /**
   * The record rules of core/resources.ts acting as the token's owner (never as an admin),
   * telling DNS through `changes`: for what a policy grants beyond addresses and DNS-01 values.
   */
  records?(actor: Actor, changes: ChangeSink): Pick<LocalResources, "createRecordNow" | "removeRecordNow">;
}

export interface DynUpdateMeta {
  source: string | null;
  /** For the history: "nsupdate (DNS UPDATE)" or the like. */
  userAgent: string;
}

export interface DynUpdateResult {
  rcode: Rcode;
  /** Why, for the log (never for the client: the rcode is all it gets). */
  reason?: string;
}

const META_TYPES = new Set(["ANY", "AXFR", "IXFR", "MAILA", "MAILB", "OPT", "TSIG"]);

interface RRsetState {
  /** Records at each name, read once per message. */
  at(name: string): { type: string; content: string }[];
}

/**
 * Runs one UPDATE message end to end. The token is the one whose key signed the message (the
 * signature is checked before this is called: no work for unsigned or badly signed messages).
 * The caller writes what the dyndns2 path has waiting first (store.flushUpdates), so that
 * prerequisites read it and this message's write follows it; it may run several messages in
 * one outer transaction (each is a savepoint of its own), telling DNS after that commits.
 */
export function performDnsUpdate(deps: DynUpdateDeps, token: UpdateTokenRow, msg: UpdateMessage, meta: DynUpdateMeta): DynUpdateResult {
  const now = nowSeconds(deps.platform.clock);
  // §3.1: a zone we serve (a custom domain only once verified), exactly at its apex.
  const zone = deps.store.domains.byName(msg.zone);
  if (!zone || (zone.kind === "custom" && !zone.verified)) return { rcode: "NOTAUTH", reason: `not authoritative for ${msg.zone}` };

  // The token's policy (expiry, time unused, source networks), as in every dialect.
  const unusable = tokenRefusal(token, meta.source, now);
  if (unusable) return { rcode: "REFUSED", reason: unusable };
  const rate = deps.limits.admitToken(token.id);
  if (!rate.allowed) return { rcode: "REFUSED", reason: "token rate limit" };

  const cache = new Map<string, { type: string; content: string }[]>();
  const state: RRsetState = {
    at(name) {
      let r = cache.get(name);
      if (!r) {
        const node = deps.store.domains.nodeRecords(zone.id, [name], now)[0];
        r = (node?.records ?? []).map((x) => ({ type: x.type, content: x.content }));
        // The SOA is not a stored record; it is always there at the apex.
        if (name === zone.name) r.unshift({ type: "SOA", content: "" });
        cache.set(name, r);
      }
      return r;
    },
  };

  const pre = checkPrerequisites(deps, zone, msg.prereqs, state);
  if (pre) return pre;
  const form = prescan(zone, msg.updates);
  if (form) return form;

  const plan = planChanges(deps, token, zone, msg.updates, state);
  if ("rcode" in plan) return plan;
  return apply(deps, token, zone, plan, now, meta);
}

/** §3.2: every prerequisite, in order; the first that fails decides the rcode. */
function checkPrerequisites(deps: DynUpdateDeps, zone: DomainRow, prereqs: UpdateRR[], state: RRsetState): DynUpdateResult | null {
  const temp = new Map<string, { name: string; type: string; values: Set<string> }>();
  for (const rr of prereqs) {
    if (rr.ttl !== 0) return { rcode: "FORMERR", reason: "prerequisite with a TTL" };
    if (!inZone(rr.name, zone.name)) return { rcode: "NOTZONE", reason: `${rr.name} is outside ${zone.name}` };
    const here = state.at(rr.name);
    if (rr.cls === "any") {
      if (rr.rdlength !== 0) return { rcode: "FORMERR", reason: "prerequisite of class ANY with RDATA" };
      if (rr.type === "ANY") {
        if (here.length === 0) return { rcode: "NXDOMAIN", reason: `${rr.name} is not in use` };
      } else if (!here.some((r) => r.type === rr.type)) {
        return { rcode: "NXRRSET", reason: `no ${rr.type} at ${rr.name}` };
      }
    } else if (rr.cls === "none") {
      if (rr.rdlength !== 0) return { rcode: "FORMERR", reason: "prerequisite of class NONE with RDATA" };
      if (rr.type === "ANY") {
        if (here.length > 0) return { rcode: "YXDOMAIN", reason: `${rr.name} is in use` };
      } else if (here.some((r) => r.type === rr.type)) {
        return { rcode: "YXRRSET", reason: `${rr.type} exists at ${rr.name}` };
      }
    } else if (rr.cls === "zone") {
      if (META_TYPES.has(rr.type) || rr.content === null) return { rcode: "FORMERR", reason: "value-dependent prerequisite without a value" };
      const k = `${rr.name}\u0000${rr.type}`;
      let set = temp.get(k);
      if (!set) temp.set(k, (set = { name: rr.name, type: rr.type, values: new Set() }));
      set.values.add(deps.canonical(rr.type, rr.content));
    } else {
      return { rcode: "FORMERR", reason: "prerequisite of another class" };
    }
  }
  // Value-dependent: each RRset named must exist with exactly these values (§2.4.2).
  for (const { name, type, values } of temp.values()) {
    const have = new Set(
      state
        .at(name)
        .filter((r) => r.type === type)
        .map((r) => deps.canonical(type, r.content)),
    );
    if (have.size !== values.size || [...values].some((v) => !have.has(v))) return { rcode: "NXRRSET", reason: `${type} at ${name} is not the set named` };
  }
  return null;
}

/** §3.4.1: the update section's form, before anything is looked at or changed. */
function prescan(zone: DomainRow, updates: UpdateRR[]): DynUpdateResult | null {
  for (const rr of updates) {
    if (!inZone(rr.name, zone.name)) return { rcode: "NOTZONE", reason: `${rr.name} is outside ${zone.name}` };
    if (rr.cls === "zone") {
      if (META_TYPES.has(rr.type) || rr.content === null) return { rcode: "FORMERR", reason: `cannot add ${rr.type}` };
    } else if (rr.cls === "any") {
      if (rr.ttl !== 0 || rr.rdlength !== 0 || (META_TYPES.has(rr.type) && rr.type !== "ANY")) return { rcode: "FORMERR", reason: "malformed RRset deletion" };
    } else if (rr.cls === "none") {
      if (rr.ttl !== 0 || META_TYPES.has(rr.type)) return { rcode: "FORMERR", reason: "malformed RR deletion" };
    } else {
      return { rcode: "FORMERR", reason: "update of another class" };
    }
  }
  return null;
}

interface Plan {
  /** Hosts whose addresses change, with their addresses after the message. */
  hosts: Map<number, { host: HostRow; before: HostAddresses; after: HostAddresses }>;
  /** Challenge operations in order (values are checked by core/acme.ts). */
  challenges: ({ kind: "add" | "remove"; name: string; value: string } | { kind: "clear"; host: HostRow })[];
  /** What a policy grants beyond those (core/token-policy.ts policyGrants), in order. */
  records: UpdateRR[];
}

const ADDRESS_TYPES = new Set(["A", "AAAA"]);

/**
 * What the message changes, or REFUSED when any of it is something the key may not change.
 * Nothing is written here.
 */
function planChanges(deps: DynUpdateDeps, token: UpdateTokenRow, zone: DomainRow, updates: UpdateRR[], state: RRsetState): Plan | DynUpdateResult {
  const plan: Plan = { hosts: new Map(), challenges: [], records: [] };
  const coveredHost = (name: string): HostRow | null => {
    const h = deps.store.hostByName(name);
    return h && h.domainId === zone.id && tokenCovers(token, h) ? h : null;
  };
  const hostState = (h: HostRow) => {
    let s = plan.hosts.get(h.id);
    if (!s) plan.hosts.set(h.id, (s = { host: h, before: { ipv4: h.ipv4, ipv6: h.ipv6 }, after: { ipv4: h.ipv4, ipv6: h.ipv6 } }));
    return s;
  };
  const refused = (reason: string): DynUpdateResult => ({ rcode: "REFUSED", reason });
  const acmePrefix = `${ACME_LABEL}.`;

  for (const rr of updates) {
    const host = coveredHost(rr.name);
    if (host) {
      const s = hostState(host);
      const granted = (type: string) => !!deps.records && policyGrants(token, rr.name, type);
      if (rr.type === "ANY") {
        // Delete all RRsets of the name: its addresses, and its other records only when the
        // policy grants every one of their types.
        const others = state.at(rr.name).filter((r) => !ADDRESS_TYPES.has(r.type));
        if (others.some((r) => !granted(r.type))) return refused(`${rr.name} holds records this key may not delete`);
        if (!policyAllows(token, rr.name, "A") || !policyAllows(token, rr.name, "AAAA"))
          return refused(`the token's policy does not allow deleting ${rr.name}`);
        s.after = { ipv4: null, ipv6: null };
        if (others.length) plan.records.push(rr);
        continue;
      }
      if (!ADDRESS_TYPES.has(rr.type)) {
        if (granted(rr.type)) {
          plan.records.push(rr);
          continue;
        }
        return refused(`this key may change only A and AAAA at ${rr.name}`);
      }
      if (!policyAllows(token, rr.name, rr.type)) return refused(`the token's policy does not allow changing ${rr.type} at ${rr.name}`);
      const fam = rr.type === "A" ? "ipv4" : "ipv6";
      if (rr.cls === "zone") {
        // The address as dyndns2 would store it; one no host can have is refused alike.
        const ip = parseIP(rr.content!);
        if (!ip || unusableHostAddress(ip.address)) return refused(`${rr.content} is not an address a host can have`);
        s.after = { ...s.after, [fam]: ip.address };
      } else if (rr.cls === "any") s.after = { ...s.after, [fam]: null };
      else if (s.after[fam] !== null && deps.canonical(rr.type, s.after[fam]!) === deps.canonical(rr.type, rr.content ?? ""))
        s.after = { ...s.after, [fam]: null };
      continue;
    }
    if (rr.name.startsWith(acmePrefix)) {
      const owner = coveredHost(rr.name.slice(acmePrefix.length));
      if (owner && (rr.type === "TXT" || (rr.type === "ANY" && rr.cls === "any"))) {
        if (!policyAllows(token, rr.name, "TXT")) return refused(`the token's policy does not allow changing TXT at ${rr.name}`);
        if (rr.cls === "any") {
          // Only the challenge values live there (anything else would not be the key's to delete).
          if (state.at(rr.name).some((r) => r.type !== "TXT")) return refused(`${rr.name} holds records this key may not delete`);
          plan.challenges.push({ kind: "clear", host: owner });
        } else {
          plan.challenges.push({ kind: rr.cls === "zone" ? "add" : "remove", name: rr.name, value: rr.txt ?? "" });
        }
        continue;
      }
    }
    // Beyond that, only what the token's policy grants by naming both the names and the types.
    if (deps.records && rr.type !== "ANY" && policyGrants(token, rr.name, rr.type)) {
      plan.records.push(rr);
      continue;
    }
    if (deps.records && rr.type === "ANY" && policyGrants(token, rr.name, token.policy?.types?.[0] ?? "")) {
      if (state.at(rr.name).some((r) => !policyGrants(token, rr.name, r.type))) return refused(`${rr.name} holds records this key may not delete`);
      plan.records.push(rr);
      continue;
    }
    return refused(`this key may not change ${rr.type} at ${rr.name}`);
  }
  return plan;
}

/** Writes the plan in one transaction; DNS is told after the commit, never before. */
function apply(deps: DynUpdateDeps, token: UpdateTokenRow, zone: DomainRow, plan: Plan, now: number, meta: DynUpdateMeta): DynUpdateResult {
  const changed = [...plan.hosts.values()].filter((h) => h.before.ipv4 !== h.after.ipv4 || h.before.ipv6 !== h.after.ipv6);
  // One change of the token's daily budget per host changed, as a dyndns2 "good" spends.
  for (let i = 0; i < changed.length; i++) {
    if (!deps.limits.spendChange(token.id).allowed) return { rcode: "REFUSED", reason: "daily change limit reached" };
  }
  // Changes of this transaction reach DNS once it has committed (a rollback must not be served).
  const touched = new Set<number>();
  const expiries: number[] = [];
  const sink: ChangeSink = { zoneChanged: (id) => touched.add(id), expiresAt: (at) => expiries.push(at) };
  const challengeDeps = { store: deps.store, platform: deps.platform, changes: sink };
  try {
    deps.store.transaction(() => {
      const logs: UpdateLogEntry[] = [...plan.hosts.values()].map((h) => ({
        at: now,
        hostnameId: h.host.id,
        hostname: h.host.name,
        tokenId: token.id,
        source: meta.source,
        userAgent: meta.userAgent,
        oldIpv4: h.before.ipv4,
        oldIpv6: h.before.ipv6,
        newIpv4: h.after.ipv4,
        newIpv6: h.after.ipv6,
        result: changed.includes(h) ? "good" : "nochg",
      }));
      deps.store.updates.commit([
        { now, changes: changed.map((h) => ({ hostId: h.host.id, domainId: h.host.domainId, next: h.after })), logs, tokenId: token.id },
      ]);
      for (const h of changed) touched.add(h.host.domainId);
      if (plan.records.length) applyRecords(deps, token, zone, plan.records, now, meta, sink);
      for (const c of plan.challenges) {
        if (c.kind === "add") presentChallenge(challengeDeps, token, c.name, c.value, { source: meta.source });
        else if (c.kind === "remove") cleanupChallenge(challengeDeps, token, c.name, c.value, { source: meta.source });
        else if (c.kind === "clear") {
          const ids = deps.store.challenges.forHost(c.host.id, now).map((x) => x.id);
          if (ids.length === 0) continue;
          deps.store.challenges.remove(ids);
          deps.store.domains.bumpSerial(c.host.domainId, now);
          touched.add(c.host.domainId);
        }
      }
    });
  } catch (e) {
    // A value core/acme.ts refuses (not a DNS-01 digest): the whole message is refused.
    if (e instanceof IpkeepError && e.status < 500) return { rcode: "REFUSED", reason: e.message };
    throw e;
  }
  for (const id of touched) deps.changes.zoneChanged(id);
  for (const at of expiries) deps.changes.expiresAt?.(at);
  return { rcode: "NOERROR", reason: `${zone.name}: ${changed.length} address change(s), ${plan.challenges.length} challenge change(s)` };
}

/**
 * Records a policy grants, through the record rules of core/resources.ts as the token's owner
 * (reserved names, placement, quotas, audit): an add that is already there changes nothing
 * (RFC 2136 §3.4.2.2), deletes remove what matches.
 */
function applyRecords(deps: DynUpdateDeps, token: UpdateTokenRow, zone: DomainRow, rrs: UpdateRR[], now: number, meta: DynUpdateMeta, sink: ChangeSink): void {
  const res = deps.records!({ userId: token.userId, admin: false, name: `token:${token.id}`, address: meta.source }, sink);
  const same = (r: RecordRow, type: string, content: string) => r.type === type && deps.canonical(type, r.content) === deps.canonical(type, content);
  for (const rr of rrs) {
    // DNS-01 values are core/acme.ts's (they expire on their own), never a policy's records.
    const isChallenge = (r: RecordRow) => r.hostnameId !== null && r.type === "TXT" && r.name.startsWith(`${ACME_LABEL}.`);
    const here = deps.store.records.atName(zone.id, rr.name, now).filter((r) => !isChallenge(r));
    if (rr.cls === "zone") {
      if (here.some((r) => same(r, rr.type, rr.content!))) continue;
      res.createRecordNow(zone.id, { type: rr.type, name: rr.name, content: rr.content!, ttl: rr.ttl });
    } else {
      const doomed = here.filter((r) => (rr.type === "ANY" ? true : rr.cls === "any" ? r.type === rr.type : same(r, rr.type, rr.content ?? "")));
      for (const r of doomed) res.removeRecordNow(zone.id, r.id);
    }
  }
}
