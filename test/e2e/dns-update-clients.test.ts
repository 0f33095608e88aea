/**
 * Real RFC 2136 clients against the compiled executable on loopback: Debian's lego (rfc2136
 * provider) and certbot (python3-certbot-dns-rfc2136, with its default HMAC-MD5) get a
 * certificate for a host and its wildcard from Pebble, Let's Encrypt's test CA, which validates
 * DNS-01 by asking ipkeep; ddclient's nsupdate protocol updates a host. Each uses an update
 * token's TSIG key and nothing else. Every process is stopped by PID.
 */
import { type ChildProcess, execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { startSelfSignedPebble } from "../helpers/pebble";

const ZONE = "dyn.example.com";
const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

let data: string;
let server: ServerProcess;
const pebbles: ChildProcess[] = [];

interface Key {
  name: string;
  algorithm: string;
  secret: string;
}

beforeAll(async () => {
  data = tempDir("ipkeep-rfc2136-clients-");
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=127.0.0.1`]).code).toBe(0);
  for (const h of ["lego", "certbot", "ddclient"]) {
    expect(run(["--data", data, "host", "add", `${h}.${ZONE}`, "--owner", "me@example.com"]).code).toBe(0);
  }
  server = await startServe(data, ["--update-burst", "0"]);
});
afterAll(async () => {
  for (const p of pebbles) if (p.exitCode === null) process.kill(p.pid!, "SIGKILL");
  await server?.stop();
  cleanup(data);
});

function keyFor(host: string, algorithm?: string): Key {
  const r = run(["--data", data, "token", "create", "--host", host, ...(algorithm ? ["--tsig-algorithm", algorithm] : ["--tsig"]), "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).token.tsig as Key;
}

function exec(cmd: string, args: string[], env: Record<string, string> = {}, timeout = 120_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, timeout }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout ?? ""}${stderr ?? ""}` }),
    );
  });
}

function sans(certFile: string): string {
  return spawnSync("openssl", ["x509", "-noout", "-ext", "subjectAltName"], { input: readFileSync(certFile) }).stdout.toString();
}

/** DNS UPDATE log lines of the server for one key, by rcode. */
function updates(key: Key): string[] {
  return server
    .logs()
    .split("\n")
    .filter((l) => l.includes('msg="dns update"') && l.includes(`key=${key.name}`));
}

describe.skipIf(!(have("lego") && have("pebble") && have("openssl")) && !process.env.CI)("lego, rfc2136 provider", () => {
  it("gets a certificate for a host and its wildcard from Pebble with a SHA-256 key", async () => {
    const host = `lego.${ZONE}`;
    const key = keyFor(host);
    const { proc, ...ca } = await startSelfSignedPebble(join(data, "pebble-lego"), server.dnsPort);
    pebbles.push(proc);
    const legoDir = join(data, "lego");
    const r = await exec(
      "lego",
      [
        "--accept-tos",
        "--email",
        "me@example.com",
        "--server",
        ca.url,
        "--path",
        legoDir,
        "--dns",
        "rfc2136",
        // Propagation is checked against ipkeep itself (its NS records point at port 53).
        "--dns.resolvers",
        `127.0.0.1:${server.dnsPort}`,
        "--dns.disable-cp",
        "--domains",
        host,
        "--domains",
        `*.${host}`,
        "run",
      ],
      {
        LEGO_CA_CERTIFICATES: ca.ca,
        RFC2136_NAMESERVER: `127.0.0.1:${server.dnsPort}`,
        RFC2136_TSIG_ALGORITHM: `${key.algorithm}.`,
        RFC2136_TSIG_KEY: key.name,
        RFC2136_TSIG_SECRET: key.secret,
        // lego solves the two names one after the other, a minute apart by default.
        RFC2136_SEQUENCE_INTERVAL: "1",
        RFC2136_POLLING_INTERVAL: "1",
      },
    );
    const cert = join(legoDir, "certificates", `${host}.crt`);
    expect(existsSync(cert), `${r.out}\n--- ipkeep:\n${server.logs()}`).toBe(true);
    expect(sans(cert)).toContain(`DNS:${host}`);
    expect(sans(cert)).toContain(`DNS:*.${host}`);
    // Two values presented, two removed, every UPDATE answered NOERROR; none left behind.
    const lines = updates(key);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.every((l) => l.includes("rcode=NOERROR"))).toBe(true);
    expect(digShort(server.dnsPort, `_acme-challenge.${host}`, "TXT")).toEqual([]);
  }, 150_000);
});

