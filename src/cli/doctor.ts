/**
 * ipkeep doctor: looks at this installation the way an operator would when "it does not
 * work", and says what is wrong in plain words with what to do about it. Exit 1 when any
 * check fails (warnings alone exit 0); --json for scripts.
 */
import { X509Certificate } from "node:crypto";
import { acmeName, EXPIRY_WARNING_DAYS } from "../core/acme-cert";
import { storedCertificate } from "../tls/acme";
import { existsSync, readFileSync, statSync } from "node:fs";
import net from "node:net";
import dgram from "node:dgram";
import { join } from "node:path";
import type { Command } from "commander";
import type * as packet from "dns-packet";
import type { Config } from "../config";
import { IpkeepError } from "../core/errors";
import { judgeDelegation, judgeDnssec } from "../core/domains";
import { queryDns } from "../dns/client";
import { ResolverDelegationLookup, systemResolver } from "../dns/delegation";
import { signingPort } from "../dns/dnssec/manage";
import { formatListen, type Listen, parseListen } from "../dns/server";
import { bindMessage } from "../bind-error";
import { runningServerPid, type ServeListening, serverListening } from "../pidfile";
import { Store } from "../store";
import { inspectSnapshot } from "../store/backup";
import { describeLost, unopenable } from "../store/sealed";
import { KEY_FILE } from "../store/secret-box";
import { collect, configFrom, DB_FILE, print } from "./common";
import { canonicalName } from "../core/names";

export type Status = "ok" | "warn" | "fail";

export interface Check {
  check: string;
  status: Status;
  detail: string;
  /** What to do, in plain words; absent when all is well. */
  fix?: string;
}

export interface DoctorOptions {
  /** Epoch milliseconds (tests move it). */
  now?: number;
  timeoutMs?: number;
}

/** Clock bounds: earlier than this build could have been made, or absurdly far ahead. */
const EARLIEST_SANE = Date.UTC(2025, 0, 1);
const LATEST_SANE = Date.UTC(2100, 0, 1);
/** Stored times a little ahead are rounding; more means the clock went backwards. */
const CLOCK_SKEW_S = 300;

const canonical = canonicalName;
const local = (host: string) => (host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host);

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** null when path can be looked at, else the errno code (ENOENT: it is not there). */
function fileState(path: string): string | null {
  try {
    statSync(path);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "EIO";
  }
}

function checkDataDir(config: Config): Check[] {
  const out: Check[] = [];
  const dir = config.data;
  if (!existsSync(dir)) {
    return [
      {
        check: "data directory",
        status: "fail",
        detail: `${dir} does not exist`,
        fix: `Run "ipkeep init --data ${dir} --zone ZONE --ns NS" first, or pass the right --data.`,
      },
    ];
  }
  const dm = modeOf(dir);
  out.push(
    dm & 0o077
      ? { check: "data directory", status: "fail", detail: `${dir} is readable by others (mode ${dm.toString(8)})`, fix: `chmod 700 ${dir}` }
      : { check: "data directory", status: "ok", detail: `${dir} (mode ${dm.toString(8).padStart(3, "0")})` },
  );
  const db = join(dir, DB_FILE);
  const state = fileState(db);
  if (state === "ENOENT") {
    out.push({ check: "database", status: "fail", detail: `no database at ${db}`, fix: `Run "ipkeep init --data ${dir} --zone ZONE --ns NS".` });
    return out;
  }
  if (state !== null) {
    // There may well be a database: this process cannot see it. Never "run init" over it.
    out.push({
      check: "database",
      status: "fail",
      detail: `cannot read ${db} (${state === "EACCES" || state === "EPERM" ? "permission denied" : state})`,
      fix: `Run doctor as the user ipkeep runs as, or as root (sudo ipkeep doctor --data ${dir}).`,
    });
    return out;
  }
  const fm = modeOf(db);
  out.push(
    fm & 0o077
      ? {
          check: "database permissions",
          status: "fail",
          detail: `${db} is readable by others (mode ${fm.toString(8)}); it holds token hashes and sealed secrets`,
          fix: `chmod 600 ${db}`,
        }
      : { check: "database permissions", status: "ok", detail: `${db} (mode ${fm.toString(8).padStart(3, "0")})` },
  );
  return out;
}

