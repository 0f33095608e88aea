/**
 * The install-code state machine (IPTunnel's lifecycle):
 *
 *   issued -> prechecked -> activated -> confirmed          (confirmed: final)
 *                               \-> released -> issued       (installer's EXIT trap)
 *   issued/prechecked/activated -> expired | revoked         (final)
 *
 * Each transition is one guarded state change in one transaction: the guard re-reads the row
 * inside the transaction, so two installers racing on one code cannot both win. A refusal
 * is an IpkeepError with its own code; lazy expiry is written even when the caller is refused
 * (the transaction returns the refusal and it is thrown after commit).
 *
 * Activation also enrolls the node: an agent gets its hostname and an update token, a
 * secondary a TSIG key and the zone list; confirming a secondary adds its name to every
 * zone's NS set (with glue when in-zone).
 */
import { parseIP } from "./addresses";
import { fail, IpkeepError } from "./errors";
import { createHost, issueToken } from "./hosts";
import { checkNameserverFree, reservationOf } from "./reserved";
import { findZone, inZone, normalizeHostname, normalizeName, tryName } from "./names";
import type { Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { ChangeSink, CoreStore, HostRow } from "./ports";
import { constantTimeEqual, hashToken, looksLikeToken, mintToken } from "./tokens";

export type NodeRole = "agent" | "secondary";
export type CodeState = "issued" | "prechecked" | "activated" | "confirmed" | "expired" | "revoked";
export type NodeStatus = "pending" | "active" | "revoked";
export const ROLES: readonly NodeRole[] = ["agent", "secondary"];

export interface InstallCodeRow {
  id: number;
  hint: string;
  role: NodeRole;
  hostname: string | null;
  state: CodeState;
  /** The user the enrolled node's hostnames belong to (the issuing admin, or the CLI's --owner). */
  issuedBy: number | null;
  issuedFrom: string | null;
  issuedAt: number;
  expiresAt: number;
  machineId: string | null;
  sshFingerprint: string | null;
  precheckTokenHash: string | null;
  precheckExpiresAt: number | null;
  revokedAt: number | null;
  consumedAt: number | null;
}

export interface ActivationRow {
  id: string;
  codeId: number;
  installTokenHash: string;
  installTokenExpiresAt: number;
  installTokenUsedAt: number | null;
  hostname: string | null;
  publicIp: string | null;
  machineId: string;
  sshFingerprint: string | null;
  source: string | null;
  createdAt: number;
  confirmedAt: number | null;
  releasedAt: number | null;
}

export interface NodeRow {
  id: number;
  role: NodeRole;
  name: string;
  machineId: string;
  sshFingerprint: string | null;
  publicIp: string | null;
  activationId: string | null;
  credentialHash: string;
  tsigName: string | null;
  tsigSecret: string | null;
  hostnameId: number | null;
  updateTokenId: number | null;
  /** Secondary: the port its DNS listens on, where NOTIFY goes (null: 53). */
  dnsPort: number | null;
  status: NodeStatus;
  version: string | null;
  createdAt: number;
  lastCheckinAt: number | null;
  revokedAt: number | null;
}

/** What the lifecycle needs from storage (src/store/install.ts). */
export interface InstallRepo {
  createCode(
    c: { hash: string; hint: string; role: NodeRole; hostname: string | null; issuedBy: number | null; issuedFrom: string | null; expiresAt: number },
    now: number,
  ): InstallCodeRow;
  codeByHash(hash: string): InstallCodeRow | null;
  codeById(id: number): InstallCodeRow | null;
  listCodes(): InstallCodeRow[];
  updateCode(id: number, fields: Partial<Omit<InstallCodeRow, "id">>): void;
  createActivation(a: Omit<ActivationRow, "installTokenUsedAt" | "confirmedAt" | "releasedAt">): ActivationRow;
  activationById(id: string): ActivationRow | null;
  openActivation(codeId: number): ActivationRow | null;
  updateActivation(id: string, fields: Partial<Omit<ActivationRow, "id">>): void;
  createNode(n: Omit<NodeRow, "id" | "version" | "lastCheckinAt" | "revokedAt">): NodeRow;
  nodeById(id: number): NodeRow | null;
  nodeByCredentialHash(hash: string): NodeRow | null;
  nodeByActivation(activationId: string): NodeRow | null;
  listNodes(status?: NodeStatus): NodeRow[];
  updateNode(id: number, fields: Partial<Omit<NodeRow, "id">>): void;
  addNameserver(domainId: number, ns: { name: string; ipv4: string | null; ipv6: string | null }): boolean;
  removeNameserver(domainId: number, name: string): boolean;
  countEvents(bucket: string, key: string, since: number): number;
  addEvent(bucket: string, key: string, at: number): void;
  pruneEvents(before: number): void;
}

export interface InstallDeps {
  store: CoreStore & { install: InstallRepo };
  platform: Platform;
  changes: ChangeSink;
}

// ---------------------------------------------------------------------------------------
// Limits. Named so tests and the README can refer to them.

/** 5 minutes (IPTunnel's default): a code copied into a chat goes stale quickly. */
export const DEFAULT_CODE_TTL = 300;
export const MIN_CODE_TTL = 60;
/** A week at most: codes printed for a later site visit, never "forever". */
export const MAX_CODE_TTL = 7 * 86400;
/** 10 minutes from precheck to activation: time for the operator to read and confirm. */
export const PRECHECK_TTL = 600;
/** 10 minutes from activation to confirm: download, install, start and health check. */
export const INSTALL_TOKEN_TTL = 600;
/** How often an agent checks in; the primary tells it, so it can change without a new agent. */
export const CHECKIN_INTERVAL = 300;

export interface RateLimit {
  bucket: string;
  window: number;
  max: number;
}
const HOUR = 3600;
const DAY = 86400;
/** Issuing: per address and per admin, hourly and daily. Generous for one operator, a wall for a script gone wrong. */
export const ISSUE_LIMITS = {
  address: [
    { bucket: "issue_addr_hour", window: HOUR, max: 20 },
    { bucket: "issue_addr_day", window: DAY, max: 100 },
  ],
  admin: [
    { bucket: "issue_admin_hour", window: HOUR, max: 20 },
    { bucket: "issue_admin_day", window: DAY, max: 100 },
  ],
} as const satisfies Record<string, RateLimit[]>;
/** Activation: 5 per address and 5 per machine per 24 h (IPTunnel). */
export const ACTIVATE_LIMITS = {
  address: [{ bucket: "activate_addr", window: DAY, max: 5 }],
  machine: [{ bucket: "activate_machine", window: DAY, max: 5 }],
} as const satisfies Record<string, RateLimit[]>;

// ---------------------------------------------------------------------------------------
// Codes

/** No 0/O, 1/I/L, nor U/V: codes are read aloud and typed from screens. 29 symbols: ~87 bits in 18. */
export const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ";
const CODE_RE = new RegExp(`^IPK-([${CODE_ALPHABET}]{6})-([${CODE_ALPHABET}]{6})-([${CODE_ALPHABET}]{6})$`);

export function generateCode(p: Platform): string {
  const out: string[] = [];
  // Rejection sampling keeps every symbol equally likely (256 is not a multiple of 29).
  const limit = 256 - (256 % CODE_ALPHABET.length);
  while (out.length < 18) {
    for (const b of p.randomBytes(32)) {
      if (b < limit && out.length < 18) out.push(CODE_ALPHABET[b % CODE_ALPHABET.length]!);
    }
  }
  const s = out.join("");
  return `IPK-${s.slice(0, 6)}-${s.slice(6, 12)}-${s.slice(12)}`;
}

/** The canonical form of a typed code (case and surrounding space forgiven), or null. */
export function normalizeCode(input: unknown): string | null {
  if (typeof input !== "string" || input.length > 64) return null;
  const c = input.trim().toUpperCase();
  return CODE_RE.test(c) ? c : null;
}

/** "IPK-AB…-…Z9": enough to tell codes apart in a list, far too little to guess one. */
export function codeHint(code: string): string {
  return `${code.slice(0, 6)}…${code.slice(-2)}`;
}

// ---------------------------------------------------------------------------------------
// Input checks shared by the routes and the installer's fields

const MACHINE_ID_RE = /^[A-Za-z0-9-]{8,128}$/;
const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

function machineId(v: unknown): string {
  if (typeof v !== "string" || !MACHINE_ID_RE.test(v.trim())) fail("invalid_input", "machine_id must be the contents of /etc/machine-id");
  return v.trim().toLowerCase();
}

function fingerprint(v: unknown): string | null {
  if (v === undefined || v === null || v === "") return null;
  if (typeof v !== "string" || !FINGERPRINT_RE.test(v.trim())) fail("invalid_input", 'ssh_fingerprint must look like "SHA256:…" (ssh-keygen -lf)');
  return v.trim();
}

function optionalText(v: unknown, field: string, max = 64): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || v.length > max || /[\u0000-\u001f]/.test(v)) fail("invalid_input", `${field} must be a short string`);
  return v;
}

