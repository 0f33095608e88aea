/**
 * No credential ever appears in clear in what the server writes down. The compiled executable
 * is driven through every credential kind over every route kind, right and wrong: the admin
 * setup code, passwords (setup, login, wrong login, invitation, reset), session JWTs, API
 * keys, update tokens (query, Basic either way, Bearer, Token, form and JSON bodies, pasted
 * where a hostname or user agent goes), acme-dns credentials, install codes with their
 * precheck and install tokens, node tokens and the agent's update token, one-time links.
 * Then its stdout and stderr and the database's log tables (update_log, audit_log) are
 * searched for each secret, raw and in the encodings a request carries it in.
 */
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpAt } from "../../src/core/totp";
import { createPlatform } from "../../src/platform";
import { cleanup, loggedRows, run, type ServerProcess, secretsInClear, startServe, tempDir } from "../helpers/exe";
import { rawHttp } from "../helpers/raw-http";

const ZONE = "dyn.example.com";
const HOST = `home.${ZONE}`;
let data: string;
let server: ServerProcess;

/** Every secret used below, right or wrong, with a label for the failure message. */
const secrets = new Map<string, string>();
const secret = <T extends string>(label: string, value: T): T => {
  expect(typeof value, label).toBe("string");
  expect(value.length, label).toBeGreaterThanOrEqual(8);
  secrets.set(value, label);
  return value;
};
const rnd = (n = 24) => randomBytes(n).toString("base64url");

const b64 = (s: string) => Buffer.from(s).toString("base64");
const basic = (user: string, pass: string) => `Basic ${b64(`${user}:${pass}`)}`;

// Each request from its own loopback address (127.0.0.2 …): the lockouts after repeated
// wrong credentials are per source, and this test makes many on purpose.
let nextSource = 0;
const source = () => `127.0.0.${2 + (nextSource++ % 250)}`;

