/**
 * `ipkeep agent`: keeps this machine's hostname at its public addresses.
 *   - registers with the primary at start (POST /register);
 *   - every poll: learns the public IPv4 and IPv6 by asking the primary's what-is-my-IP
 *     endpoint over each family (or a configured URL per family), falling back to the
 *     address the primary saw at check-in and, for IPv6, a global address of a local
 *     interface; sends /nic/update for a family only when its address changed since the
 *     last accepted update;
 *   - checks in (POST /checkin) every checkin_interval_seconds;
 *   - on errors backs off exponentially (5 s doubling to 5 min), and resets on success.
 * The last accepted addresses are kept in STATE/agent-state.json so a restart sends nothing
 * when nothing changed.
 */
import http from "node:http";
import https from "node:https";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { parseIP } from "../core/addresses";
import { log, redact } from "../log";
import type { NodeConfig } from "./config";

export const BACKOFF_START_MS = 5_000;
export const BACKOFF_MAX_MS = 300_000;
const DEFAULT_POLL_SECONDS = 60;
const REQUEST_TIMEOUT_MS = 10_000;

export interface AgentState {
  ipv4: string | null;
  ipv6: string | null;
}

export interface AgentDeps {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  /** GET over one address family only (the what-is-my-IP answer then is that family's address). */
  getOverFamily: (url: string, family: 4 | 6) => Promise<string | null>;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  interfaces: () => ReturnType<typeof networkInterfaces>;
  version: string;
}

export const defaultAgentDeps = (version: string): AgentDeps => ({
  fetch: (input, init) => fetch(input, init),
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      });
    }),
  interfaces: networkInterfaces,
  getOverFamily,
  version,
});

/** node:http(s) with `family`: fetch() cannot be told which family to connect over. */
export function getOverFamily(url: string, family: 4 | 6): Promise<string | null> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return resolve(null);
    }
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.get(u, { family, timeout: REQUEST_TIMEOUT_MS, headers: { accept: "text/plain" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        if (body.length < 4096) body += c;
      });
      res.on("end", () => resolve(res.statusCode === 200 ? body : null));
      res.on("error", () => resolve(null));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(null));
  });
}

/** A global-unicast IPv6 (2000::/3) of a local interface: home networks hand these out directly. */
export function interfaceIPv6(ifaces: ReturnType<typeof networkInterfaces>): string | null {
  for (const list of Object.values(ifaces)) {
    for (const a of list ?? []) {
      if (a.family === "IPv6" && !a.internal && /^[23]/.test(a.address)) return parseIP(a.address)?.address ?? null;
    }
  }
  return null;
}

/** The address in a what-is-my-IP answer: plain text, or JSON with ip/address. */
export function addressIn(body: string): string | null {
  const t = body.trim();
  try {
    const j = JSON.parse(t) as Record<string, unknown>;
    const data = (j.data ?? j) as Record<string, unknown>;
    for (const k of ["ip", "address", "ipv4", "ipv6"]) if (typeof data[k] === "string") return parseIP(data[k] as string)?.address ?? null;
  } catch {
    /* plain text */
  }
  return parseIP(t.split(/\s+/)[0] ?? "")?.address ?? null;
}

export class Agent {
  state: AgentState;
  private seenAddress: string | null = null;
  private nextCheckin = 0;
  failures = 0;

  constructor(
    private c: NodeConfig,
    private stateDir: string,
    private deps: AgentDeps,
  ) {
    this.state = { ipv4: null, ipv6: null };
    const f = join(stateDir, "agent-state.json");
    if (existsSync(f)) {
      try {
        this.state = { ...this.state, ...(JSON.parse(readFileSync(f, "utf8")) as AgentState) };
      } catch {
        /* a damaged state file only costs one update */
      }
    }
  }

  private saveState(): void {
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    const f = join(this.stateDir, "agent-state.json");
    writeFileSync(`${f}.tmp`, JSON.stringify(this.state), { mode: 0o600 });
    renameSync(`${f}.tmp`, f);
  }

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    return this.deps.fetch(`${this.c.primary_url}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  }

  private async nodeCall(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
    const r = await this.call(path, {
      method,
      headers: { authorization: `Bearer ${this.c.node_token}`, "content-type": "application/json", "user-agent": `ipkeep-agent/${this.deps.version}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const j = (await r.json().catch(() => ({}))) as { data?: Record<string, any>; error?: { code: string; message: string } };
    if (!r.ok) throw new Error(`${method} ${path}: ${j.error?.code ?? r.status} ${j.error?.message ?? ""}`.trim());
    return j.data ?? {};
  }