function role(v: unknown): NodeRole {
  if (typeof v !== "string" || !ROLES.includes(v as NodeRole)) fail("invalid_input", `role must be one of ${ROLES.join(", ")}`);
  return v as NodeRole;
}

/** `uname -m` to the build target name the primary keeps beside its executable. */
export function archTarget(uname: string): "linux-x64" | "linux-arm64" | null {
  switch (uname.trim().toLowerCase()) {
    case "x86_64":
    case "amd64":
    case "x64":
      return "linux-x64";
    case "aarch64":
    case "arm64":
      return "linux-arm64";
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------
// Plumbing

const iso = (s: number) => new Date(s * 1000).toISOString();

/** Runs fn in a transaction; a returned IpkeepError is thrown after commit (so lazy expiry sticks). */
function guarded<T>(deps: InstallDeps, fn: () => T | IpkeepError): T {
  const out = deps.store.transaction(fn);
  if (out instanceof IpkeepError) throw out;
  return out;
}

/** Refuses when any limit is reached; otherwise counts this attempt. Committed on its own, before the transition. */
function spendLimits(deps: InstallDeps, limits: { limits: readonly RateLimit[]; key: string | null }[], now: number): void {
  deps.store.transaction(() => {
    deps.store.install.pruneEvents(now - DAY * 2);
    for (const { limits: ls, key } of limits) {
      if (key === null) continue;
      for (const l of ls) {
        if (deps.store.install.countEvents(l.bucket, key, now - l.window) >= l.max) fail("rate_limit_exceeded");
      }
    }
    for (const { limits: ls, key } of limits) {
      if (key === null) continue;
      for (const l of ls) deps.store.install.addEvent(l.bucket, key, now);
    }
  });
}

/** When a code in its current state stops being usable; null for final states. */
function effectiveExpiry(deps: InstallDeps, c: InstallCodeRow): number | null {
  switch (c.state) {
    case "issued":
      return c.expiresAt;
    case "prechecked":
      // The precheck token may outlive the code's own TTL (IPTunnel: 5 min code, 10 min precheck).
      return Math.max(c.expiresAt, c.precheckExpiresAt ?? 0);
    case "activated": {
      const a = deps.store.install.openActivation(c.id);
      return a ? a.installTokenExpiresAt : c.expiresAt;
    }
    default:
      return null;
  }
}

/** The code's state after applying the clock; writes `expired` when it ran out. Inside a transaction. */
function settle(deps: InstallDeps, c: InstallCodeRow, now: number): InstallCodeRow {
  const until = effectiveExpiry(deps, c);
  if (until !== null && now >= until) {
    deps.store.install.updateCode(c.id, { state: "expired", precheckTokenHash: null });
    const a = c.state === "activated" ? deps.store.install.openActivation(c.id) : null;
    if (a) retireNode(deps, a.id, now);
    return { ...c, state: "expired", precheckTokenHash: null };
  }
  return c;
}

/** The state as a list shows it, without writing. */
export function displayState(deps: InstallDeps, c: InstallCodeRow, now: number): CodeState {
  const until = effectiveExpiry(deps, c);
  return until !== null && now >= until ? "expired" : c.state;
}

function finalRefusal(c: InstallCodeRow): IpkeepError | null {
  if (c.state === "revoked") return new IpkeepError("install_code_revoked");
  if (c.state === "expired") return new IpkeepError("install_code_expired");
  if (c.state === "confirmed") return new IpkeepError("install_code_consumed");
  return null;
}

function findCode(deps: InstallDeps, raw: unknown, now: number): InstallCodeRow | IpkeepError {
  const code = normalizeCode(raw);
  if (!code) return new IpkeepError("install_code_not_found");
  const row = deps.store.install.codeByHash(hashToken(deps.platform, code));
  if (!row) return new IpkeepError("install_code_not_found");
  return settle(deps, row, now);
}

function sameMachine(c: { machineId: string | null; sshFingerprint: string | null }, m: string, fp: string | null): boolean {
  return c.machineId !== null && constantTimeEqual(c.machineId, m) && (c.sshFingerprint ?? "") === (fp ?? "");
}

/** The setting where `serve --catalog` keeps the catalog zone's name ("" or absent: none). */
export const CATALOG_SETTING = "catalog_zone";

/** The zones a node serves or lives in: built-in zones and verified custom domains. */
function servedZones(deps: InstallDeps) {
  return deps.store.domains.list().filter((d) => d.verified);
}

/**
 * The zones a node is told about: what its role needs and nothing else. A secondary serves
 * every zone (it joins every NS set). An agent before it has a hostname gets the zones its
 * owner may put one in (shared zones first, then the owner's own verified domains), to propose
 * <short name>.<first zone>; once it has a hostname, only that hostname's zone. Never another
 * user's custom domains.
 */
function zonesForNode(deps: InstallDeps, role: NodeRole, ownerId: number | null, hostname: string | null): string[] {
  const zones = servedZones(deps);
  // With a catalog zone (serve --catalog), a secondary pulls it too and follows it: zones added
  // after its enrolment reach it without a new install code.
  const catalog = deps.store.settings.get(CATALOG_SETTING);
  if (role === "secondary") return [...zones.map((z) => z.name), ...(catalog ? [catalog] : [])];
  if (hostname !== null) {
    const zone = findZone(
      hostname,
      zones.map((z) => z.name),
    );
    return zone ? [zone] : [];
  }
  const shared = zones.filter((z) => z.kind === "builtin");
  const own = ownerId === null ? [] : zones.filter((z) => z.kind === "custom" && z.ownerId === ownerId);
  return [...shared, ...own].map((z) => z.name);
}

/** ownerOf without failing: who the agent's hostname will belong to, null when nobody can yet. */
function likelyOwner(deps: InstallDeps, c: InstallCodeRow): number | null {
  if (c.issuedBy !== null && deps.store.users.byId(c.issuedBy)) return c.issuedBy;
  return deps.store.users.firstAdmin()?.id ?? null;
}

function ownerOf(deps: InstallDeps, c: InstallCodeRow): number {
  if (c.issuedBy !== null && deps.store.users.byId(c.issuedBy)) return c.issuedBy;
  const admin = deps.store.users.firstAdmin();
  if (!admin) fail("invalid_input", "No owner for the node's hostname: issue the code with --owner EMAIL or create the admin first");
  return admin.id;
}

/** Revokes a node enrolled by an activation that will never be confirmed, with its update token. */
function retireNode(deps: InstallDeps, activationId: string, now: number): void {
  const node = deps.store.install.nodeByActivation(activationId);
  if (!node || node.status === "revoked") return;
  deps.store.install.updateNode(node.id, { status: "revoked", revokedAt: now });
  if (node.updateTokenId !== null) deps.store.tokens.revoke(node.updateTokenId, now);
}

// ---------------------------------------------------------------------------------------
// Issue / list / revoke

export interface IssueInput {
  role: unknown;
  hostname?: unknown;
  ttl?: unknown;
}

export interface Issuer {
  /** The owner of what the node enrolls (normally the issuing admin). */
  ownerId: number | null;
  /** Who is counted for the per-admin limits: "user:3", "cli". */
  actorKey: string;
  address: string | null;
}

export interface IssuedCode {
  code: string;
  row: InstallCodeRow;
  hint: string;
  expiresAt: string;
  ttlSeconds: number;
}

export function issueCode(deps: InstallDeps, input: IssueInput, issuer: Issuer): IssuedCode {
  const r = role(input.role);
  const ttl = input.ttl === undefined || input.ttl === null ? DEFAULT_CODE_TTL : input.ttl;
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < MIN_CODE_TTL || ttl > MAX_CODE_TTL) {
    fail("invalid_input", `ttl must be a whole number of seconds between ${MIN_CODE_TTL} and ${MAX_CODE_TTL}`);
  }
  let hostname: string | null = null;
  if (input.hostname !== undefined && input.hostname !== null && input.hostname !== "") {
    hostname = r === "agent" ? normalizeHostname(input.hostname) : normalizeName(input.hostname);
    if (r === "agent") hostInZone(deps, hostname);
    else checkNameserverFree(deps.store, hostname, nowSeconds(deps.platform.clock));
  }
  const now = nowSeconds(deps.platform.clock);
  spendLimits(
    deps,
    [
      { limits: ISSUE_LIMITS.address, key: issuer.address },
      { limits: ISSUE_LIMITS.admin, key: issuer.actorKey },
    ],
    now,
  );
  const code = generateCode(deps.platform);
  const row = deps.store.transaction(() => {
    const row = deps.store.install.createCode(
      {
        hash: hashToken(deps.platform, code),
        hint: codeHint(code),
        role: r,
        hostname,
        issuedBy: issuer.ownerId,
        issuedFrom: issuer.address,
        expiresAt: now + ttl,
      },
      now,
    );
    deps.store.logs.audit(
      { actorId: issuer.ownerId, actor: issuer.actorKey, action: "install_code.issue", target: row.hint, address: issuer.address, detail: r },
      now,
    );
    return row;
  });
  return { code, row, hint: row.hint, expiresAt: iso(row.expiresAt), ttlSeconds: ttl };
}

function hostInZone(deps: InstallDeps, name: string): void {
  const zones = servedZones(deps);
  const zone = findZone(
    name,
    zones.map((z) => z.name),
  );
  if (!zone) fail("outside_zone", `${name} is not inside a served domain (${zones.map((z) => z.name).join(", ") || "none yet"})`);
  if (zone === name) fail("invalid_hostname", "A hostname cannot be the domain apex");
  const reserved = reservationOf(deps.store, zones.find((z) => z.name === zone)!, name);
  if (reserved) fail("conflict", `${name} is reserved for ${reserved.use} and cannot be an agent's hostname`);
}

export function listCodes(deps: InstallDeps): (InstallCodeRow & { displayState: CodeState })[] {
  const now = nowSeconds(deps.platform.clock);
  return deps.store.install.listCodes().map((c) => ({ ...c, displayState: displayState(deps, c, now) }));
}

/** Revokes by id or hint; an open activation's node goes with it. */
export function revokeCode(deps: InstallDeps, idOrHint: string, actor: string): InstallCodeRow {
  const now = nowSeconds(deps.platform.clock);
  return guarded(deps, () => {
    const byId = /^\d+$/.test(idOrHint) ? deps.store.install.codeById(Number(idOrHint)) : null;
    const matches = byId ? [byId] : deps.store.install.listCodes().filter((c) => c.hint === idOrHint);
    if (matches.length !== 1) return new IpkeepError("install_code_not_found", matches.length ? "Several codes share that hint; use the id" : undefined);
    const c = settle(deps, matches[0]!, now);
    const refusal = finalRefusal(c);
    if (refusal) return refusal;
    const a = deps.store.install.openActivation(c.id);
    if (a) retireNode(deps, a.id, now);
    deps.store.install.updateCode(c.id, { state: "revoked", revokedAt: now, precheckTokenHash: null });
    deps.store.logs.audit({ actorId: null, actor, action: "install_code.revoke", target: c.hint }, now);
    return deps.store.install.codeById(c.id)!;
  });
}

// ---------------------------------------------------------------------------------------
// Precheck

export interface PrecheckInput {
  install_code?: unknown;
  machine_id?: unknown;
  ssh_fingerprint?: unknown;
  product?: unknown;
  installer_version?: unknown;
}

export interface PrecheckResult {
  installCode: string;
  hint: string;
  role: NodeRole;
  precheckToken: string;
  precheckExpiresAt: string;
  machineBinding: { machineId: string; sshFingerprint: string | null };
  /** The hostname fixed at issue, else null (the installer proposes <short name>.<first zone>). */
  hostname: string | null;
  zones: string[];
}

export function precheck(deps: InstallDeps, input: PrecheckInput): PrecheckResult {
  const mid = machineId(input.machine_id);
  const fp = fingerprint(input.ssh_fingerprint);
  // The installer may leave the role out and learn it from the code (one one-liner for both roles).
  const product = input.product === undefined || input.product === null ? null : role(input.product);
  optionalText(input.installer_version, "installer_version");
  const now = nowSeconds(deps.platform.clock);
  const minted = mintToken(deps.platform, "precheck");
  const c = guarded(deps, () => {
    const c = findCode(deps, input.install_code, now);
    if (c instanceof IpkeepError) return c;
    const refusal = finalRefusal(c);
    if (refusal) return refusal;
    if (c.machineId !== null && !sameMachine(c, mid, fp)) return new IpkeepError("code_bound_elsewhere");
    if (c.state === "activated") return new IpkeepError("install_code_in_use");
    if (product !== null && product !== c.role) return new IpkeepError("invalid_input", `This install code is for the ${c.role} role, not ${product}`);
    deps.store.install.updateCode(c.id, {
      state: "prechecked",
      machineId: mid,
      sshFingerprint: fp,
      precheckTokenHash: minted.hash,
      precheckExpiresAt: now + PRECHECK_TTL,
    });
    return c;
  });
  return {
    installCode: normalizeCode(input.install_code)!,
    hint: c.hint,
    role: c.role,
    precheckToken: minted.value,
    precheckExpiresAt: iso(now + PRECHECK_TTL),
    machineBinding: { machineId: mid, sshFingerprint: fp },
    hostname: c.hostname,
    zones: zonesForNode(deps, c.role, likelyOwner(deps, c), c.hostname),
  };
}

// ---------------------------------------------------------------------------------------
// Activate

export interface ActivateInput extends PrecheckInput {
  precheck_token?: unknown;
  hostname?: unknown;
  public_ip?: unknown;
  arch?: unknown;
  requested_ref?: unknown;
  /** Secondary: its DNS port when not 53. */
  dns_port?: unknown;
}

export interface BinaryCatalog {
  /** SHA-256 (hex) of the executable for a build target, null when the primary does not keep it. */
  sha256For(target: "linux-x64" | "linux-arm64"): string | null;
}

export interface ActivateResult {
  activationId: string;
  installToken: string;
  installTokenExpiresAt: string;
  installCode: string;
  role: NodeRole;
  machineBinding: { hostname: string; publicIp: string; machineId: string; sshFingerprint: string | null };
  credentials: {
    nodeToken: string;
    /** Agent: the update token for its hostname. */
    updateToken?: string;
    /** Secondary: the TSIG key for zone transfers (base64 secret). */
    tsig?: { name: string; algorithm: "hmac-sha256"; secret: string };
  };
  settings: {
    hostname: string;
    zones: string[];
    checkinInterval: number;
    binary: { arch: string; target: string; sha256: string } | null;
  };
}

export function activate(deps: InstallDeps, input: ActivateInput, meta: { address: string | null }, binaries: BinaryCatalog): ActivateResult {
  const mid = machineId(input.machine_id);
  const fp = fingerprint(input.ssh_fingerprint);
  optionalText(input.installer_version, "installer_version");
  optionalText(input.requested_ref, "requested_ref");
  if (typeof input.public_ip !== "string") fail("invalid_input", "public_ip is required");
  const ip = parseIP(input.public_ip);
  if (!ip) fail("invalid_address", "public_ip must be an IPv4 or IPv6 address");
  if (input.hostname !== undefined && input.hostname !== null && typeof input.hostname !== "string") fail("invalid_input", "hostname must be a string");
  let binary: ActivateResult["settings"]["binary"] = null;
  if (input.arch !== undefined && input.arch !== null) {
    const arch = optionalText(input.arch, "arch", 32)!;
    const target = archTarget(arch);
    const sha = target ? binaries.sha256For(target) : null;
    if (!target || !sha) fail("unsupported_arch", `No ipkeep executable for ${arch} on this primary`);
    binary = { arch, target, sha256: sha };
  }
  let dnsPort: number | null = null;
  if (input.dns_port !== undefined && input.dns_port !== null) {
    if (typeof input.dns_port !== "number" || !Number.isInteger(input.dns_port) || input.dns_port < 1 || input.dns_port > 65535)
      fail("invalid_input", "dns_port must be a port number");
    dnsPort = input.dns_port === 53 ? null : input.dns_port;
  }
  const now = nowSeconds(deps.platform.clock);
  spendLimits(
    deps,
    [
      { limits: ACTIVATE_LIMITS.address, key: meta.address },
      { limits: ACTIVATE_LIMITS.machine, key: mid },
    ],
    now,
  );
  const precheckToken = typeof input.precheck_token === "string" && looksLikeToken(input.precheck_token, "precheck") ? input.precheck_token : null;
  const install = mintToken(deps.platform, "install");
  const nodeCred = mintToken(deps.platform, "node");
  const activationId = `act_${hex(deps.platform.randomBytes(12))}`;
  return guarded(deps, (): ActivateResult | IpkeepError => {
    const c = findCode(deps, input.install_code, now);
    if (c instanceof IpkeepError) return c;
    const refusal = finalRefusal(c);
    if (refusal) return refusal;
    if (c.machineId !== null && !sameMachine(c, mid, fp)) return new IpkeepError("code_bound_elsewhere");
    // The precheck token is single use: after an activation (or a release) it no longer exists.
    if (c.state !== "prechecked" || !precheckToken || !c.precheckTokenHash) return new IpkeepError("precheck_token_invalid");
    if (!constantTimeEqual(c.precheckTokenHash, hashToken(deps.platform, precheckToken)) || (c.precheckExpiresAt ?? 0) <= now) {
      return new IpkeepError("precheck_token_invalid");
    }
    const zones = servedZones(deps);
    const requested = typeof input.hostname === "string" && input.hostname.trim() !== "" ? input.hostname : null;
    let hostname: string;
    if (c.hostname) {
      const given = requested === null ? c.hostname : tryName(requested);
      if (given !== c.hostname) return new IpkeepError("hostname_mismatch", `This install code is for ${c.hostname}`);
      hostname = c.hostname;
    } else {
      if (requested === null) return new IpkeepError("invalid_input", "hostname is required");
      hostname = c.role === "agent" ? normalizeHostname(requested) : normalizeName(requested);
    }

    const credentials: ActivateResult["credentials"] = { nodeToken: nodeCred.value };
    let hostId: number | null = null;
    let updateTokenId: number | null = null;
    let tsigName: string | null = null;
    let tsigSecret: string | null = null;
    if (c.role === "agent") {
      hostInZone(deps, hostname);
      const ownerId = ownerOf(deps, c);
      const existing = deps.store.hosts.byName(hostname);
      let host: HostRow;
      let value: string;
      if (existing) {
        if (existing.ownerId !== ownerId) return new IpkeepError("conflict", `Hostname ${hostname} belongs to another account`);
        const issued = issueToken(deps, { userId: ownerId, scope: "host", hostIds: [existing.id], label: `agent ${hostname}` }, now);
        host = existing;
        value = issued.value;
        updateTokenId = issued.token.id;
      } else {
        const created = createHost(deps, { name: hostname, ownerId });
        host = created.host;
        value = created.value;
        updateTokenId = created.token.id;
      }
      hostId = host.id;
      credentials.updateToken = value;
    } else {
      if (zones.some((z) => z.name === hostname)) return new IpkeepError("invalid_hostname", "A nameserver name cannot be a zone apex");
      checkNameserverFree(deps.store, hostname, now);
      tsigName = `${hostname}.`;
      tsigSecret = btoa(String.fromCharCode(...deps.platform.randomBytes(32)));
      credentials.tsig = { name: tsigName, algorithm: "hmac-sha256", secret: tsigSecret };
    }

    deps.store.install.createActivation({
      id: activationId,
      codeId: c.id,
      installTokenHash: install.hash,
      installTokenExpiresAt: now + INSTALL_TOKEN_TTL,
      hostname,
      publicIp: ip.address,
      machineId: mid,
      sshFingerprint: fp,
      source: meta.address,
      createdAt: now,
    });
    deps.store.install.createNode({
      role: c.role,
      name: hostname,
      machineId: mid,
      sshFingerprint: fp,
      publicIp: ip.address,
      activationId,
      credentialHash: nodeCred.hash,
      tsigName,
      tsigSecret,
      hostnameId: hostId,
      updateTokenId,
      dnsPort: c.role === "secondary" ? dnsPort : null,
      // A secondary must be allowed to transfer (TSIG, NOTIFY: active nodes) before the
      // installer's health check, which waits for it to hold every zone. It joins the NS sets
      // only at confirm; a release or expiry revokes it again.
      status: c.role === "secondary" ? "active" : "pending",
      createdAt: now,
    });
    deps.store.install.updateCode(c.id, { state: "activated", precheckTokenHash: null, precheckExpiresAt: null });
    deps.store.logs.audit(
      { actorId: null, actor: `machine:${mid.slice(0, 8)}`, action: "install_code.activate", target: c.hint, address: meta.address, detail: hostname },
      now,
    );
    return {
      activationId,
      installToken: install.value,
      installTokenExpiresAt: iso(now + INSTALL_TOKEN_TTL),
      installCode: normalizeCode(input.install_code)!,
      role: c.role,
      machineBinding: { hostname, publicIp: ip.address, machineId: mid, sshFingerprint: fp },
      credentials,
      settings: { hostname, zones: zonesForNode(deps, c.role, null, hostname), checkinInterval: CHECKIN_INTERVAL, binary },
    };
  });
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

const ACTIVATION_ID_RE = /^act_[0-9a-f]{24}$/;

function findActivation(deps: InstallDeps, raw: unknown): ActivationRow | IpkeepError {
  if (typeof raw !== "string" || !ACTIVATION_ID_RE.test(raw)) return new IpkeepError("activation_not_found");
  return deps.store.install.activationById(raw) ?? new IpkeepError("activation_not_found");
}

// ---------------------------------------------------------------------------------------
// Confirm / release

export function confirm(
  deps: InstallDeps,
  input: { activation_id?: unknown; install_token?: unknown },
): { activationId: string; status: "confirmed"; node: NodeRow } {
  const now = nowSeconds(deps.platform.clock);
  const presented = typeof input.install_token === "string" && looksLikeToken(input.install_token, "install") ? input.install_token : null;
  let changedZones: number[] = [];
  const out = guarded(deps, () => {
    const a = findActivation(deps, input.activation_id);
    if (a instanceof IpkeepError) return a;
    if (!presented || !constantTimeEqual(a.installTokenHash, hashToken(deps.platform, presented))) return new IpkeepError("install_token_invalid");
    if (a.installTokenUsedAt !== null) return new IpkeepError("install_token_used");
    if (a.releasedAt !== null) return new IpkeepError("activation_released");
    const c = settle(deps, deps.store.install.codeById(a.codeId)!, now);
    if (c.state === "revoked") return new IpkeepError("install_code_revoked");
    if (a.installTokenExpiresAt <= now) return new IpkeepError("install_token_expired");
    if (c.state !== "activated") return new IpkeepError("install_code_expired");
    const node = deps.store.install.nodeByActivation(a.id)!;
    // Revoked by an admin while its install ran: it stays out.
    if (node.status === "revoked") return new IpkeepError("node_revoked");
    deps.store.install.updateActivation(a.id, { installTokenUsedAt: now, confirmedAt: now });
    deps.store.install.updateCode(c.id, { state: "confirmed", consumedAt: now });
    deps.store.install.updateNode(node.id, { status: "active" });
    if (node.role === "secondary") changedZones = addToNsSets(deps, node, now);
    deps.store.logs.audit({ actorId: null, actor: `node:${node.id}`, action: "install_code.confirm", target: c.hint, detail: node.name }, now);
    return { activationId: a.id, status: "confirmed" as const, node: deps.store.install.nodeById(node.id)! };
  });
  for (const id of changedZones) deps.changes.zoneChanged(id);
  return out;
}

export function release(deps: InstallDeps, input: { activation_id?: unknown }): { activationId: string; status: "released"; installCodeRestored: true } {
  const now = nowSeconds(deps.platform.clock);
  return guarded(deps, () => {
    const a = findActivation(deps, input.activation_id);
    if (a instanceof IpkeepError) return a;
    if (a.confirmedAt !== null) return new IpkeepError("activation_confirmed");
    if (a.installTokenUsedAt !== null) return new IpkeepError("install_token_used");
    if (a.releasedAt !== null) return new IpkeepError("activation_released");
    const c = settle(deps, deps.store.install.codeById(a.codeId)!, now);
    if (c.state === "revoked") return new IpkeepError("install_code_revoked");
    if (a.installTokenExpiresAt <= now)
      return new IpkeepError("install_token_expired", "Install token has expired; the install code cannot be restored. Issue a new code.");
    deps.store.install.updateActivation(a.id, { releasedAt: now });
    retireNode(deps, a.id, now);
    // Back to issued, still bound to the machine; with time for a retry even if the code's
    // own TTL ran out while the failed install was running.
    const ttl = Math.max(c.expiresAt - c.issuedAt, MIN_CODE_TTL);
    deps.store.install.updateCode(c.id, { state: "issued", precheckTokenHash: null, precheckExpiresAt: null, expiresAt: Math.max(c.expiresAt, now + ttl) });
    deps.store.logs.audit({ actorId: null, actor: "installer", action: "install_code.release", target: c.hint }, now);
    return { activationId: a.id, status: "released" as const, installCodeRestored: true as const };
  });
}

/** Adds a confirmed secondary to every served zone's NS set (glue when the name is in-zone). */
function addToNsSets(deps: InstallDeps, node: NodeRow, now: number): number[] {
  const ip = node.publicIp ? parseIP(node.publicIp) : null;
  const changed: number[] = [];
  // Taken since the activation? A nameserver never goes over a name somebody holds.
  if (servedZones(deps).some((z) => !deps.store.domains.nameservers(z.id).some((n) => n.name === node.name))) checkNameserverFree(deps.store, node.name, now);
  for (const z of servedZones(deps)) {
    const glue = inZone(node.name, z.name);
    const added = deps.store.install.addNameserver(z.id, {
      name: node.name,
      ipv4: glue && ip?.family === 4 ? ip.address : null,
      ipv6: glue && ip?.family === 6 ? ip.address : null,
    });
    if (added) {
      deps.store.domains.bumpSerial(z.id, now);
      changed.push(z.id);
    }
  }
  return changed;
}

function removeFromNsSets(deps: InstallDeps, node: NodeRow, now: number): number[] {
  const changed: number[] = [];
  for (const z of deps.store.domains.list()) {
    if (deps.store.install.removeNameserver(z.id, node.name)) {
      deps.store.domains.bumpSerial(z.id, now);
      changed.push(z.id);
    }
  }
  return changed;
}

// ---------------------------------------------------------------------------------------
// Nodes (agent routes)

export function authenticateNode(deps: InstallDeps, presented: string | null): NodeRow {
  if (!presented || !looksLikeToken(presented, "node")) fail("unauthorized");
  const node = deps.store.install.nodeByCredentialHash(hashToken(deps.platform, presented));
  if (!node) fail("unauthorized");
  if (node.status === "revoked") fail("node_revoked");
  return node;
}

export interface NodeReport {
  version?: unknown;
  ipv4?: unknown;
  ipv6?: unknown;
}

function report(r: NodeReport): { version: string | null; publicIp: string | null } {
  const version = optionalText(r.version, "version", 64);
  let publicIp: string | null = null;
  for (const [field, fam] of [
    ["ipv4", 4],
    ["ipv6", 6],
  ] as const) {
    const v = r[field];
    if (v === undefined || v === null || v === "") continue;
    const ip = typeof v === "string" ? parseIP(v) : null;
    if (!ip || ip.family !== fam) fail("invalid_address", `${field} must be an IPv${fam} address`);
    publicIp ??= ip.address;
  }
  return { version, publicIp };
}

export function checkin(deps: InstallDeps, node: NodeRow, r: NodeReport): { node: NodeRow; nextCheckinSeconds: number } {
  const { version, publicIp } = report(r);
  const now = nowSeconds(deps.platform.clock);
  deps.store.install.updateNode(node.id, { lastCheckinAt: now, version: version ?? node.version, publicIp: publicIp ?? node.publicIp });
  return { node: deps.store.install.nodeById(node.id)!, nextCheckinSeconds: CHECKIN_INTERVAL };
}

/**
 * Takes a node out, at once: its node token is refused from now on, an agent's update token
 * stops working, and a secondary's TSIG key goes (transfers refused; the secret is dropped) with
 * its entry in every NS set and the NOTIFY targets (only active nodes get either). By the node
 * itself (uninstall: its node token) or by an admin (`ipkeep node revoke`, DELETE /api/v2/nodes/ID).
 */
export function revokeNode(
  deps: InstallDeps,
  node: NodeRow,
  actor: { id: number | null; name: string; address: string | null } = { id: null, name: `node:${node.id}`, address: null },
): NodeRow {
  const now = nowSeconds(deps.platform.clock);
  let changed: number[] = [];
  deps.store.transaction(() => {
    deps.store.install.updateNode(node.id, { status: "revoked", revokedAt: now, tsigSecret: null });
    if (node.updateTokenId !== null) deps.store.tokens.revoke(node.updateTokenId, now);
    if (node.role === "secondary") changed = removeFromNsSets(deps, node, now);
    deps.store.logs.audit({ actorId: actor.id, actor: actor.name, action: "node.revoke", target: `node:${node.id} ${node.name}`, address: actor.address }, now);
  });
  for (const id of changed) deps.changes.zoneChanged(id);
  return deps.store.install.nodeById(node.id)!;
}

/** Every enrolled machine, newest last, revoked ones included (they are the audit trail). */
export function listNodes(deps: Pick<InstallDeps, "store">): NodeRow[] {
  return deps.store.install.listNodes();
}

/** An admin's revocation by id: not_found for an unknown id, conflict when already revoked. */
export function revokeNodeById(deps: InstallDeps, id: number, actor: { id: number | null; name: string; address: string | null }): NodeRow {
  const node = deps.store.install.nodeById(id);
  if (!node) fail("not_found", "Node not found");
  if (node.status === "revoked") fail("conflict", `Node ${node.id} (${node.name}) is already revoked`);
  return revokeNode(deps, node, actor);
}

/** What lists of nodes show (the CLI's --json and GET /api/v2/nodes): never a credential. */
export function nodeView(n: NodeRow) {
  const at = (s: number | null) => (s === null ? null : iso(s));
  return {
    id: n.id,
    role: n.role,
    name: n.name,
    status: n.status,
    public_ip: n.publicIp,
    dns_port: n.role === "secondary" ? (n.dnsPort ?? 53) : null,
    machine_id: n.machineId,
    version: n.version,
    created_at: iso(n.createdAt),
    last_checkin_at: at(n.lastCheckinAt),
    revoked_at: at(n.revokedAt),
  };
}

export function nodeStatus(deps: InstallDeps, node: NodeRow) {
  const host = node.hostnameId !== null ? deps.store.hosts.byId(node.hostnameId) : null;
  return {
    node,
    hostname: host ? { name: host.name, ipv4: host.ipv4, ipv6: host.ipv6 } : null,
    zones: zonesForNode(deps, node.role, null, host?.name ?? (node.role === "agent" ? node.name : null)),
    checkedIn: node.lastCheckinAt !== null,
    nextCheckinSeconds: CHECKIN_INTERVAL,
  };
}