function call(method: string, path: string, o: { body?: unknown; auth?: string; headers?: Record<string, string>; form?: string } = {}) {
  const headers: Record<string, string> = { ...o.headers };
  if (o.auth) headers.authorization = o.auth.startsWith("Basic ") ? o.auth : `Bearer ${o.auth}`;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(o.body);
  } else if (o.form !== undefined) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = o.form;
  }
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  return new Promise<{ status: number; text: string; json: any }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.httpPort, localAddress: source(), method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        let json: any = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* text answer */
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  data = tempDir("ipkeep-nosecrets-");
  const init = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  secret("setup code", JSON.parse(init.stdout).setupCode);
  // Debug level: whatever the server would say, it says here.
  server = await startServe(data, ["--update-burst", "0", "--log-level", "debug"]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("every credential over every route kind", () => {
  it("is used, right and wrong, and never written down", async () => {
    const setupCode = [...secrets.entries()].find(([, l]) => l === "setup code")![0];
    const adminPw = secret("admin password", `Adm1n-${rnd()}`);
    const wrongPw = secret("wrong password", `Wr0ng-${rnd()}`);

    // Accounts: a wrong setup code, the setup, logins right and wrong.
    expect(
      (await call("POST", "/api/auth/setup", { body: { code: secret("wrong setup code", `ipko_${rnd(32)}`), email: "admin@example.com", password: adminPw } }))
        .status,
    ).toBeGreaterThanOrEqual(400);
    const setup = await call("POST", "/api/auth/setup", { body: { code: setupCode, email: "admin@example.com", password: adminPw } });
    expect(setup.status, setup.text).toBe(201);
    secret("setup session", setup.json.token);
    expect((await call("POST", "/api/auth/login", { body: { email: "admin@example.com", password: wrongPw } })).status).toBe(401);
    expect((await call("POST", "/api/auth/login", { body: { email: "nobody@example.com", password: wrongPw } })).status).toBe(401);
    const login = await call("POST", "/api/auth/login", { body: { email: "admin@example.com", password: adminPw } });
    expect(login.status, login.text).toBe(200);
    const jwt = secret("session JWT", login.json.token);
    expect((await call("GET", "/api/auth/me", { auth: jwt })).status).toBe(200);
    expect((await call("GET", "/api/auth/me", { auth: secret("forged JWT", `${jwt.slice(0, -6)}AAAAAA`) })).status).toBe(401);

    // API keys, right and wrong.
    const key = await call("POST", "/api/keys", { auth: jwt, body: { label: "test" } });
    expect(key.status, key.text).toBe(201);
    const apiKey = secret("API key", key.json.key ?? key.json.value ?? key.json.apiKey?.value ?? key.json.token);
    expect((await call("GET", "/api/hostnames", { auth: apiKey })).status).toBe(200);
    expect((await call("GET", "/api/hostnames", { auth: secret("wrong API key", `ipka_${rnd(32)}`) })).status).toBe(401);
    expect((await call("GET", "/api/hostnames", { headers: { "x-api-key": apiKey } })).status).toBeLessThan(500);

    // Invitation and reset links: one-time tokens, and the passwords chosen with them.
    const inv = await call("POST", "/api/users/invitations", { auth: apiKey, body: { email: "friend@example.com" } });
    expect(inv.status, inv.text).toBe(201);
    const inviteToken = secret("invitation token", inv.json.token);
    expect((await call("GET", `/invite/${inviteToken}`)).status).toBe(200);
    const friendPw = secret("friend password", `Fr1end-${rnd()}`);
    expect((await call("POST", "/api/auth/accept-invite", { body: { token: inviteToken, password: friendPw } })).status).toBe(201);
    expect((await call("POST", "/api/auth/accept-invite", { body: { token: inviteToken, password: friendPw } })).status).toBeGreaterThanOrEqual(400);
    const link = run(["--data", data, "user", "reset-link", "friend@example.com", "--json"]);
    expect(link.code, link.stderr).toBe(0);
    const resetToken = secret("reset token", JSON.parse(link.stdout).url.split("/").pop());
    expect((await call("GET", `/reset/${resetToken}`)).status).toBe(200);
    const friendPw2 = secret("friend new password", `Fr1end2-${rnd()}`);
    expect((await call("POST", "/api/auth/password-reset/confirm", { body: { token: resetToken, password: friendPw2 } })).status).toBe(204);
    expect((await call("POST", "/api/auth/password-reset/confirm", { body: { token: resetToken, password: friendPw2 } })).status).toBeGreaterThanOrEqual(400);
    const friend = await call("POST", "/api/auth/login", { body: { email: "friend@example.com", password: friendPw2 } });
    expect(friend.status).toBe(200);
    const friendJwt = secret("friend session", friend.json.token);

    // Two-factor: the TOTP secret, recovery codes and login tickets.
    const totp = await call("POST", "/api/auth/2fa/setup", { auth: friendJwt });
    expect(totp.status, totp.text).toBe(200);
    const totpSecret = secret("TOTP secret", totp.json.secret);
    const enabled = await call("POST", "/api/auth/2fa/enable", { auth: friendJwt, body: { pin: totpAt(createPlatform(), totpSecret, Date.now()) } });
    expect(enabled.status, enabled.text).toBe(200);
    const recovery = (enabled.json.recoveryCodes as string[]).map((c, i) => secret(`recovery code ${i}`, c));
    const t1 = await call("POST", "/api/auth/login", { body: { email: "friend@example.com", password: friendPw2 } });
    const ticket1 = secret("login ticket", t1.json.ticket);
    expect((await call("POST", "/api/auth/login/2fa", { body: { ticket: ticket1, pin: "000000" } })).status).toBe(401);
    expect((await call("POST", "/api/auth/login/2fa", { body: { ticket: secret("wrong ticket", `ipko_${rnd(32)}`), pin: recovery[1]! } })).status).toBe(401);
    const t2 = await call("POST", "/api/auth/login", { body: { email: "friend@example.com", password: friendPw2 } });
    const second = await call("POST", "/api/auth/login/2fa", { body: { ticket: secret("login ticket 2", t2.json.ticket), pin: recovery[0]! } });
    expect(second.status, second.text).toBe(200);
    secret("2fa session", second.json.token);

    // Update tokens: a hostname over the API, then every credential form, right and wrong.
    const made = await call("POST", "/api/hostnames", { auth: apiKey, body: { domainId: 1, name: "home" } });
    expect(made.status, made.text).toBe(201);
    const token = secret("update token", made.json.token.tokenValue);
    const wrong = secret("wrong update token", `ipk_${rnd(32)}`);
    const q = (t: string, extra = "") => `/nic/update?hostname=${HOST}&myip=198.51.100.${1 + Math.floor(Math.random() * 200)}${extra}&token=${t}`;
    for (const t of [token, wrong]) {
      await call("GET", q(t));
      await call("GET", `/nic/update?hostname=${HOST}&key=${t}`);
      await call("GET", `/nic/update?hostname=${HOST}&user=${t}`);
      await call("GET", `/nic/update?username=${HOST}&password=${t}`);
      await call("GET", `/nic/update?hostname=${HOST}`, { auth: basic("token", t) });
      await call("GET", `/nic/update?hostname=${HOST}`, { auth: basic(t, "x") });
      await call("GET", `/nic/update?hostname=${HOST}`, { auth: t });
      await call("GET", `/nic/update?hostname=${HOST}`, { headers: { authorization: `Token ${t}` } });
      await call("POST", "/nic/update", { form: `hostname=${HOST}&token=${t}` });
      await call("POST", "/update.php", { body: { domain: HOST, key: t } });
      await call("GET", `/api/update?token=${t}`);
      await call("POST", "/api/update", { auth: t, body: { ip: "198.51.100.9" } });
      await call("GET", `/?hostname=${HOST}&token=${t}`);
      await call("GET", `//nic/update?hostname=${HOST}&token=${t}`);
      // Pasted where it does not belong: as the hostname, in the user agent, percent-encoded.
      await call("GET", `/nic/update?hostname=${t}&token=${t}`);
      await call("GET", `/nic/update?hostname=${HOST}&token=${t}`, { headers: { "user-agent": `router/1.0 token=${t} ${t}` } });
      await call("GET", `/nic/update?hostname=${HOST}&token=${encodeURIComponent(t)}%26`);
      await rawHttp(server.httpPort, `GET ${q(t)} HTTP/1.0\r\n\r\n`);
      await rawHttp(server.httpPort, `GET ${q(t)} HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`);
    }
    expect((await call("GET", `/nic/update?hostname=${HOST}&myip=203.0.113.5`, { auth: basic("token", token) })).text).toMatch(/^(good|nochg) /);

    // acme-dns: registered with the session, then its own credentials.
    const acme = await call("POST", "/acme-dns/register", { auth: jwt, body: { hostname: HOST } });
    expect(acme.status, acme.text).toBe(201);
    const pass = secret("acme-dns password", acme.json.password);
    const txt = "a".repeat(43);
    const acmeOk = await call("POST", "/acme-dns/update", {
      headers: { "x-api-user": acme.json.username, "x-api-key": pass },
      body: { subdomain: acme.json.subdomain, txt },
    });
    expect(acmeOk.status, acmeOk.text).toBe(200);
    const acmeBad = await call("POST", "/acme-dns/update", {
      headers: { "x-api-user": acme.json.username, "x-api-key": secret("wrong acme-dns password", rnd(30)) },
      body: { subdomain: acme.json.subdomain, txt },
    });
    expect(acmeBad.status).toBe(401);
    await call("POST", "/httpreq/present", { auth: basic("token", token), body: { fqdn: `_acme-challenge.${HOST}.`, value: "b".repeat(43) } });
    await call("POST", "/httpreq/present", { auth: basic("token", wrong), body: { fqdn: `_acme-challenge.${HOST}.`, value: "b".repeat(43) } });

    // Install codes: issue, wrong code, precheck, activate, the node's credentials, confirm.
    const issued = await call("POST", "/api/v2/install/codes", { auth: apiKey, body: { role: "agent" } });
    expect(issued.status, issued.text).toBe(201);
    const code = secret("install code", issued.json.data.install_code);
    const cli = run(["--data", data, "code", "issue", "--role", "agent", "--json"]);
    expect(cli.code, cli.stderr).toBe(0);
    secret("install code (CLI)", JSON.parse(cli.stdout).installCode);
    const MACHINE = "0123456789abcdef0123456789abcdef";
    const FP = `SHA256:${"A".repeat(43)}`;
    const badCode = secret("wrong install code", "IPK-ABCDEF-GHJKMN-PQRSTW");
    expect(
      (await call("POST", "/api/v2/install/precheck", { body: { install_code: badCode, machine_id: MACHINE, ssh_fingerprint: FP } })).status,
    ).toBeGreaterThanOrEqual(400);
    const pre = await call("POST", "/api/v2/install/precheck", { body: { install_code: code, machine_id: MACHINE, ssh_fingerprint: FP, product: "agent" } });
    expect(pre.status, pre.text).toBe(200);
    const preToken = secret("precheck token", pre.json.data.precheck_token);
    expect(
      (
        await call("POST", "/api/v2/install/activate", {
          body: {
            install_code: code,
            precheck_token: secret("wrong precheck token", `ipkp_${rnd(32)}`),
            hostname: `box.${ZONE}`,
            public_ip: "203.0.113.9",
            machine_id: MACHINE,
            ssh_fingerprint: FP,
          },
        })
      ).status,
    ).toBeGreaterThanOrEqual(400);
    const act = await call("POST", "/api/v2/install/activate", {
      body: { install_code: code, precheck_token: preToken, hostname: `box.${ZONE}`, public_ip: "203.0.113.9", machine_id: MACHINE, ssh_fingerprint: FP },
    });
    expect(act.status, act.text).toBe(200);
    const installToken = secret("install token", act.json.data.install_token);
    const nodeToken = secret("node token", act.json.data.credentials.node_token);
    const agentToken = secret("agent update token", act.json.data.credentials.update_token);
    const wrongNode = secret("wrong node token", `ipkn_${rnd(32)}`);
    expect((await call("POST", "/register", { auth: nodeToken, body: { version: "0.1.0" } })).status).toBe(200);
    expect((await call("POST", "/checkin", { auth: nodeToken, body: { ipv4: "203.0.113.10" } })).status).toBe(200);
    expect((await call("GET", "/status", { auth: nodeToken })).status).toBe(200);
    expect((await call("GET", "/status", { auth: wrongNode })).status).toBe(401);
    expect((await call("GET", `/nic/update?hostname=box.${ZONE}&myip=203.0.113.10`, { auth: basic("token", agentToken) })).text).toMatch(/^(good|nochg) /);
    expect(
      (
        await call("POST", "/api/v2/install/confirm", {
          body: { activation_id: act.json.data.activation_id, install_token: secret("wrong install token", `ipki_${rnd(32)}`) },
        })
      ).status,
    ).toBeGreaterThanOrEqual(400);
    expect((await call("POST", "/api/v2/install/confirm", { body: { activation_id: act.json.data.activation_id, install_token: installToken } })).status).toBe(
      200,
    );
    expect(
      (await call("POST", "/api/v2/install/release", { body: { activation_id: act.json.data.activation_id, install_token: installToken } })).status,
    ).toBeGreaterThanOrEqual(400);

    // Logout revokes the session; using it again is a failure that names nothing.
    expect((await call("POST", "/api/auth/logout", { auth: jwt })).status).toBeLessThan(300);
    expect((await call("GET", "/api/auth/me", { auth: jwt })).status).toBe(401);
  });

  it("leaves no secret in the server's output or the database's logs", async () => {
    // Let the last log lines reach the pipe.
    await new Promise((r) => setTimeout(r, 300));
    const tables = await loggedRows(data);
    expect(JSON.parse(tables.update_log ?? "[]").length).toBeGreaterThan(20);
    expect(JSON.parse(tables.audit_log ?? "[]").length).toBeGreaterThan(5);
    const places: Record<string, string> = { "server output": server.logs(), ...tables };
    expect(places["server output"]).toContain("msg=http");
    expect(secrets.size).toBeGreaterThan(20);
    const leaks: string[] = [];
    for (const [value, label] of secrets) {
      // Raw, percent-encoded, as Basic credentials carry it, and any 16-character piece of it.
      const forms = new Set([value, encodeURIComponent(value), b64(`token:${value}`), b64(`${value}:x`)]);
      const piece = value.length >= 24 ? value.slice(-16) : null;
      for (const [place, text] of Object.entries(places)) {
        for (const f of forms) if (text.includes(f)) leaks.push(`${label} in ${place}`);
        if (piece && text.includes(piece)) leaks.push(`${label} (its last 16 characters) in ${place}`);
      }
    }
    expect([...new Set(leaks)]).toEqual([]);
    // And nothing shaped like a credential, whether this test knew it or not.
    expect(secretsInClear(places)).toEqual([]);
  });
});
