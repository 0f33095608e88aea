/**
 * This server's own certificate from an ACME CA (acme-client), for the name of `--url`:
 * DNS-01 answered by its own nameservers when the name is in a served zone, HTTP-01 on port 80
 * otherwise (core/acme-cert.ts decides which, and when to renew).
 *
 * The account key and the certificate with its key are kept in the database in the data
 * directory, sealed with the directory's key file (store/sealed.ts), so they survive restarts
 * and travel with `backup`/`restore`. A new certificate is handed to onCertificate, which
 * swaps it into the HTTPS listeners by their reload path (no connection dropped).
 * Every ACME request has its own timeout; failures are retried with backoff and logged in
 * plain words, while HTTP keeps serving.
 */
import { Agent } from "node:https";
import { rootCertificates } from "node:tls";
import * as acme from "acme-client";
import axios, { type AxiosAdapter, type InternalAxiosRequestConfig } from "axios";
import { ACME_CALL_TIMEOUT_MS, cleanupOwnChallenge, type OwnChallengeDeps, presentOwnChallenge, renewAt, retryDelay, serialReached } from "../core/acme-cert";
import type { DomainRow } from "../core/ports";
import { log } from "../log";
import type { Store } from "../store";
import { ariCertId, ariRenewAt, parseRenewalInfo } from "./ari";
import { carriesTxt, type Probe, soaSerial } from "./dns-probe";

/** How often the CA's renewal information (ARI) is asked again. */
const ARI_POLL_MS = 6 * 3600 * 1000;

export const ACCOUNT_SETTING = "acme_account";
export const CERTIFICATE_SETTING = "acme_certificate";

export interface StoredCertificate {
  name: string;
  directory: string;
  cert: string;
  key: string;
  /** Epoch ms. */
  notBefore: number;
  notAfter: number;
}

interface StoredAccount {
  directory: string;
  key: string;
  url: string | null;
}

/** The stored certificate, or null (none, damaged, or sealed with another key). */
export function storedCertificate(store: Pick<Store, "settings">): StoredCertificate | null {
  const raw = store.settings.get(CERTIFICATE_SETTING);
  if (!raw) return null;
  try {
    const c = JSON.parse(raw) as StoredCertificate;
    return typeof c.cert === "string" && typeof c.key === "string" && Number.isFinite(c.notAfter) ? c : null;
  } catch {
    return null;
  }
}

export interface CertManagerOptions {
  name: string;
  directory: string;
  email: string | null;
  /** Extra trust roots (PEM) for talking to the directory (--acme-ca). */
  ca: string | null;
  http01?: Map<string, string>;
  store: Store;
  deps: OwnChallengeDeps;
  /** The served zone the name is in (DNS-01), or null (HTTP-01). */
  zone: () => DomainRow | null;
  /** Our own DNS listener, asked whether it carries a value. */
  self: Probe;
  /** Enrolled secondaries, asked for the zone's serial. */
  secondaries: () => (Probe & { name: string })[];
  /** A new certificate (also the stored one at start, when still good). */
  onCertificate: (c: StoredCertificate) => void;
  now?: () => number;
  /** How long to wait for secondaries to take the zone before asking the CA anyway. */
  secondaryWaitMs?: number;
}

/** The ACME error in plain words, with what to do about it. */
export function plainAcmeError(e: unknown, directory: string, name: string): string {
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code ?? "";
  const msg = String(err.message ?? e);
  if (
    /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|certificate/i.test(code) ||
    /self[- ]signed|unable to verify|unable to get (local )?issuer|certificate (has expired|is not yet valid)|unknown certificate/i.test(msg)
  ) {
    return `the certificate of the ACME directory ${directory} is not trusted (${msg}); for a private CA such as Pebble pass its root with --acme-ca FILE`;
  }
  if (code === "ECONNREFUSED" || /ECONNREFUSED|connection refused|Unable to connect/i.test(msg))
    return `cannot reach the ACME directory ${directory}: connection refused`;
  if (code === "ECONNABORTED" || code === "ETIMEDOUT" || /timeout|timed out/i.test(msg))
    return `the ACME directory ${directory} did not answer within ${ACME_CALL_TIMEOUT_MS / 1000} s`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || /ENOTFOUND|getaddrinfo/i.test(msg))
    return `cannot resolve the ACME directory's host (${new URL(directory).hostname})`;
  if (/dns|NXDOMAIN|SERVFAIL|no TXT|lookup/i.test(msg)) {
    return `the CA could not check ${name} in DNS (${msg}): is the delegation of the zone to this server's nameservers in place? \`ipkeep doctor\` checks it`;
  }
  if (/connection|Fetching http|timeout during connect/i.test(msg))
    return `the CA could not reach http://${name}/ on port 80 (${msg}): is port 80 open and ${name} pointing at this server?`;
  return msg;
}

