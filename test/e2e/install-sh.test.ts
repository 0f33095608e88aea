/**
 * install.sh end to end on this machine: --root into a temp dir, --no-systemd, against a
 * running primary (the compiled dist/ipkeep, which serves install.sh and the executables
 * from beside itself). Every process started here is stopped by PID.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, EXE, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

// Each install downloads, hashes and copies a ~110 MB executable: seconds, not milliseconds.
vi.setConfig({ testTimeout: 120_000 });

const REPO = join(import.meta.dirname, "..", "..");
const DIST = join(REPO, "dist");
const ZONE = "dyn.example.com";
let data: string;
let primary: ServerProcess;
const roots: string[] = [];
const pids: number[] = [];

beforeAll(async () => {
  data = tempDir();
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  primary = await startServe(data);
});

afterAll(async () => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  await primary?.stop();
  cleanup(data);
  for (const r of roots) cleanup(r);
});

/** A machine: its own root with a machine id and an SSH host key. */
function machine(): string {
  const root = tempDir("ipkeep-root-");
  roots.push(root);
  mkdirSync(join(root, "etc", "ssh"), { recursive: true });
  writeFileSync(join(root, "etc", "machine-id"), `${randomBytes(16).toString("hex")}\n`);
  const k = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(root, "etc", "ssh", "ssh_host_ed25519_key")]);
  expect(k.status, "ssh-keygen (Debian openssh-client)").toBe(0);
  return root;
}

