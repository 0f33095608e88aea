/**
 * ipdock's API document (shared/seeds 000), replayed: every example request of the document
 * against ipkeep (api.ipdock.io is our server, pth_your_token_here one of our update tokens,
 * $JWT a session or API key of ours). An example that ipkeep answers differently has a row in
 * the README's "Differences from the documents we follow".
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiHarness } from "../../helpers/api";
import { type Harness, startHarness, ZONE } from "../../helpers/resources";
import { basic } from "../../helpers/updates";

let h: Harness;
let jwt: string;
let hostId: number;
let token: string;
const HOST = `myserver.${ZONE}`;
const PEER = "198.51.100.23";

beforeEach(async () => {
  h = await startHarness();
  jwt = h.user("me@example.test").key;
  const zone = h.store.domains.byName(ZONE)!;
  const r = await h.call("POST", "/api/hostnames", { key: jwt, body: { domainId: String(zone.id), name: "myserver", ttl: 60 } });
  expect(r.status, r.text).toBe(201);
  hostId = r.body.hostname.id;
  token = r.body.token.tokenValue;
});
afterEach(() => h.close());

const upd = (path: string, o: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  h.call(o.method ?? "GET", path, { key: null, body: o.body, headers: o.headers ?? { authorization: `Bearer ${token}` }, peer: PEER });

describe("ipdock: DDNS update examples", () => {
  it("curl -s https://api.ipdock.io/api/update -H 'Authorization: Bearer pth_…' (auto-detect)", async () => {
    const r = await upd("/api/update");
    expect(r).toMatchObject({ status: 200, body: { status: "good", ip: PEER, previous: null } });
  });

  it("curl -s 'https://api.ipdock.io/api/update?ip=1.2.3.4' (explicit), then the same again: nochg", async () => {
    expect((await upd("/api/update?ip=1.2.3.4")).body).toEqual({ status: "good", ip: "1.2.3.4", previous: null });
    expect((await upd("/api/update?ip=1.2.3.4")).body).toEqual({ status: "nochg", ip: "1.2.3.4" });
  });

  it("curl -s -X POST https://api.ipdock.io/api/update -H 'Content-Type: application/json' -d '{\"ip\": \"1.2.3.4\"}'", async () => {
    await upd("/api/update?ip=5.6.7.8");
    const r = await upd("/api/update", { method: "POST", body: { ip: "1.2.3.4" } });
    expect(r.body).toEqual({ status: "good", ip: "1.2.3.4", previous: "5.6.7.8" });
  });

  it("DynDNS2 devices: URL /api/update?ip=<ipaddr>, Username token (or blank), Password pth_…", async () => {
    expect((await upd("/api/update?ip=192.0.2.5", { headers: { authorization: basic("token", token) } })).body.status).toBe("good");
    expect((await upd("/api/update?ip=192.0.2.6", { headers: { authorization: basic("", token) } })).body.status).toBe("good");
  });

  it("wget --header='Authorization: Bearer pth_…' and the cron line", async () => {
    expect((await upd("/api/update")).status).toBe(200);
  });

  it('Error — invalid token: {"error": "Invalid API token"}', async () => {
    const r = await upd("/api/update", { headers: { authorization: "Bearer pth_your_token_here" } });
    expect(r).toMatchObject({ status: 401, body: { error: "Invalid API token" } });
  });

  it('router set-up: /api/update?token=YOUR_TOKEN (pfSense Result Match "status":"good"), UniFi\'s /nic/update?hostname=%h&myip=%i', async () => {
    const r = await upd(`/api/update?token=${token}`, { headers: {} });
    expect(r.text).toContain('"status":"good"');
    const u = await upd(`/nic/update?hostname=${HOST}&myip=192.0.2.9`, { headers: { authorization: basic("token", token) } });
    expect(u.text).toBe("good 192.0.2.9");
  });
});

describe("ipdock: account, hostname, domain, record and token examples", () => {
  it("register and login answer {token, user: {id, email, plan}}", async () => {
    const a = await apiHarness();
    try {
      const admin = await a.user("admin@example.test", { role: "admin" });
      await a.call("PATCH", "/api/settings", { token: admin.jwt, body: { registrationOpen: true } });
      const reg = await a.call("POST", "/api/auth/register", { body: { email: "new@example.test", password: "your-password" } });
      expect(reg.status, reg.text).toBe(201);
      expect(reg.body).toMatchObject({ token: expect.any(String), user: { id: expect.any(Number), email: "new@example.test", plan: "free" } });
      const login = await a.call("POST", "/api/auth/login", { body: { email: "new@example.test", password: "your-password" } });
      expect(login.body).toMatchObject({ token: expect.any(String), user: { email: "new@example.test", plan: "free" } });
      // Rate limit headers are included in all responses.
      expect(login.headers.get("x-ratelimit-limit")).toBeTruthy();
      expect(login.headers.get("x-ratelimit-remaining")).toBeTruthy();
      expect(login.headers.get("retry-after")).toBeTruthy();
    } finally {
      a.close();
    }
  });

  it("GET /api/hostnames; POST /api/hostnames {domainId, name, ttl} answered {hostname, token: {tokenValue}}; DELETE /api/hostnames/{id}", async () => {
    const list = await h.call("GET", "/api/hostnames", { key: jwt });
    expect(list.body.hostnames.map((x: { hostname: string }) => x.hostname)).toEqual([HOST]);
    expect(token).toMatch(/^ipk_/);
    // The document's UUID is not one of our ids (README: differences).
    const uuid = await h.call("POST", "/api/hostnames", { key: jwt, body: { domainId: "00000000-0000-0000-0000-000000000001", name: "other", ttl: 60 } });
    expect(uuid.status).toBe(400);
    expect((await h.call("DELETE", `/api/hostnames/${hostId}`, { key: jwt })).status).toBe(204);
    expect((await h.call("GET", "/api/hostnames", { key: jwt })).body.hostnames).toEqual([]);
  });

  it("GET /api/domains; POST /api/domains {name}; verify and delegation-status", async () => {
    expect((await h.call("GET", "/api/domains", { key: jwt })).body.domains.map((d: { name: string }) => d.name)).toContain(ZONE);
    const add = await h.call("POST", "/api/domains", { key: jwt, body: { name: "example.com" } });
    expect(add.status, add.text).toBe(201);
    const id = add.body.domain.id;
    h.delegation.lookup = { nameservers: async () => [`ns1.${ZONE}`, "ns2.example.net"] };
    expect((await h.call("GET", `/api/domains/${id}/delegation-status`, { key: jwt })).status).toBe(200);
    const v = await h.call("POST", `/api/domains/${id}/verify`, { key: jwt });
    expect(v.status, v.text).toBe(200);
  });

  it("records: list; A www; MX @ with priority; TXT @ (SPF); PATCH content and TTL; DELETE", async () => {
    const add = await h.call("POST", "/api/domains", { key: jwt, body: { name: "example.com" } });
    const d = add.body.domain.id;
    const a = await h.call("POST", `/api/domains/${d}/records`, { key: jwt, body: { type: "A", name: "www", content: "1.2.3.4", ttl: 3600 } });
    expect(a.status, a.text).toBe(201);
    expect(
      (await h.call("POST", `/api/domains/${d}/records`, { key: jwt, body: { type: "MX", name: "@", content: "mail.example.com", priority: 10, ttl: 3600 } }))
        .status,
    ).toBe(201);
    expect(
      (
        await h.call("POST", `/api/domains/${d}/records`, {
          key: jwt,
          body: { type: "TXT", name: "@", content: "v=spf1 include:_spf.google.com ~all", ttl: 3600 },
        })
      ).status,
    ).toBe(201);
    expect((await h.call("GET", `/api/domains/${d}/records`, { key: jwt })).body.records).toHaveLength(3);
    const p = await h.call("PATCH", `/api/domains/${d}/records/${a.body.record.id}`, { key: jwt, body: { content: "2.3.4.5", ttl: 300 } });
    expect(p.body.record).toMatchObject({ content: "2.3.4.5", ttl: 300 });
    expect((await h.call("DELETE", `/api/domains/${d}/records/${a.body.record.id}`, { key: jwt })).status).toBe(204);
  });

  it('tokens: list; POST {hostnameId: "…", label} (the id as a string); regenerate', async () => {
    expect((await h.call("GET", "/api/tokens", { key: jwt })).body.tokens).toHaveLength(1);
    const t = await h.call("POST", "/api/tokens", { key: jwt, body: { hostnameId: String(hostId), label: "my-server" } });
    expect(t.status, t.text).toBe(201);
    const r = await h.call("POST", `/api/tokens/${t.body.token.id}/regenerate`, { key: jwt });
    expect(r.body.token.tokenValue).toMatch(/^ipk_/);
    expect(r.body.token.tokenValue).not.toBe(t.body.token.tokenValue);
  });

  it("errors are JSON with an error field: Unauthorized, Hostname not found, invalid A content", async () => {
    expect((await h.call("GET", "/api/hostnames", { key: null })).body).toMatchObject({ error: expect.any(String), code: "unauthorized" });
    expect((await h.call("GET", "/api/hostnames/999", { key: jwt })).body).toMatchObject({ error: expect.stringMatching(/not found/i) });
    const add = await h.call("POST", "/api/domains", { key: jwt, body: { name: "example.com" } });
    const bad = await h.call("POST", `/api/domains/${add.body.domain.id}/records`, { key: jwt, body: { type: "A", name: "www", content: "not-an-ip" } });
    expect(bad).toMatchObject({ status: 400, body: { error: "A record content must be a valid IPv4 address" } });
  });
});
