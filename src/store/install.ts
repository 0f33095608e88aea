/**
 * Install codes, activations, enrolled nodes and the install API's rate-limit events.
 * Plain reads and writes; which transition is allowed is core/install.ts's question.
 */
import type { ActivationRow, CodeState, InstallCodeRow, InstallRepo, NodeRow, NodeRole, NodeStatus } from "../core/install";
import type { Driver, SqlValue } from "./driver";
import { TSIG_CONTEXT } from "./sealed";
import { isSealed, type SecretBox } from "./secret-box";

const CODE_COLS = `id, hint, role, hostname, state, issued_by AS issuedBy, issued_from AS issuedFrom, issued_at AS issuedAt,
  expires_at AS expiresAt, machine_id AS machineId, ssh_fingerprint AS sshFingerprint,
  precheck_token_hash AS precheckTokenHash, precheck_expires_at AS precheckExpiresAt, revoked_at AS revokedAt,
  consumed_at AS consumedAt`;
const ACT_COLS = `id, code_id AS codeId, install_token_hash AS installTokenHash, install_token_expires_at AS installTokenExpiresAt,
  install_token_used_at AS installTokenUsedAt, hostname, public_ip AS publicIp, machine_id AS machineId,
  ssh_fingerprint AS sshFingerprint, source, created_at AS createdAt, confirmed_at AS confirmedAt, released_at AS releasedAt`;