function issue(extra: string[] = []): string {
  const r = run(["--data", data, "code", "issue", "--role", "agent", "--owner", "me@example.com", "--json", ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).installCode;
}

function codeState(code: string): string {
  const hint = `${code.slice(0, 6)}…${code.slice(-2)}`;
  const list = JSON.parse(run(["--data", data, "code", "list", "--json"]).stdout) as { hint: string; state: string }[];
  return list.find((c) => c.hint === hint)!.state;
}

/** `curl PRIMARY/install.sh | bash -s -- ARGS` without a controlling terminal (setsid), as from cron or CI. */
function installer(root: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const script = `set -o pipefail; curl -fsSL ${primary.base}/install.sh | bash -s -- --root ${root} --no-systemd --health-timeout 20 ${args.join(" ")}`;
  const r = spawnSync("setsid", ["bash", "-c", script], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
  for (const unit of ["ipkeep-agent.service", "ipkeep-secondary.service"]) {
    const pidFile = join(root, "run", "ipkeep", `${unit}.pid`);
    if (existsSync(pidFile)) pids.push(Number(readFileSync(pidFile, "utf8")));
  }
  return r;
}

const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

/** Every installed file (not logs, pids or the agent's own state) with its content hash and mtime. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(root, p);
      if (/^(run|var)\//.test(rel)) continue;
      if (e.isDirectory()) walk(p);
      else out[rel] = `${sha(p)} ${statSync(p).mtimeMs}`;
    }
  };
  walk(root);
  return out;
}

describe("install.sh for an agent", () => {
  it("enrolls against the primary: verified executable, unit, config, running agent that updated DNS, confirmed code", () => {
    const root = machine();
    const code = issue();
    const r = installer(root, ["--code", code, "--insecure", "--yes", "--hostname", `box.${ZONE}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("enrolled as agent box.dyn.example.com");
    expect(sha(join(root, "usr/local/bin/ipkeep"))).toBe(sha(join(DIST, "ipkeep-linux-x64")));
    expect(readFileSync(join(root, "etc/systemd/system/ipkeep-agent.service"), "utf8")).toBe(readFileSync(join(REPO, "systemd/ipkeep-agent.service"), "utf8"));
    const config = join(root, "etc/ipkeep/agent.json");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(config, "utf8"))).toMatchObject({
      role: "agent",
      primary_url: primary.base,
      activation: { settings: { hostname: `box.${ZONE}` } },
    });
    expect(codeState(code)).toBe("confirmed");
    // The agent checked in and set its address; DNS answers it.
    expect(digShort(primary.dnsPort, `box.${ZONE}`, "A")).toEqual(["127.0.0.1"]);
    const health = spawnSync(join(root, "usr/local/bin/ipkeep"), ["health", "--role", "agent"], {
      env: { ...process.env, IPKEEP_NODE_CONFIG: config },
      encoding: "utf8",
    });
    expect(health.status, health.stderr).toBe(0);

    // Running it again changes nothing.
    const before = snapshot(root);
    const again = installer(root, ["--code", code, "--insecure", "--yes"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain("nothing to do");
    expect(snapshot(root)).toEqual(before);

    // --uninstall revokes the agent on the primary, removes binary and unit, keeps configuration and data.
    const un = installer(root, ["--uninstall"]);
    expect(un.status, un.stderr).toBe(0);
    expect(un.stderr).toContain("revoked this machine on");
    expect(existsSync(join(root, "usr/local/bin/ipkeep"))).toBe(false);
    expect(existsSync(join(root, "etc/systemd/system/ipkeep-agent.service"))).toBe(false);
    expect(existsSync(config)).toBe(true);
    const nodes = JSON.parse(run(["--data", data, "node", "list", "--json"]).stdout) as { name: string; status: string }[];
    expect(nodes.filter((n) => n.name === `box.${ZONE}`).map((n) => n.status)).toEqual(["revoked"]);
  });

  it("a failing install (health check never passes) releases the activation, and the same code then works", () => {
    const root = machine();
    const code = issue();
    const failed = installer(root, ["--code", code, "--insecure", "--yes", "--health-timeout", "1"], { IPKEEP_INSTALL_FAULT: "health" });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("released; the install code is usable again");
    expect(codeState(code)).toBe("issued");
    expect(existsSync(join(root, "etc/ipkeep/agent.json"))).toBe(false);
    expect(existsSync(join(root, "run/ipkeep/ipkeep-agent.service.pid"))).toBe(false);

    const ok = installer(root, ["--code", code, "--insecure", "--yes"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(codeState(code)).toBe("confirmed");
  });

  it("without a terminal and without --yes it stops after the precheck with exit 2", () => {
    const root = machine();
    const code = issue();
    const r = installer(root, ["--code", code, "--insecure"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no terminal to ask on");
    expect(codeState(code)).toBe("prechecked");
    expect(existsSync(join(root, "usr/local/bin/ipkeep"))).toBe(false);
  });

  it("refuses a plain-http primary unless --insecure, and a code bound to another machine", () => {
    const root = machine();
    const code = issue();
    const plain = installer(root, ["--code", code, "--yes"]);
    expect(plain.status).toBe(2);
    expect(plain.stderr).toContain("refusing the plain-http primary");
    const first = installer(root, ["--code", code, "--insecure"]);
    expect(first.status).toBe(2);
    const other = installer(machine(), ["--code", code, "--insecure", "--yes"]);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain("code_bound_elsewhere");
  });

  it("passes shellcheck", () => {
    const r = spawnSync("shellcheck", [join(REPO, "install.sh")], { encoding: "utf8" });
    expect(r.error, "shellcheck missing (Debian package shellcheck)").toBeUndefined();
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
  });
});

// `ipkeep secondary` comes from the ops work; this runs once it is in the executable.
const hasSecondary = /\n\s+secondary\b/.test(run(["--help"]).stdout);

describe("install.sh for a secondary", () => {
  it.skipIf(!hasSecondary)("enrolls a secondary that transfers every zone with TSIG and joins the NS set", async () => {
    const root = machine();
    const port = await freePort();
    const r0 = run(["--data", data, "code", "issue", "--role", "secondary", "--hostname", `ns2.${ZONE}`, "--json"]);
    expect(r0.code, r0.stderr).toBe(0);
    const code = JSON.parse(r0.stdout).installCode;
    const r = installer(root, ["--code", code, "--insecure", "--yes", "--dns", `127.0.0.1:${port}`, "--primary-dns", `127.0.0.1:${primary.dnsPort}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(codeState(code)).toBe("confirmed");
    const toml = readFileSync(join(root, "etc/ipkeep/secondary.toml"), "utf8");
    expect(toml).toContain(`primary = "127.0.0.1:${primary.dnsPort}"`);
    expect(toml).toContain(`zone = ["${ZONE}"]`);
    expect(statSync(join(root, "etc/ipkeep/secondary.toml")).mode & 0o777).toBe(0o600);
    // It answers the zone itself, and the primary now names it in the NS set.
    expect(digShort(port, ZONE, "SOA")).toHaveLength(1);
    expect(digShort(primary.dnsPort, ZONE, "NS")).toContain(`ns2.${ZONE}.`);
    // A change on the primary reaches it within seconds (NOTIFY to its enrolled port).
    // The primary picks up the CLI's commit within its poll interval: wait until it serves the
    // bumped serial, then the secondary must reach at least that serial.
    const serialOf = (soa: string | undefined) => Number(soa?.split(" ")[2] ?? 0);
    const before = serialOf(digShort(primary.dnsPort, ZONE, "SOA")[0]);
    expect(run(["--data", data, "host", "add", `late.${ZONE}`, "--owner", "me@example.com"]).code).toBe(0);
    const t0 = Date.now();
    let want = before;
    while (Date.now() - t0 < 5_000 && want === before) {
      await new Promise((r) => setTimeout(r, 100));
      want = serialOf(digShort(primary.dnsPort, ZONE, "SOA")[0]);
    }
    expect(want).toBeGreaterThan(before);
    let got = 0;
    while (Date.now() - t0 < 15_000) {
      got = serialOf(digShort(port, ZONE, "SOA")[0]);
      if (got >= want) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(got).toBeGreaterThanOrEqual(want);

    // --uninstall takes it out through the primary: revoked, out of the NS set, key refused.
    const tsig = /tsig-key = \["([^:]+):([^"]+)"\]/.exec(toml)!;
    const un = installer(root, ["--uninstall"]);
    expect(un.status, un.stderr).toBe(0);
    expect(un.stderr).toContain("revoked this machine on");
    const nodes = JSON.parse(run(["--data", data, "node", "list", "--json"]).stdout) as { name: string; status: string }[];
    expect(nodes.filter((n) => n.name === `ns2.${ZONE}`).map((n) => n.status)).toEqual(["revoked"]);
    const t1 = Date.now();
    while (Date.now() - t1 < 5_000 && digShort(primary.dnsPort, ZONE, "NS").includes(`ns2.${ZONE}.`)) await new Promise((r) => setTimeout(r, 100));
    expect(digShort(primary.dnsPort, ZONE, "NS")).not.toContain(`ns2.${ZONE}.`);
    const xfr = spawnSync(
      "dig",
      ["@127.0.0.1", "-p", String(primary.dnsPort), "-y", `hmac-sha256:${tsig[1]}:${tsig[2]}`, ZONE, "AXFR", "+time=3", "+tries=1"],
      { encoding: "utf8" },
    ).stdout;
    expect(xfr).toMatch(/NOTAUTH|BADKEY|failed/i);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("install.sh for a primary", () => {
  it("installs from --binary, runs init (setup code, delegation), is idempotent, and rolls back a failing upgrade", async () => {
    const root = tempDir("ipkeep-root-");
    roots.push(root);
    const http = await freePort();
    const dns = await freePort();
    const sh = (args: string[]) => {
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
          "--http",
          `127.0.0.1:${http}`,
          "--dns",
          `127.0.0.1:${dns}`,
          "--zone",
          "home.example.net",
          "--ns",
          "ns1.home.example.net=192.0.2.1",
          ...args,
        ],
        {
          encoding: "utf8",
          timeout: 60_000,
        },
      );
      const pidFile = join(root, "run/ipkeep/ipkeep.service.pid");
      if (existsSync(pidFile)) pids.push(Number(readFileSync(pidFile, "utf8")));
      return r;
    };
    const r = sh(["--binary", EXE]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Admin setup code[^\n]*\n\s+ipko_/);
    expect(r.stdout).toContain("home.example.net. IN NS ns1.home.example.net.");
    expect(digShort(dns, "home.example.net", "NS")).toEqual(["ns1.home.example.net."]);
    // It keeps what it hands to agents beside its executable.
    expect(existsSync(join(root, "usr/local/lib/ipkeep/ipkeep-linux-x64"))).toBe(true);
    const dl = spawnSync("curl", ["-fsS", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${http}/download/ipkeep?arch=x86_64`], {
      encoding: "utf8",
    });
    expect(dl.stdout).toBe("200");

    const before = snapshot(root);
    const again = sh(["--binary", EXE]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("nothing changed");
    expect(snapshot(root)).toEqual(before);

    // An "upgrade" whose server never comes up, after writing to the database.
    const bad = join(tempDir("ipkeep-bad-"), "ipkeep");
    roots.push(join(bad, ".."));
    writeFileSync(
      bad,
      `#!/usr/bin/env bash\nfor a in "$@"; do if [ "$a" = serve ]; then "${EXE}" --data "${root}/var/lib/ipkeep" host add evil.home.example.net --owner x@example.com >/dev/null; exit 1; fi; done\nexec "${EXE}" "$@"\n`,
      { mode: 0o755 },
    );
    const up = sh(["--binary", bad, "--health-timeout", "2"]);
    expect(up.status).toBe(1);
    expect(up.stderr).toContain("database copied aside");
    expect(up.stderr).toContain("rolling back");
    expect(sha(join(root, "usr/local/bin/ipkeep"))).toBe(sha(EXE));
    const hosts = run(["--data", join(root, "var/lib/ipkeep"), "host", "list", "--json"]);
    expect(JSON.parse(hosts.stdout)).toEqual([]);
    // The old primary runs again.
    expect(digShort(dns, "home.example.net", "NS")).toEqual(["ns1.home.example.net."]);
  });
});