/** True for errors that retrying cannot fix (the directory's certificate is not trusted). */
export function isTrustError(e: unknown): boolean {
  return /is not trusted/.test(plainAcmeError(e, "https://x/", "x"));
}

/**
 * acme-client's shared HTTP client: our timeout, our trust roots, and no retries of its own
 * (ours back off for longer). Its retry interceptor turns an error without a response (refused,
 * timed out, untrusted certificate) into "undefined is not an object": such an error reaches
 * it without its config, which it passes on unchanged.
 */
function configureHttp(ca: string | null): void {
  const ax = acme.axios as unknown as {
    defaults: { timeout: number; httpsAgent?: unknown; adapter?: unknown; acmeSettings: { retryMaxAttempts: number } };
  };
  ax.defaults.timeout = ACME_CALL_TIMEOUT_MS;
  ax.defaults.acmeSettings.retryMaxAttempts = 0;
  ax.defaults.httpsAgent = new Agent({ keepAlive: false, ca: ca ? [...rootCertificates, ca] : undefined });
  const http: AxiosAdapter = axios.getAdapter("http");
  ax.defaults.adapter = async (config: InternalAxiosRequestConfig) => {
    try {
      return await http(config);
    } catch (e) {
      if (e && typeof e === "object" && !(e as { response?: unknown }).response) (e as { config?: unknown }).config = undefined;
      throw e;
    }
  };
}

