/**
 * Hostnames, update tokens, domains and records on behalf of someone (an Actor): who may see
 * and change what, quotas, the audit trail, and DNS told after each commit.
 *
 * `Resources` is the one request layer: the API routes call LocalResources with the
 * authenticated user; the CLI calls the same interface either locally (LocalResources with
 * the machine operator as actor) or remotely (src/cli/remote-http.ts over the API). A user
 * never learns whether another user's object exists: it is "not found" to them.
 *
 * Access rules, decided here:
 * - Admins see and change everything; quotas do not apply to them.
 * - Users see built-in zones (shared) and their own custom domains, hostnames and tokens.
 * - In a custom domain its owner may add any record. In a built-in zone a user may add
 *   records only at or below one of their own hostnames (nearest enclosing hostname is
 *   theirs), and no NS records there.
 */
import { normalizeEmail } from "./auth";
import { fail } from "./errors";
import {
  type DelegationLookup,
  type DelegationStatus,
  checkCustomDomainName,
  type DnssecStatus,
  domainVisible,
  judgeDelegation,
  judgeDnssec,
  serverNameservers,
} from "./domains";
import { createHost, issueToken, MAX_TTL, MIN_TTL, regenerateToken, removeHost } from "./hosts";
import { canonicalName, findZone, normalizeHostname } from "./names";
import type { Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { ChangeSink, CoreStore, DnssecView, DomainRow, DsView, HostRow, RecordRow, TokenScope, UpdateTokenRow, ZoneSigningPort } from "./ports";
import { checkQuota, type QuotaKind } from "./quotas";
import { checkNameserverFree, checkRecordPlace, enclosingHost } from "./reserved";
import { applyPolicyInput, type TokenPolicyInput } from "./token-policy";
import { mintTsigKey, tsigAlgorithm, type TsigKeySecret } from "./tsig-keys";
import { normalizeInterfaceId } from "./update";
import { checkPlacement, presentContent, recordContent, recordName, recordTtl, recordType } from "./records";
import {
  type DomainView,
  domainView,
  type HostView,
  hostView,
  type RecordView,
  recordView,
  type TokenSecretView,
  type TokenView,
  tokenView,
  type UpdateLogView,
  updateLogView,
} from "./views";
import { createZone, type NameserverSpec, parseNameserverSpec, validateZone } from "./zones";

/** Nameservers as the API and CLI give them; the object form goes through the same parser, so its addresses are checked alike. */
function nameserverSpecs(list: NonNullable<NewDomainInput["nameservers"]>): NameserverSpec[] {
  return list.map((n) => parseNameserverSpec(typeof n === "string" ? n : `${n.name}=${[n.ipv4, n.ipv6].filter(Boolean).join(",")}`));
}

/** Who is acting: a user of the API, or the operator at the machine ("cli", admin powers). */
export interface Actor {
  userId: number | null;
  admin: boolean;
  /** For the audit log: "user:3", "cli". */
  name: string;
  /** Client address, when the request came over the network. */
  address: string | null;
}

export interface NewHostInput {
  /** A label relative to domainId ("myserver", ipdock's form) or a full name ("myserver.dyn.example.com"). */
  name: string;
  domainId?: number;
  ttl?: number;
  description?: string;
  /** Owner's e-mail (local CLI only: created as a password-less user when new). */
  owner?: string;
}

export interface HostPatch {
  ttl?: number;
  description?: string;
  /** IPv6 interface id kept across prefix updates ("::1234:5678:9abc:def0"); null clears it. */
  ipv6InterfaceId?: string | null;
}

export interface NewTokenInput {
  hostnameId?: number;
  hostnameIds?: number[];
  allHostnames?: boolean;
  label?: string;
  /** With allHostnames, the owner's e-mail (local CLI only). */
  owner?: string;
  /** Give it a DNS UPDATE (TSIG) key too, answered once with the token. */
  tsig?: boolean;
  /** The key's algorithm (RFC 8945 name; default hmac-sha256). Implies tsig. */
  tsigAlgorithm?: string;
  /** What narrows it further (core/token-policy.ts). */
  policy?: TokenPolicyInput;
}

export interface NewDomainInput {
  name: string;
  /** Given (admin only): a built-in zone with these nameservers ("ns1.example.com[=ipv4[,ipv6]]"). */
  nameservers?: (string | { name: string; ipv4?: string | null; ipv6?: string | null })[];
  /** A custom domain's owner's e-mail (local CLI only). */
  owner?: string;
}

export interface NewRecordInput {
  type: string;
  name: string;
  content: string;
  ttl?: number;
  priority?: number | null;
}

export interface RecordPatch {
  name?: string;
  content?: string;
  ttl?: number;
  priority?: number | null;
}

export interface DelegationView extends DelegationStatus {
  verified: boolean;
  /** What the parent's DS says (when the resolver could be asked for it). */
  dnssec?: DnssecStatus;
}

/** The management operations, the same for the API, the local CLI and the remote CLI. */
export interface Resources {
  /** owner: an e-mail, to list one owner's hostnames (admins, local CLI). */
  listHosts(filter?: { owner?: string }): Promise<HostView[]>;
  getHost(id: number): Promise<HostView>;
  /** createdOwner: the e-mail of the password-less user that --owner created for it. */
  createHost(input: NewHostInput): Promise<{ hostname: HostView; token: TokenSecretView; createdOwner?: string }>;
  updateHost(id: number, patch: HostPatch): Promise<HostView>;
  removeHost(id: number): Promise<void>;
  /** Newest first, at most limit entries (the store keeps HISTORY_MAX_PER_HOST a host). */
  hostLog(id: number, limit?: number): Promise<UpdateLogView[]>;

  listTokens(): Promise<TokenView[]>;
  createToken(input: NewTokenInput): Promise<TokenSecretView>;
  regenerateToken(id: number): Promise<TokenSecretView>;
  removeToken(id: number): Promise<void>;
  /** Changes a token's policy: a field given replaces it, null clears it, absent keeps it. */
  setTokenPolicy(id: number, input: TokenPolicyInput): Promise<TokenView>;

  listDomains(): Promise<DomainView[]>;
  getDomain(id: number): Promise<DomainView>;
  createDomain(input: NewDomainInput): Promise<DomainView>;
  removeDomain(id: number): Promise<void>;
  /** Replaces a built-in zone's NS set, glue included (admin). */
  setNameservers(id: number, nameservers: NewDomainInput["nameservers"] & {}): Promise<DomainView>;
  delegationStatus(id: number): Promise<DelegationView>;
  /**
   * Signs a zone (on) or serves it unsigned (off: withdrawn through the CDS delete records first,
   * unless immediately); a built-in zone's is the admin's to change.
   */
  setDnssec(id: number, on: boolean, algorithm?: "ecdsap256sha256" | "ed25519", immediately?: boolean): Promise<DnssecView>;
  /** The DS and DNSKEY for the parent zone (the key is made when the zone has none). */
  dnssecDs(id: number): Promise<DsView>;
  verifyDomain(id: number): Promise<{ domain: DomainView; delegation: DelegationView }>;

  listRecords(domainId: number): Promise<RecordView[]>;
  createRecord(domainId: number, input: NewRecordInput): Promise<RecordView>;
  updateRecord(domainId: number, recordId: number, patch: RecordPatch): Promise<RecordView>;
  removeRecord(domainId: number, recordId: number): Promise<void>;
}

export interface ResourceDeps {
  store: CoreStore;
  platform: Platform;
  changes: ChangeSink;
  /** Needed only for delegation checks. */
  delegation?: DelegationLookup | null;
  /** Needed only for DNSSEC settings. */
  dnssec?: ZoneSigningPort | null;
}

// A description is a note for its owner, not a document.
export const MAX_DESCRIPTION = 200;
/** Entries of a host's update history answered when no limit is asked for, and the most that may be. */
export const HOST_LOG_DEFAULT = 100;
export const HOST_LOG_MAX = 10_000;
const CONTROL = /[\x00-\x1f\x7f]/;

export class LocalResources implements Resources {
  constructor(
    private deps: ResourceDeps,
    private actor: Actor,
  ) {}

  private get store() {
    return this.deps.store;
  }
  private now(): number {
    return nowSeconds(this.deps.platform.clock);
  }

  /**
   * Runs fn in one transaction and tells DNS about the zones it touched only after the
   * commit, so the nameserver never serves (or caches) a change that was rolled back.
   */
  private tx<T>(fn: (changes: ChangeSink) => T): T {
    const touched = new Set<number>();
    const result = this.store.transaction(() => fn({ zoneChanged: (id) => touched.add(id) }));
    for (const id of touched) this.deps.changes.zoneChanged(id);
    return result;
  }

  private audit(action: string, target: string, detail?: string): void {
    this.store.logs.audit({ actorId: this.actor.userId, actor: this.actor.name, action, target, address: this.actor.address, detail }, this.now());
  }

  private quota(ownerId: number, kind: QuotaKind): void {
    if (!this.actor.admin) checkQuota(this.store, ownerId, kind);
  }

  /**
   * The owner of something new: the acting user, or for the operator --owner / the first
   * admin. id is null when --owner names an address without an account: the caller creates
   * it (password-less) in the same transaction as the thing it will own.
   */
  private resolveOwner(email: string | undefined): { id: number | null; email: string | null } {
    if (email !== undefined) {
      if (!this.actor.admin) fail("forbidden", "Only an admin can act for another owner");
      const normalized = normalizeEmail(email);
      return { id: this.store.users.byEmail(normalized)?.id ?? null, email: normalized };
    }
    if (this.actor.userId !== null) return { id: this.actor.userId, email: null };
    const admin = this.store.users.firstAdmin();
    if (!admin) fail("invalid_input", "No admin exists yet: pass --owner EMAIL (or create the admin with the setup code first)");
    return { id: admin.id, email: null };
  }

  /** The owner's id, creating the password-less user --owner named when it is new. */
  private ownerId(owner: { id: number | null; email: string | null }): number {
    if (owner.id !== null) return owner.id;
    const u = this.store.users.create({ email: owner.email!, role: "user", passwordHash: null }, this.now());
    this.audit("user.create", `user:${u.id}`, "owner of a new object, no password");
    return u.id;
  }

  private ownerFor(email: string | undefined): number {
    return this.store.transaction(() => this.ownerId(this.resolveOwner(email)));
  }

  // ---- visibility: another user's object is reported exactly like a missing one ----

  private host(id: number): HostRow {
    const h = this.store.hosts.byId(id);
    if (!h || (!this.actor.admin && h.ownerId !== this.actor.userId)) fail("unknown_host", "Hostname not found");
    return h;
  }
  private domain(id: number): DomainRow {
    const d = this.store.domains.byId(id);
    if (!d || !domainVisible(d, this.actor)) fail("unknown_zone", "Domain not found");
    return d;
  }
  private token(id: number): UpdateTokenRow {
    const t = this.store.tokens.byId(id);
    if (!t || (!this.actor.admin && t.userId !== this.actor.userId)) fail("not_found", "Token not found");
    return t;
  }
  /** Whether the actor may see and change a record of a domain they can see. */
  private mayTouchRecord(d: DomainRow, r: Pick<RecordRow, "hostnameId">): boolean {
    if (this.actor.admin || d.kind === "custom") return true;
    if (r.hostnameId === null) return false;
    return this.store.hosts.byId(r.hostnameId)?.ownerId === this.actor.userId;
  }
  private record(d: DomainRow, id: number): RecordRow {
    const r = this.store.records.byId(id);
    if (!r || r.domainId !== d.id || !this.mayTouchRecord(d, r)) fail("not_found", "Record not found");
    return r;
  }

  private views = {
    token: (t: UpdateTokenRow) => tokenView(t, (id) => this.store.hosts.byId(id)?.name ?? null),
    domain: (d: DomainRow) =>
      domainView(
        d,
        this.store.domains.nameservers(d.id).map((n) => n.name),
      ),
  };

  // ---- hostnames ----

  async listHosts(filter: { owner?: string } = {}): Promise<HostView[]> {
    let ownerId = this.actor.admin ? undefined : this.actor.userId!;
    if (filter.owner !== undefined) {
      if (!this.actor.admin) fail("forbidden", "Only an admin can list another owner's hostnames");
      const u = this.store.users.byEmail(filter.owner.trim().toLowerCase());
      if (!u) fail("not_found", "No such user");
      ownerId = u.id;
    }
    // Last seen counts every answer given, history lines still waiting for their batch included.
    this.store.flushUpdates();
    return this.store.hosts.list(ownerId).map((h) => this.hostView(h));
  }

  async getHost(id: number): Promise<HostView> {
    this.store.flushUpdates();
    return this.hostView(this.host(id));
  }

  private hostView(h: HostRow): HostView {
    return hostView(h, this.store.updates.lastSeen(h.id));
  }

  async createHost(input: NewHostInput): Promise<{ hostname: HostView; token: TokenSecretView; createdOwner?: string }> {
    const owner = this.resolveOwner(input.owner);
    let name: string;
    if (input.domainId !== undefined) {
      const d = this.domain(input.domainId);
      const raw = canonicalName(input.name.trim());
      name = normalizeHostname(raw === d.name || raw.endsWith(`.${d.name}`) ? raw : `${raw}.${d.name}`);
    } else {
      name = normalizeHostname(input.name);
    }
    const description = this.description(input.description);
    return this.tx((changes) => {
      const ownerId = this.ownerId(owner);
      this.quota(ownerId, "hostnames");
      const { host, token, value } = createHost({ ...this.deps, changes }, { name, ownerId, ttl: input.ttl });
      if (description) this.store.hosts.update(host.id, { description }, this.now());
      this.audit("hostname.create", `hostname:${host.id} ${host.name}`);
      const created = owner.id === null ? { createdOwner: owner.email! } : {};
      return { hostname: this.hostView(this.store.hosts.byId(host.id)!), token: { ...this.views.token(token), tokenValue: value, tsig: null }, ...created };
    });
  }

  private description(d: string | undefined): string | undefined {
    if (d === undefined) return undefined;
    if (d.length > MAX_DESCRIPTION || CONTROL.test(d))
      fail("invalid_input", `Description must be at most ${MAX_DESCRIPTION} characters without control characters`);
    return d;
  }

  async updateHost(id: number, patch: HostPatch): Promise<HostView> {
    const h = this.host(id);
    if (patch.ttl !== undefined && (!Number.isInteger(patch.ttl) || patch.ttl < MIN_TTL || patch.ttl > MAX_TTL)) {
      fail("invalid_input", `TTL must be between ${MIN_TTL} and ${MAX_TTL}`);
    }
    const description = this.description(patch.description);
    let ipv6Ifid: string | null | undefined;
    if (patch.ipv6InterfaceId !== undefined) ipv6Ifid = patch.ipv6InterfaceId === null ? null : interfaceId(patch.ipv6InterfaceId);
    return this.tx((changes) => {
      const now = this.now();
      this.store.hosts.update(h.id, { ttl: patch.ttl, description, ipv6Ifid }, now);
      if (patch.ttl !== undefined && patch.ttl !== h.ttl) {
        this.store.domains.bumpSerial(h.domainId, now);
        changes.zoneChanged(h.domainId);
      }
      this.audit("hostname.update", `hostname:${h.id} ${h.name}`, JSON.stringify(patch));
      return this.hostView(this.store.hosts.byId(h.id)!);
    });
  }

  async removeHost(id: number): Promise<void> {
    const h = this.host(id);
    this.tx((changes) => {
      removeHost({ ...this.deps, changes }, h);
      this.audit("hostname.delete", `hostname:${h.id} ${h.name}`);
    });
  }

  async hostLog(id: number, limit = HOST_LOG_DEFAULT): Promise<UpdateLogView[]> {
    // The history shows every answer given, lines still waiting for their batch included.
    this.store.flushUpdates();
    if (!Number.isInteger(limit) || limit < 1 || limit > HOST_LOG_MAX) fail("invalid_input", `limit must be between 1 and ${HOST_LOG_MAX}`);
    return this.store.updates.history(this.host(id).id, limit).map(updateLogView);
  }

  // ---- update tokens ----

  async listTokens(): Promise<TokenView[]> {
    return this.store.tokens.list(this.actor.admin ? undefined : this.actor.userId!).map(this.views.token);
  }

  async createToken(input: NewTokenInput): Promise<TokenSecretView> {
    const forms = [input.hostnameId !== undefined, input.hostnameIds !== undefined, input.allHostnames === true].filter(Boolean).length;
    if (forms !== 1) fail("invalid_input", 'Give exactly one of "hostnameId", "hostnameIds" or "allHostnames": true');
    const label = (input.label ?? "").trim();
    if (label.length > 100 || CONTROL.test(label)) fail("invalid_input", "Label must be at most 100 characters without control characters");
    let userId: number;
    let scope: TokenScope;
    let hostIds: number[];
    if (input.allHostnames) {
      if (input.owner === undefined && this.actor.userId !== null) userId = this.actor.userId;
      else userId = this.ownerFor(input.owner);
      scope = "all";
      hostIds = [];
    } else {
      const ids = input.hostnameId !== undefined ? [input.hostnameId] : [...new Set(input.hostnameIds)];
      if (ids.length === 0) fail("invalid_input", "A token must cover at least one hostname");
      const hosts = ids.map((i) => this.host(i));
      userId = hosts[0]!.ownerId;
      if (hosts.some((h) => h.ownerId !== userId)) fail("invalid_input", "All hostnames of one token must have the same owner");
      scope = hosts.length === 1 ? "host" : "set";
      hostIds = hosts.map((h) => h.id);
    }
    const algorithm = input.tsig || input.tsigAlgorithm !== undefined ? tsigAlgorithm(input.tsigAlgorithm) : null;
    const covered = [
      ...(scope === "all" ? this.store.hosts.list(userId).map((h) => h.name) : hostIds.map((i) => this.host(i).name)),
      ...this.customDomainsOf(userId),
    ];
    const policy = input.policy ? applyPolicyInput(null, input.policy, covered, this.now()) : null;
    return this.tx(() => {
      const { token, value } = issueToken(this.deps, { userId, scope, hostIds, label });
      if (policy) this.store.tokens.setPolicy(token.id, policy);
      const key = algorithm ? mintTsigKey(this.deps.platform, token.id, algorithm) : null;
      if (key) this.store.tokens.setTsig(token.id, key);
      this.audit("token.create", `token:${token.id}`, `${scope} ${hostIds.join(",")}${key ? ` tsig ${key.name} ${key.algorithm}` : ""}`);
      return this.secretView(token.id, value, key);
    });
  }

  /** The token as answered once: its value, and its key's secret when it has one. */
  private secretView(id: number, value: string, key: TsigKeySecret | null): TokenSecretView {
    const view = this.views.token(this.store.tokens.byId(id)!);
    return { ...view, tokenValue: value, tsig: key && view.tsig ? { ...view.tsig, secret: key.secret } : null };
  }

  async regenerateToken(id: number): Promise<TokenSecretView> {
    const t = this.token(id);
    return this.tx(() => {
      const { value } = regenerateToken(this.deps, t);
      // The key is a secret of the token too: it is replaced with it (same algorithm, new name).
      const algorithm = t.tsig ? tsigAlgorithm(t.tsig.algorithm) : null;
      const key = algorithm ? mintTsigKey(this.deps.platform, t.id, algorithm) : null;
      if (key) this.store.tokens.setTsig(t.id, key);
      this.audit("token.regenerate", `token:${t.id}`);
      return this.secretView(t.id, value, key);
    });
  }

  /** The owner's custom domains: a token's policy may name records there too (DNS UPDATE). */
  private customDomainsOf(userId: number): string[] {
    return this.store.domains
      .list()
      .filter((d) => d.kind === "custom" && d.ownerId === userId)
      .map((d) => d.name);
  }

  async setTokenPolicy(id: number, input: TokenPolicyInput): Promise<TokenView> {
    const t = this.token(id);
    const covered = [
      ...(t.scope === "all" ? this.store.hosts.list(t.userId).map((h) => h.name) : t.hostIds.map((i) => this.store.hosts.byId(i)?.name ?? "").filter(Boolean)),
      ...this.customDomainsOf(t.userId),
    ];
    const policy = applyPolicyInput(t.policy ?? null, input, covered, this.now());
    return this.tx(() => {
      this.store.tokens.setPolicy(t.id, policy);
      this.audit("token.policy", `token:${t.id}`, JSON.stringify(policy));
      return this.views.token(this.store.tokens.byId(t.id)!);
    });
  }

  async removeToken(id: number): Promise<void> {
    const t = this.token(id);
    this.tx(() => {
      this.store.tokens.revoke(t.id, this.now());
      this.audit("token.delete", `token:${t.id}`);
    });
  }

  // ---- domains ----

  async listDomains(): Promise<DomainView[]> {
    return this.store.domains
      .list()
      .filter((d) => domainVisible(d, this.actor))
      .map(this.views.domain);
  }

  async getDomain(id: number): Promise<DomainView> {
    return this.views.domain(this.domain(id));
  }

  async createDomain(input: NewDomainInput): Promise<DomainView> {
    if (input.nameservers && input.nameservers.length > 0) {
      if (!this.actor.admin) fail("forbidden", "Only an admin can create a built-in zone (leave out nameservers to add your own domain)");
      const nameservers = nameserverSpecs(input.nameservers);
      return this.tx((changes) => {
        for (const ns of nameservers) checkNameserverFree(this.store, ns.name, this.now());
        const d = createZone({ ...this.deps, changes }, { name: input.name, nameservers });
        this.audit("domain.create", `domain:${d.id} ${d.name}`, "builtin");
        return this.views.domain(d);
      });
    }
    const ownerId = this.ownerFor(input.owner);
    const name = checkCustomDomainName(this.store, input.name, { admin: this.actor.admin });
    const nameservers = serverNameservers(this.store);
    if (nameservers.length === 0) fail("invalid_input", "This server has no nameservers yet: an admin must create a built-in zone first");
    return this.tx((changes) => {
      this.quota(ownerId, "domains");
      const d = createZone({ ...this.deps, changes }, { name, nameservers, kind: "custom", ownerId });
      this.audit("domain.create", `domain:${d.id} ${d.name}`, "custom");
      return this.views.domain(d);
    });
  }

  async removeDomain(id: number): Promise<void> {
    const d = this.domain(id);
    if (!this.actor.admin && d.ownerId !== this.actor.userId) fail("forbidden", "Only an admin can remove a built-in zone");
    this.tx((changes) => {
      this.store.domains.remove(d.id);
      // Tokens left covering nothing (their hostnames went with the domain) go too.
      this.store.tokens.removeOrphans();
      changes.zoneChanged(d.id);
      this.audit("domain.delete", `domain:${d.id} ${d.name}`);
    });
  }

  async setNameservers(id: number, specs: NonNullable<NewDomainInput["nameservers"]>): Promise<DomainView> {
    if (!this.actor.admin) fail("forbidden", "Only an admin can change a zone's nameservers");
    const d = this.domain(id);
    if (d.kind !== "builtin") fail("invalid_input", `${d.name} is a custom domain: its nameservers are this server's`);
    const { nameservers } = validateZone({ name: d.name, nameservers: nameserverSpecs(specs) });
    return this.tx((changes) => {
      const now = this.now();
      const current = new Set(this.store.domains.nameservers(d.id).map((n) => n.name));
      for (const ns of nameservers) if (!current.has(ns.name)) checkNameserverFree(this.store, ns.name, now);
      this.store.domains.setNameservers(d.id, nameservers, now);
      this.store.domains.bumpSerial(d.id, now);
      changes.zoneChanged(d.id);
      this.audit("domain.nameservers", `domain:${d.id} ${d.name}`, nameservers.map((n) => n.name).join(" "));
      return this.views.domain(this.store.domains.byId(d.id)!);
    });
  }

  async delegationStatus(id: number): Promise<DelegationView> {
    const d = this.domain(id);
    return this.checkDelegation(d);
  }

  private signing(): ZoneSigningPort {
    const port = this.deps.dnssec;
    if (!port) fail("invalid_input", "DNSSEC settings are not available here");
    return port;
  }

  async setDnssec(id: number, on: boolean, algorithm?: "ecdsap256sha256" | "ed25519", immediately = false): Promise<DnssecView> {
    const d = this.domain(id);
    if (d.kind === "builtin" && !this.actor.admin) fail("forbidden", "Only an admin can change a built-in zone's signing");
    const port = this.signing();
    return this.tx((changes) => {
      const v = port.set(d.id, d.name, on, algorithm, this.now(), immediately);
      changes.zoneChanged(d.id);
      this.audit(
        "domain.dnssec",
        `domain:${d.id} ${d.name}`,
        v.withdrawing ? "withdrawing" : on ? `on${v.algorithm ? ` algorithm ${v.algorithm} key ${v.keyTag}` : ""}` : "off",
      );
      return v;
    });
  }

  async dnssecDs(id: number): Promise<DsView> {
    const d = this.domain(id);
    const port = this.signing();
    // The first ask makes the key: the zone then reloads, signed with it.
    return this.tx((changes) => {
      const ds = port.ds(d.id, d.name, this.now());
      changes.zoneChanged(d.id);
      return ds;
    });
  }

  private async checkDelegation(d: DomainRow): Promise<DelegationView> {
    const lookup = this.deps.delegation;
    if (!lookup) fail("resolver_failed", "No resolver is configured for delegation checks");
    let found: string[];
    try {
      found = await lookup.nameservers(d.name);
    } catch (e) {
      fail("resolver_failed", `The delegation check could not be completed: ${(e as Error).message ?? e}`);
    }
    const expected = this.store.domains.nameservers(d.id).map((n) => n.name);
    const view: DelegationView = { ...judgeDelegation(d.name, expected, found), verified: this.store.domains.byId(d.id)?.verified ?? false };
    // The DS only means something once the parent delegates here.
    const port = this.deps.dnssec;
    if (view.delegated && port && lookup.ds) {
      try {
        const ours = port.expectedDs(d.id, d.name);
        view.dnssec = judgeDnssec(d.name, ours.ds, await lookup.ds(d.name), ours.withdrawing);
      } catch {
        // The NS answer stands; the DS part is left out when the resolver cannot say.
      }
    }
    return view;
  }

  async verifyDomain(id: number): Promise<{ domain: DomainView; delegation: DelegationView }> {
    const d = this.domain(id);
    if (!this.actor.admin && d.ownerId !== this.actor.userId) fail("forbidden", "Built-in zones need no verification");
    const status = await this.checkDelegation(d);
    if (!status.delegated) {
      const listed = status.found.length ? status.found.join(", ") : "none";
      fail("not_delegated", `${d.name} is not delegated to ${status.expected.join(", ")} (the parent lists: ${listed})`);
    }
    // Re-read after the await: the domain may have gone meanwhile.
    const current = this.domain(id);
    if (!current.verified) {
      this.tx((changes) => {
        const now = this.now();
        this.store.domains.setVerified(current.id, true, now);
        this.store.domains.bumpSerial(current.id, now);
        changes.zoneChanged(current.id);
        this.audit("domain.verify", `domain:${current.id} ${current.name}`);
      });
    }
    return { domain: this.views.domain(this.domain(id)), delegation: { ...status, verified: true } };
  }

  // ---- records ----

  async listRecords(domainId: number): Promise<RecordView[]> {
    const d = this.domain(domainId);
    return this.store.records
      .list(d.id, this.now())
      .filter((r) => this.mayTouchRecord(d, r))
      .map(recordView);
  }

  /** Everything a record must satisfy before it is written, for create and edit alike. */
  private placeRecord(d: DomainRow, type: ReturnType<typeof recordType>, name: string, content: string, selfId: number | null): HostRow | null {
    const owningZone = findZone(
      name,
      this.store.domains.list().map((z) => z.name),
    );
    if (owningZone !== d.name) fail("outside_zone", `${name} belongs to the domain ${owningZone}`);
    const holder = enclosingHost(this.store, d, name);
    if (!this.actor.admin && d.kind === "builtin") {
      if (!holder || holder.ownerId !== this.actor.userId) {
        fail("forbidden", `In the shared zone ${d.name} you can add records only at or below your own hostnames`);
      }
      if (type === "NS") fail("forbidden", "NS records in a shared zone can only be added by an admin");
    }
    checkRecordPlace(this.store, d, name, type);
    checkPlacement({
      zone: d.name,
      name,
      type,
      content,
      existing: this.store.records.atName(d.id, name, this.now()).filter((r) => r.id !== selfId),
      hostnameHere: this.store.hosts.byName(name) !== null,
      nameservers: this.store.domains.nameservers(d.id).map((n) => n.name),
    });
    return holder;
  }

  /** Whose quota a record counts against: the custom domain's owner, else the hostname's. */
  private recordOwner(d: DomainRow, holder: HostRow | null): number | null {
    return d.kind === "custom" ? d.ownerId : (holder?.ownerId ?? null);
  }

  async createRecord(domainId: number, input: NewRecordInput): Promise<RecordView> {
    return this.createRecordNow(domainId, input);
  }

  /**
   * createRecord for callers inside a transaction of their own (DNS UPDATE): the same rules,
   * synchronously; DNS is told through this instance's ChangeSink.
   */
  createRecordNow(domainId: number, input: NewRecordInput): RecordView {
    const d = this.domain(domainId);
    const type = recordType(input.type);
    const name = recordName(input.name, d.name);
    const content = recordContent(type, input.content, input.priority);
    const ttl = recordTtl(input.ttl);
    return this.tx((changes) => {
      const holder = this.placeRecord(d, type, name, content, null);
      const owner = this.recordOwner(d, holder);
      if (owner !== null) this.quota(owner, "records");
      const now = this.now();
      const id = this.store.records.create({ domainId: d.id, name, type, ttl, content, hostnameId: holder?.id ?? null }, now);
      this.store.domains.bumpSerial(d.id, now);
      changes.zoneChanged(d.id);
      this.audit("record.create", `record:${id} ${name} ${type}`, content);
      return recordView(this.store.records.byId(id)!);
    });
  }

  async updateRecord(domainId: number, recordId: number, patch: RecordPatch): Promise<RecordView> {
    const d = this.domain(domainId);
    const r = this.record(d, recordId);
    const type = recordType(r.type);
    const name = patch.name !== undefined ? recordName(patch.name, d.name) : r.name;
    const shown = presentContent(r.type, r.content);
    const content =
      patch.content !== undefined || patch.priority !== undefined
        ? recordContent(type, patch.content ?? shown.content, patch.priority !== undefined ? patch.priority : shown.priority)
        : r.content;
    const ttl = patch.ttl !== undefined ? recordTtl(patch.ttl) : r.ttl;
    return this.tx((changes) => {
      const holder = this.placeRecord(d, type, name, content, r.id);
      const now = this.now();
      this.store.records.update(r.id, { name, ttl, content, hostnameId: holder?.id ?? null }, now);
      this.store.domains.bumpSerial(d.id, now);
      changes.zoneChanged(d.id);
      this.audit("record.update", `record:${r.id} ${name} ${type}`, content);
      return recordView(this.store.records.byId(r.id)!);
    });
  }

  async removeRecord(domainId: number, recordId: number): Promise<void> {
    this.removeRecordNow(domainId, recordId);
  }

  /** removeRecord, synchronously (see createRecordNow). */
  removeRecordNow(domainId: number, recordId: number): void {
    const d = this.domain(domainId);
    const r = this.record(d, recordId);
    this.tx((changes) => {
      this.store.records.remove(r.id);
      this.store.domains.bumpSerial(d.id, this.now());
      changes.zoneChanged(d.id);
      this.audit("record.delete", `record:${r.id} ${r.name} ${r.type}`, r.content);
    });
  }
}

/** One rule for interface ids, shared with `ipkeep host set --ipv6-ifid` (core/update.ts). */
const interfaceId = normalizeInterfaceId;
