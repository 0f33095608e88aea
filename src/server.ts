/**
 * The composition root of `ipkeep serve`: opens the store, loads zones, starts DNS and HTTP,
 * and keeps DNS in step with changes from this process and from others (the CLI).
 */
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "./api/app";
import { ensureJwtSecret, normalizeEmail } from "./core/auth";
import { findDistDir } from "./api/binaries";
import { selfExecutable } from "./api/binaries";
import { createHttpContext } from "./api/context";
import type { Config } from "./config";
import { ChallengeExpiry, type Timers } from "./core/acme";
import type { Clock } from "./core/platform";
import { nowSeconds, systemClock } from "./core/platform";
import { parseCidr } from "./core/addresses";
import { IpkeepError } from "./core/errors";
import { UpdateLimits, updateLimitConfig } from "./core/limits";
import { pruneHistory } from "./core/update";
import { createZone } from "./core/zones";
import { tryName } from "./core/names";
import { answer } from "./dns/answer";
import { AnswerCache } from "./dns/cache";
import { ResolverDelegationLookup } from "./dns/delegation";
import { signingPort } from "./dns/dnssec/manage";
import { ZoneSigning } from "./dns/dnssec/signer";
import type { Zone } from "./dns/zone";
import { LiveZones } from "./dns/live";
import { Notifier, type NotifyTarget } from "./dns/notify";
import { keyLookup, makeKey, parseKeySpec, type TsigKey } from "./dns/tsig";
import { Journal } from "./dns/journal";
import { createTransfers } from "./dns/xfr";
import { withCatalog } from "./dns/catalog";
import { CATALOG_SETTING } from "./core/install";
import type { ZoneMessage } from "./dns/udp-thread";
import type { PackedZone } from "./core/packed-zone";
import { dnsUpdateHandler, tokenKey } from "./dns-update";
import { isUpdate } from "./dns/update";
import { type DnsHandler, dnsLimits, type DnsServer, formatListen, type Listen, parseListen, startDns } from "./dns/server";
import { buildTransportPolicy, parseCidrList } from "./core/transport-policy";
import { type HttpsListener, type Listener, listenHttp, listenHttps, probeHttps } from "./http-listener";
import { acmeName, challengeFor, zoneOfName } from "./core/acme-cert";
import { CertManager, type StoredCertificate } from "./tls/acme";
import { probeOf } from "./tls/dns-probe";
import { tlsWrap } from "./tls/wrap";
import { log, redact } from "./log";
import { writePidFile } from "./pidfile";
import { lockDataDir } from "./datalock";
import { dnsBindError } from "./bind-error";
import { countDns, metrics } from "./metrics";
import { createPlatform } from "./platform";
import { Store } from "./store";
import { verifyDatabase } from "./store/db";
import { describeLost, unopenable } from "./store/sealed";
import { canonicalName } from "./core/names";

/** How often we look for commits by other processes: cheap (one pragma), and well under a second. */
const DATA_VERSION_POLL_MS = 250;

const HISTORY_PRUNE_MS = 3_600_000;
/** How often signatures are checked for renewal (they fall due days ahead; this only bounds the lateness). */
const SIGNATURE_CHECK_MS = 15 * 60_000;

export const DEMO_ZONE = "dyn.ipkeep.test";

/** Keys and NOTIFY targets of enrolled secondaries (nodes table), read when needed. */
export function secondaryPeers(store: Store): { keys: TsigKey[]; targets: NotifyTarget[] } {
  const keys: TsigKey[] = [];
  const targets: NotifyTarget[] = [];
  for (const n of store.secondaries.active()) {
    let key: TsigKey | undefined;
    try {
      if (n.tsigName && n.tsigSecret) keys.push((key = makeKey(n.tsigName, n.tsigSecret)));
    } catch (e) {
      log("warn", "secondary has an unusable TSIG key", { node: n.name, error: (e as Error).message });
    }
    if (n.publicIp) targets.push({ host: n.publicIp, port: n.dnsPort, key });
  }
  return { keys, targets };
}

/** --xfr-allow, --tsig-key and --notify, checked once at start. */
function transferConfig(config: Config) {
  const allow = config.xfrAllow.map((c) => parseCidr(c) ?? fail(`--xfr-allow ${c} is not an address or CIDR`));
  const keys = config.tsigKey.map(parseKeySpec);
  const named = keyLookup(keys);
  const notify = config.notify.map((spec): NotifyTarget => {
    const [addr, keyName, ...rest] = spec.trim().split(/\s+/);
    const l = parseListen(addr ?? "", 53);
    if (rest.length || !l.port || !parseCidr(l.host)) fail(`--notify "${spec}" must be ADDR:PORT or "ADDR:PORT KEYNAME"`);
    const key = keyName ? named(canonicalName(keyName)) : undefined;
    if (keyName && !key) fail(`--notify "${spec}": no --tsig-key named ${keyName}`);
    return { host: l.host, port: l.port, key };
  });
  return { allow, keys, notify };
}