/** A bounded wait: resolves to a value or rejects with a plain message. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CertManager {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ariTimer: ReturnType<typeof setTimeout> | null = null;
  /** The CA's renewal time for a certificate (ARI), when it gave one. */
  private ari: { cert: string; at: number } | null = null;
  private failures = 0;
  private stopped = false;
  private running: Promise<void> | null = null;
  /** HTTP-01 answers: token -> key authorization (served by tls/wrap.ts). */
  readonly http01: Map<string, string>;
  /** Last error in words (for logs, doctor and tests), null after a success. */
  lastError: string | null = null;

  constructor(private o: CertManagerOptions) {
    this.http01 = o.http01 ?? new Map();
    configureHttp(o.ca);
  }

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  current(): StoredCertificate | null {
    const c = storedCertificate(this.o.store);
    return c && c.name === this.o.name ? c : null;
  }

  /** A stored certificate for this name that has not expired. */
  usable(): StoredCertificate | null {
    const c = this.current();
    return c && c.notAfter > this.now() ? c : null;
  }

  /**
   * Asks the directory once (bounded by the call timeout). Throws a plain error when its
   * certificate is not trusted, which no retry can fix; an unreachable CA is only logged.
   */
  async checkDirectory(): Promise<void> {
    try {
      await (acme.axios as unknown as { get(url: string): Promise<{ status: number }> }).get(this.o.directory);
    } catch (e) {
      if (isTrustError(e)) throw new Error(plainAcmeError(e, this.o.directory, this.o.name));
      log("warn", "acme directory not reachable yet; HTTP keeps serving and the certificate is retried", {
        error: plainAcmeError(e, this.o.directory, this.o.name),
      });
    }
  }

  /** Schedules the first order (now, when there is no good certificate) and every renewal. */
  start(): void {
    const c = this.usable();
    if (c) this.o.onCertificate(c);
    this.schedule();
    if (c) void this.askAri(c);
  }

  /** When the certificate is renewed: a third of its life left, or earlier when the CA says so (ARI). */
  private dueAt(c: StoredCertificate): number {
    const byLife = renewAt(c.notBefore, c.notAfter);
    return this.ari && this.ari.cert === c.cert ? Math.min(byLife, this.ari.at) : byLife;
  }

  /**
   * ARI (RFC 9773), where the directory offers it: the CA's suggested renewal time, asked now
   * and every six hours while the certificate is in use. A failure only means the third-of-life
   * rule alone decides.
   */
  private async askAri(c: StoredCertificate): Promise<void> {
    if (this.ariTimer) clearTimeout(this.ariTimer);
    this.ariTimer = setTimeout(() => {
      const now = this.usable();
      if (now) void this.askAri(now);
    }, ARI_POLL_MS);
    this.ariTimer.unref?.();
    try {
      const ax = acme.axios as unknown as { get(url: string): Promise<{ status: number; data: unknown }> };
      const dir = await ax.get(this.o.directory);
      const base = (dir.data as { renewalInfo?: unknown } | null)?.renewalInfo;
      const id = ariCertId(c.cert);
      if (typeof base !== "string" || !id || this.stopped) return;
      const res = await ax.get(`${base.replace(/\/+$/, "")}/${id}`);
      const w = res.status === 200 ? parseRenewalInfo(res.data) : null;
      if (!w || this.stopped) return;
      this.ari = { cert: c.cert, at: ariRenewAt(w, this.now()) };
      log("info", "renewal window from the CA (ARI)", {
        name: this.o.name,
        start: new Date(w.start).toISOString(),
        end: new Date(w.end).toISOString(),
        renew_at: new Date(this.ari.at).toISOString(),
      });
      if (!this.running) this.schedule();
    } catch (e) {
      log("debug", "ARI not available", { error: plainAcmeError(e, this.o.directory, this.o.name) });
    }
  }

  private schedule(delayMs?: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    let wait = delayMs;
    if (wait === undefined) {
      const c = this.usable();
      wait = c ? Math.max(0, this.dueAt(c) - this.now()) : 0;
      if (c && c.directory !== this.o.directory) wait = 0; // another CA asked for: get one from it
    }
    // setTimeout's limit; waking daily also survives clock steps.
    this.timer = setTimeout(() => void this.attempt(), Math.min(wait, 24 * 3600 * 1000));
    this.timer.unref?.();
  }

  private async attempt(): Promise<void> {
    this.timer = null;
    const c = this.usable();
    if (c && c.directory === this.o.directory && this.dueAt(c) > this.now()) return this.schedule();
    this.running = this.obtain()
      .then((cert) => {
        this.failures = 0;
        this.lastError = null;
        log("info", c ? "certificate renewed" : "certificate obtained", { name: this.o.name, expires: new Date(cert.notAfter).toISOString() });
        this.o.onCertificate(cert);
        this.schedule();
        void this.askAri(cert);
      })
      .catch((e) => {
        if (this.stopped) return;
        this.failures++;
        const wait = retryDelay(this.failures);
        this.lastError = plainAcmeError(e, this.o.directory, this.o.name);
        log("error", `could not get a certificate for ${this.o.name}: ${this.lastError}`, { retry_in: `${wait}s`, attempt: this.failures });
        this.schedule(wait * 1000);
      })
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }

  private account(): StoredAccount {
    const raw = this.o.store.settings.get(ACCOUNT_SETTING);
    if (raw) {
      try {
        const a = JSON.parse(raw) as StoredAccount;
        if (a.directory === this.o.directory && typeof a.key === "string") return a;
      } catch {
        // made anew below
      }
    }
    return { directory: this.o.directory, key: "", url: null };
  }

  /** One whole order: account, challenge, finalize, store. */
  async obtain(): Promise<StoredCertificate> {
    const account = this.account();
    if (!account.key) {
      account.key = (await acme.crypto.createPrivateEcdsaKey("P-256")).toString();
      this.o.store.settings.set(ACCOUNT_SETTING, JSON.stringify(account));
    }
    const client = new acme.Client({
      directoryUrl: this.o.directory,
      accountKey: account.key,
      accountUrl: account.url ?? undefined,
      backoffAttempts: 10,
      backoffMin: 500,
      backoffMax: 5000,
    });
    if (!account.url) {
      await client.createAccount({ termsOfServiceAgreed: true, contact: this.o.email ? [`mailto:${this.o.email}`] : undefined });
      account.url = client.getAccountUrl();
      this.o.store.settings.set(ACCOUNT_SETTING, JSON.stringify(account));
    }
    const [keyPem, csr] = await acme.crypto.createCsr({ commonName: this.o.name, altNames: [this.o.name] }, await acme.crypto.createPrivateEcdsaKey("P-256"));
    const zone = this.o.zone();
    const published: { zone: DomainRow; value: string }[] = [];
    try {
      const cert = await withTimeout(
        client.auto({
          csr,
          email: this.o.email ?? undefined,
          termsOfServiceAgreed: true,
          skipChallengeVerification: true,
          challengePriority: zone ? ["dns-01"] : ["http-01"],
          challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
            if (challenge.type === "dns-01" && zone) {
              const { fqdn, serial } = presentOwnChallenge(this.o.deps, zone, this.o.name, keyAuthorization);
              published.push({ zone, value: keyAuthorization });
              await this.waitForNameservers(zone, fqdn, keyAuthorization, serial);
            } else if (challenge.type === "http-01") {
              this.http01.set((challenge as { token: string }).token, keyAuthorization);
            } else {
              throw new Error(`the CA offered no ${zone ? "dns-01" : "http-01"} challenge for ${this.o.name}`);
            }
          },
          challengeRemoveFn: async (_authz, challenge) => {
            if (challenge.type === "http-01") this.http01.delete((challenge as { token: string }).token);
          },
        }),
        5 * 60_000,
        "the ACME order",
      );
      const info = acme.crypto.readCertificateInfo(cert);
      const stored: StoredCertificate = {
        name: this.o.name,
        directory: this.o.directory,
        cert,
        key: keyPem.toString(),
        notBefore: info.notBefore.getTime(),
        notAfter: info.notAfter.getTime(),
      };
      this.o.store.settings.set(CERTIFICATE_SETTING, JSON.stringify(stored));
      return stored;
    } finally {
      for (const p of published) {
        try {
          cleanupOwnChallenge(this.o.deps, p.zone, this.o.name, p.value);
        } catch (e) {
          log("warn", "could not withdraw the DNS-01 value (it expires by itself within an hour)", { error: (e as Error).message });
        }
      }
    }
  }

  private waitForNameservers(zone: DomainRow, fqdn: string, value: string, serial: number): Promise<string[]> {
    return waitForNameservers({
      self: this.o.self,
      secondaries: this.o.secondaries(),
      zone: zone.name,
      fqdn,
      value,
      serial,
      secondaryWaitMs: this.o.secondaryWaitMs,
      stopped: () => this.stopped,
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ariTimer) clearTimeout(this.ariTimer);
    this.timer = null;
  }
}

