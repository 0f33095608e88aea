/**
 * A real ACME client gets a real certificate through ipkeep: Debian's lego (httpreq provider,
 * exactly the environment variables the README gives) against Pebble, Let's Encrypt's test
 * CA, which validates DNS-01 by asking ipkeep's nameserver. The certificate covers the host and
 * its wildcard, so two TXT values stand at one name at the same time. Everything runs on
 * loopback; every process is stopped by PID.
 */
import { type ChildProcess, execFile, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { startSelfSignedPebble } from "../helpers/pebble";

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

describe.skipIf(!ready && !process.env.CI)("real ACME clients", () => {
  it("lego (httpreq) gets a certificate for a host and its wildcard from Pebble through ipkeep", async () => {
    const data = tempDir();
    dirs.push(data);
    expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=127.0.0.1`]).code).toBe(0);
    const add = run(["--data", data, "host", "add", HOME, "--owner", "me@example.com", "--json"]);
    expect(add.code, add.stderr).toBe(0);
    const token = JSON.parse(add.stdout).token.tokenValue as string;
    server = await startServe(data);
    const started = await startSelfSignedPebble(data, server.dnsPort);
    pebble = started.proc;
    const ca = { url: started.url, ca: started.ca };

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
