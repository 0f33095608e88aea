/**
 * Runs the compiled dist/ipkeep: one-shot commands and a server started on port 0, stopped
 * by PID when the test ends.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
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

/** run() without blocking: for tests that answer the command from this process (a fake parent zone). */
export function runAsync(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(EXE, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d) => (stdout += d));
    p.stderr!.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface ServerProcess {
  proc: ChildProcess;
  httpPort: number;
  dnsPort: number;
  base: string;
  logs: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Credentials by their shape: our tokens (update, API key, one-time, node, precheck, install),
 * install codes and session JWTs. Every executable server a test starts is checked for them
 * when it stops, so the whole end-to-end suite's traffic, right and wrong, is a leak test.
 */
const CLEAR_SECRETS: [string, RegExp][] = [
  ["token", /\bipk[a-z]?_[A-Za-z0-9_-]{8,}/],
  ["install code", /\bIPK-[2-9A-HJKMNP-TW-Z]{6}-[2-9A-HJKMNP-TW-Z]{6}-[2-9A-HJKMNP-TW-Z]{6}\b/],
  ["session JWT", /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
];

/** What looks like a credential in clear, as "kind in place: …context…" lines. */
export function secretsInClear(places: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [place, text] of Object.entries(places)) {
    for (const [kind, re] of CLEAR_SECRETS) {
      const m = re.exec(text);
      if (m) found.push(`${kind} in ${place}: …${text.slice(Math.max(0, m.index - 60), m.index + 12)}…`);
    }
  }
  return found;
}

/** The data directory's logs as text: update_log and audit_log (empty when there is no database). */
export async function loggedRows(dataDir: string): Promise<Record<string, string>> {
  const file = join(dataDir, "ipkeep.db");
  if (!process.versions.bun || !existsSync(file)) return {};
  const { Database } = await import("bun:sqlite");
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, string> = {};
    for (const t of ["update_log", "audit_log"]) {
      try {
        out[t] = JSON.stringify(db.prepare(`SELECT * FROM ${t}`).all());
      } catch {
        // An older or foreign database without the table: nothing to read.
      }
    }
    return out;
  } finally {
    db.close();
  }
}

async function checkNoSecrets(dataDir: string, output: string): Promise<void> {
  const found = secretsInClear({ "server output": output, ...(await loggedRows(dataDir).catch(() => ({}))) });
  if (found.length) throw new Error(`credentials in clear after this server stopped:\n${found.join("\n")}`);
}

export async function startServe(dataDir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  const proc = spawn(EXE, ["--data", dataDir, "serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
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
    stop: async (signal = "SIGTERM") => {
      const code = await new Promise<number | null>((resolve) => {
        // Already gone (exited, or killed by a signal: then exitCode stays null): nothing to signal.
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        const t = setTimeout(() => process.kill(proc.pid!, "SIGKILL"), 5000);
        proc.once("exit", (code) => {
          clearTimeout(t);
          resolve(code);
        });
        process.kill(proc.pid!, signal);
      });
      await checkNoSecrets(dataDir, out);
      return code;
    },
  };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