const NODE_COLS = `id, role, name, machine_id AS machineId, ssh_fingerprint AS sshFingerprint, public_ip AS publicIp,
  activation_id AS activationId, credential_hash AS credentialHash, tsig_name AS tsigName, tsig_secret AS tsigSecret,
  hostname_id AS hostnameId, update_token_id AS updateTokenId, dns_port AS dnsPort, status, version, created_at AS createdAt, last_checkin_at AS lastCheckinAt, revoked_at AS revokedAt`;

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export class InstallTables implements InstallRepo {
  constructor(
    private db: Driver,
    private box: SecretBox,
  ) {}

  /** The TSIG secret is stored sealed (store/sealed.ts); one that does not open reads as null. */
  private node(r: NodeRow | null): NodeRow | null {
    if (r && isSealed(r.tsigSecret)) r.tsigSecret = this.box.tryOpen(r.tsigSecret, TSIG_CONTEXT);
    return r;
  }
  private seal(secret: string | null | undefined): string | null | undefined {
    return secret ? this.box.seal(secret, TSIG_CONTEXT) : secret;
  }

  private patch(table: string, key: string, id: SqlValue, fields: Record<string, unknown>): void {
    const keys = Object.keys(fields).filter((k) => fields[k] !== undefined);
    if (keys.length === 0) return;
    const sql = `UPDATE ${table} SET ${keys.map((k) => `${snake(k)} = ?`).join(", ")} WHERE ${key} = ?`;
    this.db.prepare(sql).run(...keys.map((k) => fields[k] as SqlValue), id);
  }

  createCode(
    c: { hash: string; hint: string; role: NodeRole; hostname: string | null; issuedBy: number | null; issuedFrom: string | null; expiresAt: number },
    now: number,
  ): InstallCodeRow {
    const r = this.db
      .prepare(
        `INSERT INTO install_codes (code_hash, hint, role, hostname, state, issued_by, issued_from, issued_at, expires_at)
         VALUES (?, ?, ?, ?, 'issued', ?, ?, ?, ?)`,
      )
      .run(c.hash, c.hint, c.role, c.hostname, c.issuedBy, c.issuedFrom, now, c.expiresAt);
    return this.codeById(r.lastInsertRowid)!;
  }
  codeByHash(hash: string): InstallCodeRow | null {
    return this.db.prepare(`SELECT ${CODE_COLS} FROM install_codes WHERE code_hash = ?`).get<InstallCodeRow>(hash);
  }
  codeById(id: number): InstallCodeRow | null {
    return this.db.prepare(`SELECT ${CODE_COLS} FROM install_codes WHERE id = ?`).get<InstallCodeRow>(id);
  }
  listCodes(): InstallCodeRow[] {
    return this.db.prepare(`SELECT ${CODE_COLS} FROM install_codes ORDER BY id DESC`).all<InstallCodeRow>();
  }
  updateCode(id: number, fields: Partial<Omit<InstallCodeRow, "id">> & { state?: CodeState }): void {
    this.patch("install_codes", "id", id, fields);
  }

  createActivation(a: Omit<ActivationRow, "installTokenUsedAt" | "confirmedAt" | "releasedAt">): ActivationRow {
    this.db
      .prepare(
        `INSERT INTO activations (id, code_id, install_token_hash, install_token_expires_at, hostname, public_ip, machine_id,
           ssh_fingerprint, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(a.id, a.codeId, a.installTokenHash, a.installTokenExpiresAt, a.hostname, a.publicIp, a.machineId, a.sshFingerprint, a.source, a.createdAt);
    return this.activationById(a.id)!;
  }
  activationById(id: string): ActivationRow | null {
    return this.db.prepare(`SELECT ${ACT_COLS} FROM activations WHERE id = ?`).get<ActivationRow>(id);
  }
  /** The activation currently holding a code (not released), if any. */
  openActivation(codeId: number): ActivationRow | null {
    return this.db
      .prepare(`SELECT ${ACT_COLS} FROM activations WHERE code_id = ? AND released_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT 1`)
      .get<ActivationRow>(codeId);
  }
  updateActivation(id: string, fields: Partial<Omit<ActivationRow, "id">>): void {
    this.patch("activations", "id", id, fields);
  }

  createNode(n: Omit<NodeRow, "id" | "version" | "lastCheckinAt" | "revokedAt">): NodeRow {
    const r = this.db
      .prepare(
        `INSERT INTO nodes (role, name, machine_id, ssh_fingerprint, public_ip, activation_id, credential_hash, tsig_name, tsig_secret,
           hostname_id, update_token_id, dns_port, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        n.role,
        n.name,
        n.machineId,
        n.sshFingerprint,
        n.publicIp,
        n.activationId,
        n.credentialHash,
        n.tsigName,
        this.seal(n.tsigSecret) ?? null,
        n.hostnameId,
        n.updateTokenId,
        n.dnsPort,
        n.status,
        n.createdAt,
      );
    return this.nodeById(r.lastInsertRowid)!;
  }
  nodeById(id: number): NodeRow | null {
    return this.node(this.db.prepare(`SELECT ${NODE_COLS} FROM nodes WHERE id = ?`).get<NodeRow>(id));
  }
  nodeByCredentialHash(hash: string): NodeRow | null {
    return this.node(this.db.prepare(`SELECT ${NODE_COLS} FROM nodes WHERE credential_hash = ?`).get<NodeRow>(hash));
  }
  nodeByActivation(activationId: string): NodeRow | null {
    return this.node(this.db.prepare(`SELECT ${NODE_COLS} FROM nodes WHERE activation_id = ?`).get<NodeRow>(activationId));
  }
  listNodes(status?: NodeStatus): NodeRow[] {
    const rows = status
      ? this.db.prepare(`SELECT ${NODE_COLS} FROM nodes WHERE status = ? ORDER BY id`).all<NodeRow>(status)
      : this.db.prepare(`SELECT ${NODE_COLS} FROM nodes ORDER BY id`).all<NodeRow>();
    return rows.map((r) => this.node(r)!);
  }
  updateNode(id: number, fields: Partial<Omit<NodeRow, "id">>): void {
    this.patch("nodes", "id", id, "tsigSecret" in fields ? { ...fields, tsigSecret: this.seal(fields.tsigSecret) } : fields);
  }

  addNameserver(domainId: number, ns: { name: string; ipv4: string | null; ipv6: string | null }): boolean {
    const exists = this.db.prepare("SELECT 1 AS x FROM domain_nameservers WHERE domain_id = ? AND name = ?").get(domainId, ns.name);
    if (exists) return false;
    const pos = this.db.prepare("SELECT COALESCE(MAX(position), -1) + 1 AS p FROM domain_nameservers WHERE domain_id = ?").get<{ p: number }>(domainId)!.p;
    this.db
      .prepare("INSERT INTO domain_nameservers (domain_id, name, ipv4, ipv6, position) VALUES (?, ?, ?, ?, ?)")
      .run(domainId, ns.name, ns.ipv4, ns.ipv6, pos);
    return true;
  }
  removeNameserver(domainId: number, name: string): boolean {
    return this.db.prepare("DELETE FROM domain_nameservers WHERE domain_id = ? AND name = ?").run(domainId, name).changes > 0;
  }

  countEvents(bucket: string, key: string, since: number): number {
    return this.db.prepare("SELECT COUNT(*) AS n FROM install_rate_events WHERE bucket = ? AND key = ? AND at > ?").get<{ n: number }>(bucket, key, since)!.n;
  }
  addEvent(bucket: string, key: string, at: number): void {
    this.db.prepare("INSERT INTO install_rate_events (bucket, key, at) VALUES (?, ?, ?)").run(bucket, key, at);
  }
  pruneEvents(before: number): void {
    this.db.prepare("DELETE FROM install_rate_events WHERE at <= ?").run(before);
  }
}
