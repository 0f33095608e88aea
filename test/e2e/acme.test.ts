/**
 * Own HTTPS by ACME against Debian's Pebble, with the compiled executable: the certificate by
 * DNS-01 answered by ipkeep's own nameserver (Pebble resolves through ipkeep's DNS port),
 * HTTPS served with it (curl --cacert of Pebble's root), renewal of a short-lived certificate
 * while a connection stays open, HTTP serving while the CA is unreachable and recovery when it
 * comes back, and a directory it cannot trust refused with a clear error.
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect, type TLSSocket } from "node:tls";
import { readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, EXE, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { curlHttps, PEBBLE, type Pebble, pebbleTls, startPebble } from "../helpers/pebble";
import { freeDnsPort } from "../helpers/ports";

const ZONE = "dyn.example.test";
const NAME = `ddns.${ZONE}`;
const haveTools = existsSync(PEBBLE) && spawnSync("curl", ["--version"]).status === 0;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number, logs: () => string = () => ""): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const httpsPortOf = (logs: string) => Number(/msg="https listening" addr=127\.0\.0\.1:(\d+)/.exec(logs)?.[1] ?? 0);

function initData(): string {
  const data = tempDir();
  const r = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=127.0.0.1`]);
  expect(r.code, r.stderr).toBe(0);
  return data;
}

function acmeArgs(dnsPort: number, pebble: { directory: string; ca: string }): string[] {
  return ["--dns", `127.0.0.1:${dnsPort}`, "--https", "127.0.0.1:0", "--url", `https://${NAME}`, "--acme-directory", pebble.directory, "--acme-ca", pebble.ca];
}

function curlAsync(name: string, port: number, path: string, cacert: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-sS", "--max-time", "5", "--cacert", cacert, "--resolve", `${name}:${port}:127.0.0.1`, `https://${name}:${port}${path}`],
      (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

/** A TLS connection to the name, and one HTTP/1.1 request over it at a time. */
function openTls(port: number, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, servername: NAME, ca: readFileSync(ca) }, () => resolve(s));
    s.on("error", reject);
  });
}
function requestOver(s: TLSSocket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`no whole answer within 5 s; got: ${JSON.stringify(buf)}`)), 5000);
    const onData = (d: Buffer) => {
      buf += d.toString();
      const head = buf.indexOf("\r\n\r\n");
      const len = Number(/content-length: (\d+)/i.exec(buf)?.[1] ?? -1);
      if (head >= 0 && ((len >= 0 && buf.length >= head + 4 + len) || buf.endsWith("\r\n0\r\n\r\n"))) {
        s.off("data", onData);
        clearTimeout(timer);
        resolve(buf);
      }
    };
    s.on("data", onData);
    s.once("close", () => reject(new Error(`connection closed; got: ${JSON.stringify(buf)}`)));
    s.write(`GET ${path} HTTP/1.1\r\nHost: ${NAME}\r\n\r\n`);
  });
}

