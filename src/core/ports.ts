/**
 * The storage interfaces core works against. src/store implements them on SQLite; core
 * never sees a driver. Rows are plain data in camelCase; times are epoch seconds.
 */

import type { NameStore } from "./reserved";
import type { TokenPolicy } from "./token-policy";

export type Role = "admin" | "user";

export interface UserRow {
  id: number;
  email: string;
  role: Role;
  disabled: boolean;
  createdAt: number;
}

export interface DomainRow {
  id: number;
  name: string;
  kind: "builtin" | "custom";
  ownerId: number | null;
  verified: boolean;
  serial: number;
}

export interface HostRow {
  id: number;
  name: string;
  domainId: number;
  ownerId: number;
  ipv4: string | null;
  ipv6: string | null;
  /** Stored IPv6 interface id ("::1234:5678:9abc:def0") for prefix updates. */
  ipv6Ifid: string | null;
  ttl: number;
  /** Free text for the owner; optional so rows built by hand in tests need not carry it. */
  description?: string;
  createdAt: number;
  updatedAt: number;
}

/** A static record; content is the RDATA in presentation format (MX: "10 mail.example.com"). */
export interface RecordRow {
  id: number;
  domainId: number;
  name: string;
  type: string;
  ttl: number;
  content: string;
  /** The hostname the record lives under (deleted with it), or null. */
  hostnameId: number | null;
}

export type TokenScope = "host" | "set" | "all";

export interface UpdateTokenRow {
  id: number;
  userId: number;
  label: string;
  hint: string;
  scope: TokenScope;
  /** The hostnames a "host" or "set" token covers (empty for "all"). */
  hostIds: number[];
  createdAt: number;
  lastUsedAt: number | null;
  /** The token's DNS UPDATE key (core/tsig-keys.ts), without its secret; absent: none. */
  tsig?: { name: string; algorithm: string } | null;
  /** What narrows it further (core/token-policy.ts); absent or null: nothing. */
  policy?: TokenPolicy | null;
}

export interface UpdateLogEntry {
  at: number;
  hostnameId: number | null;
  hostname: string;
  tokenId: number | null;
  source: string | null;
  userAgent: string | null;
  oldIpv4: string | null;
  oldIpv6: string | null;
  newIpv4: string | null;
  newIpv6: string | null;
  result: string;
}

/** What the update rule needs from storage. */
export interface UpdateStore {
  tokenByHash(hash: string): UpdateTokenRow | null;
  hostByName(name: string): HostRow | null;
  /**
   * One update request in ONE durable transaction (one fsync): each changed host's addresses
   * with its zone's serial bumped, every log line, and the token's last use.
   */
  /**
   * Durable before it resolves when it changes addresses (and then answered after); a commit
   * of history lines alone may be written a little later, with the next one.
   */
  commitUpdate(u: UpdateCommit): Promise<void>;
  /** Writes at once what commitUpdate has waiting. */
  flushUpdates(): void;
  /** The hostname a token updates when the request names none: its only one, else null. */
  onlyHostnameOf(token: UpdateTokenRow): string | null;
  /** Deletes update log entries older than `before` and beyond the per-host count; returns how many. */
  pruneUpdateLog(p: { before: number; maxPerHost: number; maxUnattached: number }): number;
}

export interface UpdateCommit {
  now: number;
  changes: { hostId: number; domainId: number; next: { ipv4: string | null; ipv6: string | null } }[];
  logs: UpdateLogEntry[];
  /** Marked as used (null: none authenticated). */
  tokenId: number | null;
}

/** Told about every committed change that DNS must serve. */
export interface ChangeSink {
  zoneChanged(domainId: number): void;
  /** A record now expires at this time (epoch seconds): the server schedules a reload then. */
  expiresAt?(at: number): void;
}

/** A TXT value at _acme-challenge.<hostname>, set with an update token for DNS-01. */
export interface ChallengeRow {
  id: number;
  domainId: number;
  hostnameId: number;
  name: string;
  value: string;
  expiresAt: number;
  createdAt: number;
}

/** What the ACME DNS-01 rule needs from storage (records rows with hostname_id and expires_at). */
export interface ChallengeStore {
  transaction<T>(fn: () => T): T;
  hostByName(name: string): HostRow | null;
  challenges: {
    /** Unexpired values of one hostname, oldest first. */
    forHost(hostnameId: number, now: number): ChallengeRow[];
    add(c: { domainId: number; hostnameId: number; name: string; value: string; ttl: number; expiresAt: number }, now: number): void;
    extend(id: number, expiresAt: number, now: number): void;
    remove(ids: number[]): void;
    /** Deletes every expired value; returns the domains that lost one. */
    removeExpired(now: number): number[];
    /** The earliest expiry still ahead (epoch seconds), or null. */
    nextExpiry(now: number): number | null;
  };
  domains: { bumpSerial(id: number, now: number): number };
  logs: {
    audit(e: { actorId: number | null; actor: string; action: string; target?: string; address?: string | null; detail?: string }, now: number): void;
  };
}

