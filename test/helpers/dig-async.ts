/**
 * dig without blocking the event loop: needed when the server under test runs in the same
 * process as the test (spawnSync would stall it and dig would time out).
 */
import { spawn } from "node:child_process";

export function digStatus(port: number, name: string, type = "A", extra: string[] = []): Promise<{ status: string; raw: string }> {
  return new Promise((resolve) => {
    const p = spawn("dig", ["@127.0.0.1", "-p", String(port), name, type, "+norec", "+time=2", "+tries=1", ...extra]);
    let raw = "";
    p.stdout.on("data", (d) => (raw += d));
    p.on("close", () => resolve({ status: /status: (\w+)/.exec(raw)?.[1] ?? "NONE", raw }));
  });
}

export function digShortAsync(port: number, name: string, type = "A", extra: string[] = []): Promise<string[]> {
  return new Promise((resolve) => {
    const p = spawn("dig", ["@127.0.0.1", "-p", String(port), name, type, "+short", "+time=2", "+tries=1", ...extra]);
    let raw = "";
    p.stdout.on("data", (d) => (raw += d));
    p.on("close", () => resolve(raw.split("\n").filter(Boolean)));
  });
}
