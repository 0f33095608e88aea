/**
 * /api/hostnames and /api/tokens: ipdock's curl examples as written (ids from earlier
 * answers), ownership, bad input, and DNS answering each change at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digAsync as dig, digShortAsync as digShort } from "../helpers/dig";
import { type Harness, startHarness, ZONE } from "../helpers/resources";

let h: Harness;
let alice: { id: number; key: string };
let bob: { id: number; key: string };
let zoneId: number;

beforeAll(async () => {
  h = await startHarness();
  alice = h.user("alice@example.com");
  bob = h.user("bob@example.com");
  const domains = await h.call("GET", "/api/domains", { key: alice.key });
  zoneId = domains.body.domains.find((d: { name: string }) => d.name === ZONE).id;
});
afterAll(() => h?.close());

const update = (token: string, ip: string) => h.call("GET", `/api/update?ip=${ip}`, { headers: { authorization: `Bearer ${token}` } });

describe("ipdock hostname examples", () => {
  let id: number;
  let token: string;

  it('POST /api/hostnames {"domainId","name","ttl"} answers the hostname and a fresh token', async () => {
    // curl -X POST /api/hostnames -d '{"domainId": "…", "name": "myserver", "ttl": 60}'
    const r = await h.call("POST", "/api/hostnames", { key: alice.key, body: { domainId: String(zoneId), name: "myserver", ttl: 60 } });
    expect(r.status).toBe(201);
    expect(r.body.hostname).toMatchObject({ hostname: `myserver.${ZONE}`, domainId: zoneId, ttl: 60, ipv4: null, ipv6: null });
    expect(r.body.token.tokenValue).toMatch(/^ipk_[A-Za-z0-9_-]{43}$/);
    id = r.body.hostname.id;
    token = r.body.token.tokenValue;
    // The host exists in DNS at once (NODATA, not NXDOMAIN) and its token updates it.
    expect((await dig(h.dnsPort, `myserver.${ZONE}`, "A")).status).toBe("NOERROR");
    expect((await update(token, "203.0.113.7")).body).toMatchObject({ status: "good", ip: "203.0.113.7" });
    expect(await digShort(h.dnsPort, `myserver.${ZONE}`, "A")).toEqual(["203.0.113.7"]);
  });

  it("GET /api/hostnames lists the account's hostnames", async () => {
    const r = await h.call("GET", "/api/hostnames", { key: alice.key });
    expect(r.status).toBe(200);
    expect(r.body.hostnames.map((x: { hostname: string }) => x.hostname)).toEqual([`myserver.${ZONE}`]);
    expect(r.text).not.toContain(token);
  });

  it("GET /api/hostnames/{id} and its update log", async () => {
    const one = await h.call("GET", `/api/hostnames/${id}`, { key: alice.key });
    expect(one.body.hostname).toMatchObject({ id, ipv4: "203.0.113.7" });
    const log = await h.call("GET", `/api/hostnames/${id}/log`, { key: alice.key });
    expect(log.status).toBe(200);
    expect(log.body.log[0]).toMatchObject({ hostname: `myserver.${ZONE}`, newIpv4: "203.0.113.7", result: "good" });
  });

  it("PATCH /api/hostnames/{id} sets ttl, description and the IPv6 interface id; DNS serves the new TTL", async () => {
    const r = await h.call("PATCH", `/api/hostnames/${id}`, {
      key: alice.key,
      body: { ttl: 300, description: "home router", ipv6InterfaceId: "2001:db8::1234:5678:9abc:def0" },
    });
    expect(r.status).toBe(200);
    expect(r.body.hostname).toMatchObject({ ttl: 300, description: "home router", ipv6InterfaceId: "::1234:5678:9abc:def0" });
    expect((await dig(h.dnsPort, `myserver.${ZONE}`, "A")).answer).toEqual([`myserver.${ZONE}. 300 IN A 203.0.113.7`]);
    const cleared = await h.call("PATCH", `/api/hostnames/${id}`, { key: alice.key, body: { ipv6InterfaceId: null } });
    expect(cleared.body.hostname.ipv6InterfaceId).toBeNull();
  });

  it('POST /api/tokens {"hostnameId","label"}; regenerate kills the old value at once', async () => {
    // curl -X POST /api/tokens -d '{"hostnameId": "...", "label": "my-server"}'
    const c = await h.call("POST", "/api/tokens", { key: alice.key, body: { hostnameId: String(id), label: "my-server" } });
    expect(c.status).toBe(201);
    expect(c.body.token).toMatchObject({ label: "my-server", scope: "host", hostnameIds: [id], hostnames: [`myserver.${ZONE}`] });
    const old = c.body.token.tokenValue as string;
    expect((await update(old, "203.0.113.8")).body.status).toBe("good");
    // curl -X POST /api/tokens/{id}/regenerate
    const r = await h.call("POST", `/api/tokens/${c.body.token.id}/regenerate`, { key: alice.key });
    expect(r.status).toBe(200);
    expect(r.body.token.tokenValue).not.toBe(old);
    expect((await update(old, "203.0.113.9")).status).toBe(401);
    expect((await update(r.body.token.tokenValue, "203.0.113.9")).body.status).toBe("good");
    expect(await digShort(h.dnsPort, `myserver.${ZONE}`, "A")).toEqual(["203.0.113.9"]);
  });

  it("GET /api/tokens lists tokens without values", async () => {
    const r = await h.call("GET", "/api/tokens", { key: alice.key });
    expect(r.status).toBe(200);
    expect(r.body.tokens.length).toBe(2);
    for (const t of r.body.tokens) {
      expect(t).not.toHaveProperty("tokenValue");
      expect(t.hint).toMatch(/^ipk_.{4}…$/);
    }
  });

  it("DELETE /api/hostnames/{id} removes it, its tokens and its records; DNS answers NXDOMAIN", async () => {
    const rec = await h.call("POST", `/api/domains/${zoneId}/records`, { key: alice.key, body: { type: "TXT", name: "myserver", content: "hello" } });
    expect(rec.status).toBe(201);
    // curl -X DELETE /api/hostnames/{id}
    const r = await h.call("DELETE", `/api/hostnames/${id}`, { key: alice.key });
    expect(r.status).toBe(204);
    expect((await h.call("GET", `/api/hostnames/${id}`, { key: alice.key })).status).toBe(404);
    expect((await h.call("GET", "/api/tokens", { key: alice.key })).body.tokens).toEqual([]);
    expect(h.store.records.byId(rec.body.record.id)).toBeNull();
    expect((await dig(h.dnsPort, `myserver.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    expect((await update(token, "203.0.113.10")).status).toBe(401);
  });
});

describe("audit log", () => {
  it("records who changed what, from which address", async () => {
    const r = await h.call("POST", "/api/hostnames", { key: alice.key, body: { name: `audited.${ZONE}` }, peer: "198.51.100.77" });
    expect(r.status).toBe(201);
    await h.call("DELETE", `/api/hostnames/${r.body.hostname.id}`, { key: alice.key, peer: "198.51.100.78" });
    const rows = h.store.db
      .prepare("SELECT actor_id AS actorId, actor, action, target, address FROM audit_log WHERE target LIKE ? ORDER BY id")
      .all(`%audited.${ZONE}`);
    expect(rows).toEqual([
      {
        actorId: alice.id,
        actor: `user:${alice.id}`,
        action: "hostname.create",
        target: `hostname:${r.body.hostname.id} audited.${ZONE}`,
        address: "198.51.100.77",
      },
      {
        actorId: alice.id,
        actor: `user:${alice.id}`,
        action: "hostname.delete",
        target: `hostname:${r.body.hostname.id} audited.${ZONE}`,
        address: "198.51.100.78",
      },
    ]);
  });
});

describe("tokens covering several hostnames", () => {
  it("a set token and an all-hostnames token update what they cover and nothing else", async () => {
    const a = await h.call("POST", "/api/hostnames", { key: alice.key, body: { name: `a1.${ZONE}` } });
    const b = await h.call("POST", "/api/hostnames", { key: alice.key, body: { name: `a2.${ZONE}` } });
    const set = await h.call("POST", "/api/tokens", { key: alice.key, body: { hostnameIds: [a.body.hostname.id, b.body.hostname.id], label: "both" } });
    expect(set.status).toBe(201);
    expect(set.body.token).toMatchObject({ scope: "set", hostnames: [`a1.${ZONE}`, `a2.${ZONE}`] });
    const all = await h.call("POST", "/api/tokens", { key: alice.key, body: { allHostnames: true } });
    expect(all.body.token).toMatchObject({ scope: "all", hostnameIds: [] });
    const up = await h.call("GET", `/api/update?hostname=a2.${ZONE}&ip=198.51.100.2`, { headers: { authorization: `Bearer ${set.body.token.tokenValue}` } });
    expect(up.body.status).toBe("good");
    expect(await digShort(h.dnsPort, `a2.${ZONE}`, "A")).toEqual(["198.51.100.2"]);
    const del = await h.call("DELETE", `/api/tokens/${all.body.token.id}`, { key: alice.key });
    expect(del.status).toBe(204);
    const dead = await h.call("GET", `/api/update?hostname=a1.${ZONE}&ip=198.51.100.3`, { headers: { authorization: `Bearer ${all.body.token.tokenValue}` } });
    expect(dead.status).toBe(401);
  });

  it("refuses no form, two forms, or an empty set", async () => {
    for (const body of [{}, { label: "x" }, { hostnameId: 1, allHostnames: true }, { hostnameIds: [] }]) {
      const r = await h.call("POST", "/api/tokens", { key: alice.key, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe("invalid_input");
    }
  });
});

describe("another user's hostnames and tokens are not there for you", () => {
  it("404 on every route, and nothing changes", async () => {
    const mine = await h.call("POST", "/api/hostnames", { key: alice.key, body: { name: `private.${ZONE}` } });
    const hid = mine.body.hostname.id;
    const tok = await h.call("POST", "/api/tokens", { key: alice.key, body: { hostnameId: hid } });
    const tid = tok.body.token.id;
    const before = JSON.stringify([h.store.hosts.byId(hid), h.store.tokens.byId(tid)]);
    const attempts: [string, string, unknown?][] = [
      ["GET", `/api/hostnames/${hid}`],
      ["PATCH", `/api/hostnames/${hid}`, { ttl: 120 }],
      ["DELETE", `/api/hostnames/${hid}`],
      ["GET", `/api/hostnames/${hid}/log`],
      ["POST", `/api/tokens/${tid}/regenerate`],
      ["DELETE", `/api/tokens/${tid}`],
      ["POST", "/api/tokens", { hostnameId: hid }],
      ["POST", "/api/tokens", { hostnameIds: [hid] }],
    ];
    for (const [method, path, body] of attempts) {
      const r = await h.call(method, path, { key: bob.key, body });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.text).not.toContain("private");
    }
    expect(JSON.stringify([h.store.hosts.byId(hid), h.store.tokens.byId(tid)])).toBe(before);
    expect((await h.call("GET", "/api/hostnames", { key: bob.key })).body.hostnames).toEqual([]);
    expect((await h.call("GET", "/api/tokens", { key: bob.key })).body.tokens).toEqual([]);
  });

  it("a name already taken, or inside another user's hostname, is refused", async () => {
    await h.call("POST", "/api/hostnames", { key: alice.key, body: { name: `taken.${ZONE}` } });
    expect((await h.call("POST", "/api/hostnames", { key: bob.key, body: { name: `taken.${ZONE}` } })).status).toBe(409);
    expect((await h.call("POST", "/api/hostnames", { key: bob.key, body: { name: `sub.taken.${ZONE}` } })).status).toBe(409);
  });
});

describe("bad input on hostname and token routes", () => {
  const cases: [string, string, string | undefined][] = [
    ["POST", "/api/hostnames", "{not json"],
    ["POST", "/api/hostnames", ""],
    ["POST", "/api/hostnames", "[]"],
    ["POST", "/api/hostnames", JSON.stringify({})],
    ["POST", "/api/hostnames", JSON.stringify({ name: 5 })],
    ["POST", "/api/hostnames", JSON.stringify({ name: "x", ttl: "60" })],
    ["POST", "/api/hostnames", JSON.stringify({ name: "x", ttl: 1.5 })],
    ["POST", "/api/hostnames", JSON.stringify({ name: "x", domainId: "abc" })],
    ["POST", "/api/hostnames", JSON.stringify({ name: "x", owner: "bob@example.com" })],
    ["POST", "/api/hostnames", JSON.stringify({ name: "x".repeat(300) })],
    ["POST", "/api/hostnames", JSON.stringify({ name: `bad..name.${ZONE}` })],
    ["POST", "/api/hostnames", JSON.stringify({ name: `_under.${ZONE}` })],
    ["POST", "/api/hostnames", JSON.stringify({ name: `ttl.${ZONE}`, ttl: 5 })],
    ["POST", "/api/hostnames", JSON.stringify({ name: `ttl.${ZONE}`, ttl: 86401 })],
    ["POST", "/api/hostnames", JSON.stringify({ name: "elsewhere.example.org" })],
    ["POST", "/api/hostnames", JSON.stringify({ name: ZONE })],
    ["POST", "/api/hostnames", JSON.stringify({ name: `d.${ZONE}`, description: "a\u0000b" })],
    ["PATCH", "/api/hostnames/1", JSON.stringify({})],
    ["PATCH", "/api/hostnames/1", JSON.stringify({ ttl: "300" })],
    ["PATCH", "/api/hostnames/1", JSON.stringify({ name: "rename" })],
    ["PATCH", "/api/hostnames/1", JSON.stringify({ ipv6InterfaceId: "not-an-address" })],
    ["GET", "/api/hostnames/0", undefined],
    ["GET", "/api/hostnames/abc", undefined],
    ["GET", "/api/hostnames/1e3", undefined],
    ["DELETE", "/api/hostnames/-1", undefined],
    ["POST", "/api/tokens", JSON.stringify({ hostnameId: 1, label: 7 })],
    ["POST", "/api/tokens", JSON.stringify({ hostnameId: 1, label: "x".repeat(101) })],
    ["POST", "/api/tokens", JSON.stringify({ allHostnames: "true" })],
    ["POST", "/api/tokens", JSON.stringify({ hostnameIds: Array.from({ length: 101 }, (_, i) => i + 1) })],
    ["POST", "/api/tokens", JSON.stringify({ hostnameId: 1, scope: "all" })],
    ["POST", "/api/tokens/x/regenerate", undefined],
  ];
  it.each(cases)("%s %s %s → 400 with an error code", async (method, path, raw) => {
    const r = await h.call(method, path, { key: alice.key, raw });
    expect(r.status).toBe(400);
    expect(typeof r.body.error).toBe("string");
    expect(typeof r.body.code).toBe("string");
  });

  it("a form-encoded body is refused", async () => {
    const r = await h.call("POST", "/api/hostnames", { key: alice.key, raw: "name=form", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(r.status).toBe(400);
    expect(h.store.hosts.byName(`form.${ZONE}`)).toBeNull();
  });
});

describe("update history and last seen", () => {
  it("GET /api/hostnames/{id}/log?limit=N answers N entries (default 100); the hostname shows lastSeenAt", async () => {
    const r = await h.call("POST", "/api/hostnames", { key: bob.key, body: { name: `hist.${ZONE}` } });
    const id = r.body.hostname.id;
    expect(r.body.hostname.lastSeenAt).toBeNull();
    const token = r.body.token.tokenValue;
    for (let i = 0; i < 105; i++) {
      h.clock.advance(10_000);
      await update(token, `192.0.2.${1 + (i % 2)}`);
    }
    expect((await h.call("GET", `/api/hostnames/${id}/log`, { key: bob.key })).body.log).toHaveLength(100);
    expect((await h.call("GET", `/api/hostnames/${id}/log?limit=105`, { key: bob.key })).body.log).toHaveLength(105);
    expect((await h.call("GET", `/api/hostnames/${id}/log?limit=3`, { key: bob.key })).body.log).toHaveLength(3);
    expect((await h.call("GET", `/api/hostnames/${id}/log?limit=0`, { key: bob.key })).status).toBe(400);
    expect((await h.call("GET", `/api/hostnames/${id}/log?limit=10001`, { key: bob.key })).status).toBe(400);
    const view = await h.call("GET", `/api/hostnames/${id}`, { key: bob.key });
    expect(view.body.hostname.lastSeenAt).toBe(new Date(Math.floor(h.clock.now() / 1000) * 1000).toISOString());
  });
});
