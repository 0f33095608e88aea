/**
 * ipkeep backup / restore with the compiled executable, while `ipkeep serve` runs.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
let data: string;
let out: string;
let server: ServerProcess | null = null;
let token: string;

const update = async (ip: string) => (await fetch(`${server!.base}/nic/update?hostname=home.${ZONE}&myip=${ip}&token=${token}`)).text();

beforeAll(async () => {
  data = tempDir();
  out = tempDir("ipkeep-backups-");
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  const add = run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com", "--json"]);
  expect(add.code, add.stderr).toBe(0);
  token = JSON.parse(add.stdout).token.tokenValue;
  server = await startServe(data);
});

afterAll(async () => {
  await server?.stop();
  cleanup(data);
  cleanup(out);
});

describe("ipkeep backup and restore", () => {
  it("snapshots the database while the server runs and updates arrive, then restores the earlier state", async () => {
    expect(await update("198.51.100.1")).toBe("good 198.51.100.1");
    const first = join(out, "first.db");
    const b1 = run(["--data", data, "backup", first, "--json"]);
    expect(b1.code, b1.stderr).toBe(0);
    expect(JSON.parse(b1.stdout)).toMatchObject({ file: first, hostnames: 1, domains: 1 });
    expect(statSync(first).mode & 0o777).toBe(0o600);

    expect(await update("198.51.100.2")).toBe("good 198.51.100.2");
    expect(digShort(server!.dnsPort, `home.${ZONE}`)).toEqual(["198.51.100.2"]);

    // Restoring under a running server would pull the database from under it.
    const refused = run(["--data", data, "restore", first]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/stop it first/);

    await server!.stop();
    server = null;
    const r = run(["--data", data, "restore", first, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const restored = JSON.parse(r.stdout);
    expect(restored.previous).toMatch(/ipkeep\.db\.before-restore-/);
    expect(existsSync(restored.previous)).toBe(true);
    expect(statSync(join(data, "ipkeep.db")).mode & 0o777).toBe(0o600);

    server = await startServe(data);
    expect(digShort(server.dnsPort, `home.${ZONE}`)).toEqual(["198.51.100.1"]);
    // The token still works after the restore (hashes came back with the data).
    expect(await update("198.51.100.3")).toBe("good 198.51.100.3");
  });

  it("refuses to overwrite an existing backup file unless --force", () => {
    const f = join(out, "exists.db");
    writeFileSync(f, "keep me");
    const r = run(["--data", data, "backup", f]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/already exists/);
    expect(run(["--data", data, "backup", f, "--force"]).code).toBe(0);
    expect(readdirSync(out).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("says there is nothing to back up in an empty data directory", () => {
    const empty = tempDir();
    const r = run(["--data", empty, "backup", join(out, "x.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/No ipkeep database/);
    cleanup(empty);
  });
});

describe("ipkeep restore refuses bad files (and leaves the database alone)", () => {
  let offline: string;
  beforeAll(() => {
    offline = tempDir();
    expect(run(["--data", offline, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  });
  afterAll(() => cleanup(offline));

  const filesNow = () => readdirSync(offline).sort();

  it("a file that is not a database", () => {
    const f = join(out, "text.db");
    writeFileSync(f, "hello, I am not SQLite\n".repeat(100));
    const names = filesNow();
    const r = run(["--data", offline, "restore", f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not an SQLite database|cannot be opened/);
    expect(filesNow()).toEqual(names);
  });

  it("a truncated backup", () => {
    const good = join(out, "good.db");
    expect(run(["--data", offline, "backup", good]).code).toBe(0);
    const cut = join(out, "cut.db");
    writeFileSync(cut, readFileSync(good).subarray(0, 8192));
    const r = run(["--data", offline, "restore", cut]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/damaged|not an SQLite|cannot be opened|malformed/);
  });

  it("an SQLite database that is not ipkeep's", async () => {
    const other = join(out, "other.db");
    const { Database } = await import("bun:sqlite");
    const db = new Database(other, { create: true });
    db.run("CREATE TABLE t (x)");
    db.close();
    const r = run(["--data", offline, "restore", other]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not an ipkeep database/);
  });

  it("a backup from a newer ipkeep (exit 3)", async () => {
    const newer = join(out, "newer.db");
    copyFileSync(join(out, "good.db"), newer);
    const { Database } = await import("bun:sqlite");
    const db = new Database(newer);
    db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)");
    db.close();
    const r = run(["--data", offline, "restore", newer]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/newer than this ipkeep/);
  });

  it("a file that does not exist", () => {
    const r = run(["--data", offline, "restore", join(out, "missing.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not exist/);
  });
});