/** Everything DNS needs to serve one zone, as stored. */
export interface ZoneData {
  id: number;
  name: string;
  serial: number;
  soa: {
    mname: string;
    rname: string;
    refresh: number;
    retry: number;
    expire: number;
    minimum: number;
    ttl: number;
  };
  nsTtl: number;
  nameservers: { name: string; ipv4: string | null; ipv6: string | null }[];
  hosts: { name: string; ipv4: string | null; ipv6: string | null; ttl: number }[];
  /** Static records, RDATA in presentation format. */
  records: { name: string; type: string; ttl: number; content: string }[];
}

/** A zone's whole contents as a master file gives them (names canonical keys). */
export interface ZoneContents {
  name: string;
  soa: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number; ttl: number };
  nameservers: string[];
  nsTtl: number;
  records: { name: string; type: string; ttl: number; content: string }[];
}

/** SOA values an operator may set; absent ones stay. */
export interface ZoneSoaFields {
  refresh?: number;
  retry?: number;
  expire?: number;
  minimum?: number;
  ttl?: number;
}

/** What zone import and SOA settings need from storage. */
export interface ZoneContentsStore extends NameStore {
  transaction<T>(fn: () => T): T;
  domains: NameStore["domains"] & { byName(name: string): DomainRow | null };
  hosts: NameStore["hosts"] & { setAddresses(id: number, a: { ipv4: string | null; ipv6: string | null }, now: number): void };
  records: NameStore["records"] & { list(domainId: number, now?: number): RecordRow[] };
  zoneContents: {
    replace(z: ZoneContents, serial: number, now: number): number;
    setSoa(id: number, f: ZoneSoaFields, now: number): number;
  };
}

/** The table groups core services use; src/store's Store satisfies this structurally. */
export interface CoreStore extends UpdateStore {
  transaction<T>(fn: () => T): T;
  users: {
    create(u: { email: string; role: Role; passwordHash: string | null }, now: number): UserRow;
    byId(id: number): UserRow | null;
    byEmail(email: string): UserRow | null;
    firstAdmin(): UserRow | null;
    list(): UserRow[];
    quotas(id: number): { hostnames: number | null; domains: number | null; records: number | null };
  };
  domains: {
    create(
      d: {
        name: string;
        kind: "builtin" | "custom";
        ownerId: number | null;
        verified: boolean;
        serial: number;
        soaMname: string;
        soaRname: string;
        nameservers: { name: string; ipv4: string | null; ipv6: string | null }[];
      },
      now: number,
    ): DomainRow;
    byId(id: number): DomainRow | null;
    byName(name: string): DomainRow | null;
    list(): DomainRow[];
    remove(id: number): boolean;
    bumpSerial(id: number, now: number): number;
    nameservers(id: number): { name: string; ipv4: string | null; ipv6: string | null }[];
    setVerified(id: number, verified: boolean, now: number): void;
    /** Replaces the NS set (in order, glue included); the SOA MNAME follows when it left the set. */
    setNameservers(id: number, nameservers: { name: string; ipv4: string | null; ipv6: string | null }[], now: number): void;
    countCustom(ownerId: number): number;
  };
  hosts: {
    create(h: { name: string; domainId: number; ownerId: number; ttl: number }, now: number): HostRow;
    byId(id: number): HostRow | null;
    byName(name: string): HostRow | null;
    list(ownerId?: number): HostRow[];
    below(name: string, limit: number): HostRow[];
    setAddresses(id: number, a: { ipv4: string | null; ipv6: string | null }, now: number): void;
    update(id: number, p: { ttl?: number; description?: string; ipv6Ifid?: string | null }, now: number): void;
    count(ownerId: number): number;
    remove(id: number): boolean;
  };
  tokens: {
    create(t: { userId: number; label: string; hash: string; hint: string; scope: TokenScope; hostIds: number[] }, now: number): UpdateTokenRow;
    byId(id: number): UpdateTokenRow | null;
    list(userId?: number): UpdateTokenRow[];
    rehash(id: number, hash: string, hint: string): boolean;
    /** Sets (sealed) or removes the token's DNS UPDATE key. */
    setTsig(id: number, key: { name: string; algorithm: string; secret: string } | null): void;
    setPolicy(id: number, policy: TokenPolicy | null): void;
    revoke(id: number, now: number): boolean;
    removeOrphans(): void;
  };
  records: {
    create(r: { domainId: number; name: string; type: string; ttl: number; content: string; hostnameId?: number | null }, now: number): number;
    byId(id: number): RecordRow | null;
    list(domainId: number, now?: number): RecordRow[];
    atName(domainId: number, name: string, now: number): RecordRow[];
    atOrBelow(domainId: number, name: string, now: number, limit: number): RecordRow[];
    update(id: number, r: { name: string; ttl: number; content: string; hostnameId: number | null }, now: number): void;
    remove(id: number): boolean;
    countForUser(userId: number): number;
  };
  settings: {
    get(key: string): string | null;
    set(key: string, value: string): void;
  };
  oneTime: {
    create(
      t: { purpose: "setup" | "invite" | "reset" | "confirm" | "login2fa"; hash: string; userId?: number | null; email?: string | null; expiresAt: number },
      now: number,
    ): void;
    expireAll(purpose: "setup" | "invite" | "reset" | "confirm" | "login2fa", now: number): void;
  };
  logs: {
    audit(e: { actorId: number | null; actor: string; action: string; target?: string; address?: string | null; detail?: string }, now: number): void;
  };
  /** The update log: written by commitUpdate, read here (newest first). */
  updates: {
    history(hostnameId: number, limit: number): UpdateLogEntry[];
    lastSeen(hostnameId: number): number | null;
  };
}

