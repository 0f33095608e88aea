/**
 * A real Unbound (Debian's) as a validating resolver on loopback: one stub zone pointing at a
 * server under test, the zone's key as its only trust anchor. Stopped by PID.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeDnsPort } from "./ports";

export interface UnboundProcess {
  port: number;
  logs: () => string;
  stop(): Promise<void>;
}

/** anchor: a DNSKEY or DS record in zone-file form. */
export async function startUnbound(zone: string, authPort: number, anchor: string): Promise<UnboundProcess> {
  const dir = mkdtempSync(join(tmpdir(), "ipkeep-unbound-"));
  const port = await freeDnsPort();
  writeFileSync(join(dir, "anchor"), `${anchor}\n`);
  writeFileSync(
    join(dir, "unbound.conf"),
    `server:
  interface: 127.0.0.1
  port: ${port}
  do-daemonize: no
  use-syslog: no
  logfile: ""
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${join(dir, "unbound.pid")}"
  trust-anchor-file: "${join(dir, "anchor")}"
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  module-config: "validator iterator"
  val-log-level: 2
  verbosity: 1
  do-ip6: no
remote-control:
  control-enable: no
stub-zone:
  name: "${zone}"
  stub-addr: 127.0.0.1@${authPort}
`,
  );
  const proc: ChildProcess = spawn("unbound", ["-d", "-c", join(dir, "unbound.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const deadline = Date.now() + 10_000;
  while (!/start of service/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`unbound exited early:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`unbound did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    logs: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        const t = setTimeout(() => process.kill(proc.pid!, "SIGKILL"), 5000);
        proc.once("exit", () => {
          clearTimeout(t);
          done();
        });
        process.kill(proc.pid!, "SIGTERM");
      }),
  };
}