/** The key file opens every sealed secret of the database (store/sealed.ts says which). */
function checkKeyFile(store: Store): Check {
  const file = store.sealing.keyFile ?? KEY_FILE;
  const lost = describeLost(unopenable(store.db, store.box));
  if (lost.length) {
    return {
      check: "key file",
      status: "fail",
      detail: `${file} does not open these secrets of the database: ${lost.join("; ")}`,
      fix: `With the server stopped, put back the ${KEY_FILE} that belongs to this database (a backup's FILE.key), or accept the loss as described.`,
    };
  }
  return { check: "key file", status: "ok", detail: `${file} opens every sealed secret${store.sealing.keyCreated ? " (created now)" : ""}` };
}

async function checkDatabase(config: Config): Promise<Check> {
  const path = join(config.data, DB_FILE);
  if (statSync(path).size === 0 && !(existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0)) {
    return {
      check: "database",
      status: "fail",
      detail: `${path} is empty (0 bytes): it is not an ipkeep database, and serve refuses it`,
      fix: 'Restore the last good backup: "ipkeep restore FILE" (with the server stopped); on a new installation, remove the file and run "ipkeep init".',
    };
  }
  try {
    const info = await inspectSnapshot(join(config.data, DB_FILE));
    return { check: "database", status: "ok", detail: `schema version ${info.schemaVersion}, ${info.domains} zone(s), ${info.hostnames} hostname(s)` };
  } catch (e) {
    const fix =
      e instanceof IpkeepError && e.code === "schema_too_new"
        ? "This ipkeep is older than the database: install the newer ipkeep again, or restore a backup made by this version."
        : 'Restore the last good backup: "ipkeep restore FILE" (with the server stopped).';
    return { check: "database", status: "fail", detail: (e as Error).message, fix };
  }
}

function checkClock(store: Store | null, nowMs: number): Check {
  const iso = new Date(nowMs).toISOString();
  if (nowMs < EARLIEST_SANE || nowMs > LATEST_SANE) {
    return {
      check: "clock",
      status: "fail",
      detail: `the system clock says ${iso}`,
      fix: "Set the time: enable NTP (timedatectl set-ntp true). TSIG transfers and tokens' expiry need a right clock.",
    };
  }
  if (store) {
    const newest = store.db.prepare("SELECT MAX(updated_at) AS t FROM domains").get<{ t: number | null }>()?.t ?? 0;
    if (newest - Math.floor(nowMs / 1000) > CLOCK_SKEW_S) {
      return {
        check: "clock",
        status: "fail",
        detail: `the database has changes dated ${new Date(newest * 1000).toISOString()}, after the clock's ${iso}: the clock went backwards`,
        fix: "Set the time right (timedatectl set-ntp true); serials and expiry times depend on it.",
      };
    }
  }
  return { check: "clock", status: "ok", detail: iso };
}

