/**
 * Runs the compiled dist/ipkeep: one-shot commands and a server started on port 0, stopped
 * by PID when the test ends.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const EXE = join(import.meta.dirname, "..", "..", "dist", "ipkeep");

export function tempDir(prefix = "ipkeep-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(args: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync(EXE, args, { encoding: "utf8", env: { ...process.env, ...env }, timeout: 20_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export interface ServerProcess {
  proc: ChildProcess;
  httpPort: number;
  dnsPort: number;
  base: string;
  logs: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServe(dataDir: string, extra: string[] = []): Promise<ServerProcess> {
  const proc = spawn(EXE, ["--data", dataDir, "serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const deadline = Date.now() + 15_000;
  let httpPort = 0;
  let dnsPort = 0;
  while (Date.now() < deadline) {
    httpPort = Number(/msg="http listening" addr=127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
    dnsPort = Number(/msg="dns listening" addr=127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
    if (httpPort && dnsPort) break;
    if (proc.exitCode !== null) throw new Error(`ipkeep serve exited early:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!httpPort || !dnsPort) {
    proc.kill("SIGKILL");
    throw new Error(`ipkeep serve did not start:\n${out}`);
  }
  return {
    proc,
    httpPort,
    dnsPort,
    base: `http://127.0.0.1:${httpPort}`,
    logs: () => out,
    stop: (signal = "SIGTERM") =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve(proc.exitCode);
        const t = setTimeout(() => process.kill(proc.pid!, "SIGKILL"), 5000);
        proc.once("exit", (code) => {
          clearTimeout(t);
          resolve(code);
        });
        process.kill(proc.pid!, signal);
      }),
  };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