describe.skipIf(!haveTools)("own HTTPS by ACME (Pebble)", () => {
  let dir: string;
  let data: string;
  let pebble: Pebble;
  let server: ServerProcess;
  let root: string;
  let started: number;
  let firstHttps: number;
  /** The DNS port Pebble asks: every server here that needs a certificate listens on it. */
  let pebbleDns: number;

  beforeAll(async () => {
    dir = tempDir("ipkeep-pebble-");
    data = initData();
    pebbleDns = await freeDnsPort();
    pebble = await startPebble(dir, { dnsPort: pebbleDns });
    root = await pebble.issuingRoot();
    started = Date.now();
    server = await startServe(data, acmeArgs(pebbleDns, pebble));
    await until(
      "the certificate",
      () => httpsPortOf(server.logs()) > 0,
      30_000,
      () => server.logs() + pebble.logs(),
    );
    await until("the first HTTPS answer", () => curlHttps(NAME, httpsPortOf(server.logs()), "/api/v2/healthz", root).code === 0, 10_000);
    firstHttps = Date.now() - started;
    console.log(`first HTTPS answer ${firstHttps} ms after start (Pebble, DNS-01)`);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await pebble?.stop();
    if (data) cleanup(data);
    if (dir) cleanup(dir);
  });

  it("gets its certificate by DNS-01 from its own nameserver and serves HTTPS with it", async () => {
    const port = httpsPortOf(server.logs());
    const r = curlHttps(NAME, port, "/api/v2/healthz", root, ["-i"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/\S+ 200/);
    expect(r.stdout.toLowerCase()).toContain("strict-transport-security: max-age=31536000");
    expect(server.logs()).toContain('msg="certificate obtained"');
    // Pebble validated through ipkeep's DNS (PEBBLE_VA_ALWAYS_VALID=0: it asked for the TXT), and the value is withdrawn after.
    expect(pebble.logs()).toMatch(/set VALID by completed challenge/);
    const dig = spawnSync("dig", ["+short", "-p", String(server.dnsPort), "@127.0.0.1", `_acme-challenge.${NAME}`, "TXT"], { encoding: "utf8" });
    expect(dig.stdout.trim()).toBe("");
    // The update paths stay on plain HTTP; a browser page there is sent to HTTPS.
    const plain = await fetch(`${server.base}/nic/update?hostname=x.${ZONE}`, { redirect: "manual" });
    expect(plain.status).toBe(401);
    const page = await fetch(`${server.base}/invite/abc`, { redirect: "manual" });
    expect(page.status).toBe(308);
    expect(page.headers.get("location")).toBe(`https://${NAME}:${port}/invite/abc`);
    const docs = await fetch(`${server.base}/api/docs`, { redirect: "manual" });
    expect(docs.status).toBe(308);
    // The JSON API is no page: it answers over HTTP as before (refused from other machines, served on loopback).
    expect((await fetch(`${server.base}/api/v2/healthz`, { redirect: "manual" })).status).toBe(200);
    // doctor's record of the listeners names HTTPS once it opened.
    const listening = JSON.parse(readFileSync(`${data}/serve.listen.json`, "utf8")) as { https: string[] };
    expect(listening.https).toEqual([`127.0.0.1:${port}`]);
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toMatch(/ipkeep_tls_certificate_expiry_timestamp_seconds \d{10}/);
    expect(Number(/ipkeep_dns_responses_total\{rcode="NOERROR",type="TXT"\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
  });

  it("keeps the certificate across a restart (no new order)", async () => {
    await server.stop();
    server = await startServe(data, acmeArgs(pebbleDns, pebble));
    await until(
      "HTTPS after restart",
      () => httpsPortOf(server.logs()) > 0,
      10_000,
      () => server.logs(),
    );
    expect(curlHttps(NAME, httpsPortOf(server.logs()), "/api/v2/healthz", root).code).toBe(0);
    expect(server.logs()).not.toContain("certificate obtained");
    // The keys are sealed: neither the account key nor the certificate's key is in the database in clear.
    const db = readFileSync(`${data}/ipkeep.db`).toString("latin1");
    expect(db).not.toContain("PRIVATE KEY");
  });

  it("travels with backup and restore: the restored directory serves HTTPS without a new order", async () => {
    const file = `${dir}/backup.db`;
    const b = run(["--data", data, "backup", file]);
    expect(b.code, b.stderr).toBe(0);
    const fresh = tempDir();
    try {
      const r = run(["--data", fresh, "restore", file]);
      expect(r.code, r.stderr).toBe(0);
      const dnsPort = await freeDnsPort();
      const other = await startServe(fresh, acmeArgs(dnsPort, pebble));
      try {
        await until(
          "HTTPS from the restored directory",
          () => httpsPortOf(other.logs()) > 0,
          10_000,
          () => other.logs(),
        );
        expect(curlHttps(NAME, httpsPortOf(other.logs()), "/api/v2/healthz", root).code).toBe(0);
        expect(other.logs()).not.toContain("certificate obtained");
      } finally {
        await other.stop();
      }
      // Restored without its key file: the sealed account and certificate are lost, said in
      // words, and a new certificate is ordered (a new account too).
      const keyless = tempDir();
      try {
        rmSync(`${file}.key`, { force: true });
        const r2 = run(["--data", keyless, "restore", file]);
        expect(`${r2.stdout}${r2.stderr}`).toContain("the ACME account and this server's certificate");
        expect(r2.code, r2.stderr).toBe(0);
        {
          // Pebble asks pebbleDns: the first server gives it up for this one.
          await server.stop();
          const third = await startServe(keyless, acmeArgs(pebbleDns, pebble));
          try {
            await until(
              "a new certificate",
              () => /msg="certificate obtained"/.test(third.logs()),
              30_000,
              () => third.logs(),
            );
          } finally {
            await third.stop();
          }
        }
      } finally {
        cleanup(keyless);
      }
    } finally {
      cleanup(fresh);
    }
  }, 90_000);
});

describe.skipIf(!haveTools)("ACME renewal and failures (Pebble)", () => {
  let dir: string;

  beforeAll(() => {
    dir = tempDir("ipkeep-pebble-");
  });
  afterAll(() => cleanup(dir));

  it("renews a short-lived certificate at a third of its life left, requests on fresh connections going on through the swap", async () => {
    const data = initData();
    const dnsPort = await freeDnsPort();
    const pebble = await startPebble(dir, { dnsPort, validitySeconds: 24 });
    let server: ServerProcess | null = null;
    let sock: TLSSocket | null = null;
    try {
      const root = await pebble.issuingRoot();
      server = await startServe(data, acmeArgs(dnsPort, pebble));
      const s = server;
      await until(
        "the certificate",
        () => httpsPortOf(s.logs()) > 0,
        30_000,
        () => s.logs(),
      );
      const port = httpsPortOf(s.logs());
      sock = await openTls(port, root);
      const firstSerial = sock.getPeerCertificate().serialNumber;
      let sockError: Error | null = null;
      sock.on("error", (e) => (sockError = e));
      expect(await requestOver(sock, "/api/v2/healthz")).toMatch(/^HTTP\/1.1 200/);
      // Requests on fresh connections all through the renewal: none may fail.
      const failures: string[] = [];
      let sent = 0;
      while (!(/msg="certificate renewed"/.test(s.logs()) && /msg="tls reloaded"/.test(s.logs()))) {
        if (sent > 400) throw new Error(`no renewal:\n${s.logs()}`);
        const r = await curlAsync(NAME, port, "/api/v2/healthz", root);
        sent++;
        if (r.code !== 0) failures.push(r.stderr);
        await new Promise((r) => setTimeout(r, 100));
      }
      for (let i = 0; i < 10; i++) {
        const r = await curlAsync(NAME, port, "/api/v2/healthz", root);
        if (r.code !== 0) failures.push(r.stderr);
      }
      // Bun cannot swap a listener's certificate in place: the new listener binds beside the old
      // (SO_REUSEPORT), and stopping the old one resets a connection caught in its TLS handshake at
      // that instant. At most that one, and nothing else fails (README: "Renewal").
      expect(failures.length, failures.join("\n")).toBeLessThanOrEqual(1);
      for (const f of failures) expect(f).toMatch(/\(35\)|reset by peer/);
      expect(sent).toBeGreaterThan(50);
      // The connection opened before the swap was served and then, idle, closed in order (no reset).
      expect(sockError).toBeNull();
      const fresh = await openTls(port, root);
      expect(fresh.getPeerCertificate().serialNumber).not.toBe(firstSerial);
      fresh.end();
    } finally {
      sock?.destroy();
      await server?.stop();
      await pebble.stop();
      cleanup(data);
    }
  }, 90_000);

  it("keeps serving HTTP while the CA is unreachable, and gets the certificate when it comes back", async () => {
    const data = initData();
    const dnsPort = await freeDnsPort();
    const pebblePort = await freeDnsPort();
    const tls = pebbleTls(dir);
    let pebble: Pebble | null = null;
    let server: ServerProcess | null = null;
    try {
      server = await startServe(data, acmeArgs(dnsPort, { directory: `https://127.0.0.1:${pebblePort}/dir`, ca: tls.ca }));
      const s = server;
      await until(
        "the failure",
        () => /could not get a certificate for ddns\.dyn\.example\.test: cannot reach the ACME directory .*connection refused/.test(s.logs()),
        15_000,
        () => s.logs(),
      );
      expect(s.logs()).toMatch(/retry_in=10s/);
      expect((await fetch(`${s.base}/api/v2/healthz`)).status).toBe(200);
      expect(await (await fetch(`${s.base}/nic/update?hostname=x.${ZONE}`)).text()).toBe("badauth");
      // Pages are not sent to an HTTPS that does not exist yet.
      expect((await fetch(`${s.base}/invite/abc`, { redirect: "manual" })).status).not.toBe(308);
      pebble = await startPebble(dir, { dnsPort, port: pebblePort, tls });
      const root = await pebble.issuingRoot();
      await until(
        "the certificate after the CA came back",
        () => httpsPortOf(s.logs()) > 0,
        30_000,
        () => s.logs(),
      );
      expect(curlHttps(NAME, httpsPortOf(s.logs()), "/api/v2/healthz", root).code).toBe(0);
    } finally {
      await server?.stop();
      await pebble?.stop();
      cleanup(data);
    }
  }, 90_000);

  it("gets a certificate by HTTP-01 on port 80 for a name outside its zones", async (ctx) => {
    // Port 80 on loopback must be free; Pebble resolves the outside name through pebble-challtestsrv (every name: 127.0.0.1).
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(false));
      srv.listen(80, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (!free || !existsSync("/usr/bin/pebble-challtestsrv")) return ctx.skip();
    const data = initData();
    const fakeDnsPort = await freeDnsPort();
    const mgmt = await freeDnsPort();
    const { spawn } = await import("node:child_process");
    const chall = spawn(
      "/usr/bin/pebble-challtestsrv",
      [
        "-dns01",
        `127.0.0.1:${fakeDnsPort}`,
        "-http01",
        "",
        "-https01",
        "",
        "-tlsalpn01",
        "",
        "-management",
        `127.0.0.1:${mgmt}`,
        "-defaultIPv4",
        "127.0.0.1",
        "-defaultIPv6",
        "",
      ],
      { stdio: "ignore" },
    );
    let pebble: Pebble | null = null;
    let server: ServerProcess | null = null;
    try {
      pebble = await startPebble(dir, { dnsPort: fakeDnsPort, httpPort: 80 });
      const root = await pebble.issuingRoot();
      const name = "web.elsewhere.test";
      server = await startServe(data, [
        "--http",
        "127.0.0.1:80",
        "--https",
        "127.0.0.1:0",
        "--url",
        `https://${name}`,
        "--acme-directory",
        pebble.directory,
        "--acme-ca",
        pebble.ca,
      ]);
      const s = server;
      await until(
        "the certificate by HTTP-01",
        () => httpsPortOf(s.logs()) > 0,
        30_000,
        () => s.logs() + pebble!.logs(),
      );
      const r = spawnSync(
        "curl",
        [
          "-sS",
          "--max-time",
          "5",
          "--cacert",
          root,
          "--resolve",
          `${name}:${httpsPortOf(s.logs())}:127.0.0.1`,
          `https://${name}:${httpsPortOf(s.logs())}/api/v2/healthz`,
        ],
        { encoding: "utf8" },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(pebble.logs()).toMatch(/http-01|HTTP-01|well-known/i);
      // Nothing is left at the challenge path.
      expect((await fetch("http://127.0.0.1:80/.well-known/acme-challenge/abc")).status).toBe(404);
    } finally {
      await server?.stop();
      await pebble?.stop();
      chall.kill("SIGTERM");
      cleanup(data);
    }
  }, 60_000);

  it("renews early when the CA's renewal information (ARI, RFC 9773) says so", async () => {
    // Debian's Pebble has no ARI: a proxy in front of its directory adds renewalInfo and answers it.
    const data = initData();
    const dnsPort = await freeDnsPort();
    const tls = pebbleTls(dir);
    const pebble = await startPebble(dir, { dnsPort, tls });
    const asked: string[] = [];
    const ca = readFileSync(tls.ca, "utf8");
    const proxy: ReturnType<typeof Bun.serve> = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: readFileSync(tls.cert, "utf8"), key: readFileSync(tls.key, "utf8") },
      fetch: async (req: Request): Promise<Response> => {
        const path = new URL(req.url).pathname;
        if (path === "/dir") {
          const d = (await (await fetch(pebble.directory, { tls: { ca } } as RequestInit)).json()) as Record<string, unknown>;
          return Response.json({ ...d, renewalInfo: `https://127.0.0.1:${proxy.port}/renewal-info/` });
        }
        const id = /^\/renewal-info\/(.+)$/.exec(path)?.[1];
        if (!id) return new Response("not found", { status: 404 });
        asked.push(id);
        // The first certificate is due now; any later one in a month.
        const due = asked.indexOf(id) === 0;
        const start = due ? Date.now() - 3600_000 : Date.now() + 30 * 86_400_000;
        return Response.json({ suggestedWindow: { start: new Date(start).toISOString(), end: new Date(start + 60_000).toISOString() } });
      },
    });
    let server: ServerProcess | null = null;
    try {
      server = await startServe(data, acmeArgs(dnsPort, { directory: `https://127.0.0.1:${proxy.port}/dir`, ca: tls.ca }));
      const s = server;
      await until(
        "the early renewal",
        () => /msg="certificate renewed"/.test(s.logs()),
        30_000,
        () => s.logs(),
      );
      expect(s.logs()).toContain("renewal window from the CA (ARI)");
      // The certificate was named as RFC 9773 says: base64url(AKI).base64url(serial).
      expect(asked[0]).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      // The renewed one is asked about too, and not renewed again.
      await until(
        "ARI for the new certificate",
        () => new Set(asked).size >= 2,
        10_000,
        () => s.logs(),
      );
      expect(s.logs().match(/msg="certificate renewed"/g)?.length).toBe(1);
    } finally {
      await server?.stop();
      proxy.stop(true);
      await pebble.stop();
      cleanup(data);
    }
  }, 60_000);

  it("refuses an --acme-directory whose certificate it cannot trust: exit 2 in words", async () => {
    const data = initData();
    const dnsPort = await freeDnsPort();
    const pebble = await startPebble(dir, { dnsPort });
    try {
      const r = spawnSync(
        EXE,
        [
          "--data",
          data,
          "serve",
          "--http",
          "127.0.0.1:0",
          "--dns",
          `127.0.0.1:${dnsPort}`,
          "--https",
          "127.0.0.1:0",
          "--url",
          `https://${NAME}`,
          "--acme-directory",
          pebble.directory,
        ],
        { encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" },
      );
      expect(r.signal).toBeNull();
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`the certificate of the ACME directory ${pebble.directory} is not trusted`);
      expect(r.stderr).toContain("--acme-ca FILE");
    } finally {
      await pebble.stop();
      cleanup(data);
    }
  });

  it("refuses a --url name outside its zones without port 80 for HTTP-01: exit 2 saying why", () => {
    const data = initData();
    try {
      const r = run([
        "--data",
        data,
        "serve",
        "--http",
        "127.0.0.1:0",
        "--dns",
        "127.0.0.1:0",
        "--https",
        "127.0.0.1:0",
        "--url",
        "https://web.elsewhere.test",
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("web.elsewhere.test is not in a zone this server serves");
      expect(r.stderr).toContain("--http 0.0.0.0:80");
      const badMail = run([
        "--data",
        data,
        "serve",
        "--http",
        "127.0.0.1:0",
        "--dns",
        "127.0.0.1:0",
        "--https",
        "127.0.0.1:0",
        "--url",
        `https://${NAME}`,
        "--acme-email",
        "not-mail",
      ]);
      expect(badMail.code).toBe(2);
      expect(badMail.stderr).toContain("--acme-email not-mail is not an e-mail address");
      const both = run([
        "--data",
        data,
        "serve",
        "--http",
        "127.0.0.1:0",
        "--dns",
        "127.0.0.1:0",
        "--https",
        "127.0.0.1:0",
        "--url",
        `https://${NAME}`,
        "--acme",
        "--tls-cert",
        "/x",
        "--tls-key",
        "/y",
      ]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain("--acme gets the certificate itself");
      const off = run([
        "--data",
        data,
        "serve",
        "--http",
        "127.0.0.1:0",
        "--dns",
        "127.0.0.1:0",
        "--https",
        "127.0.0.1:0",
        "--url",
        `https://${NAME}`,
        "--acme",
        "no",
      ]);
      expect(off.code).toBe(2);
      expect(off.stderr).toContain("--https with --acme no needs --tls-cert FILE and --tls-key FILE");
      const noUrl = run(["--data", data, "serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--https", "127.0.0.1:0"]);
      expect(noUrl.code).toBe(2);
      expect(noUrl.stderr).toContain("--url https://NAME");
    } finally {
      cleanup(data);
    }
  });
});
