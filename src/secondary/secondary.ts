/**
 * `ipkeep secondary`: a second nameserver for the primary's zones. It pulls every zone by
 * AXFR (TSIG-signed when a key is configured), keeps them in memory and in a cache file (so
 * it answers at once after a restart), refreshes on NOTIFY and on the SOA refresh/retry
 * timers, stops serving a zone the primary has not confirmed for SOA expire seconds, and
 * answers queries with the primary's own answer() and transports.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import * as packet from "dns-packet";
import { unmapIPv4 } from "../core/addresses";
import { IpkeepError } from "../core/errors";
import { dnsBindError } from "../bind-error";
import type { Clock } from "../core/platform";
import { nowSeconds, systemClock } from "../core/platform";
import type { ZoneData } from "../core/ports";
import { answer } from "../dns/answer";
import { queryDns } from "../dns/client";
import { type DnsLimits, type DnsServer, type Listen, startDns } from "../dns/server";
import { errorResponse, keyLookup, ResponseSigner, type TsigKey, verifyRequest } from "../dns/tsig";
import { copyBytes, OPCODE_NOTIFY, questionEnd } from "../dns/wire";
import { refreshView, type SignedZone, viewFromRecords } from "../dns/dnssec/sign";
import { buildZone, ZoneSet } from "../dns/zone";
import { type DataLock, lockDataDir } from "../datalock";
import { countDns, metrics } from "../metrics";
import { ixfrZone, primarySerial, transferZone } from "./axfr";
import { applyIxfr, zoneDataFromTransfer, zoneDeltaOf } from "./records";
import { canonicalName } from "../core/names";
import { serialGreater } from "../core/zone-contents";

export const CACHE_FILE = "secondary-zones.json";
const QR = 0x80;
const AA = 0x04;
/** Without any copy of a zone we retry soon (the primary may be starting), backing off to its SOA retry. */
const FIRST_RETRY_S = [1, 2, 5, 10, 30];
/** Timers below this are raised to it: a zone with refresh 0 must not spin. */
const MIN_TIMER_S = 1;

export interface SecondaryOptions {
  primary: Listen;
  key?: TsigKey;
  zones: string[];
  dns: Listen[];
  dataDir: string;
  clock?: Clock;
  /** Answer UDP from the DNS thread (the default; false: on the main thread). */
  thread?: boolean;
  /** TCP connection limits (the server's defaults when left out). */
  limits?: DnsLimits;
  log?: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
}

interface ZoneState {
  id: number;
  name: string;
  data: ZoneData | null;
  /** Epoch seconds of the last time the primary confirmed our copy (transfer or equal serial). */
  confirmedAt: number;
  failures: number;
  timer: ReturnType<typeof setTimeout> | null;
  running: Promise<void> | null;
  again: boolean;
  /** The catalog zone (RFC 9432) that listed it; undefined: configured (enrolment, --zone). */
  from?: string;
}

/**
 * The member zones a zone lists when it is a catalog zone (RFC 9432: `version.<catalog>` TXT
 * "2" and PTRs under `zones.<catalog>`), or null when it is none.
 */
