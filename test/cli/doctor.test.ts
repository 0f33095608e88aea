/**
 * ipkeep doctor against real sockets on 127.0.0.1: a fake parent zone answers delegation
 * questions, a fake secondary answers SOA serials, and the real primary runs in-process.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Check, runDoctor } from "../../src/cli/doctor";
import { type Config, resolveConfig } from "../../src/config";
import { createZone } from "../../src/core/zones";
import { setLogSink } from "../../src/log";
import { type RunningServer, startServer } from "../../src/server";
import { EXE } from "../helpers/exe";
import { type FakeDns, fakeDns, ns, soa } from "../helpers/fake-dns";
import { TestClock, testPlatform } from "../helpers/platform";

const ZONE = "dyn.example.com";
const ORPHAN = "orphan.example.com";
const MOVED = "moved.example.com";
let dir: string;
let server: RunningServer;
let parent: FakeDns;
let staleSecondary: FakeDns;
let goodSecondary: FakeDns;
let serial = 0;

const find = (checks: Check[], name: string) => checks.find((c) => c.check === name);

function config(extra: Record<string, unknown> = {}): Config {
  return resolveConfig(
    {
      data: dir,
      http: [`127.0.0.1:${server.http[0]!.port}`],
      dns: [`127.0.0.1:${server.dns[0]!.port}`],
      resolver: `127.0.0.1:${parent.port}`,
      ...extra,
    },
    {},
    () => false,
  );
}

beforeAll(async () => {
  setLogSink(() => {});
  dir = mkdtempSync(join(tmpdir(), "ipkeep-doctor-"));
  parent = await fakeDns((name, type) => {
    // The parent has no DS for the zone yet (NODATA).
    if (type === "DS" && name === ZONE) return { answers: [] };
    if (type !== "NS") return { rcode: 5 };
    if (name === ZONE) return { authorities: [ns(ZONE, `ns1.${ZONE}`), ns(ZONE, "ns2.example.net")] };
    if (name === MOVED) return { authorities: [ns(MOVED, "ns1.someone-else.example")] };
    return { rcode: 3 };
  });
  server = await startServer(resolveConfig({ data: dir, http: ["127.0.0.1:0"], dns: ["127.0.0.1:0"] }, {}, () => false));
  const deps = { store: server.store, platform: testPlatform(new TestClock()), changes: server.live };
  serial = createZone(deps, {
    name: ZONE,
    nameservers: [
      { name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null },
      { name: "ns2.example.net", ipv4: null, ipv6: null },
    ],
  }).serial;
  createZone(deps, { name: ORPHAN, nameservers: [{ name: `ns1.${ZONE}`, ipv4: null, ipv6: null }] });
  createZone(deps, { name: MOVED, nameservers: [{ name: `ns1.${ZONE}`, ipv4: null, ipv6: null }] });
  goodSecondary = await fakeDns((name, type) => (type === "SOA" ? { answers: [soa(name, server.store.domains.byName(name)!.serial)] } : null));
  staleSecondary = await fakeDns((name, type) => (type === "SOA" ? { answers: [soa(name, 1)] } : null));
});

afterAll(async () => {
  await server?.stop();
  await parent?.close();
  await goodSecondary?.close();
  await staleSecondary?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("ipkeep doctor", () => {
  it("finds the data directory and database private, the clock sane and the server listening", async () => {
    const checks = await runDoctor(config());
    expect(find(checks, "data directory")?.status).toBe("ok");
    expect(find(checks, "database permissions")?.status).toBe("ok");
    expect(find(checks, "database")?.status).toBe("ok");
    expect(find(checks, "key file")?.status).toBe("ok");
    expect(find(checks, "clock")?.status).toBe("ok");
    expect(find(checks, "server")?.status).toBe("ok");
    expect(find(checks, `DNS port 127.0.0.1:${server.dns[0]!.port}`)?.status).toBe("ok");
    expect(find(checks, `HTTP port 127.0.0.1:${server.http[0]!.port}`)?.status).toBe("ok");
  });

  it("confirms a zone the parent delegates to exactly our nameservers", async () => {
    const checks = await runDoctor(config());
    expect(find(checks, `delegation of ${ZONE}`)).toMatchObject({ status: "ok", detail: `delegated to ns1.${ZONE}, ns2.example.net` });
    expect(parent.queries.some((q) => q.name === ZONE && q.type === "NS")).toBe(true);
    // Signed (the default), but the parent has no DS: insecure, and the DS to paste.
    expect(find(checks, `DNSSEC of ${ZONE}`)).toMatchObject({
      status: "warn",
      detail: expect.stringMatching(/no DS/),
      fix: expect.stringMatching(new RegExp(`${ZONE}\\. IN DS \\d+ 13 2 [0-9A-F]{64}`)),
    });
  });

  it("says how to delegate a zone the parent does not know", async () => {
    const c = find(await runDoctor(config()), `delegation of ${ORPHAN}`)!;
    expect(c.status).toBe("fail");
    expect(c.detail).toMatch(/not delegated/);
    expect(c.fix).toMatch(new RegExp(`registrar.*ns1\\.${ZONE.replace(/\./g, "\\.")}`));
  });

  it("says when the parent points somewhere else", async () => {
    const c = find(await runDoctor(config()), `delegation of ${MOVED}`)!;
    expect(c.status).toBe("fail");
    expect(c.detail).toMatch(/ns1\.someone-else\.example/);
    expect(c.fix).toMatch(/Make the NS records at your registrar exactly: ns1\.dyn\.example\.com \(remove ns1\.someone-else\.example/);
  });

  it("warns (does not fail) when the resolver does not answer", async () => {
    const silent = await fakeDns(() => null);
    const checks = await runDoctor(config({ resolver: `127.0.0.1:${silent.port}` }));
    await silent.close();
    expect(find(checks, `delegation of ${ZONE}`)).toMatchObject({ status: "warn", detail: expect.stringMatching(/could not ask/) });
  });

  it("compares the SOA serials of the secondaries with ours", async () => {
    const checks = await runDoctor(config({ notify: [`127.0.0.1:${goodSecondary.port}`, `127.0.0.1:${staleSecondary.port} somekey`] }));
    expect(find(checks, `secondary 127.0.0.1:${goodSecondary.port} for ${ZONE}`)).toMatchObject({ status: "ok", detail: `serial ${serial}, in sync` });
    const stale = find(checks, `secondary 127.0.0.1:${staleSecondary.port} for ${ZONE}`)!;
    expect(stale.status).toBe("fail");
    expect(stale.detail).toBe(`it has serial 1, we have ${serial}`);
    expect(stale.fix).toMatch(/TCP port 53.*NOTIFY.*TSIG/);
  });

  it("checks the ports the running server really listens on (serve.listen.json), not the configured ones", async () => {
    const checks = await runDoctor(config({ http: ["127.0.0.1:1"], dns: ["127.0.0.1:1"] }));
    expect(find(checks, `HTTP port 127.0.0.1:${server.http[0]!.port}`)).toMatchObject({ status: "ok", detail: "the server is listening" });
    expect(find(checks, `DNS port 127.0.0.1:${server.dns[0]!.port}`)).toMatchObject({ status: "ok", detail: "the server answers (UDP and TCP)" });
    expect(checks.filter((c) => c.check.endsWith("127.0.0.1:1"))).toEqual([]);
  });

  it("asks an enrolled secondary on the port it enrolled with", async () => {
    const row = server.store.db
      .prepare(
        "INSERT INTO nodes (role, name, machine_id, public_ip, credential_hash, status, dns_port, created_at) VALUES ('secondary', 'ns2', 'm-doctor', '127.0.0.1', 'h-doctor', 'active', ?, 0)",
      )
      .run(goodSecondary.port);
    try {
      const checks = await runDoctor(config());
      expect(find(checks, `secondary ns2 (127.0.0.1:${goodSecondary.port}) for ${ZONE}`)).toMatchObject({ status: "ok", detail: `serial ${serial}, in sync` });
    } finally {
      server.store.db.prepare("DELETE FROM nodes WHERE id = ?").run(row.lastInsertRowid);
    }
  });

  it("flags a clock that is obviously wrong", async () => {
    const c = find(await runDoctor(config(), { now: Date.UTC(2001, 0, 1) }), "clock")!;
    expect(c.status).toBe("fail");
    expect(c.fix).toMatch(/NTP/);
  });

  it("flags a database and data directory others can read, with the chmod to run", async () => {
    chmodSync(join(dir, "ipkeep.db"), 0o644);
    chmodSync(dir, 0o755);
    try {
      const checks = await runDoctor(config());
      expect(find(checks, "database permissions")).toMatchObject({ status: "fail", fix: `chmod 600 ${join(dir, "ipkeep.db")}` });
      expect(find(checks, "data directory")).toMatchObject({ status: "fail", fix: `chmod 700 ${dir}` });
    } finally {
      chmodSync(join(dir, "ipkeep.db"), 0o600);
      chmodSync(dir, 0o700);
    }
  });
});

describe("ipkeep doctor without a running server", () => {
  it("says a port is taken and by what kind of program, and exits 1 with --json", async () => {
    const data = mkdtempSync(join(tmpdir(), "ipkeep-doctor-"));
    const blocker = net.createServer();
    const port = await new Promise<number>((r) => blocker.listen(0, "127.0.0.1", () => r((blocker.address() as net.AddressInfo).port)));
    const udpBlocker = createSocket("udp4");
    const udpPort = await new Promise<number>((r) => udpBlocker.bind(0, "127.0.0.1", () => r(udpBlocker.address().port)));
    const init = await runExe(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]);
    expect(init.code).toBe(0);
    const r = await runExe([
      "--data",
      data,
      "doctor",
      "--json",
      "--resolver",
      `127.0.0.1:${parent.port}`,
      "--http",
      `127.0.0.1:${port}`,
      "--dns",
      `127.0.0.1:${udpPort}`,
    ]);
    blocker.close();
    udpBlocker.close();
    rmSync(data, { recursive: true, force: true });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
    expect(out.ok).toBe(false);
    expect(find(out.checks, "server")?.status).toBe("warn");
    expect(find(out.checks, `HTTP port 127.0.0.1:${port}`)).toMatchObject({ status: "fail", detail: `cannot bind HTTP 127.0.0.1:${port}: address in use` });
    expect(find(out.checks, `DNS port 127.0.0.1:${udpPort}`)).toMatchObject({ status: "fail", detail: `cannot bind UDP 127.0.0.1:${udpPort}: address in use` });
    // The parent also lists ns2.example.net, which this data directory does not serve.
    expect(find(out.checks, `delegation of ${ZONE}`)).toMatchObject({ status: "fail", fix: expect.stringMatching(/remove ns2.example.net/) });
    expect(find(out.checks, "database permissions")?.status).toBe("ok"); // a fresh database is private
  });

  it("says what the key file cannot open when it is not the database's own", async () => {
    const data = mkdtempSync(join(tmpdir(), "ipkeep-doctor-"));
    const init = await runExe(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]);
    expect(init.code).toBe(0);
    rmSync(join(data, "secret.key"));
    const r = await runExe(["--data", data, "doctor", "--json", "--resolver", `127.0.0.1:${parent.port}`, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"]);
    rmSync(data, { recursive: true, force: true });
    const out = JSON.parse(r.stdout) as { checks: Check[] };
    expect(find(out.checks, "key file")).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(/JWT signing secret/),
      fix: expect.stringMatching(/FILE\.key/),
    });
  });

  it("says to run init in an empty data directory", async () => {
    const data = mkdtempSync(join(tmpdir(), "ipkeep-doctor-"));
    const r = await runExe(["--data", data, "doctor", "--resolver", `127.0.0.1:${parent.port}`, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"]);
    rmSync(data, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}database: no database/);
    expect(r.stdout).toMatch(/fix: Run "ipkeep init/);
  });
});

describe("ipkeep doctor on a database it cannot use", () => {
  const args = (data: string) => [
    "--data",
    data,
    "doctor",
    "--json",
    "--resolver",
    `127.0.0.1:${parent.port}`,
    "--http",
    "127.0.0.1:0",
    "--dns",
    "127.0.0.1:0",
  ];

  it("says a zero-length ipkeep.db is empty and to restore a backup, not to run init", async () => {
    const data = mkdtempSync(join(tmpdir(), "ipkeep-doctor-"));
    writeFileSync(join(data, "ipkeep.db"), "", { mode: 0o600 });
    const r = await runExe(args(data));
    rmSync(data, { recursive: true, force: true });
    expect(r.code).toBe(1);
    const db = find((JSON.parse(r.stdout) as { checks: Check[] }).checks, "database")!;
    expect(db).toMatchObject({ status: "fail", detail: expect.stringMatching(/is empty \(0 bytes\)/), fix: expect.stringMatching(/ipkeep restore FILE/) });
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync("/usr/bin/setpriv"))(
    "says it cannot read a database it has no permission for, not to run init",
    async () => {
      const data = mkdtempSync(join(tmpdir(), "ipkeep-doctor-"));
      expect((await runExe(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`])).code).toBe(0);
      // As nobody: the 0700 directory of root's database cannot be looked into.
      const r = await runExe(["--reuid=65534", "--regid=65534", "--clear-groups", EXE, ...args(data)], "/usr/bin/setpriv");
      rmSync(data, { recursive: true, force: true });
      expect(r.code, r.stderr).toBe(1);
      const db = find((JSON.parse(r.stdout) as { checks: Check[] }).checks, "database")!;
      expect(db.status).toBe("fail");
      expect(db.detail).toBe(`cannot read ${join(data, "ipkeep.db")} (permission denied)`);
      expect(db.fix).toMatch(/as the user ipkeep runs as, or as root/);
      expect(db.fix).not.toMatch(/init/);
    },
  );
});

/** The executable, without blocking this process (the fake parent answers from here). */
function runExe(args: string[], exe = EXE): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(exe, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("ipkeep doctor: the HTTPS certificate", () => {
  it("warns under 14 days left and fails when expired, for --tls-cert and for the certificate ACME stored", async () => {
    const { spawnSync } = await import("node:child_process");
    const { checkCertificate } = await import("../../src/cli/doctor");
    const { CERTIFICATE_SETTING } = await import("../../src/tls/acme");
    const tls = mkdtempSync(join(tmpdir(), "ipkeep-doctor-tls-"));
    try {
      const cert = join(tls, "c.pem");
      const made = spawnSync("openssl", [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        join(tls, "k.pem"),
        "-out",
        cert,
        "-days",
        "5",
        "-subj",
        "/CN=x",
      ]);
      expect(made.status).toBe(0);
      const files = config({ https: ["127.0.0.1:0"], tlsCert: cert, tlsKey: join(tls, "k.pem") });
      const soon = checkCertificate(files, server.store, Date.now())!;
      expect(soon.status).toBe("warn");
      expect(soon.detail).toMatch(/expires in [45] day\(s\)/);
      expect(checkCertificate(files, server.store, Date.now() + 10 * 86_400_000)!.status).toBe("fail");
      expect(checkCertificate(files, server.store, Date.now() - 30 * 86_400_000)!.status).toBe("ok");

      const acme = config({ https: ["127.0.0.1:0"], url: `https://ddns.${ZONE}` });
      expect(checkCertificate(acme, server.store, Date.now())!.detail).toContain(`no certificate for ddns.${ZONE} yet`);
      const now = Date.now();
      server.store.settings.set(
        CERTIFICATE_SETTING,
        JSON.stringify({
          name: `ddns.${ZONE}`,
          directory: "https://ca/dir",
          cert: "x",
          key: "y",
          notBefore: now - 80 * 86_400_000,
          notAfter: now + 10 * 86_400_000,
        }),
      );
      const stored = checkCertificate(acme, server.store, now)!;
      expect(stored.status).toBe("warn");
      expect(stored.detail).toContain(`ddns.${ZONE} (ACME) expires in 10 day(s)`);
      const all = await runDoctor(acme);
      expect(find(all, "certificate")?.status).toBe("warn");
      // Without HTTPS there is nothing to check.
      expect(checkCertificate(config(), server.store, now)).toBeNull();
    } finally {
      rmSync(tls, { recursive: true, force: true });
    }
  });
});
