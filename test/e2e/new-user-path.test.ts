/**
 * A new user's path through the README, followed literally on the compiled executable: "Try it"
 * (init, host add --owner, serve), then "Accounts" (the first admin with the setup code).
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, EXE, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

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

describe("one base URL for every printed, mailed or answered link", () => {
  const URL = "https://ddns.example.com";
  let dir: string;
  let srv: ServerProcess | undefined;
  beforeAll(() => {
    dir = tempDir("ipkeep-e2e-url-");
    const init = run(["--data", dir, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=203.0.113.53`, "--url", URL]);
    expect(init.code, init.stderr).toBe(0);
  });
  afterAll(async () => {
    await srv?.stop();
    cleanup(dir);
  });

  it("host add and --snippets print the URL init --url stored", () => {
    const add = run(["--data", dir, "host", "add", `home.${ZONE}`, "--owner", "me@example.com"]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain(`${URL}/nic/update?hostname=home.${ZONE}`);
    expect(add.stdout).not.toContain("127.0.0.1");
    const json = JSON.parse(run(["--data", dir, "host", "add", `json.${ZONE}`, "--owner", "me@example.com", "--json"]).stdout);
    expect(json.updateUrl).toMatch(new RegExp(`^${URL}/nic/update\\?`));
    const snippets = run(["--data", dir, "host", "add", `nas.${ZONE}`, "--owner", "me@example.com", "--snippets"]);
    expect(snippets.code, snippets.stderr).toBe(0);
    expect(snippets.stdout).toContain(`${URL}/nic/update`);
    expect(snippets.stdout).not.toContain("127.0.0.1");
    expect(snippets.stdout).not.toContain("http://");
  });

  it("user links and code issue's install command use it too; the --url flag (IPKEEP_URL) comes first", () => {
    expect(JSON.parse(run(["--data", dir, "user", "reset-link", "me@example.com", "--json"]).stdout).url).toMatch(new RegExp(`^${URL}/reset/`));
    expect(JSON.parse(run(["--data", dir, "user", "invite", "friend@example.com", "--json"]).stdout).url).toMatch(new RegExp(`^${URL}/invite/`));
    const code = run(["--data", dir, "code", "issue", "--role", "secondary"]);
    expect(code.code, code.stderr).toBe(0);
    expect(code.stdout).toContain(`curl -fsSL ${URL}/install.sh | sudo bash -s -- --primary ${URL} --code`);
    const flagged = run(["--data", dir, "host", "add", `flag.${ZONE}`, "--owner", "me@example.com"], { IPKEEP_URL: "https://other.example.com/" });
    expect(flagged.stdout).toContain(`https://other.example.com/nic/update?hostname=flag.${ZONE}`);
    const link = run(["--data", dir, "user", "reset-link", "me@example.com", "--json"], { IPKEEP_URL: "https://other.example.com" });
    expect(JSON.parse(link.stdout).url).toMatch(/^https:\/\/other\.example\.com\/reset\//);
  });

  it("the API's answers use it (the served install.sh) when serve has no --url", async () => {
    srv = await startServe(dir);
    const script = await (await fetch(`${srv.base}/install.sh`)).text();
    expect(script).toContain(`DEFAULT_PRIMARY="${URL}"`);
    // An invitation link answered by the API (and mailed, with SMTP) uses it too.
    const add = spawnSync(EXE, ["--data", dir, "user", "add", "admin@example.com", "--admin"], { input: "a long passphrase\n", encoding: "utf8" });
    expect(add.status, add.stderr).toBe(0);
    const key = JSON.parse(run(["--data", dir, "key", "create", "--user", "admin@example.com", "--json"]).stdout).key;
    const inv = await fetch(`${srv.base}/api/users/invitations`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ email: "new@example.com" }),
    });
    expect(inv.status).toBe(201);
    expect(((await inv.json()) as any).url).toMatch(new RegExp(`^${URL}/invite/ipko_`));
  });
});
