/**
 * This server's own certificate (issue 13): when ACME is on, which challenge proves the name,
 * when a certificate is renewed, how failures back off, and the DNS-01 TXT values it
 * publishes in its own zone for the name of `--url`. The ACME conversation itself (the
 * library, HTTP, files) is the outer layer's (src/tls/acme.ts); the rules are here.
 */
import { CHALLENGE_LIFETIME, CHALLENGE_TTL, challengeName } from "./acme";
import { fail } from "./errors";
import { canonicalName, inZone } from "./names";
import type { ChangeSink, DomainRow } from "./ports";
import type { Clock } from "./platform";
import { nowSeconds } from "./platform";
import { serialGreater } from "./zone-contents";

/** Let's Encrypt's production directory: the default of --acme-directory. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/** How long one ACME request may take before it counts as failed. */
export const ACME_CALL_TIMEOUT_MS = 10_000;

/** Waits after a failed attempt (seconds): quick at first, then no more than hourly (CAs limit failures). */
export const RETRY_DELAYS = [10, 30, 60, 300, 900, 3600] as const;

export function retryDelay(failures: number): number {
  return RETRY_DELAYS[Math.min(Math.max(failures, 1), RETRY_DELAYS.length) - 1]!;
}

/** A certificate is renewed when a third of its life is left (epoch ms in, epoch ms out). */
export function renewAt(notBefore: number, notAfter: number): number {
  return notAfter - Math.max(0, notAfter - notBefore) / 3;
}

/** doctor warns when the certificate expires sooner than this. */
export const EXPIRY_WARNING_DAYS = 14;

export interface AcmeSettings {
  https: string[];
  tlsCert: string | null;
  tlsKey: string | null;
  /** --acme: true (yes), false (no), null (not given). */
  acme: boolean | null;
  url: string | null;
}

/**
 * Whether ACME gets this server's certificate, and for which name: on with --acme, or when
 * --https listeners are given without --tls-cert; --acme no turns it off. Mistakes are
 * invalid_input (exit 2) in words.
 */
export function acmeName(s: AcmeSettings): string | null {
  if (s.acme === false) {
    if (s.https.length && (!s.tlsCert || !s.tlsKey)) fail("invalid_input", "--https with --acme no needs --tls-cert FILE and --tls-key FILE");
    return null;
  }
  if (s.acme === true && (s.tlsCert || s.tlsKey))
    fail("invalid_input", "--acme gets the certificate itself: leave out --tls-cert and --tls-key (or use --acme no)");
  if (s.acme === null && (s.tlsCert || s.tlsKey)) {
    if (s.https.length && (!s.tlsCert || !s.tlsKey))
      fail("invalid_input", "--https needs both --tls-cert FILE and --tls-key FILE (or neither, for a certificate by ACME)");
    return null;
  }
  if (s.acme === null && !s.https.length) return null;
  if (!s.https.length) fail("invalid_input", "--acme needs an HTTPS listener: --https 0.0.0.0:443");
  let url: URL | null = null;
  try {
    url = s.url ? new URL(s.url) : null;
  } catch {
    url = null;
  }
  if (url?.protocol !== "https:") {
    fail("invalid_input", "--https without --tls-cert gets a certificate by ACME for the name of --url: give --url https://NAME (or --tls-cert and --tls-key)");
  }
  const name = canonicalName(url.hostname);
  if (!name.includes(".") || /^[\d.]+$/.test(name) || name.startsWith("[")) {
    fail("invalid_input", `--url ${s.url}: an ACME certificate needs a DNS name, not ${name}`);
  }
  return name;
}

/** The served zone the name is in (or the apex of): the most specific one. */
export function zoneOfName(zones: DomainRow[], name: string): DomainRow | null {
  let best: DomainRow | null = null;
  for (const z of zones) if (inZone(name, z.name) && (!best || z.name.length > best.name.length)) best = z;
  return best;
}

/**
 * DNS-01 when the name is in a served zone; otherwise HTTP-01, which needs a plain HTTP
 * listener on port 80 (the CA connects there).
 */
export function challengeFor(zone: DomainRow | null, name: string, httpPorts: number[]): "dns-01" | "http-01" {
  if (zone) return "dns-01";
  if (httpPorts.includes(80)) return "http-01";
  fail(
    "invalid_input",
    `${name} is not in a zone this server serves, so its certificate needs HTTP-01, and that needs --http on port 80 (the CA connects there): add --http 0.0.0.0:80, or use a --url name inside a served zone`,
  );
}

/** What publishing needs from the store: a TXT row with an expiry and no hostname. */
export interface OwnChallengeStore {
  transaction<T>(fn: () => T): T;
  challenges: {
    addOwn(c: { domainId: number; name: string; value: string; ttl: number; expiresAt: number }, now: number): void;
    /** Removes this server's own values (rows without a hostname) at name with value; returns how many. */
    removeOwn(domainId: number, name: string, value: string): number;
  };
  domains: { bumpSerial(id: number, now: number): number };
}

export interface OwnChallengeDeps {
  store: OwnChallengeStore;
  clock: Clock;
  changes: ChangeSink;
}

/**
 * Publishes a DNS-01 value at `_acme-challenge.NAME` in the zone: durable, handed to DNS at
 * once, gone by itself after an hour if never withdrawn. Returns the zone's new serial, which
 * the secondaries must reach before the CA is told to look.
 */
export function presentOwnChallenge(deps: OwnChallengeDeps, zone: DomainRow, name: string, value: string): { fqdn: string; serial: number } {
  const now = nowSeconds(deps.clock);
  const fqdn = challengeName(name);
  const expiresAt = now + CHALLENGE_LIFETIME;
  const serial = deps.store.transaction(() => {
    deps.store.challenges.addOwn({ domainId: zone.id, name: fqdn, value, ttl: CHALLENGE_TTL, expiresAt }, now);
    return deps.store.domains.bumpSerial(zone.id, now);
  });
  deps.changes.zoneChanged(zone.id);
  deps.changes.expiresAt?.(expiresAt);
  return { fqdn, serial };
}

export function cleanupOwnChallenge(deps: OwnChallengeDeps, zone: DomainRow, name: string, value: string): void {
  const now = nowSeconds(deps.clock);
  const removed = deps.store.transaction(() => {
    const n = deps.store.challenges.removeOwn(zone.id, challengeName(name), value);
    if (n) deps.store.domains.bumpSerial(zone.id, now);
    return n;
  });
  if (removed) deps.changes.zoneChanged(zone.id);
}

/** A nameserver's serial a has reached b (RFC 1982, core's one comparison). */
export function serialReached(a: number, b: number): boolean {
  return a === b || serialGreater(a, b);
}

/** ARI (RFC 9773): the CA's suggested renewal window. */
export interface RenewalWindow {
  /** Epoch ms. */
  start: number;
  end: number;
}

/** The suggested window from a renewalInfo answer, or null when it does not make sense. */
export function parseRenewalInfo(body: unknown): RenewalWindow | null {
  const w = (body as { suggestedWindow?: { start?: unknown; end?: unknown } } | null)?.suggestedWindow;
  if (!w || typeof w.start !== "string" || typeof w.end !== "string") return null;
  const start = Date.parse(w.start);
  const end = Date.parse(w.end);
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? { start, end } : null;
}

/** RFC 9773 4.2: a random time in the window; now when the window has already passed. */
export function ariRenewAt(w: RenewalWindow, now: number, random: number = Math.random()): number {
  if (w.end <= now) return now;
  return Math.max(now, Math.floor(w.start + random * (w.end - w.start)));
}