function tcpListening(l: Listen, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: local(l.host), port: l.port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

async function answersUdp(l: Listen, timeoutMs: number): Promise<boolean> {
  try {
    // Any answer will do (REFUSED for a name we do not serve): it proves the port is served.
    await queryDns({ host: local(l.host), port: l.port }, ".", "SOA", { timeoutMs });
    return true;
  } catch {
    return false;
  }
}

function canBind(l: Listen, udp: boolean): Promise<string | null> {
  return new Promise((resolve) => {
    if (udp) {
      const s = dgram.createSocket(l.host.includes(":") ? "udp6" : "udp4");
      s.once("error", (e: NodeJS.ErrnoException) => {
        s.close();
        resolve(e.code ?? e.message);
      });
      s.bind(l.port, l.host, () => s.close(() => resolve(null)));
    } else {
      const s = net.createServer();
      s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      s.listen(l.port, l.host, () => s.close(() => resolve(null)));
    }
  });
}

function bindFix(what: string, l: Listen, code: string): string {
  if (code === "EACCES")
    return `Ports below 1024 need privileges: run ipkeep from its systemd unit (it has CAP_NET_BIND_SERVICE) or use a port above 1024 for ${what}.`;
  if (code === "EADDRINUSE") {
    return l.port === 53
      ? "Another program holds port 53, often systemd-resolved's stub: set DNSStubListener=no in /etc/systemd/resolved.conf and restart systemd-resolved, or listen on a specific address (--dns PUBLIC_IP:53)."
      : `Another program holds ${formatListen(l)}: stop it (ss -ltnup | grep :${l.port}) or choose another ${what} address.`;
  }
  if (code === "EADDRNOTAVAIL") return `${l.host} is not an address of this machine: fix the ${what} listen address.`;
  return `Check the ${what} listen address ${formatListen(l)}.`;
}

async function checkPorts(config: Config, serverRunning: boolean, timeoutMs: number, listening: ServeListening | null = null): Promise<Check[]> {
  const out: Check[] = [];
  // A running server is asked where it really listens (serve.listen.json): the configuration
  // may not be what it was started with. Without the record (an older server), the config.
  const from = listening ?? { http: config.http, https: config.https, dns: config.dns };
  const groups: [string, Listen[], boolean][] = [
    ["HTTP", from.http.map((s) => parseListen(s, 8080)), false],
    ["HTTPS", from.https.map((s) => parseListen(s, 443)), false],
    ["DNS", from.dns.map((s) => parseListen(s, 53)), true],
  ];
  for (const [what, listens, udp] of groups) {
    for (const l of listens) {
      const name = `${what} port ${formatListen(l)}`;
      if (serverRunning) {
        const up = await tcpListening(l, timeoutMs);
        // DNS answers UDP too (the DNS thread may be stuck while TCP still accepts).
        const udpUp = up && udp ? await answersUdp(l, timeoutMs) : up;
        out.push(
          up && udpUp
            ? { check: name, status: "ok", detail: udp ? "the server answers (UDP and TCP)" : "the server is listening" }
            : {
                check: name,
                status: "fail",
                detail: up ? "the server accepts TCP here but does not answer over UDP" : "the server runs but nothing answers here",
                fix: `Look at the server's log (journalctl -u ipkeep) for why ${what} ${up ? "over UDP does not answer" : "did not start"}.`,
              },
        );
        continue;
      }
      const tcpErr = await canBind(l, false);
      const udpErr = tcpErr === null && udp ? await canBind(l, true) : null;
      const err = tcpErr ?? udpErr;
      const kind = what === "DNS" ? (tcpErr !== null ? "TCP" : "UDP") : what;
      out.push(
        err === null
          ? { check: name, status: "ok", detail: "free: the server can bind it" }
          : { check: name, status: "fail", detail: bindMessage(kind, l, err), fix: bindFix(what, l, err) },
      );
    }
  }
  return out;
}

async function checkDelegation(
  config: Config,
  zones: { name: string; nameservers: string[]; ds?: { ds: string | null; withdrawing: boolean } }[],
): Promise<Check[]> {
  // The same lookup and the same rule as custom-domain verification (core/domains.ts).
  const lookup = new ResolverDelegationLookup(config.resolver);
  const resolver = config.resolver ?? `${systemResolver().host}:${systemResolver().port}`;
  const out: Check[] = [];
  for (const z of zones) {
    const name = `delegation of ${z.name}`;
    let found: string[];
    try {
      found = await lookup.nameservers(z.name);
    } catch (e) {
      out.push({
        check: name,
        status: "warn",
        detail: `could not ask the resolver ${resolver}: ${(e as Error).message}`,
        fix: 'Check the resolver address (config "resolver" or --resolver) and that this machine may send DNS queries.',
      });
      continue;
    }
    const j = judgeDelegation(z.name, z.nameservers, found);
    if (j.delegated) {
      out.push({ check: name, status: "ok", detail: `delegated to ${j.found.join(", ")}` });
      if (z.ds !== undefined) out.push(await checkDs(lookup, z.name, z.ds));
    } else if (j.found.length === 0) {
      out.push({
        check: name,
        status: "fail",
        detail: `${z.name} is not delegated (the resolver ${resolver} finds no NS records)`,
        fix: `At your registrar (or in the parent zone), set the nameservers of ${z.name} to: ${j.expected.join(", ")}.`,
      });
    } else {
      out.push({
        check: name,
        status: "fail",
        detail: `the parent lists ${j.found.join(", ")}; this server serves ${j.expected.join(", ")}`,
        fix: `Make the NS records at your registrar exactly: ${j.expected.join(", ")}${j.unexpected.length ? ` (remove ${j.unexpected.join(", ")}, or add them to the zone if they are yours)` : ""}.`,
      });
    }
  }
  return out;
}

/** The parent's DS against the zone's key (the rule: core/domains.ts judgeDnssec). */
async function checkDs(lookup: ResolverDelegationLookup, zone: string, expected: { ds: string | null; withdrawing: boolean }): Promise<Check> {
  const check = `DNSSEC of ${zone}`;
  let found: string[];
  try {
    found = await lookup.ds(zone);
  } catch (e) {
    return { check, status: "warn", detail: `could not ask the resolver for the DS: ${(e as Error).message}` };
  }
  const j = judgeDnssec(zone, expected.ds, found, expected.withdrawing);
  const detail = {
    secure: "secure: the parent has this zone's DS",
    insecure: "signed, but the parent has no DS (resolvers do not validate it)",
    bogus: `bogus: the parent's DS (${j.found.join("; ")}) does not match`,
    unsigned: "served unsigned, no DS at the parent",
  }[j.state];
  const status = j.state === "bogus" ? "fail" : j.state === "insecure" ? "warn" : "ok";
  return j.advice ? { check, status, detail, fix: j.advice } : { check, status, detail };
}

interface SecondaryTarget {
  label: string;
  server: Listen;
}

async function checkSecondaries(targets: SecondaryTarget[], zones: { name: string; serial: number }[], timeoutMs: number): Promise<Check[]> {
  const out: Check[] = [];
  for (const t of targets) {
    for (const z of zones) {
      const name = `secondary ${t.label} for ${z.name}`;
      try {
        const r = await queryDns(t.server, z.name, "SOA", { timeoutMs });
        const soa = (r.packet.answers ?? []).find((a) => a.type === "SOA" && canonical(a.name) === z.name) as
          | (packet.Answer & { data: packet.SoaData })
          | undefined;
        if (r.rcode !== 0 || !soa) {
          out.push({
            check: name,
            status: "fail",
            detail: `it does not serve ${z.name} (rcode ${r.rcode})`,
            fix: `On the secondary, add ${z.name} to its zones; on the primary, allow its transfers (enrolment does both).`,
          });
          continue;
        }
        const serial = (soa.data.serial ?? 0) >>> 0;
        out.push(
          serial === z.serial
            ? { check: name, status: "ok", detail: `serial ${serial}, in sync` }
            : {
                check: name,
                status: "fail",
                detail: `it has serial ${serial}, we have ${z.serial}`,
                fix: "The secondary is not following: check that it reaches this server on TCP port 53 (AXFR), that NOTIFY reaches it on UDP, and that both sides have the same TSIG key.",
              },
        );
      } catch (e) {
        out.push({
          check: name,
          status: "fail",
          detail: `no answer: ${(e as Error).message}`,
          fix: `Check that the secondary runs and that its port ${t.server.port} is reachable from here.`,
        });
      }
    }
  }
  return out;
}

/**
 * The HTTPS certificate: the one ACME got (stored) or --tls-cert's file. Under 14 days left
 * warns (renewal should have happened at a third of its life), expired fails.
 */
export function checkCertificate(config: Config, store: Store | null, nowMs: number): Check | null {
  let acme: string | null = null;
  try {
    acme = acmeName(config);
  } catch (e) {
    return { check: "certificate", status: "fail", detail: (e as Error).message, fix: "Fix the HTTPS settings (see ipkeep serve --help)." };
  }
  let notAfter: number | null = null;
  let what = "";
  if (acme) {
    const c = store ? storedCertificate(store) : null;
    if (!c || c.name !== acme) {
      return {
        check: "certificate",
        status: "warn",
        detail: `no certificate for ${acme} yet (ACME from ${config.acmeDirectory})`,
        fix: 'The running server asks the CA and retries; its log says why it failed ("could not get a certificate …"). Check the delegation above: the CA must reach this server\'s nameservers.',
      };
    }
    notAfter = c.notAfter;
    what = `${acme} (ACME)`;
  } else if (config.tlsCert) {
    try {
      notAfter = new Date(new X509Certificate(readFileSync(config.tlsCert)).validTo).getTime();
    } catch (e) {
      return {
        check: "certificate",
        status: "fail",
        detail: `${config.tlsCert} does not load: ${(e as Error).message}`,
        fix: "Point --tls-cert at a PEM certificate chain.",
      };
    }
    what = config.tlsCert;
  } else {
    return null;
  }
  const days = Math.floor((notAfter - nowMs) / 86_400_000);
  const until = new Date(notAfter).toISOString();
  if (notAfter <= nowMs)
    return {
      check: "certificate",
      status: "fail",
      detail: `${what} expired ${until}`,
      fix: acme ? "See the server log for why renewal failed; the delegation check above is the usual cause." : "Renew it and send SIGHUP.",
    };
  if (days < EXPIRY_WARNING_DAYS) {
    return {
      check: "certificate",
      status: "warn",
      detail: `${what} expires in ${days} day(s) (${until})`,
      fix: acme
        ? 'Renewal is due since a third of its life was left: see the server log ("could not get a certificate …").'
        : "Renew it and send SIGHUP (kill -HUP the server).",
    };
  }
  return { check: "certificate", status: "ok", detail: `${what} valid until ${until} (${days} days)` };
}

export async function runDoctor(config: Config, opts: DoctorOptions = {}): Promise<Check[]> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const checks: Check[] = [...checkDataDir(config)];
  const dbPath = join(config.data, DB_FILE);
  let store: Store | null = null;
  if (checks.some((c) => c.check === "database permissions")) {
    const db = await checkDatabase(config);
    checks.push(db);
    if (db.status === "ok") store = await Store.open(dbPath);
    if (store) checks.push(checkKeyFile(store));
  }
  try {
    checks.push(checkClock(store, opts.now ?? Date.now()));
    const pid = runningServerPid(config.data);
    checks.push(
      pid !== null
        ? { check: "server", status: "ok", detail: `running (pid ${pid})` }
        : { check: "server", status: "warn", detail: "not running", fix: "Start it: systemctl start ipkeep (or ipkeep serve)." },
    );
    checks.push(...(await checkPorts(config, pid !== null, timeoutMs, pid !== null ? serverListening(config.data, pid) : null)));
    const cert = checkCertificate(config, store, opts.now ?? Date.now());
    if (cert) checks.push(cert);
    if (store) {
      const now = Math.floor((opts.now ?? Date.now()) / 1000);
      const signing = signingPort(store.dnssec);
      const zones = store.domains
        .serials()
        .filter((z) => z.served)
        .map((z) => ({
          name: z.name,
          serial: z.serial,
          nameservers: store!.domains.zoneData(z.id, now)?.nameservers.map((n) => canonical(n.name)) ?? [],
          ds: signing.expectedDs(z.id, z.name),
        }));
      if (zones.length === 0) checks.push({ check: "zones", status: "warn", detail: "no zone is served", fix: 'Add one: "ipkeep domain add ZONE --ns NS".' });
      checks.push(...(await checkDelegation(config, zones)));
      const targets: SecondaryTarget[] = [
        ...config.notify.map((spec) => {
          const addr = spec.trim().split(/\s+/)[0]!;
          return { label: addr, server: parseListen(addr, 53) };
        }),
        // Asked on the port each enrolled with (what NOTIFY is sent to), not always 53.
        ...store.secondaries.active().flatMap((n) => {
          if (!n.publicIp) return [];
          const server = { host: n.publicIp, port: n.dnsPort };
          return [{ label: `${n.name} (${n.dnsPort === 53 ? n.publicIp : formatListen(server)})`, server }];
        }),
      ];
      checks.push(...(await checkSecondaries(targets, zones, timeoutMs)));
    }
  } finally {
    store?.close();
  }
  return checks;
}