export function catalogMembers(data: ZoneData): string[] | null {
  const version = data.records.find((r) => r.name === `version.${data.name}` && r.type === "TXT");
  if (version?.content.replace(/"/g, "").trim() !== "2") return null;
  const suffix = `.zones.${data.name}`;
  return [
    ...new Set(
      data.records
        .filter((r) => r.type === "PTR" && r.name.endsWith(suffix) && r.name.split(".").length === data.name.split(".").length + 2)
        .map((r) => canonicalName(r.content.trim().replace(/\.$/, ""))),
    ),
  ];
}

interface CacheFile {
  version: 1;
  zones: Record<string, { data: ZoneData; confirmedAt: number }>;
}

const canonical = canonicalName;

export class Secondary {
  readonly zones = new ZoneSet();
  /** The signatures and NSEC3 chains of the signed zones held (read from their records): DO answers carry them. */
  private readonly signed = new Map<number, SignedZone>();
  private states = new Map<string, ZoneState>();
  private dns: DnsServer | null = null;
  private lock: DataLock | null = null;
  private stopped = false;
  private started = false;
  private nextId = 0;
  private clock: Clock;
  private log: NonNullable<SecondaryOptions["log"]>;

  constructor(private readonly opts: SecondaryOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? (() => {});
    opts.zones.forEach((z, i) => {
      const name = canonical(z);
      this.states.set(name, { id: i + 1, name, data: null, confirmedAt: 0, failures: 0, timer: null, running: null, again: false });
    });
    this.nextId = opts.zones.length;
  }

  get addresses(): Listen[] {
    return this.dns?.addresses ?? [];
  }

  /** UDP is answered by the DNS thread. */
  get udpThread(): boolean {
    return this.dns?.threaded ?? false;
  }

  /** Zones we hold a copy of (and serve). */
  held(): { zone: string; serial: number }[] {
    return [...this.states.values()].filter((s) => this.zones.get(s.id)).map((s) => ({ zone: s.name, serial: this.zones.get(s.id)!.serial }));
  }

  private now(): number {
    return nowSeconds(this.clock);
  }

  async start(): Promise<void> {
    mkdirSync(this.opts.dataDir, { recursive: true, mode: 0o700 });
    // Held until stop(): a second secondary, a serve or a restore on this directory stops at once.
    this.lock = await lockDataDir(this.opts.dataDir, "secondary");
    try {
      await this.startServing();
    } catch (e) {
      this.lock.release();
      throw e;
    }
  }

  private async startServing(): Promise<void> {
    this.loadCache();
    this.dns = await startDns(this.opts.dns, (q, t, peer) => countDns(q, this.handle(q, t, peer)), {
      ...this.opts.limits,
      counters: metrics.dns,
      thread:
        this.opts.thread === false
          ? undefined
          : {
              // What is served now; a restarted thread asks again.
              snapshot: () => [...this.states.values()].flatMap((s) => (s.data && this.zones.get(s.id) ? [s.data] : [])),
              signed: () => [...this.signed.keys()],
              onError: (message) => this.log("error", "dns thread", { error: message }),
              // NOTIFY makes us pull from the primary: that is the main thread's work.
              notify: true,
            },
    }).catch((e: unknown) => {
      throw dnsBindError(e);
    });
    this.started = true;
    for (const s of this.states.values()) void this.refresh(s.name, "start");
  }

  /**
   * A catalog zone's copy changed: pull the members it lists that we do not have, and stop
   * serving those it no longer lists (only the ones it brought: configured zones stay).
   */
  private followCatalog(s: ZoneState): void {
    const members = s.data ? catalogMembers(s.data) : null;
    if (!members) return;
    const listed = new Set(members);
    let changed = false;
    for (const m of members) {
      if (this.states.has(m) || m === s.name) continue;
      this.states.set(m, { id: ++this.nextId, name: m, data: null, confirmedAt: 0, failures: 0, timer: null, running: null, again: false, from: s.name });
      this.log("info", "zone added by the catalog", { zone: m, catalog: s.name });
      changed = true;
      if (this.started) void this.refresh(m, "catalog");
    }
    for (const t of [...this.states.values()]) {
      if (t.from !== s.name || listed.has(t.name)) continue;
      if (t.timer) clearTimeout(t.timer);
      this.states.delete(t.name);
      this.serve(t.id, null);
      this.log("info", "zone removed by the catalog", { zone: t.name, catalog: s.name });
      changed = true;
    }
    if (changed && this.started) this.saveCache();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.states.values()) if (s.timer) clearTimeout(s.timer);
    await this.dns?.close();
    await Promise.all([...this.states.values()].map((s) => s.running?.catch(() => {})));
    this.lock?.release();
  }

  /** Refreshes one zone now (NOTIFY, timer, start); concurrent calls collapse into one follow-up run. */
  refresh(zone: string, why: string): Promise<void> {
    const s = this.states.get(canonical(zone));
    if (!s || this.stopped) return Promise.resolve();
    if (s.running) {
      s.again = true;
      return s.running;
    }
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.running = this.pull(s, why).finally(() => {
      s.running = null;
      if (s.again && !this.stopped) {
        s.again = false;
        void this.refresh(s.name, "notify");
      }
    });
    return s.running;
  }

  private async pull(s: ZoneState, why: string): Promise<void> {
    const opts = { key: this.opts.key, now: () => this.now() };
    try {
      const current = s.data?.serial;
      if (current !== undefined) {
        const serial = await primarySerial(this.opts.primary, s.name, opts);
        if (!serialGreater(serial, current)) {
          s.confirmedAt = this.now();
          s.failures = 0;
          this.schedule(s, s.data!.soa.refresh);
          return;
        }
      }
      // What we hold is brought up to date by IXFR: only the changed names are rebuilt.
      if (s.data) {
        const ixfr = await ixfrZone(this.opts.primary, s.name, s.data.serial, opts);
        if (ixfr.kind === "uptodate") {
          s.confirmedAt = this.now();
          s.failures = 0;
          this.schedule(s, s.data.soa.refresh);
          return;
        }
        if (ixfr.kind === "incremental") {
          const { data, names } = applyIxfr(s.data, ixfr.deltas);
          // Dropped by its catalog while the transfer ran: not served again.
          if (this.states.get(s.name) !== s) return;
          s.data = data;
          this.serveDelta(s.id, data, names);
          this.followCatalog(s);
          s.confirmedAt = this.now();
          s.failures = 0;
          this.saveCache();
          this.log("info", "zone transferred", { zone: s.name, serial: data.serial, ixfr: ixfr.deltas.length, names: names.length, why });
          this.schedule(s, data.soa.refresh);
          return;
        }
      }
      const records = await transferZone(this.opts.primary, s.name, opts);
      const data = zoneDataFromTransfer(s.id, s.name, records);
      if (current !== undefined && !serialGreater(data.serial, current) && data.serial !== current) {
        // A primary going backwards is a misconfiguration; keep what we have.
        this.log("warn", "primary serial went backwards, keeping our copy", { zone: s.name, ours: current, primary: data.serial });
        this.schedule(s, s.data!.soa.retry);
        return;
      }
      if (this.states.get(s.name) !== s) return;
      s.data = data;
      this.serve(s.id, data);
      this.followCatalog(s);
      s.confirmedAt = this.now();
      s.failures = 0;
      this.saveCache();
      this.log("info", "zone transferred", { zone: s.name, serial: data.serial, records: records.length, why });
      this.schedule(s, data.soa.refresh);
    } catch (e) {
      s.failures++;
      this.log(s.failures === 1 || s.failures % 10 === 0 ? "warn" : "info", "zone refresh failed", {
        zone: s.name,
        error: (e as Error).message,
        failures: s.failures,
      });
      if (s.data && this.now() - s.confirmedAt > s.data.soa.expire) {
        // RFC 1035 §4.3.5: past expire the data is no longer authoritative.
        if (this.zones.get(s.id)) this.log("error", "zone expired: no longer served until the primary answers", { zone: s.name });
        this.serve(s.id, null);
      }
      const delay = s.data ? s.data.soa.retry : Math.min(FIRST_RETRY_S[Math.min(s.failures - 1, FIRST_RETRY_S.length - 1)]!, 600);
      this.schedule(s, delay);
    }
  }

  /** Serves the changes at names of a zone's new copy, here and in the DNS thread. */
  private serveDelta(id: number, data: ZoneData, names: string[]): void {
    const delta = zoneDeltaOf(data, names);
    const applied = this.zones.apply(delta);
    if (applied) {
      this.dns?.zoneChanged({ id, delta });
      const zone = this.zones.get(id)!;
      const view = this.signed.get(id);
      if (view ? !refreshView(zone, view, applied.names) : viewFromRecords(zone)) this.viewOf(id);
    } else this.serve(id, data);
  }

  /** The signatures a zone's copy carries, read afresh (null: it is not signed); the DNS thread hands its DO queries here. */
  private viewOf(id: number): void {
    const zone = this.zones.get(id);
    const view = zone ? viewFromRecords(zone) : null;
    if (view) this.signed.set(id, view);
    else this.signed.delete(id);
    this.dns?.zoneChanged({ id, signed: view !== null });
  }

  /** Serves a zone's new copy (null: stops serving it), here and in the DNS thread. */
  private serve(id: number, data: ZoneData | null): void {
    if (data) this.zones.set(buildZone(data));
    else this.zones.removeId(id);
    this.dns?.zoneChanged({ id, data });
    this.viewOf(id);
  }

  private schedule(s: ZoneState, seconds: number): void {
    if (this.stopped) return;
    if (s.timer) clearTimeout(s.timer);
    // Never past expire: a zone about to expire is checked before it does.
    let wait = Math.max(MIN_TIMER_S, seconds);
    if (s.data) wait = Math.min(wait, Math.max(MIN_TIMER_S, s.confirmedAt + s.data.soa.expire - this.now()));
    s.timer = setTimeout(() => void this.refresh(s.name, "timer"), wait * 1000);
    s.timer.unref?.();
  }

  /** DNS: NOTIFY from the primary triggers a refresh; everything else is answered from the zones. */
  handle(query: Uint8Array, transport: "udp" | "tcp", peer: string): Uint8Array | null {
    if (query.length >= 12 && !(query[2]! & QR) && ((query[2]! >> 3) & 0xf) === OPCODE_NOTIFY) return this.notify(query, peer);
    return answer(query, this.zones, { transport, dnssec: (z) => this.signed.get(z.id) });
  }

  private notify(query: Uint8Array, peer: string): Uint8Array | null {
    const end = questionEnd(query);
    if (end < 0) return null;
    let zone: string;
    try {
      zone = canonical(packet.decode(Buffer.from(query.buffer, query.byteOffset, query.length)).questions?.[0]?.name ?? "");
    } catch {
      return null;
    }
    // The reply: the header and question, QR and AA set, no records (RFC 1996 §4.7).
    const reply = (rcode: number) => {
      const out = copyBytes(query, 0, end);
      out[2] = (out[2]! | QR | AA) & ~0x02;
      out[3] = rcode;
      out.fill(0, 6, 12);
      return out;
    };
    const now = this.now();
    const check = verifyRequest(query, keyLookup(this.opts.key ? [this.opts.key] : []), now);
    let signer: ResponseSigner | null = null;
    if (check.kind === "error") return errorResponse(query, check, now);
    if (check.kind === "ok") signer = new ResponseSigner(check.key, check.mac);
    // Unsigned NOTIFY: only from the primary's address. (A NOTIFY only makes us ask the primary,
    // so a forged one costs a SOA query at most; still, nobody else gets to trigger it.)
    else if (unmapIPv4(peer) !== unmapIPv4(this.opts.primary.host)) {
      this.log("warn", "notify refused: not from the primary", { peer, zone });
      return reply(5);
    }
    if (!this.states.has(zone)) return signer ? signer.sign(reply(9), now) : reply(9); // NOTAUTH: not a zone we pull
    void this.refresh(zone, "notify");
    const ok = reply(0);
    return signer ? signer.sign(ok, now) : ok;
  }

  private cachePath(): string {
    return join(this.opts.dataDir, CACHE_FILE);
  }

  /**
   * The zones as last transferred. No file: a first start. A file that is not what we write
   * (cut short, overwritten) is refused at start with what to do, never silently taken as
   * "no zones" (and a damaged copy never served).
   */
  private loadCache(): void {
    const path = this.cachePath();
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new IpkeepError(
        "database_damaged",
        `${path} cannot be read (${(e as Error).message}): fix its permissions, or delete it and the secondary transfers every zone from the primary again`,
      );
    }
    const damaged = (why: string): never => {
      throw new IpkeepError(
        "database_damaged",
        `${path} is damaged (${why}): delete it, and the secondary transfers every zone from the primary again at start`,
      );
    };
    const cache = ((): CacheFile => {
      try {
        return JSON.parse(text) as CacheFile;
      } catch (e) {
        return damaged(text.length === 0 ? "empty file" : `not JSON: ${(e as Error).message}`);
      }
    })();
    if (cache?.version !== 1 || typeof cache.zones !== "object" || cache.zones === null || Array.isArray(cache.zones))
      damaged("not a zone cache of this ipkeep");
    // Configured zones first; the members of a cached catalog join the loop as it adds them.
    for (const s of this.states.values()) {
      const c = cache.zones[s.name];
      if (!c?.data || c.data.name !== s.name) continue;
      if (this.now() - c.confirmedAt > c.data.soa.expire) continue; // expired while we were down
      try {
        const data = { ...c.data, id: s.id };
        this.zones.set(buildZone(data));
        this.viewOf(s.id);
        s.data = data;
        s.confirmedAt = c.confirmedAt;
        this.log("info", "zone loaded from cache", { zone: s.name, serial: data.serial });
        this.followCatalog(s);
      } catch (e) {
        this.log("warn", "cached zone unusable, will transfer", { zone: s.name, error: (e as Error).message });
      }
    }
  }

  private saveCache(): void {
    const cache: CacheFile = { version: 1, zones: {} };
    for (const s of this.states.values()) if (s.data) cache.zones[s.name] = { data: s.data, confirmedAt: s.confirmedAt };
    const tmp = `${this.cachePath()}.tmp`;
    try {
      // Flushed before the rename: after a power cut the file is the old copy or the new one,
      // never an empty one (which start-up would refuse as damaged).
      const fd = openSync(tmp, "w", 0o600);
      try {
        writeSync(fd, JSON.stringify(cache));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.cachePath());
    } catch (e) {
      this.log("warn", "could not write the zone cache", { error: (e as Error).message });
    }
  }
}

/**
 * What `ipkeep health --role secondary` asks: does the secondary at dns hold every zone,
 * i.e. answer its SOA authoritatively? Returns the zones it does not.
 */
export async function secondaryHealth(dns: Listen, zones: string[], timeoutMs = 2000): Promise<{ ok: boolean; missing: string[] }> {
  const missing: string[] = [];
  for (const z of zones) {
    try {
      const r = await queryDns(dns, z, "SOA", { timeoutMs });
      const aa = (r.raw[2]! & AA) !== 0;
      const soa = (r.packet.answers ?? []).some((a) => a.type === "SOA" && canonical(a.name) === canonical(z));
      if (r.rcode !== 0 || !aa || !soa) missing.push(z);
    } catch {
      missing.push(z);
    }
  }
  return { ok: missing.length === 0, missing };
}