  async register(): Promise<void> {
    const d = await this.nodeCall("POST", "/register", { version: this.deps.version });
    this.seenAddress = d.seen_address ?? null;
    if (typeof d.checkin_interval_seconds === "number") this.c.checkin_interval_seconds = d.checkin_interval_seconds;
    this.nextCheckin = this.deps.now() + this.c.checkin_interval_seconds * 1000;
    log("info", "agent registered", { hostname: this.c.hostname, primary: this.c.primary_url });
  }

  private async fromUrl(url: string): Promise<string | null> {
    const r = await this.deps.fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), headers: { accept: "text/plain" } });
    if (!r.ok) return null;
    return addressIn(await r.text());
  }

  /** One family's public address: its configured URL, else the primary's endpoint reached over that family. */
  private async publicAddress(family: 4 | 6): Promise<string | null> {
    const configured = family === 4 ? this.c.myip4_url : this.c.myip6_url;
    if (configured === "off") return null;
    const body = configured ? await this.fromUrl(configured).catch(() => null) : await this.deps.getOverFamily(`${this.c.primary_url}/api/myip`, family);
    const a = body === null ? null : configured ? body : addressIn(body);
    return a && parseIP(a)?.family === family ? parseIP(a)!.address : null;
  }

  async detect(): Promise<AgentState> {
    let ipv4 = await this.publicAddress(4);
    let ipv6 = await this.publicAddress(6);
    // Fallbacks: the address the primary saw at check-in, and a global address of an interface.
    const seen = this.seenAddress ? parseIP(this.seenAddress) : null;
    if (this.c.myip4_url !== "off") ipv4 ??= seen?.family === 4 ? seen.address : null;
    if (this.c.myip6_url !== "off") ipv6 ??= (seen?.family === 6 ? seen.address : null) ?? interfaceIPv6(this.deps.interfaces());
    return { ipv4, ipv6 };
  }

  private async update(address: string): Promise<void> {
    const token = this.c.update_token;
    if (!token) throw new Error("no update token in the agent configuration");
    const url = `${this.c.primary_url}/nic/update?hostname=${encodeURIComponent(this.c.hostname)}&myip=${encodeURIComponent(address)}`;
    const r = await this.call(url.slice(this.c.primary_url.length), {
      headers: { authorization: `Basic ${btoa(`${this.c.hostname}:${token}`)}`, "user-agent": `ipkeep-agent/${this.deps.version}` },
    });
    const text = (await r.text()).trim();
    if (!/^(good|nochg)\b/.test(text)) throw new Error(`update refused: ${redact(text).slice(0, 80)}`);
    log("info", "address updated", { hostname: this.c.hostname, address, result: text.split(" ")[0] });
  }

  /** One round: detect, update what changed, check in when due. Throws on failure. */
  async cycle(force = false): Promise<void> {
    const found = await this.detect();
    for (const fam of ["ipv4", "ipv6"] as const) {
      const addr = found[fam];
      if (addr && addr !== this.state[fam]) {
        await this.update(addr);
        this.state[fam] = addr;
        this.saveState();
      }
    }
    if (force || this.deps.now() >= this.nextCheckin) {
      const d = await this.nodeCall("POST", "/checkin", { version: this.deps.version, ipv4: found.ipv4, ipv6: found.ipv6 });
      this.seenAddress = d.seen_address ?? this.seenAddress;
      this.nextCheckin = this.deps.now() + (d.next_checkin_seconds ?? this.c.checkin_interval_seconds) * 1000;
    }
  }

  /** The delay before the next round: the poll interval, or the back-off after failures. */
  delayAfter(ok: boolean): number {
    if (ok) {
      this.failures = 0;
      return (this.c.poll_seconds ?? DEFAULT_POLL_SECONDS) * 1000;
    }
    this.failures++;
    return Math.min(BACKOFF_START_MS * 2 ** (this.failures - 1), BACKOFF_MAX_MS);
  }

  async run(signal: AbortSignal): Promise<void> {
    let registered = false;
    let first = true;
    while (!signal.aborted) {
      let ok = true;
      try {
        if (!registered) {
          await this.register();
          registered = true;
        }
        await this.cycle(first);
        first = false;
      } catch (e) {
        ok = false;
        log("warn", "agent round failed", { error: redact((e as Error).message), retryIn: this.delayAfter(false) / 1000 });
        this.failures--; // delayAfter below counts it
      }
      await this.deps.sleep(this.delayAfter(ok), signal);
    }
  }
}
