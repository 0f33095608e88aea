/**
 * Dynamic hostnames and their update tokens.
 */
import { fail } from "./errors";
import { findZone, mixedScriptLabel, normalizeHostname } from "./names";
import type { Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { ChangeSink, CoreStore, HostRow, TokenScope, UpdateTokenRow } from "./ports";
import { checkHostnameFree } from "./reserved";
import { mintToken } from "./tokens";

/** 60 s: clients check their update by DNS right away; resolvers must not hold old addresses long. */
export const DEFAULT_HOST_TTL = 60;
export const MIN_TTL = 30;
export const MAX_TTL = 86400;

export interface HostDeps {
  store: CoreStore;
  platform: Platform;
  changes: ChangeSink;
}

export interface IssuedToken {
  token: UpdateTokenRow;
  /** The secret, shown once. */
  value: string;
}

export function createHost(deps: HostDeps, input: { name: string; ownerId: number; ttl?: number }): { host: HostRow } & IssuedToken {
  const name = normalizeHostname(input.name);
  const ttl = input.ttl ?? DEFAULT_HOST_TTL;
  if (!Number.isInteger(ttl) || ttl < MIN_TTL || ttl > MAX_TTL) fail("invalid_input", `TTL must be between ${MIN_TTL} and ${MAX_TTL}`);
  const zones = deps.store.domains.list();
  const zoneName = findZone(
    name,
    zones.map((z) => z.name),
  );
  if (!zoneName) fail("outside_zone", `${name} is not inside a served domain (${zones.map((z) => z.name).join(", ") || "none yet"})`);
  if (zoneName === name) fail("invalid_hostname", "A hostname cannot be the domain apex");
  const zone = zones.find((z) => z.name === zoneName)!;
  if (zone.kind === "custom" && zone.ownerId !== input.ownerId) fail("unknown_zone", `Domain ${zoneName} not found`);
  // In a shared zone a look-alike of another user's name (Cyrillic "а" in "аhost1") is refused.
  const mixed = zone.kind === "builtin" ? mixedScriptLabel(name) : null;
  if (mixed) fail("invalid_hostname", `Invalid hostname: label "${mixed}" mixes letters of different scripts`);
  if (deps.store.hosts.byName(name)) fail("conflict", `Hostname ${name} already exists`);
  const now = nowSeconds(deps.platform.clock);
  // The one rule for every route that makes a hostname (API, CLI, agent activation).
  checkHostnameFree(deps.store, zone, name, input.ownerId, now);
  const result = deps.store.transaction(() => {
    const host = deps.store.hosts.create({ name, domainId: zone.id, ownerId: input.ownerId, ttl }, now);
    deps.store.domains.bumpSerial(zone.id, now);
    const issued = issueToken(deps, { userId: input.ownerId, scope: "host", hostIds: [host.id], label: name }, now);
    return { host, ...issued };
  });
  deps.changes.zoneChanged(zone.id);
  return result;
}

export function removeHost(deps: HostDeps, host: HostRow): void {
  const now = nowSeconds(deps.platform.clock);
  deps.store.transaction(() => {
    deps.store.hosts.remove(host.id);
    deps.store.tokens.removeOrphans();
    deps.store.domains.bumpSerial(host.domainId, now);
  });
  deps.changes.zoneChanged(host.domainId);
}

/** A hostname of this owner, or unknown_host (also for another owner's name). */
export function ownedHost(store: CoreStore, rawName: string, ownerId: number | null): HostRow {
  const name = normalizeHostname(rawName);
  const host = store.hosts.byName(name);
  if (!host || (ownerId !== null && host.ownerId !== ownerId)) fail("unknown_host", `Hostname ${name} not found`);
  return host;
}

export function issueToken(
  deps: Pick<HostDeps, "store" | "platform">,
  t: { userId: number; scope: TokenScope; hostIds: number[]; label: string },
  now = nowSeconds(deps.platform.clock),
): IssuedToken {
  if (t.scope !== "all" && t.hostIds.length === 0) fail("invalid_input", "A token must cover at least one hostname");
  if (t.scope === "host" && t.hostIds.length !== 1) fail("invalid_input", "A single-host token covers exactly one hostname");
  for (const id of t.hostIds) {
    const h = deps.store.hosts.byId(id);
    if (!h || h.ownerId !== t.userId) fail("unknown_host");
  }
  const minted = mintToken(deps.platform, "update");
  const token = deps.store.tokens.create(
    { userId: t.userId, label: t.label.slice(0, 100), hash: minted.hash, hint: minted.hint, scope: t.scope, hostIds: [...new Set(t.hostIds)] },
    now,
  );
  return { token, value: minted.value };
}

/** New secret for an existing token; the old one stops working in the same commit. */
export function regenerateToken(deps: Pick<HostDeps, "store" | "platform">, token: UpdateTokenRow): IssuedToken {
  const minted = mintToken(deps.platform, "update");
  if (!deps.store.tokens.rehash(token.id, minted.hash, minted.hint)) fail("not_found", "Token not found");
  return { token: deps.store.tokens.byId(token.id)!, value: minted.value };
}
