/**
 * Wall time of a legitimate sign-in during a flood of wrong ones, on the compiled
 * executable: WRONG wrong passwords for the owner's account from SOURCES loopback
 * addresses (127.0.0.2 …, curl --interface, ten at a time per source), and, once every
 * flooding source has had a hash, the right password from 127.0.0.250. Prints how long the
 * owner's sign-in took, how many hashes started while it waited, how many ran in all, and
 * the flood's answers.
 *
 * Usage: node_modules/.bin/bun scripts/bench/login-flood.ts [WRONG=300] [SOURCES=30]
 * (needs dist/ipkeep: bun scripts/build.ts; Linux, where all of 127.0.0.0/8 is loopback)
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const WRONG = Number(process.argv[2] ?? 300);
const SOURCES = Number(process.argv[3] ?? 30);
const EXE = join(import.meta.dirname, "..", "..", "dist", "ipkeep");
const EMAIL = "owner@example.com";
const PASSWORD = "the owner's passphrase";

const data = mkdtempSync(join(tmpdir(), "ipkeep-bench-flood-"));
const init = spawnSync(EXE, ["--data", data, "init", "--zone", "dyn.bench.test", "--ns", "ns1.dyn.bench.test=192.0.2.53", "--json"], { encoding: "utf8" });
if (init.status !== 0) throw new Error(init.stderr);
const server = spawn(EXE, ["--data", data, "serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--log-level", "debug"], {
  stdio: ["ignore", "pipe", "pipe"],
});
let log = "";
server.stdout!.on("data", (d) => (log += d));
server.stderr!.on("data", (d) => (log += d));

function curlFrom(base: string, source: string, count: number, password: string): Promise<number[]> {
  const args = ["-s", "--no-progress-meter", "-Z", "--parallel-max", "10", "--interface", source, "-w", "\nstatus=%{http_code}\n", "-X", "POST"];
  args.push("-H", "content-type: application/json", "-d", JSON.stringify({ email: EMAIL, password }));
  for (let i = 0; i < count; i++) args.push(`${base}/api/auth/login`);
  const child = spawn("curl", args, { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  return new Promise((resolve) => child.on("exit", () => resolve([...out.matchAll(/^status=(\d+)$/gm)].map((m) => Number(m[1])))));
}

const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? 0);

try {
  let port = 0;
  for (let i = 0; i < 300 && !port; i++) {
    port = Number(/msg="http listening" addr=127\.0\.0\.1:(\d+)/.exec(log)?.[1] ?? 0);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!port) throw new Error(`serve did not start:\n${log}`);
  const base = `http://127.0.0.1:${port}`;
  const setup = await fetch(`${base}/api/auth/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: JSON.parse(init.stdout).setupCode, email: EMAIL, password: PASSWORD }),
  });
  if (setup.status !== 201) throw new Error(`setup: ${setup.status}`);

  const t0 = performance.now();
  const per = Math.ceil(WRONG / SOURCES);
  const flood = Array.from({ length: SOURCES }, (_, i) => curlFrom(base, `127.0.0.${2 + i}`, Math.min(per, WRONG - i * per), "a wrong guess"));
  // Once every flooding source has had a turn (SOURCES + 2 hashes, setup included) and the
  // queue still holds the flood: the owner arrives in the middle of it.
  let queuedThen = 0;
  for (let i = 0; i < 300; i++) {
    const m = await (await fetch(`${base}/metrics`)).text();
    queuedThen = gauge(m, "ipkeep_password_hashes_queued");
    if (gauge(m, "ipkeep_password_hashes_total") >= SOURCES + 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const sent = performance.now();
  const [owner] = await curlFrom(base, "127.0.0.250", 1, PASSWORD);
  const ownerMs = performance.now() - sent;
  const codes = (await Promise.all(flood)).flat();
  const floodMs = performance.now() - t0;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const count = (c: number) => codes.filter((x) => x === c).length;
  console.log(
    `owner sign-in during the flood: ${owner} in ${ownerMs.toFixed(0)} ms (sent ${(sent - t0).toFixed(0)} ms into it, ${queuedThen} hashes queued then)`,
  );
  console.log(
    `flood: ${codes.length} wrong sign-ins from ${SOURCES} addresses in ${floodMs.toFixed(0)} ms: ${count(401)} x 401, ${count(429)} x 429, ${codes.length - count(401) - count(429)} other`,
  );
  const ahead = /msg="password hash" source=127\.0\.0\.250 started_ahead=(\d+)/.exec(log)?.[1];
  console.log(`other hashes started while the owner's waited: ${ahead}`);
  console.log(`password hashes run in all: ${gauge(metrics, "ipkeep_password_hashes_total")} (setup and the owner included)`);
} finally {
  if (server.pid) process.kill(server.pid, "SIGTERM");
  await new Promise((r) => server.once("exit", r));
  rmSync(data, { recursive: true, force: true });
}
