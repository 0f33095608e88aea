/**
 * A new user's path through the README, followed literally on the compiled executable: "Try it"
 * (init, host add --owner, serve), then "Accounts" (the first admin with the setup code).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
let data: string;
let setupCode: string;
let server: ServerProcess;

beforeAll(async () => {
  data = tempDir("ipkeep-e2e-path-");
  const init = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=203.0.113.53`, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  setupCode = JSON.parse(init.stdout).setupCode;
});
afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("Try it, then Accounts", () => {
  it("host add --owner says it created the user, once", () => {
    const first = run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("Created user me@example.com");
    const second = run(["--data", data, "host", "add", `nas.${ZONE}`, "--owner", "me@example.com", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).createdOwner).toBeUndefined();
    const bad = run(["--data", data, "host", "add", `x.${ZONE}`, "--owner", "not an address"]);
    expect(bad.code).toBe(2);
    // A refused host add leaves no user behind.
    const third = run(["--data", data, "host", "add", "bad name!", "--owner", "new@example.com"]);
    expect(third.code).toBe(2);
    expect(JSON.parse(run(["--data", data, "user", "list", "--json"]).stdout).map((u: { email: string }) => u.email)).toEqual(["me@example.com"]);
  });

  it("the setup with the same e-mail makes that user the admin (201, not 500) and keeps its hostnames", async () => {
    server = await startServe(data);
    const r = await fetch(`${server.base}/api/auth/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: setupCode, email: "me@example.com", password: "a long passphrase" }),
    });
    const body = (await r.json()) as any;
    expect(r.status, JSON.stringify(body)).toBe(201);
    expect(body.user).toMatchObject({ id: 1, email: "me@example.com", role: "admin" });
    const hosts = (await (await fetch(`${server.base}/api/hostnames`, { headers: { authorization: `Bearer ${body.token}` } })).json()) as any;
    expect(hosts.hostnames.map((h: { hostname: string }) => h.hostname).sort()).toEqual([`home.${ZONE}`, `nas.${ZONE}`]);
  });
});
