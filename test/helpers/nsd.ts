/**
 * A real NSD on 127.0.0.1 with a temporary config, for differential and secondary tests.
 * Runs in the foreground (-d) so it is ours to stop by PID.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  for (;;) {
    const udp = createSocket("udp4");
    const port = await new Promise<number>((r) => udp.bind(0, "127.0.0.1", () => r(udp.address().port)));
    const ok = await new Promise<boolean>((r) => {
      const s = net.createServer();
      s.once("error", () => r(false));
      s.listen(port, "127.0.0.1", () => s.close(() => r(true)));
    });
    udp.close();
    if (ok) return port;
  }
}

export interface NsdProcess {
  proc: ChildProcess;
  port: number;
  logs: () => string;
  stop(): Promise<void>;
}

/** server: extra lines for the server: clause; rest: key:/zone: clauses. */
export async function startNsd(dir: string, port: number, rest: string, server = ""): Promise<NsdProcess> {
  const conf = join(dir, "nsd.conf");
  writeFileSync(
    conf,
    `server:
  ip-address: 127.0.0.1
  port: ${port}
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  database: ""
  pidfile: "${dir}/nsd.pid"
  xfrdfile: "${dir}/xfrd.state"
  zonelistfile: "${dir}/zone.list"
  xfrdir: "${dir}"
  logfile: "${dir}/nsd.log"
  server-count: 1
  verbosity: 2
  hide-version: yes
  hide-identity: yes
  rrl-ratelimit: 0
${server}
remote-control:
  control-enable: no

${rest}
`,
  );
  const check = spawnSync("nsd-checkconf", [conf], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`nsd-checkconf: ${check.stderr}${check.stdout}`);
  const proc = spawn("nsd", ["-d", "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  // Ready when it answers on TCP.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nsd exited: ${out}`);
    const up = await new Promise<boolean>((r) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        r(true);
      });
      s.once("error", () => r(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`nsd did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    port,
    logs: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const t = setTimeout(() => process.kill(proc.pid!, "SIGKILL"), 5000);
        proc.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
        process.kill(proc.pid!, "SIGTERM");
      }),
  };
}
