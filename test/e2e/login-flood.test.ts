/**
 * A sign-in flood against the compiled executable, over real sockets from many loopback
 * addresses (curl --interface 127.0.0.N; 127.0.0.0/8 is all loopback on Linux): 300 wrong
 * passwords for the owner's account from 127.0.0.2-31 (ten each, the login rate per
 * address), then the right one from 127.0.0.40. The owner gets in, and at most two other
 * hashes ran before theirs (the server logs each hash start at debug level with the
 * number of others that started while it waited). No wall-clock assertion: the timing
 * figure is scripts/bench/login-flood.ts's.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { parseProm, value } from "../helpers/prom";

const ZONE = "dyn.flood.test";
const EMAIL = "owner@example.com";
const PASSWORD = "the owner's passphrase";
let data: string;
let server: ServerProcess;
const children: ChildProcess[] = [];

/** curl from a given source address; resolves to the HTTP status of each URL it fetched. */
function curlFrom(source: string, count: number, body: unknown): Promise<number[]> {
  const args = [
    "-s",
    "--no-progress-meter",
    "-Z",
    "--parallel-max",
    String(count),
    "--interface",
    source,
    "-w",
    "\nstatus=%{http_code}\n",
    "-X",
    "POST",
    "-H",
    "content-type: application/json",
    "-d",
    JSON.stringify(body),
  ];
  for (let i = 0; i < count; i++) args.push(`${server.base}/api/auth/login`);
  const child = spawn("curl", args, { stdio: ["ignore", "pipe", "ignore"] });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  return new Promise((resolve) => child.on("exit", () => resolve([...out.matchAll(/^status=(\d+)$/gm)].map((m) => Number(m[1])))));
}

const hashes = (text: string) => value(parseProm(text).samples, "ipkeep_password_hashes_total") ?? 0;

async function scrape(): Promise<string> {
  const res = await fetch(`${server.base}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

beforeAll(async () => {
  data = tempDir("ipkeep-e2e-flood-");
  const init = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  server = await startServe(data, ["--log-level", "debug"]);
  const setup = await fetch(`${server.base}/api/auth/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: JSON.parse(init.stdout).setupCode, email: EMAIL, password: PASSWORD }),
  });
  expect(setup.status).toBe(201);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, "SIGKILL");
  await server?.stop();
  cleanup(data);
});

describe("a sign-in flood", () => {
  it("300 wrong logins from 127.0.0.2-31, then the right one from 127.0.0.40: it gets in after at most two other hashes", { timeout: 120_000 }, async () => {
    const flood = Array.from({ length: 30 }, (_, i) => curlFrom(`127.0.0.${2 + i}`, 10, { email: EMAIL, password: "a wrong guess" }));
    // Until every flooding source has had a turn (32 hashes: one per source, two slots), or
    // the flood is over: the owner then arrives at a queue those sources have been using.
    let done = false;
    void Promise.all(flood).then(() => (done = true));
    // (Scraped four times a second: /metrics counts toward the 300 a minute of this address.)
    for (let i = 0; i < 240 && !done; i++) {
      if (hashes(await scrape()) >= 32) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const [owner] = await curlFrom("127.0.0.40", 1, { email: EMAIL, password: PASSWORD });
    expect(owner).toBe(200);
    const codes = (await Promise.all(flood)).flat();
    expect(codes).toHaveLength(300);
    // Wrong password (401), or refused without a hash (429: queue full, or the account's
    // failure delay for that source); never anything else.
    expect(codes.filter((c) => c !== 401 && c !== 429)).toEqual([]);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);

    const mine = [...server.logs().matchAll(/msg="password hash" source=127\.0\.0\.40 started_ahead=(\d+)/g)].map((m) => Number(m[1]));
    expect(mine, "one hash for the owner's login").toHaveLength(1);
    expect(mine[0]).toBeLessThanOrEqual(2);
    // The flood did not get a hash per attempt: the per-account delay refused most without one.
    expect(hashes(await scrape())).toBeLessThan(300);
  });
});