export interface NameserverWait {
  self: Probe;
  secondaries: (Probe & { name: string })[];
  zone: string;
  fqdn: string;
  value: string;
  /** The zone's serial after the value was published. */
  serial: number;
  selfWaitMs?: number;
  secondaryWaitMs?: number;
  stopped?: () => boolean;
}

/**
 * Until our own DNS answers the value (else an error after selfWaitMs, 30 s) and every
 * enrolled secondary has the zone at the new serial or later (at most secondaryWaitMs, two
 * minutes: then the CA is asked anyway, and the log names the secondaries that lag).
 * Returns the secondaries that had not caught up.
 */
export async function waitForNameservers(w: NameserverWait): Promise<string[]> {
  const selfDeadline = Date.now() + (w.selfWaitMs ?? 30_000);
  while (!(await carriesTxt(w.self, w.fqdn, w.value))) {
    if (w.stopped?.()) throw new Error("stopped");
    if (Date.now() > selfDeadline)
      throw new Error(`this server's own DNS did not answer ${w.fqdn} TXT within ${Math.round((w.selfWaitMs ?? 30_000) / 1000)} s`);
    await sleep(100);
  }
  const pending = new Map(w.secondaries.map((s) => [`${s.name} (${s.host}:${s.port})`, s]));
  const deadline = Date.now() + (w.secondaryWaitMs ?? 120_000);
  while (pending.size) {
    for (const [k, s] of pending) {
      const got = await soaSerial(s, w.zone);
      if (got !== null && serialReached(got, w.serial)) pending.delete(k);
    }
    if (!pending.size) break;
    if (w.stopped?.()) throw new Error("stopped");
    if (Date.now() > deadline) {
      log("warn", "secondaries have not taken the zone's new serial yet; asking the CA anyway (it may ask one of them)", {
        zone: w.zone,
        serial: w.serial,
        secondaries: [...pending.keys()].join(", "),
      });
      break;
    }
    await sleep(250);
  }
  return [...pending.keys()];
}
