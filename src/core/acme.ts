/**
 * ACME DNS-01 with update tokens: a token may publish TXT values at
 * `_acme-challenge.<hostname>` for each hostname it covers, so a home server can get a
 * (wildcard) certificate from any ACME client that speaks acme-dns or lego's httpreq.
 * The routes translate those dialects; what a value, a name and an expiry mean is decided here.
 */
import { fail } from "./errors";
import { issueToken, ownedHost } from "./hosts";
import { normalizeHostname, normalizeName } from "./names";
import type { Clock, Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { ChallengeStore, ChangeSink, CoreStore, HostRow, UpdateTokenRow, UserRow } from "./ports";
import { base64url } from "./tokens";
import { requirePolicyAllows, requireTokenUsable } from "./token-policy";
import { tokenCovers } from "./update";

export const ACME_LABEL = "_acme-challenge";

/**
 * How long a value stays published. A CA validates within seconds to minutes of the client's
 * "ready"; clients that wait for propagation (certbot, acme.sh) add a few minutes more. An hour
 * covers the slowest of them, and nothing stale lingers for a day.
 */
export const CHALLENGE_LIFETIME = 3600;

/** TTL of the TXT records themselves: short, so a resolver never keeps a set that lacks a new value. */
export const CHALLENGE_TTL = 60;

/**
 * Values kept per hostname. acme-dns keeps two, which breaks a certificate for several names
 * validated at once (home.example and *.home.example need two; a second client renewing at the
 * same time two more). Bounded so a leaked token cannot grow the zone: the oldest value goes.
 */
export const MAX_CHALLENGES_PER_HOST = 10;

/** A DNS-01 value is base64url(SHA-256(key authorization)): 32 bytes, 43 characters, no padding. */
const DNS01_VALUE = /^[A-Za-z0-9_-]{43}$/;

export interface ChallengeDeps {
  store: ChallengeStore;
  platform: Platform;
  changes: ChangeSink;
}

export interface ChallengeMeta {
  source: string | null;
}

/** The TXT value, checked; invalid_input otherwise. */
export function normalizeChallengeValue(value: unknown): string {
  if (typeof value !== "string" || !DNS01_VALUE.test(value)) {
    fail("invalid_input", "TXT value must be an ACME DNS-01 digest: 43 characters of base64url");
  }
  return value;
}

/** RFC 8555 8.4: the TXT value for a key authorization (lego httpreq's RAW mode sends the latter). */
export function dns01Value(platform: Platform, keyAuthorization: string): string {
  const hex = platform.sha256Hex(keyAuthorization);
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return base64url(bytes);
}

/**
 * The hostname a challenge is for, from "_acme-challenge.home.example.com[.]" (what lego and
 * most clients send) or the bare "home.example.com" (acme-dns's `subdomain`). A wildcard's
 * "*." is the same name's challenge (RFC 8555 8.4).
 */
export function challengeHostname(input: unknown): string {
  if (typeof input !== "string") fail("invalid_hostname", "Hostname must be a string");
  let s = input.trim();
  if (s.startsWith("*.")) s = s.slice(2);
  const name = normalizeName(s, { underscore: true });
  const prefix = `${ACME_LABEL}.`;
  return normalizeHostname(name.startsWith(prefix) ? name.slice(prefix.length) : name);
}

export const challengeName = (hostname: string) => `${ACME_LABEL}.${hostname}`;

/**
 * The token's hostname for a challenge name, or unknown_host (also for other users' names);
 * forbidden when the token's policy does not allow it (core/token-policy.ts).
 */
function coveredHost(deps: ChallengeDeps, token: UpdateTokenRow, rawName: unknown, source: string | null): HostRow {
  requireTokenUsable(token, source, nowSeconds(deps.platform.clock));
  const hostname = challengeHostname(rawName);
  const host = deps.store.hostByName(hostname);
  if (!host || !tokenCovers(token, host)) fail("unknown_host", `Hostname ${hostname} not found`);
  requirePolicyAllows(token, challengeName(host.name), "TXT");
  return host;
}

export interface ChallengeOutcome {
  hostname: string;
  fqdn: string;
  value: string;
  /** Values now published at fqdn. */
  values: number;
  expiresAt: number;
}

/**
 * Publishes a value. Values already there stay (up to MAX_CHALLENGES_PER_HOST, oldest out);
 * the same value again only extends its life. Durable and handed to DNS before it returns.
 */
export function presentChallenge(deps: ChallengeDeps, token: UpdateTokenRow, rawName: unknown, rawValue: unknown, meta: ChallengeMeta): ChallengeOutcome {
  const host = coveredHost(deps, token, rawName, meta.source);
  const value = normalizeChallengeValue(rawValue);
  const now = nowSeconds(deps.platform.clock);
  const expiresAt = now + CHALLENGE_LIFETIME;
  const fqdn = challengeName(host.name);
  const { changed, values } = deps.store.transaction(() => {
    const current = deps.store.challenges.forHost(host.id, now);
    const same = current.find((c) => c.value === value);
    if (same) {
      deps.store.challenges.extend(same.id, expiresAt, now);
      return { changed: false, values: current.length };
    }
    const drop = current.slice(0, Math.max(0, current.length + 1 - MAX_CHALLENGES_PER_HOST));
    deps.store.challenges.remove(drop.map((c) => c.id));
    deps.store.challenges.add({ domainId: host.domainId, hostnameId: host.id, name: fqdn, value, ttl: CHALLENGE_TTL, expiresAt }, now);
    deps.store.domains.bumpSerial(host.domainId, now);
    deps.store.logs.audit({ actorId: token.userId, actor: `token:${token.id}`, action: "acme.present", target: fqdn, address: meta.source }, now);
    return { changed: true, values: current.length - drop.length + 1 };
  });
  if (changed) deps.changes.zoneChanged(host.domainId);
  deps.changes.expiresAt?.(expiresAt);
  return { hostname: host.name, fqdn, value, values, expiresAt };
}

/** Withdraws a value (lego's cleanup). Removing a value that is not there is not an error. */
export function cleanupChallenge(
  deps: ChallengeDeps,
  token: UpdateTokenRow,
  rawName: unknown,
  rawValue: unknown,
  meta: ChallengeMeta,
): { hostname: string; fqdn: string; removed: boolean } {
  const host = coveredHost(deps, token, rawName, meta.source);
  const value = normalizeChallengeValue(rawValue);
  const now = nowSeconds(deps.platform.clock);
  const fqdn = challengeName(host.name);
  const removed = deps.store.transaction(() => {
    const ids = deps.store.challenges
      .forHost(host.id, now)
      .filter((c) => c.value === value)
      .map((c) => c.id);
    if (ids.length === 0) return false;
    deps.store.challenges.remove(ids);
    deps.store.domains.bumpSerial(host.domainId, now);
    deps.store.logs.audit({ actorId: token.userId, actor: `token:${token.id}`, action: "acme.cleanup", target: fqdn, address: meta.source }, now);
    return true;
  });
  if (removed) deps.changes.zoneChanged(host.domainId);
  return { hostname: host.name, fqdn, removed };
}

/**
 * Deletes expired values and bumps the serials of the zones that lost one (so secondaries
 * transfer the change too). Returns the zones touched.
 */
export function expireChallenges(deps: ChallengeDeps): number[] {
  const now = nowSeconds(deps.platform.clock);
  const domains = deps.store.transaction(() => {
    const ids = deps.store.challenges.removeExpired(now);
    for (const id of ids) deps.store.domains.bumpSerial(id, now);
    return ids;
  });
  for (const id of domains) deps.changes.zoneChanged(id);
  return domains;
}

export interface AcmeDnsAccount {
  username: string;
  password: string;
  subdomain: string;
  fulldomain: string;
  allowfrom: string[];
}

/**
 * acme-dns's register: a NEW update token covering one hostname, for the hostname's owner or
 * an admin. The answer's shape is acme-dns's, so clients store it as their account unchanged.
 */
export function registerAcmeDnsAccount(deps: { store: CoreStore; platform: Platform }, user: UserRow, rawHostname: unknown): AcmeDnsAccount {
  const host = ownedHost(deps.store, challengeHostname(rawHostname), user.role === "admin" ? null : user.id);
  const issued = issueToken(deps, { userId: host.ownerId, scope: "host", hostIds: [host.id], label: `acme-dns ${host.name}` });
  deps.store.logs.audit(
    { actorId: user.id, actor: `user:${user.id}`, action: "acme.register", target: host.name, detail: `token ${issued.token.id}` },
    nowSeconds(deps.platform.clock),
  );
  return { username: host.name, password: issued.value, subdomain: host.name, fulldomain: challengeName(host.name), allowfrom: [] };
}

/** Timers as the server has them (setTimeout); tests hand in their own. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => {
    const h = setTimeout(fn, ms);
    (h as { unref?: () => void }).unref?.();
    return h;
  },
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

// setTimeout's limit is 2^31-1 ms; waking once a day also survives a clock step.
const MAX_WAIT_MS = 24 * 3600 * 1000;

/**
 * Keeps one timer for the earliest expiry: when it fires, expired values are deleted and their
 * zones reloaded, so DNS stops answering them without a restart.
 */
export class ChallengeExpiry {
  private handle: unknown = null;
  private at: number | null = null;

  constructor(
    private deps: ChallengeDeps,
    private clock: Clock,
    private timers: Timers = realTimers,
    private onError: (e: unknown) => void = () => {},
  ) {}

  /** Re-reads the earliest expiry from the store (at start and after other processes' commits). */
  reschedule(): void {
    this.schedule(this.deps.store.challenges.nextExpiry(nowSeconds(this.clock)));
  }

  /** A value now expires at `at`: wake earlier if that is sooner than the current timer. */
  consider(at: number): void {
    if (this.at === null || at < this.at) this.schedule(at);
  }

  private schedule(at: number | null): void {
    if (this.handle !== null) this.timers.clear(this.handle);
    this.handle = null;
    this.at = at;
    if (at === null) return;
    const wait = Math.min(Math.max(0, at * 1000 - this.clock.now()), MAX_WAIT_MS);
    this.handle = this.timers.set(() => this.fire(), wait);
  }

  /** Expires what is due and sets the next timer. */
  fire(): void {
    this.handle = null;
    this.at = null;
    try {
      expireChallenges(this.deps);
    } catch (e) {
      this.onError(e);
    }
    this.reschedule();
  }

  stop(): void {
    if (this.handle !== null) this.timers.clear(this.handle);
    this.handle = null;
    this.at = null;
  }
}