// ---- accounts (core/auth.ts) ----

/** Per-user limits; null means "the default from settings". */
export interface Quota {
  hostnames: number | null;
  domains: number | null;
  records: number | null;
}

export interface AccountRow extends UserRow {
  emailConfirmed: boolean;
  totpEnabled: boolean;
  quota: Quota;
  updatedAt: number;
}

export interface Credentials {
  passwordHash: string | null;
  totpSecret: string | null;
  totpEnabled: number | boolean;
  totpLastStep: number | null;
}

export interface SessionRow {
  id: string;
  userId: number;
  createdAt: number;
  expiresAt: number;
}

export interface ApiKeyRow {
  id: number;
  userId: number;
  label: string;
  hint: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

export type OneTimePurpose = "setup" | "invite" | "reset" | "confirm" | "login2fa";

/** What the account rules need from storage. */
export interface AccountStore {
  transaction<T>(fn: () => T): T;
  users: {
    create(u: { email: string; role: Role; passwordHash: string | null }, now: number): UserRow;
    byId(id: number): UserRow | null;
    byEmail(email: string): UserRow | null;
    firstAdmin(): UserRow | null;
  };
  accounts: {
    byId(id: number): AccountRow | null;
    list(): AccountRow[];
    credentials(id: number): Credentials | null;
    setPassword(id: number, hash: string, now: number): void;
    setEmail(id: number, email: string, now: number): void;
    setEmailConfirmed(id: number, now: number): void;
    setDisabled(id: number, disabled: boolean, now: number): void;
    setRole(id: number, role: Role, now: number): void;
    setQuota(id: number, q: Partial<Quota>, now: number): void;
    setTotp(id: number, secret: string | null, enabled: boolean, now: number): void;
    useTotpStep(id: number, step: number): boolean;
  };
  sessions: {
    create(s: { id: string; userId: number; expiresAt: number; address: string | null; userAgent: string | null }, now: number): void;
    live(id: string, now: number): SessionRow | null;
    revoke(id: string, now: number): boolean;
    revokeAllFor(userId: number, now: number, except?: string | null): number;
    prune(now: number): void;
  };
  apiKeys: {
    create(k: { userId: number; label: string; hash: string; hint: string; expiresAt: number | null }, now: number): ApiKeyRow;
    byId(id: number): ApiKeyRow | null;
    liveByHash(hash: string, now: number): ApiKeyRow | null;
    list(userId: number): ApiKeyRow[];
    revoke(id: number, now: number): boolean;
    touch(id: number, now: number): void;
  };
  recoveryCodes: {
    replace(userId: number, hashes: string[]): void;
    consume(userId: number, hash: string, now: number): boolean;
    clear(userId: number): void;
  };
  oneTime: {
    create(t: { purpose: OneTimePurpose; hash: string; userId?: number | null; email?: string | null; expiresAt: number }, now: number): void;
    consume(purpose: OneTimePurpose, hash: string, now: number): { id: number; userId: number | null; email: string | null; expiresAt: number } | null;
    expireAll(purpose: OneTimePurpose, now: number): void;
  };
  settings: {
    get(key: string): string | null;
    set(key: string, value: string): void;
  };
  logs: {
    audit(e: { actorId: number | null; actor: string; action: string; target?: string; address?: string | null; detail?: string }, now: number): void;
  };
}

/** A zone's signing state as the API and CLI show it. */
export interface DnssecView {
  zone: string;
  /** Signed (also while being withdrawn). */
  dnssec: boolean;
  /** Off was asked while the parent may have the DS: still signed, CDS/CDNSKEY delete published. */
  withdrawing: boolean;
  keyTag: number | null;
  algorithm: number | null;
}

/** The DS and DNSKEY a parent zone needs, in the forms registrars ask for. */
export interface DsView {
  zone: string;
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: string;
  ds: string;
  flags: number;
  protocol: number;
  publicKey: string;
  dnskey: string;
}

/** Zone signing, implemented outside core (dns/dnssec/manage.ts: keys need the platform's crypto). */
export interface ZoneSigningPort {
  /** immediately: off at once, without withdrawing through the CDS delete records first. */
  set(domainId: number, zone: string, on: boolean, algorithm: "ecdsap256sha256" | "ed25519" | undefined, now: number, immediately?: boolean): DnssecView;
  ds(domainId: number, zone: string, now: number): DsView;
  /** The DS of the zone's key ("TAG ALG 2 HEX"), null while it is served unsigned (or has no key yet); whether it is being withdrawn. Makes nothing. */
  expectedDs(domainId: number, zone: string): { ds: string | null; withdrawing: boolean };
}
