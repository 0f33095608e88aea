/**
 * What a dynamic DNS update means. Every update endpoint (dyndns2, ipdock JSON, agents)
 * translates its request into an UpdateIntent and calls updateHost; the words "good" and
 * "nochg" are decided here and nowhere else.
 */
import { fail, IpkeepError } from "./errors";
import { normalizeHostname } from "./names";
import type { Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { ChangeSink, HostRow, UpdateStore, UpdateTokenRow } from "./ports";
import { hashToken, looksLikeToken } from "./tokens";

/** Per address family, independently: leave it, set it, or remove the record. */
export type FamilyChange = { kind: "keep" } | { kind: "set"; address: string } | { kind: "delete" };

export interface UpdateIntent {
  v4: FamilyChange;
  v6: FamilyChange;
}

export interface HostAddresses {
  ipv4: string | null;
  ipv6: string | null;
}

export type UpdateResult = "good" | "nochg";

export interface UpdateDecision {
  result: UpdateResult;
  next: HostAddresses;
}

const KEEP: FamilyChange = { kind: "keep" };
export const keepBoth: UpdateIntent = { v4: KEEP, v6: KEEP };

function applyFamily(current: string | null, change: FamilyChange): string | null {
  switch (change.kind) {
    case "keep":
      return current;
    case "set":
      return change.address;
    case "delete":
      return null;
  }
}

/** Pure: the addresses after the intent, and whether anything changed. */
export function decideUpdate(current: HostAddresses, intent: UpdateIntent): UpdateDecision {
  const next = { ipv4: applyFamily(current.ipv4, intent.v4), ipv6: applyFamily(current.ipv6, intent.v6) };
  const changed = next.ipv4 !== current.ipv4 || next.ipv6 !== current.ipv6;
  return { result: changed ? "good" : "nochg", next };
}

export interface UpdateDeps {
  store: UpdateStore;
  platform: Platform;
  changes: ChangeSink;
}

export interface UpdateRequestMeta {
  source: string | null;
  userAgent: string | null;
}

export interface UpdateOutcome {
  hostname: string;
  result: UpdateResult;
  previous: HostAddresses;
  current: HostAddresses;
}

/** Looks a presented token up; unauthorized when it is unknown or revoked. */
export function authenticateUpdateToken(deps: Pick<UpdateDeps, "store" | "platform">, value: string): UpdateTokenRow {
  if (!looksLikeToken(value, "update")) fail("unauthorized");
  const token = deps.store.tokenByHash(hashToken(deps.platform, value));
  if (!token) fail("unauthorized");
  return token;
}

export function tokenCovers(token: UpdateTokenRow, host: Pick<HostRow, "id" | "ownerId">): boolean {
  if (host.ownerId !== token.userId) return false;
  return token.scope === "all" || token.hostIds.includes(host.id);
}

/**
 * Applies an intent to one hostname on behalf of a token. A host the token does not cover
 * is reported exactly like a host that does not exist (no probing of other users' names).
 * A "good" result has been committed durably and handed to DNS before this returns.
 */
export function updateHost(
  deps: UpdateDeps,
  token: UpdateTokenRow,
  rawHostname: string,
  intent: UpdateIntent,
  meta: UpdateRequestMeta,
): UpdateOutcome {
  const now = nowSeconds(deps.platform.clock);
  let hostname = rawHostname;
  let host: HostRow | null = null;
  const log = (result: string, previous: HostAddresses | null, next: HostAddresses | null) =>
    deps.store.logUpdate({
      at: now,
      hostnameId: host?.id ?? null,
      hostname,
      tokenId: token.id,
      source: meta.source,
      userAgent: meta.userAgent,
      oldIpv4: previous?.ipv4 ?? null,
      oldIpv6: previous?.ipv6 ?? null,
      newIpv4: next?.ipv4 ?? null,
      newIpv6: next?.ipv6 ?? null,
      result,
    });
  try {
    hostname = normalizeHostname(rawHostname);
    const found = deps.store.hostByName(hostname);
    if (!found || !tokenCovers(token, found)) fail("unknown_host");
    host = found;
  } catch (e) {
    if (e instanceof IpkeepError) log(e.dyndns, null, null);
    throw e;
  }
  const previous = { ipv4: host.ipv4, ipv6: host.ipv6 };
  const decision = decideUpdate(previous, intent);
  if (decision.result === "good") {
    deps.store.setHostAddresses(host.id, decision.next, now);
    deps.changes.zoneChanged(host.domainId);
  }
  deps.store.touchToken(token.id, now);
  log(decision.result, previous, decision.next);
  return { hostname, result: decision.result, previous, current: decision.next };
}