const MARK: Record<Status, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL" };

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check ports, permissions, clock, data directory, delegation and secondaries; says what to fix")
    .option("--http <addr:port>", "HTTP address the server uses (repeatable; default from the config)", collect)
    .option("--https <addr:port>", "HTTPS address the server uses (repeatable)", collect)
    .option("--dns <addr:port>", "DNS address the server uses (repeatable; default from the config)", collect)
    .option("--notify <addr:port>", "a secondary whose serials to compare (repeatable; default from the config)", collect)
    .option("--resolver <host[:port]>", "resolver asked about delegation (default: the first nameserver in /etc/resolv.conf)")
    .option("--json", "machine-readable output")
    .action(async (_opts: unknown, cmd: Command) => {
      try {
        const config = configFrom(cmd);
        const checks = await runDoctor(config);
        const failed = checks.filter((c) => c.status === "fail").length;
        const warned = checks.filter((c) => c.status === "warn").length;
        const lines = checks.flatMap((c) => [`${MARK[c.status]}  ${c.check}: ${c.detail}`, ...(c.fix && c.status !== "ok" ? [`      fix: ${c.fix}`] : [])]);
        lines.push("", failed ? `${failed} problem(s), ${warned} warning(s)` : warned ? `No problems, ${warned} warning(s)` : "Everything looks right.");
        print({ json: !!cmd.optsWithGlobals().json }, { ok: failed === 0, checks }, lines);
        process.exitCode = failed ? 1 : 0;
      } catch (e) {
        const err = e instanceof IpkeepError ? e : new IpkeepError("internal", (e as Error)?.message ?? String(e));
        process.stderr.write(`ipkeep: ${err.message}\n`);
        process.exitCode = err.exitCode;
      }
    });
}