/** --catalog, checked: a domain name that is not one of the served zones. */
function catalogName(input: string, store: Store): string {
  const name = tryName(input.replace(/\.$/, ""));
  if (!name) fail(`--catalog ${input} is not a domain name`);
  if (store.domains.byName(name)) fail(`--catalog ${name} is a zone ipkeep serves: name the catalog something else (catalog.invalid, say)`);
  return name;
}

function fail(message: string): never {
  throw new IpkeepError("invalid_input", message);
}

export interface RunningServer {
  http: Listen[];
  https: Listen[];
  dns: Listen[];
  /** UDP is answered by the DNS thread (false: on the main thread, --dns-thread no or fallback). */
  udpThread: boolean;
  store: Store;
  live: LiveZones;
  /** Re-reads TLS certificates (SIGHUP); a failure keeps the old ones and is logged. */
  reloadTls(): void;
  stop(): Promise<void>;
}

export async function startServer(config: Config, clock: Clock = systemClock, timers?: Timers): Promise<RunningServer> {
  // Settings first: a mistake in them is reported before the data directory is touched or locked.
  const xfrConfig = transferConfig(config);
  // ACME on (--acme, or --https without --tls-cert): the certificate's name is --url's host.
  const certName = acmeName(config);
  let acmeCa: string | null = null;
  if (certName && config.acmeCa) {
    try {
      acmeCa = readFileSync(config.acmeCa, "utf8");
    } catch (e) {
      fail(`--acme-ca ${config.acmeCa}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
    if (!acmeCa.includes("-----BEGIN CERTIFICATE-----")) fail(`--acme-ca ${config.acmeCa} holds no PEM certificate`);
  }
  if (certName) {
    try {
      new URL(config.acmeDirectory);
    } catch {
      fail(`--acme-directory ${config.acmeDirectory} is not a URL`);
    }
    if (!config.acmeDirectory.startsWith("https://")) fail(`--acme-directory ${config.acmeDirectory} must be an https:// URL`);
    if (config.acmeEmail) {
      try {
        normalizeEmail(config.acmeEmail);
      } catch {
        fail(`--acme-email ${config.acmeEmail} is not an e-mail address`);
      }
    }
  }
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  // Held for the server's whole life: a second serve, a secondary or a restore on this
  // directory stops at once (exit 5) instead of overwriting what this one serves.
  const lock = await lockDataDir(config.data, "serve");
  let store: Store;
  try {
    const dbPath = join(config.data, "ipkeep.db");
    // A damaged or emptied database is refused, never served as a new install.
    if (existsSync(dbPath)) await verifyDatabase(dbPath, `ipkeep restore FILE --data ${config.data}, then start ipkeep again`);
    store = await Store.open(dbPath);
  } catch (e) {
    lock.release();
    throw e;
  }
  const platform = createPlatform(clock);
  let catalog: string | null = null;
  try {
    catalog = config.catalog ? catalogName(config.catalog, store) : null;
    // Enrolment tells secondaries the catalog's name (core/install.ts) so they follow it.
    if ((store.settings.get(CATALOG_SETTING) ?? "") !== (catalog ?? "")) store.settings.set(CATALOG_SETTING, catalog ?? "");
  } catch (e) {
    store.close();
    lock.release();
    throw e;
  }
  const live = new LiveZones(catalog ? withCatalog(store.domains, catalog, clock) : store.domains, clock);

  let dns: DnsServer | null = null;
  // Every zone as loaded, until the DNS thread has it (see below); without a thread, nothing
  // is kept (the point of --dns-thread no is the memory).
  const early = new Map<number, PackedZone | null>();
  let earlyStale = false;
  // Every applied delta is kept for IXFR; a full load or a drop starts the zone's journal over.
  const journal = new Journal({ maxEntries: config.ixfrJournalChanges, maxBytes: config.ixfrJournalBytes });
  metrics.journal = () => journal.size();
  // Signed zones (the default) are signed here, on the main thread, as they load and change.
  const signing = new ZoneSigning(
    store.dnssec,
    () => nowSeconds(clock),
    (level, msg, fields) => log(level, msg, fields),
  );
  live.onEvent = (e) => {
    const zone = live.zones.get(e.id);
    if (e.kind === "loaded" && zone) signing.loaded(zone);
    if (e.kind === "dropped") signing.dropped(e.id);
    if (e.kind === "delta") {
      if (zone) {
        const s = signing.delta(zone, e.applied.names);
        if (s)
          journal.record(e.id, {
            oldSoa: e.applied.oldSoa,
            newSoa: zone.soa,
            removed: [...e.applied.removed, ...s.removed],
            added: [...e.applied.added, ...s.added],
          });
        else journal.reset(e.id);
      }
    } else {
      journal.reset(e.id);
    }
    if (!config.dnsThread) return;
    const m: ZoneMessage = e.kind === "delta" ? { id: e.id, delta: e.delta } : e.kind === "loaded" ? { id: e.id, packed: e.packed } : { id: e.id, data: null };
    // The thread hands a signed zone's DO queries to this thread, which holds the signatures.
    if (dns && e.kind !== "delta") dns.zoneChanged({ id: e.id, signed: signing.get(e.id) !== undefined });
    if (dns) dns.zoneChanged(m);
    else if ("delta" in m)
      earlyStale = true; // the thread then reads its start afresh
    else early.set(m.id, "packed" in m ? m.packed : null);
  };

  if (config.demo && store.domains.list().length === 0) {
    createZone({ store, platform, changes: live }, { name: DEMO_ZONE, nameservers: [{ name: `ns1.${DEMO_ZONE}`, ipv4: "127.0.0.1", ipv6: null }] });
    log("info", "demo zone created", { zone: DEMO_ZONE, hint: `add a host: ipkeep host add home.${DEMO_ZONE} --owner you@example.com` });
  }
  live.sync();
  logSealing(store);
  // `ipkeep init` creates it; a database from before init, or restored without its key, gets one.
  const jwtSecret = ensureJwtSecret({ store, platform });
  // ACME TXT values expire: one timer for the earliest, which deletes what is due and reloads.
  const expiry = new ChallengeExpiry({ store, platform, changes: live }, clock, timers, (e) =>
    log("error", "challenge expiry failed", { error: redact((e as Error).message) }),
  );
  expiry.reschedule();
  const changes = { zoneChanged: (id: number) => live.zoneChanged(id), expiresAt: (at: number) => expiry.consider(at) };

  let notifier: Notifier | null = null;
  const listeners: Listener[] = [];
  const httpsListeners: HttpsListener[] = [];
  let certs: CertManager | null = null;
  // serve.listen.json for doctor; written again when ACME's HTTPS listeners open later.
  let pidWritten = false;
  const listening = () => ({
    http: listeners.map((l) => formatListen(l.address)),
    https: httpsListeners.map((l) => formatListen(l.address)),
    dns: dns ? dns.addresses.map(formatListen) : [],
  });
  try {
    // Which challenge proves the name; a name outside the zones without port 80 stops here (exit 2).
    const servedZones = () => store.domains.list().filter((d) => d.kind === "builtin" || d.verified);
    if (certName)
      challengeFor(
        zoneOfName(servedZones(), certName),
        certName,
        config.http.map((h) => parseListen(h, 8080).port),
      );
    const transfers = createTransfers(() => live.zones, {
      allow: xfrConfig.allow,
      keys: () => keyLookup([...xfrConfig.keys, ...secondaryPeers(store).keys]),
      queryKeys: (name) => tokenKey(store, name)?.key,
      now: () => nowSeconds(clock),
      journal,
      signed: (zone) => signing.get(zone.id),
      sent: (kind, bytes) => metrics.transfers.inc(kind, bytes),
    });
    const cache = new AnswerCache(live.zones);
    const updateLimits = new UpdateLimits(clock, updateLimitConfig(config.updateBurst, config.updateDaily));
    // DNS UPDATE (RFC 2136) goes its own way before the cache: signed by update tokens' keys.
    const dynUpdate = dnsUpdateHandler({ store, platform, changes, limits: updateLimits, clock });
    const dnssec = (zone: Zone) => signing.get(zone.id);
    const answered = cache.wrap(transfers.wrap((query, transport) => answer(query, live.zones, { transport, dnssec })));
    const handler: DnsHandler = (q, t, p) => (isUpdate(q) ? dynUpdate(q, t, p) : answered(q, t, p));
    // The DNS thread starts from what was loaded above (handed over, not read twice; a
    // restarted thread reads afresh); what changes while it starts reaches it afterwards.
    let handedOver = false;
    const snapshot = () => {
      if (handedOver || earlyStale) return live.snapshot();
      handedOver = true;
      const data = [...early.values()].filter((d) => d !== null);
      early.clear();
      return data;
    };
    dns = await startDns(
      config.dns.map((s) => parseListen(s, 53)),
      (q, t, p) => countDns(q, handler(q, t, p)),
      {
        stream: transfers.stream,
        ...dnsLimits(config),
        counters: metrics.dns,
        thread: config.dnsThread
          ? { snapshot, signed: () => live.zones.ids().filter((id) => signing.get(id)), onError: (message) => log("error", "dns thread", { error: message }) }
          : undefined,
      },
    ).catch((e: unknown) => {
      throw dnsBindError(e);
    });
    for (const [id, packed] of early) dns.zoneChanged(packed ? { id, packed } : { id, data: null });
    early.clear();
    if (dns.threadCounters) metrics.dnsThreads.push(dns.threadCounters);
    notifier = new Notifier({
      zones: () => live.zones,
      targets: () => [...xfrConfig.notify, ...secondaryPeers(store).targets],
      now: () => nowSeconds(clock),
      log,
    });
    // The answer cache watches the zones itself (ZoneSet.watch): it drops what each change affects.
    live.onChange = (id) => notifier?.zoneChanged(id);
    // Secondaries may have missed changes made while we were down.
    for (const id of live.zones.ids()) notifier.zoneChanged(id);
    const transportPolicy = buildTransportPolicy({ trustedProxies: config.trustedProxy, allowInsecureHttp: config.allowInsecureHttp });
    const app = createApp(
      createHttpContext({
        store,
        platform,
        changes,
        publicUrl: config.url,
        jwtSecret,
        delegation: new ResolverDelegationLookup(config.resolver),
        dnssec: signingPort(store.dnssec),
        updateLimits,
        distDir: findDistDir(process.execPath),
        selfExecutable: selfExecutable(),
        transportPolicy,
        metricsAllow: parseCidrList(config.metricsAllow, "--metrics-allow"),
      }),
    );
    let current: StoredCertificate | null = null;
    const http01 = new Map<string, string>();
    const wrapped = tlsWrap(app, {
      http01,
      httpsBase: () => {
        if (!certName || !current || !httpsListeners.length) return null;
        const port = httpsListeners[0]!.address.port;
        return `https://${certName}${port === 443 ? "" : `:${port}`}`;
      },
    });
    for (const spec of config.http) listeners.push(listenHttp(parseListen(spec, 8080), wrapped));
    if (!certName) {
      for (const spec of config.https) {
        httpsListeners.push(listenHttps(parseListen(spec, 443), wrapped, { cert: config.tlsCert!, key: config.tlsKey! }));
      }
      if (config.tlsCert) metrics.tlsNotAfter = certExpiry(config.tlsCert);
    } else {
      // The HTTPS listeners open when the certificate exists; their ports are checked now.
      const specs = config.https.map((spec) => parseListen(spec, 443));
      for (const l of specs) probeHttps(l);
      const source = () => ({ cert: current!.cert, key: current!.key });
      certs = new CertManager({
        name: certName,
        directory: config.acmeDirectory,
        email: config.acmeEmail,
        ca: acmeCa,
        http01,
        store,
        deps: { store, clock, changes },
        zone: () => zoneOfName(servedZones(), certName),
        self: probeOf(dns.addresses[0]!),
        secondaries: () =>
          store.secondaries
            .active()
            .filter((n) => n.publicIp)
            .map((n) => ({ name: n.name, host: n.publicIp!, port: n.dnsPort })),
        onCertificate: (c) => {
          current = c;
          metrics.tlsNotAfter = Math.floor(c.notAfter / 1000);
          if (!httpsListeners.length) {
            for (const l of specs) {
              try {
                const h = listenHttps(l, wrapped, source);
                httpsListeners.push(h);
                log("info", "https listening", { addr: formatListen(h.address), certificate: certName });
              } catch (e) {
                log("error", "cannot open HTTPS", { addr: formatListen(l), error: (e as Error).message });
              }
            }
            if (pidWritten) writePidFile(config.data, listening());
            return;
          }
          for (const h of httpsListeners) {
            try {
              h.reload();
              log("info", "tls reloaded", { addr: formatListen(h.address), certificate: certName });
            } catch (e) {
              log("error", "tls reload failed, keeping the old certificate", { addr: formatListen(h.address), error: (e as Error).message });
            }
          }
        },
      });
      // An --acme-directory whose certificate we cannot trust is a setting to fix (exit 2);
      // an unreachable one is retried while HTTP serves. A restart with a good certificate
      // does not wait for the CA at all.
      if (!certs.usable()) {
        try {
          await certs.checkDirectory();
        } catch (e) {
          fail(`--acme-directory: ${(e as Error).message}`);
        }
      }
      certs.start();
    }
  } catch (e) {
    await certs?.stop();
    notifier?.close();
    await dns?.close();
    for (const l of [...listeners, ...httpsListeners]) l.stop();
    signing.flush();
    store.close();
    lock.release();
    throw e;
  }

  const removePidFile = writePidFile(config.data, listening());
  pidWritten = true;
  let seenVersion = store.dataVersion();
  const poll = setInterval(() => {
    try {
      const v = store.dataVersion();
      if (v === seenVersion) return;
      seenVersion = v;
      for (const id of live.sync()) log("info", "zone reloaded", { zone: live.zones.get(id)?.name ?? id, serial: live.zones.get(id)?.serial });
      expiry.reschedule();
    } catch (e) {
      log("error", "reload failed", { error: (e as Error).message });
    }
  }, DATA_VERSION_POLL_MS);

  // Signatures falling due are renewed; the zone's serial moves so secondaries take them.
  const renew = () => {
    try {
      for (const id of signing.refresh((id) => live.zones.get(id))) {
        store.domains.bumpSerial(id, nowSeconds(clock));
        // Cached answers hold the old signatures: the zone counts as replaced for the caches.
        const zone = live.zones.get(id);
        if (zone) live.zones.set(zone);
      }
      live.sync();
    } catch (e) {
      log("error", "renewing signatures failed", { error: (e as Error).message });
    }
  };
  renew();
  const renewTimer = setInterval(renew, SIGNATURE_CHECK_MS);
  renewTimer.unref?.();

  // Update history is pruned at start and then hourly: cheap, and bounded between runs.
  const prune = () => {
    try {
      const n = pruneHistory({ store, platform });
      if (n > 0) log("info", "update history pruned", { entries: n });
    } catch (e) {
      log("error", "pruning update history failed", { error: (e as Error).message });
    }
  };
  prune();
  const pruneTimer = setInterval(prune, HISTORY_PRUNE_MS);
  pruneTimer.unref?.();

  for (const l of dns.addresses) log("info", "dns listening", { addr: formatListen(l), transports: "udp,tcp", udp: dns.threaded ? "thread" : "main" });
  for (const l of listeners) log("info", "http listening", { addr: formatListen(l.address) });
  for (const l of httpsListeners) log("info", "https listening", { addr: formatListen(l.address) });
  log("info", "zones loaded", { count: live.zones.size });

  let stopped = false;
  return {
    http: listeners.map((l) => l.address),
    // With ACME the listeners open once the certificate exists.
    get https() {
      return httpsListeners.map((l) => l.address);
    },
    dns: dns.addresses,
    udpThread: dns.threaded,
    store,
    live,
    reloadTls() {
      for (const l of httpsListeners) {
        try {
          l.reload();
          log("info", "tls reloaded", { addr: formatListen(l.address) });
        } catch (e) {
          log("error", "tls reload failed, keeping the old certificate", { addr: formatListen(l.address), error: (e as Error).message });
        }
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(poll);
      clearInterval(pruneTimer);
      await certs?.stop();
      clearInterval(renewTimer);
      signing.flush();
      expiry.stop();
      notifier?.close();
      for (const l of [...listeners, ...httpsListeners]) l.stop();
      await dns!.close();
      metrics.dnsThreads = metrics.dnsThreads.filter((c) => c !== dns!.threadCounters);
      store.close();
      removePidFile();
      lock.release();
    },
  };
}

/** A certificate file's expiry (epoch seconds), or null when it does not parse. */
function certExpiry(file: string): number | null {
  try {
    return Math.floor(new Date(new X509Certificate(readFileSync(file)).validTo).getTime() / 1000);
  } catch {
    return null;
  }
}

/** What opening the store did with the key file, and what the key cannot open, in the log. */
function logSealing(store: Store): void {
  const s = store.sealing;
  if (s.keyCreated) log("info", "key file created", { file: s.keyFile, hint: "back it up with the database: ipkeep backup copies it" });
  if (s.sealedNow) log("info", "secrets sealed with the key file", { count: s.sealedNow, file: s.keyFile });
  for (const lost of describeLost(unopenable(store.db, store.box))) {
    log("warn", "a secret does not open with this data directory's key file (restored without its key?)", { lost });
  }
}
