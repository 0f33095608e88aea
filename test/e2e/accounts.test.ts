/**
 * Accounts end to end on the compiled executable: the setup code from `ipkeep init` makes the
 * first admin, ipdock's register/login curl examples run as written (its obfuscated example
 * address replaced by a real one), the CLI prints a reset link that works, and sessions
 * survive a restart (the JWT secret is the install's, kept in the database).
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.accounts.test";
let data: string;
let server: ServerProcess;
let setupCode: string;

/** Runs curl with the arguments of a documented example; answers the status and the JSON. */
function curl(args: string[]): { status: number; body: any } {
  const r = spawnSync("curl", ["-s", "-w", "\n%{http_code}", ...args], { encoding: "utf8", timeout: 15_000 });
  const lines = r.stdout.trimEnd().split("\n");
  const status = Number(lines.pop());
  const text = lines.join("\n");
  return { status, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  data = tempDir("ipkeep-e2e-accounts-");
  const init = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  setupCode = JSON.parse(init.stdout).setupCode;
  server = await startServe(data);
});

afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("accounts on the executable", () => {
  let adminJwt: string;

  it("creates the first admin with the setup code printed by init", () => {
    const r = curl([
      "-X",
      "POST",
      `${server.base}/api/auth/setup`,
      "-H",
      "Content-Type: application/json",
      "-d",
      JSON.stringify({ code: setupCode, email: "admin@example.com", password: "admin password 1" }),
    ]);
    expect(r.status).toBe(201);
    expect(r.body.user.role).toBe("admin");
    adminJwt = r.body.token;
    const again = curl([
      "-X",
      "POST",
      `${server.base}/api/auth/setup`,
      "-H",
      "Content-Type: application/json",
      "-d",
      JSON.stringify({ code: setupCode, email: "b@example.com", password: "admin password 1" }),
    ]);
    expect(again.status).toBe(403);
  });

  it("runs ipdock's register and login examples as written once registration is on", () => {
    const on = curl([
      "-X",
      "PATCH",
      `${server.base}/api/settings`,
      "-H",
      `Authorization: Bearer ${adminJwt}`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"registrationOpen": true}',
    ]);
    expect(on.status).toBe(200);
    // curl -X POST https://api.ipdock.io/api/auth/register -H "Content-Type: application/json" -d '{"email": "...", "password": "your-password"}'
    const reg = curl([
      "-X",
      "POST",
      `${server.base}/api/auth/register`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"email": "you@example.com", "password": "your-password"}',
    ]);
    expect(reg.status).toBe(201);
    expect(reg.body).toEqual({ token: expect.stringMatching(/^eyJ/), user: expect.objectContaining({ id: expect.anything(), email: "you@example.com" }) });
    // curl -X POST https://api.ipdock.io/api/auth/login -H "Content-Type: application/json" -d '{"email": "...", "password": "your-password"}'
    const login = curl([
      "-X",
      "POST",
      `${server.base}/api/auth/login`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"email": "you@example.com", "password": "your-password"}',
    ]);
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ token: expect.stringMatching(/^eyJ/), user: expect.objectContaining({ id: reg.body.user.id, email: "you@example.com" }) });
    // -H "Authorization: Bearer $JWT"
    const me = curl([`${server.base}/api/auth/me`, "-H", `Authorization: Bearer ${login.body.token}`]);
    expect(me.body.email).toBe("you@example.com");
  });

  it("prints a reset link with `ipkeep user reset-link` that sets a new password once", () => {
    const r = run(["--data", data, "user", "reset-link", "you@example.com", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const { url } = JSON.parse(r.stdout);
    const token = /\/reset\/(ipko_[\w-]+)$/.exec(url)![1]!;
    const form = spawnSync("curl", ["-s", `${server.base}/reset/${token}`], { encoding: "utf8" }).stdout;
    expect(form).toContain("/api/auth/password-reset/confirm");
    const set = curl([
      "-X",
      "POST",
      `${server.base}/api/auth/password-reset/confirm`,
      "-H",
      "Content-Type: application/json",
      "-d",
      JSON.stringify({ token, password: "a brand new one" }),
    ]);
    expect(set.status).toBe(204);
    expect(
      curl([
        "-X",
        "POST",
        `${server.base}/api/auth/login`,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"email": "you@example.com", "password": "your-password"}',
      ]).status,
    ).toBe(401);
    expect(
      curl([
        "-X",
        "POST",
        `${server.base}/api/auth/login`,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"email": "you@example.com", "password": "a brand new one"}',
      ]).status,
    ).toBe(200);
    expect(run(["--data", data, "user", "reset-link", "nobody@example.com"]).code).toBe(4);
  });

  it("invites with `ipkeep user invite`, and `user disable/enable` lock an account out and back in", () => {
    const inv = run(["--data", data, "user", "invite", "friend@example.com", "--json"]);
    expect(inv.code, inv.stderr).toBe(0);
    const token = /\/invite\/(ipko_[\w-]+)$/.exec(JSON.parse(inv.stdout).url)![1]!;
    const acc = curl([
      "-X",
      "POST",
      `${server.base}/api/auth/accept-invite`,
      "-H",
      "Content-Type: application/json",
      "-d",
      JSON.stringify({ token, password: "friend password" }),
    ]);
    expect(acc.status).toBe(201);
    expect(run(["--data", data, "user", "invite", "friend@example.com"]).code).toBe(5);
    expect(run(["--data", data, "user", "disable", "friend@example.com"]).code).toBe(0);
    expect(curl([`${server.base}/api/auth/me`, "-H", `Authorization: Bearer ${acc.body.token}`]).status).toBe(401);
    const login = [
      "-X",
      "POST",
      `${server.base}/api/auth/login`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"email": "friend@example.com", "password": "friend password"}',
    ];
    expect(curl(login).status).toBe(401);
    expect(run(["--data", data, "user", "enable", "friend@example.com"]).code).toBe(0);
    expect(curl(login).status).toBe(200);
  });

  it("refuses oversize bodies over a real socket, with and without a length", () => {
    const big = JSON.stringify({ email: "you@example.com", password: "x".repeat(100 * 1024) });
    const withLength = curl(["-X", "POST", `${server.base}/api/auth/login`, "-H", "Content-Type: application/json", "--data-binary", big]);
    expect(withLength.status).toBe(413);
    const chunked = spawnSync(
      "curl",
      [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        `${server.base}/api/auth/login`,
        "-H",
        "Content-Type: application/json",
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "@-",
      ],
      { input: big, encoding: "utf8", timeout: 15_000 },
    );
    expect(chunked.stdout).toBe("413");
  });

  it("keeps sessions across a restart, and logout revokes for real", async () => {
    await server.stop();
    server = await startServe(data);
    expect(curl([`${server.base}/api/auth/me`, "-H", `Authorization: Bearer ${adminJwt}`]).status).toBe(200);
    expect(curl(["-X", "POST", `${server.base}/api/auth/logout`, "-H", `Authorization: Bearer ${adminJwt}`]).status).toBe(204);
    expect(curl([`${server.base}/api/auth/me`, "-H", `Authorization: Bearer ${adminJwt}`]).status).toBe(401);
  });
});
