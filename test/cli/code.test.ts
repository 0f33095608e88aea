/**
 * `ipkeep code` and the schema guard, through the compiled executable.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, run, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
let data: string;

beforeAll(() => {
  data = tempDir();
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
});
afterAll(() => cleanup(data));

describe("ipkeep code", () => {
  it("issue --owner says when it created the user, and a refused issue creates none", () => {
    const refused = run(["--data", data, "code", "issue", "--role", "agent", "--owner", "ghost@example.com", "--hostname", "x.elsewhere.example"]);
    expect(refused.code).toBe(2);
    const users = () => JSON.parse(run(["--data", data, "user", "list", "--json"]).stdout).map((u: { email: string }) => u.email);
    expect(users()).not.toContain("ghost@example.com");
    const first = run(["--data", data, "code", "issue", "--role", "agent", "--owner", "Owner@Example.com", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).createdOwner).toBe("owner@example.com");
    const second = run(["--data", data, "code", "issue", "--role", "agent", "--owner", "owner@example.com"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toContain("Created user");
    expect(run(["--data", data, "code", "issue", "--role", "agent", "--owner", "not an address"]).code).toBe(2);
    expect(users().filter((e: string) => e === "owner@example.com")).toHaveLength(1);
  });

  it("issue prints a code once; list shows only its hint; revoke ends it", () => {
    const r = run(["--data", data, "code", "issue", "--role", "agent", "--owner", "me@example.com", "--hostname", `home.${ZONE}`, "--ttl", "600", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.installCode).toMatch(/^IPK-[2-9A-Z]{6}-[2-9A-Z]{6}-[2-9A-Z]{6}$/);
    expect(c).toMatchObject({ role: "agent", hostname: `home.${ZONE}`, ttlSeconds: 600 });
    const list = run(["--data", data, "code", "list", "--json"]);
    expect(list.stdout).not.toContain(c.installCode);
    expect(JSON.parse(list.stdout)).toContainEqual(expect.objectContaining({ id: c.id, hint: c.hint, state: "issued" }));
    expect(run(["--data", data, "code", "revoke", String(c.id)]).code).toBe(0);
    const again = run(["--data", data, "code", "revoke", String(c.id)]);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain("revoked");
  });

  it("prints the enrollment one-liner", () => {
    const r = run(["--data", data, "code", "issue", "--role", "secondary"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/install\.sh \| sudo bash -s -- --primary \S+ --code IPK-/);
  });

  it("refuses bad input with exit 2", () => {
    expect(run(["--data", data, "code", "issue", "--role", "router"]).code).toBe(2);
    expect(run(["--data", data, "code", "issue", "--role", "agent", "--owner", "me@example.com", "--ttl", "abc"]).code).toBe(2);
    expect(run(["--data", data, "code", "issue", "--role", "agent", "--owner", "me@example.com", "--hostname", "x.other.org"]).code).toBe(2);
    const noOwner = run(["--data", data, "code", "issue", "--role", "agent"]);
    expect(noOwner.code).toBe(2);
    expect(noOwner.stderr).toContain("--owner");
  });
});

describe("schema guard", () => {
  it("refuses a database whose schema is newer than the binary, with exit 3", () => {
    const d = tempDir();
    try {
      expect(run(["--data", d, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
      // A future migration, as a newer ipkeep would leave it.
      const db = new Database(`${d}/ipkeep.db`);
      db.run("INSERT INTO schema_migrations VALUES (9999, 'future', 0)");
      db.close();
      const out = run(["--data", d, "host", "list"]);
      expect(out.code).toBe(3);
      expect(out.stderr).toContain("newer than this ipkeep");
    } finally {
      cleanup(d);
    }
  });
});
