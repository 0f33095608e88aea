/**
 * A first run that ends in a working system (issue 13), with the compiled executable:
 * - `init --url https://NAME` points NAME at the nameserver's address and prints the one-time
 *   setup link `https://NAME/setup#CODE`;
 * - a primary that is only the executable serves /install.sh (built in) and itself at
 *   /download/ipkeep for its own architecture, and says what is missing for the other;
 * - install.sh installs a primary with `--url https://…` against Pebble: it waits for the
 *   certificate, prints the setup link, the setup page answers over HTTPS and creates the first
 *   admin; `ipkeep code issue` prints an https:// install command, and that command enrolls an
 *   agent over HTTPS (in a mount namespace whose /etc/hosts names the primary, trusting
 *   Pebble's root).
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, EXE, run, startServe, tempDir } from "../helpers/exe";
import { curlHttps, PEBBLE, type Pebble, startPebble } from "../helpers/pebble";
import { freeDnsPort } from "../helpers/ports";

const REPO = join(import.meta.dirname, "..", "..");
const ZONE = "dyn.example.test";
const NAME = `ddns.${ZONE}`;
const dirs: string[] = [];
const pids: number[] = [];
const haveTools = existsSync(PEBBLE) && spawnSync("unshare", ["-m", "true"]).status === 0;

const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

function dir(prefix = "ipkeep-first-"): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  for (const d of dirs) cleanup(d);
});

describe("init --url", () => {
  it("creates the web address's A/AAAA inside the zone and prints the setup link with the code in the fragment", () => {
    const data = dir();
    const r = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53,2001:db8::53`, "--url", `https://${NAME}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`web address: ${NAME} A 192.0.2.53, ${NAME} AAAA 2001:db8::53`);
    const link = /https:\/\/ddns\.dyn\.example\.test\/setup#(ipko_\S+)/.exec(r.stdout);
    expect(link, r.stdout).not.toBeNull();
    // The same code as the one printed on its own line.
    expect(r.stdout).toMatch(new RegExp(`\\n\\s+${link![1]}\\n`));
    const rec = run(["--data", data, "record", "list", ZONE, "--json"]);
    expect(rec.stdout).toContain(NAME);
    // A new code (only the newest works) comes with its link too.
    const again = run(["--data", data, "user", "setup-code"]);
    expect(again.stdout).toMatch(/https:\/\/ddns\.dyn\.example\.test\/setup#ipko_\S+/);
    // A user cannot take the name: it is reserved for the web address.
    const host = run(["--data", data, "host", "add", NAME, "--owner", "me@example.com"]);
    expect(host.code).not.toBe(0);
  });

  it("serves the records over DNS", async () => {
    const data = dir();
    expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`, "--url", `https://${NAME}`]).code).toBe(0);
    const s = await startServe(data);
    try {
      expect(digShort(s.dnsPort, NAME, "A")).toEqual(["192.0.2.53"]);
      const page = await fetch(`${s.base}/setup`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Create the first admin account");
      expect(page.headers.get("content-security-policy")).toContain("script-src 'sha256-");
    } finally {
      await s.stop();
    }
  });
});

describe("a primary that is only the executable", () => {
  it("serves install.sh from inside itself and itself for its own architecture; the other arch is a 404 saying what to put where", async () => {
    const bin = dir("ipkeep-bare-");
    const exe = join(bin, "ipkeep");
    copyFileSync(EXE, exe);
    spawnSync("chmod", ["0755", exe]);
    const data = dir();
    expect(spawnSync(exe, ["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).status).toBe(0);
    const { spawn } = await import("node:child_process");
    const proc = spawn(exe, ["--data", data, "serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
    pids.push(proc.pid!);
    let out = "";
    proc.stdout!.on("data", (d) => (out += d));
    const deadline = Date.now() + 15_000;
    while (!/msg="http listening" addr=127\.0\.0\.1:(\d+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const base = `http://127.0.0.1:${/msg="http listening" addr=127\.0\.0\.1:(\d+)/.exec(out)![1]}`;
    try {
      const script = await fetch(`${base}/install.sh`);
      expect(script.status).toBe(200);
      const text = await script.text();
      expect(text).toBe(readFileSync(join(REPO, "install.sh"), "utf8").replace("__IPKEEP_PRIMARY_URL__", base));
      const arch = process.arch === "arm64" ? "aarch64" : "x86_64";
      const other = process.arch === "arm64" ? "x86_64" : "aarch64";
      const dl = await fetch(`${base}/download/ipkeep?arch=${arch}`);
      expect(dl.status).toBe(200);
      const body = Buffer.from(await dl.arrayBuffer());
      expect(createHash("sha256").update(body).digest("hex")).toBe(sha(exe));
      expect(dl.headers.get("x-checksum-sha256")).toBe(sha(exe));
      const missing = await fetch(`${base}/download/ipkeep?arch=${other}`);
      expect(missing.status).toBe(404);
      const err = (await missing.json()) as { error: { message: string } };
      expect(err.error.message).toContain(`put ipkeep-linux-${other === "aarch64" ? "arm64" : "x64"}`);
      expect(err.error.message).toContain(`beside ${exe}`);
    } finally {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
    }
  });
});

describe("install.sh: a primary whose certificate does not come", () => {
  it("stops waiting after --cert-timeout with exit 3, the reason from the log, and what to do; the primary keeps serving HTTP", async () => {
    const root = dir("ipkeep-root-");
    const work = dir("ipkeep-ca-");
    const ca = join(work, "ca.pem");
    spawnSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      join(work, "ca.key"),
      "-out",
      ca,
      "-days",
      "1",
      "-subj",
      "/CN=none",
    ]);
    const httpPort = await freeDnsPort();
    const dnsPort = await freeDnsPort();
    const httpsPort = await freeDnsPort();
    const caPort = await freeDnsPort(); // nothing listens there: the CA is unreachable
    const r = spawnSync(
      "setsid",
      [
        "bash",
        join(REPO, "install.sh"),
        "--root",
        root,
        "--no-systemd",
        "--health-timeout",
        "20",
        "--binary",
        EXE,
        "--zone",
        ZONE,
        "--ns",
        `ns1.${ZONE}=127.0.0.1`,
        "--url",
        `https://${NAME}:${httpsPort}`,
        "--http",
        `127.0.0.1:${httpPort}`,
        "--dns",
        `127.0.0.1:${dnsPort}`,
        "--https",
        `127.0.0.1:${httpsPort}`,
        "--acme-directory",
        `https://127.0.0.1:${caPort}/dir`,
        "--acme-ca",
        ca,
        "--cert-timeout",
        "4",
      ],
      { encoding: "utf8", timeout: 90_000 },
    );
    const pidFile = join(root, "run/ipkeep/ipkeep.service.pid");
    if (existsSync(pidFile)) pids.push(Number(readFileSync(pidFile, "utf8")));
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(r.stderr).toContain(`waiting for the certificate for ${NAME} from the CA`);
    expect(r.stderr).toContain(`no certificate for ${NAME} after 4s: could not get a certificate for ${NAME}: cannot reach the ACME directory`);
    expect(r.stderr).toContain("ipkeep doctor --data");
    expect(r.stderr).toContain("run this installer again");
    expect(r.stderr).toMatch(/the setup link works once the certificate is there: https:\/\/ddns\.dyn\.example\.test:\d+\/setup#ipko_/);
    // HTTP still serves routers.
    expect((await fetch(`http://127.0.0.1:${httpPort}/api/v2/healthz`)).status).toBe(200);
  }, 120_000);
});

describe.skipIf(!haveTools)("install.sh: a primary with --url https://… against Pebble, then an agent over HTTPS", () => {
  let pebble: Pebble | null = null;
  afterAll(async () => {
    await pebble?.stop();
  });

  it("waits for the certificate, prints the setup link, the setup page creates the admin over HTTPS, and the printed command enrolls an agent", async () => {
    const work = dir("ipkeep-pebble-");
    const root = dir("ipkeep-root-");
    const dnsPort = await freeDnsPort();
    const httpPort = await freeDnsPort();
    const httpsPort = await freeDnsPort();
    pebble = await startPebble(work, { dnsPort });
    const caRoot = await pebble.issuingRoot();
    const url = `https://${NAME}:${httpsPort}`;
    const started = Date.now();
    const r = spawnSync(
      "setsid",
      [
        "bash",
        join(REPO, "install.sh"),
        "--root",
        root,
        "--no-systemd",
        "--health-timeout",
        "20",
        "--binary",
        EXE,
        "--zone",
        ZONE,
        "--ns",
        `ns1.${ZONE}=127.0.0.1`,
        "--url",
        url,
        "--http",
        `127.0.0.1:${httpPort}`,
        "--dns",
        `127.0.0.1:${dnsPort}`,
        "--https",
        `127.0.0.1:${httpsPort}`,
        "--acme-directory",
        pebble.directory,
        "--acme-ca",
        pebble.ca,
        "--cert-timeout",
        "60",
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    const pidFile = join(root, "run/ipkeep/ipkeep.service.pid");
    if (existsSync(pidFile)) pids.push(Number(readFileSync(pidFile, "utf8")));
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    console.log(`install.sh primary to HTTPS ready: ${Date.now() - started} ms (Pebble)`);
    expect(r.stderr).toContain("HTTPS ready");
    const link = new RegExp(
      `open this link \\(once, within 30 minutes\\) to create the first admin: (https://ddns\\.dyn\\.example\\.test:${httpsPort}/setup#(ipko_\\S+))`,
    ).exec(r.stderr);
    expect(link, r.stderr).not.toBeNull();
    const code = link![2]!;

    // The setup page over HTTPS (Pebble's certificate, checked against its root), then the admin.
    const page = curlHttps(NAME, httpsPort, "/setup", caRoot, ["-i"]);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toContain("Set up ipkeep");
    expect(page.stdout.toLowerCase()).toContain("strict-transport-security");
    const setup = curlHttps(NAME, httpsPort, "/api/auth/setup", caRoot, [
      "-X",
      "POST",
      "-H",
      "content-type: application/json",
      "--data",
      JSON.stringify({ code, email: "admin@example.com", password: "correct horse battery" }),
      "-w",
      "\n%{http_code}",
    ]);
    expect(setup.stdout.trim().split("\n").pop(), setup.stdout).toBe("201");
    // Over plain HTTP, the page now sends browsers to HTTPS.
    const redirect = spawnSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `http://127.0.0.1:${httpPort}/setup`], {
      encoding: "utf8",
    });
    expect(redirect.stdout).toBe(`308 ${url}/setup`);

    // code issue prints the install command with the https:// URL.
    const cli = (args: string[]) => run(["--config", join(root, "etc/ipkeep/ipkeep.toml"), "--data", join(root, "var/lib/ipkeep"), ...args]);
    const issued = cli(["code", "issue", "--role", "agent", "--owner", "me@example.com"]);
    expect(issued.code, issued.stderr).toBe(0);
    const command = /curl -fsSL (\S+)\/install\.sh \| sudo bash -s -- --primary (\S+) --code (IPK-\S+)/.exec(issued.stdout);
    expect(command, issued.stdout).not.toBeNull();
    expect(command![1]).toBe(url);
    expect(command![2]).toBe(url);

    // The printed command, run on "another machine": /etc/hosts names the primary, Pebble's root is trusted.
    const agentRoot = dir("ipkeep-agent-root-");
    mkdirSync(join(agentRoot, "etc", "ssh"), { recursive: true });
    writeFileSync(join(agentRoot, "etc", "machine-id"), `${randomBytes(16).toString("hex")}\n`);
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(agentRoot, "etc", "ssh", "ssh_host_ed25519_key")]);
    const hosts = join(work, "hosts");
    writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.1 ${NAME}\n`);
    const script = `mount --bind ${hosts} /etc/hosts && set -o pipefail && curl -fsSL ${command![1]}/install.sh | bash -s -- --primary ${command![2]} --code ${command![3]} --root ${agentRoot} --no-systemd --yes --health-timeout 20 --hostname box.${ZONE}`;
    const agent = spawnSync("setsid", ["unshare", "-m", "bash", "-c", script], {
      encoding: "utf8",
      timeout: 90_000,
      env: { ...process.env, CURL_CA_BUNDLE: caRoot, NODE_EXTRA_CA_CERTS: caRoot, SSL_CERT_FILE: caRoot },
    });
    const agentPid = join(agentRoot, "run/ipkeep/ipkeep-agent.service.pid");
    if (existsSync(agentPid)) pids.push(Number(readFileSync(agentPid, "utf8")));
    expect(agent.status, `${agent.stdout}\n${agent.stderr}`).toBe(0);
    expect(agent.stderr).toContain(`enrolled as agent box.${ZONE}`);
    expect(JSON.parse(readFileSync(join(agentRoot, "etc/ipkeep/agent.json"), "utf8")).primary_url).toBe(url);
    expect(digShort(dnsPort, `box.${ZONE}`, "A")).toEqual(["127.0.0.1"]);
  }, 240_000);
});
