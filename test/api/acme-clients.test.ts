/**
 * A real ACME client gets a real certificate through ipkeep: Debian's lego (httpreq provider,
 * exactly the environment variables the README gives) against Pebble, Let's Encrypt's test
 * CA, which validates DNS-01 by asking ipkeep's nameserver. The certificate covers the host and
 * its wildcard, so two TXT values stand at one name at the same time. Everything runs on
 * loopback; every process is stopped by PID.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
const HOME = `home.${ZONE}`;
const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
// CI installs lego, pebble and openssl (.ci/run); a developer machine without them skips.
const ready = have("lego") && have("pebble") && have("openssl");

const dirs: string[] = [];
let server: ServerProcess | null = null;
let pebble: ChildProcess | null = null;

afterAll(async () => {
  if (pebble && pebble.exitCode === null) process.kill(pebble.pid!, "SIGKILL");
  await server?.stop();
  for (const d of dirs) cleanup(d);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startPebble(dir: string, dnsPort: number): Promise<{ url: string; ca: string }> {
  const ca = join(dir, "pebble-cert.pem");
  const key = join(dir, "pebble-key.pem");
  const gen = spawnSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "1",
    "-keyout",
    key,
    "-out",
    ca,
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  expect(gen.status, gen.stderr?.toString()).toBe(0);
  const [listen, management] = [await freePort(), await freePort()];
  const config = join(dir, "pebble.json");
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: ca,
        privateKey: key,
        httpPort: 5002,
        tlsPort: 5001,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  // No random sleeps before validation, no rejected nonces: fast and deterministic.
  const p = spawn("pebble", ["-config", config, "-dnsserver", `127.0.0.1:${dnsPort}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  pebble = p;
  let out = "";
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!out.includes("ACME directory available")) {
    if (p.exitCode !== null || Date.now() > deadline) throw new Error(`pebble did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `https://127.0.0.1:${listen}/dir`, ca };
}

describe.skipIf(!ready && !process.env.CI)("real ACME clients", () => {
  it("lego (httpreq) gets a certificate for a host and its wildcard from Pebble through ipkeep", async () => {
    const data = tempDir();
    dirs.push(data);
    expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=127.0.0.1`]).code).toBe(0);
    const add = run(["--data", data, "host", "add", HOME, "--owner", "me@example.com", "--json"]);
    expect(add.code, add.stderr).toBe(0);
    const token = JSON.parse(add.stdout).token.tokenValue as string;
    server = await startServe(data);
    const ca = await startPebble(data, server.dnsPort);

    const legoDir = join(data, "lego");
    const r = await promisify(execFile)(
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
        "httpreq",
        // Propagation is checked against ipkeep itself; its NS records point at port 53,
        // which a test cannot bind, hence no check of "all authoritative servers".
        "--dns.resolvers",
        `127.0.0.1:${server.dnsPort}`,
        "--dns.disable-cp",
        "--domains",
        HOME,
        "--domains",
        `*.${HOME}`,
        "run",
      ],
      {
        env: {
          ...process.env,
          LEGO_CA_CERTIFICATES: ca.ca,
          HTTPREQ_ENDPOINT: `${server.base}/httpreq`,
          HTTPREQ_USERNAME: HOME,
          HTTPREQ_PASSWORD: token,
        },
        timeout: 90_000,
      },
    ).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`lego failed:\n${e.stderr ?? ""}${e.stdout ?? ""}\n--- ipkeep:\n${server?.logs()}`);
    });
    const cert = join(legoDir, "certificates", `${HOME}.crt`);
    expect(existsSync(cert), r.stderr).toBe(true);
    const text = spawnSync("openssl", ["x509", "-noout", "-ext", "subjectAltName"], { input: readFileSync(cert) }).stdout.toString();
    expect(text).toContain(`DNS:${HOME}`);
    expect(text).toContain(`DNS:*.${HOME}`);
    // lego presented both values before cleaning either up, and cleaned both.
    const logs = server.logs();
    expect(logs.match(/url=\/httpreq\/present status=200/g)).toHaveLength(2);
    expect(logs.match(/url=\/httpreq\/cleanup status=200/g)).toHaveLength(2);
    expect(logs).not.toContain(token);
  }, 120_000);
});