describe.skipIf(!(have("certbot") && have("pebble") && have("openssl")) && !process.env.CI)("certbot, dns-rfc2136 plugin", () => {
  it("gets a certificate for a host and its wildcard with the plugin's default HMAC-MD5", async () => {
    const host = `certbot.${ZONE}`;
    const key = keyFor(host, "hmac-md5");
    const { proc, ...ca } = await startSelfSignedPebble(join(data, "pebble-certbot"), server.dnsPort);
    pebbles.push(proc);
    const dir = join(data, "certbot");
    mkdirSync(dir, { recursive: true });
    const ini = join(dir, "rfc2136.ini");
    // No dns_rfc2136_algorithm line: the plugin's default, HMAC-MD5.
    writeFileSync(
      ini,
      [
        `dns_rfc2136_server = 127.0.0.1`,
        `dns_rfc2136_port = ${server.dnsPort}`,
        `dns_rfc2136_name = ${key.name}`,
        `dns_rfc2136_secret = ${key.secret}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const r = await exec(
      "certbot",
      [
        "certonly",
        "--non-interactive",
        "--agree-tos",
        "--email",
        "me@example.com",
        "--no-eff-email",
        "--server",
        ca.url,
        "--config-dir",
        join(dir, "config"),
        "--work-dir",
        join(dir, "work"),
        "--logs-dir",
        join(dir, "logs"),
        "--dns-rfc2136",
        "--dns-rfc2136-credentials",
        ini,
        "--dns-rfc2136-propagation-seconds",
        "1",
        "-d",
        host,
        "-d",
        `*.${host}`,
      ],
      { REQUESTS_CA_BUNDLE: ca.ca },
    );
    const cert = join(dir, "config", "live", host, "fullchain.pem");
    expect(existsSync(cert), `${r.out}\n--- ipkeep:\n${server.logs()}`).toBe(true);
    expect(sans(cert)).toContain(`DNS:${host}`);
    expect(sans(cert)).toContain(`DNS:*.${host}`);
    const lines = updates(key);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.every((l) => l.includes("rcode=NOERROR"))).toBe(true);
    expect(digShort(server.dnsPort, `_acme-challenge.${host}`, "TXT")).toEqual([]);
  }, 150_000);
});

describe.skipIf(!have("ddclient") && !process.env.CI)("ddclient, nsupdate protocol", () => {
  it("updates a host's A through nsupdate with the token's key", async () => {
    const host = `ddclient.${ZONE}`;
    const key = keyFor(host);
    const d = join(data, "ddclient");
    mkdirSync(d, { recursive: true });
    const keyFile = join(d, "ddclient.key");
    writeFileSync(keyFile, `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };\n`, { mode: 0o600 });
    const conf = join(d, "ddclient.conf");
    writeFileSync(
      conf,
      [
        "daemon=0",
        "syslog=no",
        `cache=${d}/ddclient.cache`,
        `pid=${d}/ddclient.pid`,
        "protocol=nsupdate",
        `server=127.0.0.1:${server.dnsPort}`,
        "login=/usr/bin/nsupdate",
        `password=${keyFile}`,
        `zone=${ZONE}`,
        "ttl=60",
        "use=ip, ip=203.0.113.44",
        host,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const r = await exec("ddclient", ["-daemon=0", "-foreground", "-noquiet", "-verbose", "-force", "-file", conf], {}, 30_000);
    expect(r.out).toMatch(/SUCCESS:\s+updating ddclient\.dyn\.example\.com/);
    expect(digShort(server.dnsPort, host, "A")).toEqual(["203.0.113.44"]);
  }, 60_000);
});
