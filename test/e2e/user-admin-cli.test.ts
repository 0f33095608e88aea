/**
 * The first admin, an API key and a lost phone without the API: `user add --admin`,
 * `key create --user`, `user reset-2fa` and `user rm` on the compiled executable, each checked
 * against the running server (sign-in, the key's access, DNS).
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpAt } from "../../src/core/totp";
import { createPlatform } from "../../src/platform";
import { digShort } from "../helpers/dig";
import { cleanup, EXE, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.users.test";
const PASSWORD = "a long passphrase";
let data: string;
let server: ServerProcess;

/** Runs the executable with text on its standard input (a pipe: not a terminal). */
function runInput(args: string[], input: string) {
  const r = spawnSync(EXE, ["--data", data, ...args], { encoding: "utf8", input, timeout: 20_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

async function api(method: string, path: string, opts: { token?: string; body?: unknown } = {}) {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body ? { "content-type": "application/json" } : {}) },
    body: opts.body ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
}
const login = (email: string, password = PASSWORD) => api("POST", "/api/auth/login", { body: { email, password } });

beforeAll(async () => {
  data = tempDir("ipkeep-e2e-users-");
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  server = await startServe(data);
});
afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("user add", () => {
  it("creates the first admin from a password on stdin; it signs in", async () => {
    const r = runInput(["user", "add", "Admin@Example.com", "--admin", "--json"], `${PASSWORD}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ email: "admin@example.com", role: "admin", twoFactorEnabled: false });
    expect(r.stdout).not.toContain(PASSWORD);
    const l = await login("admin@example.com");
    expect(l.status).toBe(200);
    expect(l.body.user.role).toBe("admin");
    // No setup code is left to use: an admin exists.
    expect(run(["--data", data, "user", "setup-code"]).code).toBe(6);
  });

  it("checks the password policy, wants a password, and refuses a taken address", () => {
    const short = runInput(["user", "add", "short@example.com"], "short\n");
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("at least 8");
    const none = runInput(["user", "add", "none@example.com"], "");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("standard input");
    const taken = runInput(["user", "add", "admin@example.com"], `${PASSWORD}\n`);
    expect(taken.code).toBe(5);
    expect(runInput(["user", "add", "not an address"], `${PASSWORD}\n`).code).toBe(2);
    const list = JSON.parse(run(["--data", data, "user", "list", "--json"]).stdout).map((u: { email: string }) => u.email);
    expect(list).toEqual(["admin@example.com"]);
  });

  it("gives a password to the user that host add --owner made", async () => {
    expect(run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com"]).code).toBe(0);
    const r = runInput(["user", "add", "me@example.com"], `${PASSWORD}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Set a password for user me@example.com");
    expect((await login("me@example.com")).status).toBe(200);
  });
});

describe("key create", () => {
  it("prints an API key once that acts as the user", async () => {
    const r = run(["--data", data, "key", "create", "--user", "me@example.com", "--label", "laptop", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.key).toMatch(/^ipka_/);
    expect(out.apiKey).toMatchObject({ label: "laptop", expiresAt: null });
    const me = await api("GET", "/api/auth/me", { token: out.key });
    expect(me.body.email).toBe("me@example.com");
    const text = run(["--data", data, "key", "create", "--user", "me@example.com", "--expires-days", "30"]);
    expect(text.stdout).toMatch(/^ {2}ipka_\S+$/m);
    expect(text.stdout).toContain("Expires ");
    expect(run(["--data", data, "key", "create", "--user", "nobody@example.com"]).code).toBe(4);
    expect(run(["--data", data, "key", "create", "--user", "me@example.com", "--expires-days", "0"]).code).toBe(2);
  });
});

describe("user reset-2fa", () => {
  it("turns a lost phone's two-factor off: the password alone signs in again", async () => {
    const jwt = (await login("me@example.com")).body.token;
    const setup = await api("POST", "/api/auth/2fa/setup", { token: jwt });
    const pin = totpAt(createPlatform(), setup.body.secret, Date.now());
    expect((await api("POST", "/api/auth/2fa/enable", { token: jwt, body: { pin } })).status).toBe(200);
    expect((await login("me@example.com")).body.twoFactorRequired).toBe(true);

    const r = run(["--data", data, "user", "reset-2fa", "me@example.com", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ email: "me@example.com", twoFactorWasEnabled: true });
    const after = await login("me@example.com");
    expect(after.status).toBe(200);
    expect(after.body.token).toMatch(/^eyJ/);
    // The sessions of before are signed out.
    expect((await api("GET", "/api/auth/me", { token: jwt })).status).toBe(401);
    expect(run(["--data", data, "user", "reset-2fa", "nobody@example.com"]).code).toBe(4);
  });
});

describe("user rm", () => {
  it("asks (refuses without --yes off a terminal), keeps the only admin, removes a user with its hostnames", async () => {
    const token = JSON.parse(run(["--data", data, "host", "add", `gone.${ZONE}`, "--owner", "me@example.com", "--json"]).stdout).token.tokenValue;
    const up = await fetch(`${server.base}/nic/update?hostname=gone.${ZONE}&myip=198.51.100.7`, {
      headers: { authorization: `Basic ${Buffer.from(`t:${token}`).toString("base64")}` },
    });
    expect(await up.text()).toBe("good 198.51.100.7");
    expect(digShort(server.dnsPort, `gone.${ZONE}`, "A")).toEqual(["198.51.100.7"]);

    const noYes = run(["--data", data, "user", "rm", "me@example.com"]);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain("--yes");
    expect(run(["--data", data, "user", "rm", "admin@example.com", "--yes"]).code).toBe(5);

    const r = run(["--data", data, "user", "rm", "me@example.com", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ removed: "me@example.com", hostnames: 2, domains: 0 });
    expect((await login("me@example.com")).status).toBe(401);
    const gone = await fetch(`${server.base}/nic/update?hostname=gone.${ZONE}&myip=198.51.100.8`, {
      headers: { authorization: `Basic ${Buffer.from(`t:${token}`).toString("base64")}` },
    });
    expect(await gone.text()).toBe("badauth");
    const deadline = Date.now() + 5000;
    while (digShort(server.dnsPort, `gone.${ZONE}`, "A").length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(digShort(server.dnsPort, `gone.${ZONE}`, "A")).toEqual([]);
    expect(run(["--data", data, "user", "rm", "me@example.com", "--yes"]).code).toBe(4);
  });
});
