/**
 * ipdock's documented curl examples for hostnames, domains, records and tokens, run as
 * written with real curl against the compiled executable (registration switched on, $JWT
 * from register, ids taken from earlier answers), each answer checked for the documented
 * shape and each change checked with dig.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digShortAsync as digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { type ParentZone, startParentZone } from "../helpers/parent-zone";

const ZONE = "dyn.ipkeep.test";
let data: string;
let server: ServerProcess;
let parent: ParentZone;
let JWT = "";

/** Runs one documented command through bash, with $JWT and the server's base URL in place of api.ipdock.io. */
function curl(command: string): Promise<{ status: number; body: any }> {
  const line = command.replace(/https:\/\/api\.ipdock\.io/g, server.base).replace(/\\\n/g, " ");
  return new Promise((resolve, reject) => {
    // -w appends the status on its own line so the documented command stays as written.
    const p = spawn("bash", ["-c", `${line} -w '\\n%{http_code}'`], { env: { ...process.env, JWT }, stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", () => {
      const cut = out.lastIndexOf("\n");
      const text = out.slice(0, cut);
      resolve({ status: Number(out.slice(cut + 1)), body: text ? JSON.parse(text) : null });
    });
  });
}

beforeAll(async () => {
  data = tempDir();
  parent = await startParentZone();
  const init = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  const code = JSON.parse(init.stdout).setupCode as string;
  server = await startServe(data, ["--resolver", `127.0.0.1:${parent.port}`]);
  const post = (path: string, body: unknown, token?: string, method = "POST") =>
    fetch(`${server.base}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const admin = (await (await post("/api/auth/setup", { code, email: "admin@example.com", password: "admin passphrase" })).json()) as { token: string };
  expect((await post("/api/settings", { registrationOpen: true }, admin.token, "PATCH")).status).toBe(200);
});
afterAll(async () => {
  await server?.stop();
  await parent?.close();
  cleanup(data);
});

describe("ipdock curl examples, as written", () => {
  let domainId: number;
  let hostnameId: number;
  let customId: number;
  let recordId: number;
  let tokenId: number;

  it("register returns a JWT and the user", async () => {
    const r = await curl(`curl -X POST https://api.ipdock.io/api/auth/register \\
-H "Content-Type: application/json" \\
-d '{"email": "user@example.com", "password": "your-password"}'`);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ token: expect.any(String), user: { id: expect.anything(), email: "user@example.com" } });
    JWT = r.body.token;
  });

  it("GET /api/domains, then POST /api/hostnames with its id", async () => {
    const d = await curl(`curl -s https://api.ipdock.io/api/domains \\
-H "Authorization: Bearer $JWT"`);
    expect(d.status).toBe(200);
    domainId = d.body.domains.find((x: { name: string }) => x.name === ZONE).id;
    const list = await curl(`curl -s https://api.ipdock.io/api/hostnames \\
-H "Authorization: Bearer $JWT"`);
    expect(list).toEqual({ status: 200, body: { hostnames: [] } });
    const c = await curl(`curl -X POST https://api.ipdock.io/api/hostnames \\
-H "Authorization: Bearer $JWT" \\
-H "Content-Type: application/json" \\
-d '{"domainId": "${domainId}", "name": "myserver", "ttl": 60}'`);
    expect(c.status).toBe(201);
    expect(c.body).toEqual({
      hostname: expect.objectContaining({ hostname: `myserver.${ZONE}`, ttl: 60 }),
      token: expect.objectContaining({ tokenValue: expect.stringMatching(/^ipk_/) }),
    });
    hostnameId = c.body.hostname.id;
    const up = await fetch(`${server.base}/api/update?ip=1.2.3.4`, { headers: { authorization: `Bearer ${c.body.token.tokenValue}` } });
    expect(await up.json()).toMatchObject({ status: "good", ip: "1.2.3.4" });
    expect(await digShort(server.dnsPort, `myserver.${ZONE}`)).toEqual(["1.2.3.4"]);
  });

  it("tokens: list, create for a hostname, regenerate", async () => {
    const l = await curl(`curl -s https://api.ipdock.io/api/tokens \\
-H "Authorization: Bearer $JWT"`);
    expect(l.status).toBe(200);
    expect(l.body.tokens).toHaveLength(1);
    expect(JSON.stringify(l.body)).not.toContain("tokenValue");
    const c = await curl(`curl -X POST https://api.ipdock.io/api/tokens \\
-H "Authorization: Bearer $JWT" \\
-H "Content-Type: application/json" \\
-d '{"hostnameId": "${hostnameId}", "label": "my-server"}'`);
    expect(c.status).toBe(201);
    expect(c.body.token).toMatchObject({ label: "my-server", hostnameIds: [hostnameId], tokenValue: expect.stringMatching(/^ipk_/) });
    tokenId = c.body.token.id;
    const r = await curl(`curl -X POST https://api.ipdock.io/api/tokens/${tokenId}/regenerate \\
-H "Authorization: Bearer $JWT"`);
    expect(r.status).toBe(200);
    expect(r.body.token.tokenValue).not.toBe(c.body.token.tokenValue);
    const old = await fetch(`${server.base}/api/update?ip=1.2.3.5`, { headers: { authorization: `Bearer ${c.body.token.tokenValue}` } });
    expect(old.status).toBe(401);
  });

  it("custom domain: add, delegation-status, verify once the parent delegates", async () => {
    const c = await curl(`curl -X POST https://api.ipdock.io/api/domains \\
-H "Authorization: Bearer $JWT" \\
-H "Content-Type: application/json" \\
-d '{"name": "example.com"}'`);
    expect(c.status).toBe(201);
    expect(c.body.domain).toMatchObject({ name: "example.com", kind: "custom", verified: false, nameservers: [`ns1.${ZONE}`] });
    customId = c.body.domain.id;
    parent.delegations.set("example.com", [`ns1.${ZONE}`]);
    const s = await curl(`curl -s https://api.ipdock.io/api/domains/${customId}/delegation-status \\
-H "Authorization: Bearer $JWT"`);
    expect(s).toMatchObject({ status: 200, body: { delegation: { delegated: true, verified: false } } });
    const v = await curl(`curl -X POST https://api.ipdock.io/api/domains/${customId}/verify \\
-H "Authorization: Bearer $JWT"`);
    expect(v.status).toBe(200);
    expect(v.body.domain.verified).toBe(true);
    expect(await digShort(server.dnsPort, "example.com", "NS")).toEqual([`ns1.${ZONE}.`]);
  });

  it("records: A, MX, TXT (SPF), list, PATCH, DELETE", async () => {
    const a = await curl(`curl -X POST https://api.ipdock.io/api/domains/${customId}/records \\
-H "Authorization: Bearer $JWT" \\
-H "Content-Type: application/json" \\
-d '{"type": "A", "name": "www", "content": "1.2.3.4", "ttl": 3600}'`);
    expect(a.status).toBe(201);
    recordId = a.body.record.id;
    const mx = await curl(`curl -X POST https://api.ipdock.io/api/domains/${customId}/records \\
-H "Authorization: Bearer $JWT" \\
-H "Content-Type: application/json" \\
-d '{"type": "MX", "name": "@", "content": "mail.example.com", "priority": 10, "ttl": 3600}'`);
    expect(mx.status).toBe(201);
    const txt = await curl(`curl -X POST https://api.ipdock.io/api/domains/${customId}/records \\
-H "Authorization: Bearer $JWT" \\
-H "Content-Type: application/json" \\
-d '{"type": "TXT", "name": "@", "content": "v=spf1 include:_spf.google.com ~all", "ttl": 3600}'`);
    expect(txt.status).toBe(201);
    expect(await digShort(server.dnsPort, "www.example.com")).toEqual(["1.2.3.4"]);
    expect(await digShort(server.dnsPort, "example.com", "MX")).toEqual(["10 mail.example.com."]);
    expect(await digShort(server.dnsPort, "example.com", "TXT")).toEqual(['"v=spf1 include:_spf.google.com ~all"']);
    const l = await curl(`curl -s https://api.ipdock.io/api/domains/${customId}/records \\
-H "Authorization: Bearer $JWT"`);
    expect(l.body.records.map((r: { type: string }) => r.type)).toEqual(["A", "MX", "TXT"]);
    const p = await curl(`curl -X PATCH https://api.ipdock.io/api/domains/${customId}/records/${recordId} \\
-H "Authorization: Bearer $JWT" \\
-H "Content-Type: application/json" \\
-d '{"content": "2.3.4.5", "ttl": 300}'`);
    expect(p.status).toBe(200);
    expect(p.body.record).toMatchObject({ content: "2.3.4.5", ttl: 300 });
    expect(await digShort(server.dnsPort, "www.example.com")).toEqual(["2.3.4.5"]);
    const bad = await curl(`curl -X POST https://api.ipdock.io/api/domains/${customId}/records \\
-H "Authorization: Bearer $JWT" \\
-H "Content-Type: application/json" \\
-d '{"type": "A", "name": "bad", "content": "1.2.3", "ttl": 3600}'`);
    expect(bad).toEqual({ status: 400, body: { error: "A record content must be a valid IPv4 address", code: "invalid_input" } });
    const d = await curl(`curl -X DELETE https://api.ipdock.io/api/domains/${customId}/records/${recordId} \\
-H "Authorization: Bearer $JWT"`);
    expect(d.status).toBe(204);
    expect(await digShort(server.dnsPort, "www.example.com")).toEqual([]);
  });

  it("DELETE /api/hostnames/{id} deletes the hostname and its tokens", async () => {
    const d = await curl(`curl -X DELETE https://api.ipdock.io/api/hostnames/${hostnameId} \\
-H "Authorization: Bearer $JWT"`);
    expect(d.status).toBe(204);
    expect(
      (
        await curl(`curl -s https://api.ipdock.io/api/tokens \\
-H "Authorization: Bearer $JWT"`)
      ).body.tokens,
    ).toEqual([]);
    expect(await digShort(server.dnsPort, `myserver.${ZONE}`)).toEqual([]);
    const gone = await curl(`curl -s https://api.ipdock.io/api/hostnames/${hostnameId} \\
-H "Authorization: Bearer $JWT"`);
    expect(gone).toEqual({ status: 404, body: { error: "Hostname not found", code: "unknown_host" } });
  });
});
