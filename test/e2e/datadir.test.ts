/**
 * The data directory's life with the compiled executable: one process at a time holds it
 * (serve, secondary, restore), the lock goes with a process killed by SIGKILL, and serve
 * refuses a directory init never prepared or a database that is damaged.
 */
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cleanup, EXE, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
const dirs: string[] = [];
const servers: ServerProcess[] = [];

function freshDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

function initDir(): string {
  const d = freshDir();
  const r = run(["--data", d, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]);
  expect(r.code, r.stderr).toBe(0);
  return d;
}

async function serve(dir: string, extra: string[] = []): Promise<ServerProcess> {
  const s = await startServe(dir, extra);
  servers.push(s);
  return s;
}

/** A command expected to stop by itself at once; killed after 10 s if it does not. */
function runShort(args: string[]) {
  const r = spawnSync(EXE, args, { encoding: "utf8", timeout: 10_000, killSignal: "SIGKILL" });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

afterAll(() => {
  for (const d of dirs) cleanup(d);
});

describe("the data directory lock", () => {
  let data: string;
  beforeAll(() => {
    data = initDir();
  });

  it("refuses a second serve on the same data directory (other ports) with exit 5 naming the first's PID", async () => {
    const first = await serve(data);
    const second = runShort(["--data", data, "serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"]);
    expect(second.signal, "the second serve kept running").toBeNull();
    expect(second.code).toBe(5);
    expect(second.stderr).toContain(`ipkeep serve (pid ${first.proc.pid})`);
    expect(second.stderr).toContain(data);
    // The first is untouched: its pid file is its own and it still answers.
    expect(readFileSync(join(data, "serve.pid"), "utf8").trim()).toBe(String(first.proc.pid));
    expect((await fetch(`${first.base}/api/v2/healthz`)).status).toBe(200);
  });

  it("refuses restore while serve runs (exit 5, the server's PID) and leaves the database alone", async () => {
    const backup = join(freshDir(), "b.db");
    expect(run(["--data", data, "backup", backup]).code).toBe(0);
    const first = await serve(data);
    const r = runShort(["--data", data, "restore", backup]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`pid ${first.proc.pid}`);
    expect(r.stderr).toMatch(/stop it first/);
    await first.stop();
    expect(runShort(["--data", data, "restore", backup]).code).toBe(0);
  });

  it("refuses a secondary on a directory a serve holds", async () => {
    const first = await serve(data);
    const r = runShort(["--data", data, "secondary", "--primary", "127.0.0.1:9", "--zone", ZONE, "--dns", "127.0.0.1:0"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`ipkeep serve (pid ${first.proc.pid})`);
  });

  it("is freed when the holder is killed with SIGKILL", async () => {
    const first = await serve(data);
    expect(await first.stop("SIGKILL")).toBeNull();
    const again = await serve(data);
    expect((await fetch(`${again.base}/api/v2/healthz`)).status).toBe(200);
  });
});

describe("serve checks the database at start", () => {
  const serveArgs = (dir: string, extra: string[] = []) => ["--data", dir, "serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", ...extra];

  it("refuses a directory init never prepared (exit 2, run ipkeep init) and creates nothing there", () => {
    const dir = join(freshDir(), "typo");
    const r = runShort(serveArgs(dir));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`run ipkeep init --data ${dir}`);
    expect(existsSync(join(dir, "ipkeep.db"))).toBe(false);
  });

  it("serves a fresh directory with --demo (npm start's way)", async () => {
    const dir = join(freshDir(), "demo");
    const s = await serve(dir, ["--demo"]);
    expect((await fetch(`${s.base}/api/v2/healthz`)).status).toBe(200);
  });

  it("refuses a zero-length ipkeep.db instead of starting an empty install", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "ipkeep.db"), "");
    const r = runShort(serveArgs(dir, ["--demo"]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is empty \(0 bytes\)/);
    expect(r.stderr).toContain(`ipkeep restore FILE --data ${dir}`);
    expect(statSync(join(dir, "ipkeep.db")).size).toBe(0);
  });

  it("refuses a database with a damaged page, saying to restore a backup", () => {
    const dir = initDir();
    const db = join(dir, "ipkeep.db");
    const bytes = readFileSync(db);
    expect(bytes.length).toBeGreaterThan(4096 * 5);
    bytes.fill(0x5a, 4096 * 3, 4096 * 4);
    writeFileSync(db, bytes);
    const r = runShort(serveArgs(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is damaged \(integrity check/);
    expect(r.stderr).toMatch(/Restore the last good backup: ipkeep restore FILE/);
  });

  it("refuses an SQLite database that is not ipkeep's", () => {
    const dir = freshDir();
    const sqlite = spawnSync(process.execPath, [
      "-e",
      `const { Database } = require("bun:sqlite"); new Database(${JSON.stringify(join(dir, "ipkeep.db"))}).run("CREATE TABLE t (x)")`,
    ]);
    expect(sqlite.status, String(sqlite.stderr)).toBe(0);
    const r = runShort(serveArgs(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no ipkeep schema/);
  });

  it("secondary refuses a damaged secondary-zones.json with what to do", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "secondary-zones.json"), '{"version":1,"zones":{"dyn.example.com":{"da');
    const r = runShort(["--data", dir, "secondary", "--primary", "127.0.0.1:9", "--zone", ZONE, "--dns", "127.0.0.1:0"]);
    expect(r.signal, "the secondary kept running").toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/secondary-zones\.json is damaged/);
    expect(r.stderr).toMatch(/delete it/);
  });
});

describe("bind errors name the address and port", () => {
  it("serve on a DNS port another program holds over UDP: exit 5, cannot bind UDP ADDR:PORT: address in use", async () => {
    const dir = initDir();
    const blocker = createSocket("udp4");
    const port = await new Promise<number>((r) => blocker.bind(0, "127.0.0.1", () => r(blocker.address().port)));
    try {
      for (const thread of ["yes", "no"]) {
        const r = runShort(["--data", dir, "serve", "--http", "127.0.0.1:0", "--dns", `127.0.0.1:${port}`, "--dns-thread", thread]);
        expect(r.code, r.stderr).toBe(5);
        expect(r.stderr).toContain(`cannot bind UDP 127.0.0.1:${port}: address in use`);
      }
    } finally {
      blocker.close();
    }
  });
});
