/**
 * A real NSD for differential tests: own temp directory and config, a free loopback port,
 * started in the foreground (-d) and stopped by PID. Works as root in CI: chroot off,
 * username "" (no privilege drop), every path (pid, xfrd state, zone list) in the temp dir.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function nsdAvailable(): boolean {
  return spawnSync("nsd", ["-v"], { encoding: "utf8" }).status === 0;
}

/** A port free for both UDP and TCP on 127.0.0.1 (bound then released; NSD binds it next). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket("udp4");
      u.once("error", () => resolve(false));
      u.bind(port, "127.0.0.1", () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error("no free port");
}

export interface Nsd {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export async function startNsd(zoneName: string, zoneFile: string, ready: (port: number) => Promise<boolean>): Promise<Nsd> {
  const dir = mkdtempSync(join(tmpdir(), "ipkeep-nsd-"));
  copyFileSync(zoneFile, join(dir, "zone"));
  let lastErr = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(dir, "nsd.conf");
    writeFileSync(
      conf,
      [
        "server:",
        `  ip-address: 127.0.0.1@${port}`,
        `  port: ${port}`,
        '  username: ""',
        '  chroot: ""',
        `  zonesdir: "${dir}"`,
        `  pidfile: "${join(dir, "nsd.pid")}"`,
        `  xfrdfile: "${join(dir, "xfrd.state")}"`,
        `  zonelistfile: "${join(dir, "zone.list")}"`,
        `  logfile: "${join(dir, "nsd.log")}"`,
        '  database: ""',
        "  hide-version: yes",
        "  hide-identity: yes",
        // The Debian default rate limit throttles a single test client.
        "  rrl-ratelimit: 0",
        "  ipv4-edns-size: 1232",
        "  ipv6-edns-size: 1232",
        "  server-count: 1",
        "  verbosity: 1",
        "remote-control:",
        "  control-enable: no",
        "zone:",
        `  name: ${zoneName}`,
        `  zonefile: "${join(dir, "zone")}"`,
        "",
      ].join("\n"),
    );
    const proc: ChildProcess = spawn("nsd", ["-d", "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout!.on("data", (d) => (out += d));
    proc.stderr!.on("data", (d) => (out += d));
    const deadline = Date.now() + 10_000;
    let up = false;
    while (Date.now() < deadline && proc.exitCode === null) {
      if (await ready(port).catch(() => false)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const stop = () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const t = setTimeout(() => process.kill(proc.pid!, "SIGKILL"), 5000);
        proc.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
        process.kill(proc.pid!, "SIGTERM");
      });
    if (up) {
      return {
        port,
        dir,
        stop: async () => {
          await stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stop();
    let log = "";
    try {
      log = readFileSync(join(dir, "nsd.log"), "utf8");
    } catch {
      /* no log */
    }
    lastErr = `${out}\n${log}`;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`nsd did not start:\n${lastErr}`);
}
