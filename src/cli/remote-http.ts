/**
 * Resources over the management API: the CLI's remote mode (`--server URL`, API key from
 * IPKEEP_API_KEY). Each method is one request to the route that LocalResources serves on the
 * server, so both modes run the same rules there; refusals come back as the same IpkeepError.
 */
import { ERRORS, type ErrorCode, IpkeepError } from "../core/errors";
import type { TokenPolicyInput } from "../core/token-policy";
import type { DelegationView, HostPatch, NewDomainInput, NewHostInput, NewRecordInput, NewTokenInput, RecordPatch, Resources } from "../core/resources";
import type { DomainView, HostView, RecordView, TokenSecretView, TokenView, UpdateLogView } from "../core/views";
import type { DnssecView, DsView } from "../core/ports";

type Fetch = (input: string, init: RequestInit) => Promise<Response>;

// The API answers in well under a second; a minute means the server or the path is gone.
const TIMEOUT_MS = 60_000;

const BY_STATUS: Record<number, ErrorCode> = {
  400: "invalid_input",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "too_large",
  429: "rate_limited",
};

export class HttpResources implements Resources {
  private base: string;
  constructor(
    server: string,
    private apiKey: string,
    private fetchImpl: Fetch = fetch,
  ) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new IpkeepError("invalid_input", `--server must be a URL such as https://ddns.example.com (got "${server.slice(0, 80)}")`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new IpkeepError("invalid_input", "--server must be an http(s) URL");
    this.base = url.href.replace(/\/+$/, "");
  }

  /** The server's base URL, for links printed to the user. */
  get url(): string {
    return this.base;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw new IpkeepError("internal", `Cannot reach ${this.base}: ${(e as Error)?.message ?? e}`);
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!res.ok) {
      const b = (parsed ?? {}) as { error?: unknown; code?: unknown };
      const code = typeof b.code === "string" && b.code in ERRORS ? (b.code as ErrorCode) : (BY_STATUS[res.status] ?? "internal");
      const message = typeof b.error === "string" ? b.error : `${method} ${path}: HTTP ${res.status}`;
      throw new IpkeepError(code, message);
    }
    if (parsed === null && text) throw new IpkeepError("internal", `${method} ${path}: the server did not answer JSON`);
    return parsed as T;
  }

  private ownerUnsupported(owner: string | undefined): void {
    if (owner !== undefined)
      throw new IpkeepError("invalid_input", "--owner works only on the local database; with --server the API key's user owns what is created");
  }

  async listHosts(filter: { owner?: string } = {}): Promise<HostView[]> {
    this.ownerUnsupported(filter.owner);
    return (await this.call<{ hostnames: HostView[] }>("GET", "/api/hostnames")).hostnames;
  }
  async getHost(id: number): Promise<HostView> {
    return (await this.call<{ hostname: HostView }>("GET", `/api/hostnames/${id}`)).hostname;
  }
  async createHost(input: NewHostInput) {
    this.ownerUnsupported(input.owner);
    const { owner: _owner, ...body } = input;
    return this.call<{ hostname: HostView; token: TokenSecretView }>("POST", "/api/hostnames", body);
  }
  async updateHost(id: number, patch: HostPatch): Promise<HostView> {
    return (await this.call<{ hostname: HostView }>("PATCH", `/api/hostnames/${id}`, patch)).hostname;
  }
  async removeHost(id: number): Promise<void> {
    await this.call("DELETE", `/api/hostnames/${id}`);
  }
  async hostLog(id: number, limit?: number): Promise<UpdateLogView[]> {
    const q = limit === undefined ? "" : `?limit=${limit}`;
    return (await this.call<{ log: UpdateLogView[] }>("GET", `/api/hostnames/${id}/log${q}`)).log;
  }

  async listTokens(): Promise<TokenView[]> {
    return (await this.call<{ tokens: TokenView[] }>("GET", "/api/tokens")).tokens;
  }
  async createToken(input: NewTokenInput): Promise<TokenSecretView> {
    this.ownerUnsupported(input.owner);
    const { owner: _owner, ...body } = input;
    return (await this.call<{ token: TokenSecretView }>("POST", "/api/tokens", body)).token;
  }
  async regenerateToken(id: number): Promise<TokenSecretView> {
    return (await this.call<{ token: TokenSecretView }>("POST", `/api/tokens/${id}/regenerate`)).token;
  }
  async setTokenPolicy(id: number, input: TokenPolicyInput): Promise<TokenView> {
    return (await this.call<{ token: TokenView }>("PATCH", `/api/tokens/${id}`, { policy: input })).token;
  }
  async removeToken(id: number): Promise<void> {
    await this.call("DELETE", `/api/tokens/${id}`);
  }

  async listDomains(): Promise<DomainView[]> {
    return (await this.call<{ domains: DomainView[] }>("GET", "/api/domains")).domains;
  }
  async getDomain(id: number): Promise<DomainView> {
    return (await this.call<{ domain: DomainView }>("GET", `/api/domains/${id}`)).domain;
  }
  async createDomain(input: NewDomainInput): Promise<DomainView> {
    this.ownerUnsupported(input.owner);
    const { owner: _owner, ...body } = input;
    return (await this.call<{ domain: DomainView }>("POST", "/api/domains", body)).domain;
  }
  async setNameservers(id: number, nameservers: NonNullable<NewDomainInput["nameservers"]>): Promise<DomainView> {
    return (await this.call<{ domain: DomainView }>("PUT", `/api/domains/${id}/nameservers`, { nameservers })).domain;
  }
  async removeDomain(id: number): Promise<void> {
    await this.call("DELETE", `/api/domains/${id}`);
  }
  async delegationStatus(id: number): Promise<DelegationView> {
    return (await this.call<{ delegation: DelegationView }>("GET", `/api/domains/${id}/delegation-status`)).delegation;
  }
  async setDnssec(id: number, on: boolean, algorithm?: "ecdsap256sha256" | "ed25519", immediately = false): Promise<DnssecView> {
    return (
      await this.call<{ dnssec: DnssecView }>("PUT", `/api/domains/${id}/dnssec`, {
        enabled: on,
        ...(algorithm ? { algorithm } : {}),
        ...(immediately ? { now: true } : {}),
      })
    ).dnssec;
  }
  async dnssecDs(id: number): Promise<DsView> {
    return (await this.call<{ ds: DsView }>("GET", `/api/domains/${id}/ds`)).ds;
  }
  async verifyDomain(id: number) {
    return this.call<{ domain: DomainView; delegation: DelegationView }>("POST", `/api/domains/${id}/verify`);
  }

  async listRecords(domainId: number): Promise<RecordView[]> {
    return (await this.call<{ records: RecordView[] }>("GET", `/api/domains/${domainId}/records`)).records;
  }
  async createRecord(domainId: number, input: NewRecordInput): Promise<RecordView> {
    return (await this.call<{ record: RecordView }>("POST", `/api/domains/${domainId}/records`, input)).record;
  }
  async updateRecord(domainId: number, recordId: number, patch: RecordPatch): Promise<RecordView> {
    return (await this.call<{ record: RecordView }>("PATCH", `/api/domains/${domainId}/records/${recordId}`, patch)).record;
  }
  async removeRecord(domainId: number, recordId: number): Promise<void> {
    await this.call("DELETE", `/api/domains/${domainId}/records/${recordId}`);
  }
}
