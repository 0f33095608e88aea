/**
 * /api/domains and /api/domains/{id}/records: ipdock's curl examples as written (ids from
 * earlier answers), delegation checks against a local server playing the parent zone, record
 * rules, ownership, quotas, and DNS answering each change at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResolverDelegationLookup } from "../../src/dns/delegation";
import { digAsync as dig, digShortAsync as digShort } from "../helpers/dig";
import { type ParentZone, startParentZone } from "../helpers/parent-zone";
import { type Harness, startHarness, ZONE } from "../helpers/resources";

let h: Harness;
let parent: ParentZone;
let admin: { id: number; key: string };
let alice: { id: number; key: string };
let bob: { id: number; key: string };
let zoneId: number;
const OURS = [`ns1.${ZONE}`, "ns2.example.net"];

beforeAll(async () => {
  parent = await startParentZone();
  h = await startHarness({ delegation: new ResolverDelegationLookup(`127.0.0.1:${parent.port}`) });
  admin = h.user("admin@example.com", "admin");
  alice = h.user("alice@example.com");
  bob = h.user("bob@example.com");
  zoneId = h.store.domains.byName(ZONE)!.id;
});
afterAll(async () => {
  await h?.close();
  await parent?.close();
});

describe("ipdock domain examples", () => {
  let id: number;

  it("GET /api/domains lists built-in zones and your own domains", async () => {
    const r = await h.call("GET", "/api/domains", { key: alice.key });
    expect(r.status).toBe(200);
    expect(r.body.domains).toEqual([{ id: zoneId, name: ZONE, kind: "builtin", ownerId: null, verified: true, serial: expect.any(Number), nameservers: OURS }]);
  });

  it('POST /api/domains {"name"} adds an unverified custom domain with our nameservers, not served yet', async () => {
    // curl -X POST /api/domains -d '{"name": "example.com"}'
    const r = await h.call("POST", "/api/domains", { key: alice.key, body: { name: "example.com" } });
    expect(r.status).toBe(201);
    expect(r.body.domain).toMatchObject({ name: "example.com", kind: "custom", ownerId: alice.id, verified: false, nameservers: OURS });
    id = r.body.domain.id;
    expect((await dig(h.dnsPort, "example.com", "SOA")).status).toBe("REFUSED");
  });

  it("GET /api/domains/{id}/delegation-status reports what the parent lists", async () => {
    // curl -s /api/domains/{id}/delegation-status
    let r = await h.call("GET", `/api/domains/${id}/delegation-status`, { key: alice.key });
    expect(r.status).toBe(200);
    expect(r.body.delegation).toMatchObject({ domain: "example.com", delegated: false, found: [], missing: OURS, verified: false });
    parent.delegations.set("example.com", ["ns1.other-dns.net"]);
    r = await h.call("GET", `/api/domains/${id}/delegation-status`, { key: alice.key });
    expect(r.body.delegation).toMatchObject({ delegated: false, found: ["ns1.other-dns.net"], unexpected: ["ns1.other-dns.net"] });
  });

  it("POST /api/domains/{id}/verify refuses while the parent delegates elsewhere, and changes nothing", async () => {
    const r = await h.call("POST", `/api/domains/${id}/verify`, { key: alice.key });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ error: expect.stringContaining("ns1.other-dns.net"), code: "not_delegated" });
    expect(h.store.domains.byId(id)!.verified).toBe(false);
    expect((await dig(h.dnsPort, "example.com", "SOA")).status).toBe("REFUSED");
  });

  it("POST /api/domains/{id}/verify succeeds once delegated, and DNS serves the domain at once", async () => {
    parent.delegations.set("example.com", [`NS1.${ZONE}.`, "ns2.example.net."]);
    // curl -X POST /api/domains/{id}/verify
    const r = await h.call("POST", `/api/domains/${id}/verify`, { key: alice.key });
    expect(r.status).toBe(200);
    expect(r.body.domain).toMatchObject({ id, verified: true });
    expect(r.body.delegation).toMatchObject({ delegated: true, missing: [], verified: true });
    const soa = await dig(h.dnsPort, "example.com", "SOA");
    expect(soa.status).toBe("NOERROR");
    expect(soa.flags).toContain("aa");
    expect(await digShort(h.dnsPort, "example.com", "NS")).toEqual(OURS.map((n) => `${n}.`));
  });

  it("ipdock record examples: A, MX with priority, TXT (SPF); list; PATCH content and TTL; DELETE", async () => {
    // curl -X POST /api/domains/{domainId}/records -d '{"type": "A", "name": "www", "content": "1.2.3.4", "ttl": 3600}'
    const a = await h.call("POST", `/api/domains/${id}/records`, { key: alice.key, body: { type: "A", name: "www", content: "1.2.3.4", ttl: 3600 } });
    expect(a.status).toBe(201);
    expect(a.body.record).toMatchObject({ domainId: id, name: "www.example.com", type: "A", content: "1.2.3.4", ttl: 3600, priority: null });
    expect((await dig(h.dnsPort, "www.example.com", "A")).answer).toEqual(["www.example.com. 3600 IN A 1.2.3.4"]);
    // curl ... -d '{"type": "MX", "name": "@", "content": "mail.example.com", "priority": 10, "ttl": 3600}'
    const mx = await h.call("POST", `/api/domains/${id}/records`, {
      key: alice.key,
      body: { type: "MX", name: "@", content: "mail.example.com", priority: 10, ttl: 3600 },
    });
    expect(mx.status).toBe(201);
    expect(mx.body.record).toMatchObject({ name: "example.com", type: "MX", content: "mail.example.com", priority: 10 });
    expect(await digShort(h.dnsPort, "example.com", "MX")).toEqual(["10 mail.example.com."]);
    // curl ... -d '{"type": "TXT", "name": "@", "content": "v=spf1 include:_spf.google.com ~all", "ttl": 3600}'
    const txt = await h.call("POST", `/api/domains/${id}/records`, {
      key: alice.key,
      body: { type: "TXT", name: "@", content: "v=spf1 include:_spf.google.com ~all", ttl: 3600 },
    });
    expect(txt.status).toBe(201);
    expect(await digShort(h.dnsPort, "example.com", "TXT")).toEqual(['"v=spf1 include:_spf.google.com ~all"']);
    // curl -s /api/domains/{domainId}/records
    const list = await h.call("GET", `/api/domains/${id}/records`, { key: alice.key });
    expect(list.status).toBe(200);
    expect(list.body.records.map((r: { type: string }) => r.type)).toEqual(["A", "MX", "TXT"]);
    // curl -X PATCH /api/domains/{domainId}/records/{recordId} -d '{"content": "2.3.4.5", "ttl": 300}'
    const p = await h.call("PATCH", `/api/domains/${id}/records/${a.body.record.id}`, { key: alice.key, body: { content: "2.3.4.5", ttl: 300 } });
    expect(p.status).toBe(200);
    expect(p.body.record).toMatchObject({ content: "2.3.4.5", ttl: 300 });
    expect((await dig(h.dnsPort, "www.example.com", "A")).answer).toEqual(["www.example.com. 300 IN A 2.3.4.5"]);
    const mp = await h.call("PATCH", `/api/domains/${id}/records/${mx.body.record.id}`, { key: alice.key, body: { priority: 20 } });
    expect(mp.body.record).toMatchObject({ content: "mail.example.com", priority: 20 });
    expect(await digShort(h.dnsPort, "example.com", "MX")).toEqual(["20 mail.example.com."]);
    // curl -X DELETE /api/domains/{domainId}/records/{recordId}
    const d = await h.call("DELETE", `/api/domains/${id}/records/${a.body.record.id}`, { key: alice.key });
    expect(d.status).toBe(204);
    expect((await dig(h.dnsPort, "www.example.com", "A")).status).toBe("NXDOMAIN");
    expect((await h.call("DELETE", `/api/domains/${id}/records/${a.body.record.id}`, { key: alice.key })).status).toBe(404);
  });

  it("every record type is stored in presentation form and served", async () => {
    const add = (body: object) => h.call("POST", `/api/domains/${id}/records`, { key: alice.key, body });
    expect((await add({ type: "AAAA", name: "v6", content: "2001:DB8:0:0::1" })).body.record.content).toBe("2001:db8::1");
    expect(await digShort(h.dnsPort, "v6.example.com", "AAAA")).toEqual(["2001:db8::1"]);
    expect((await add({ type: "CNAME", name: "alias", content: "Target.Example.NET." })).body.record.content).toBe("target.example.net");
    expect(await digShort(h.dnsPort, "alias.example.com", "CNAME")).toEqual(["target.example.net."]);
    const srv = await add({ type: "SRV", name: "_sip._tcp", content: "5 5060 sip.example.com", priority: 10 });
    expect(srv.body.record).toMatchObject({ name: "_sip._tcp.example.com", content: "5 5060 sip.example.com", priority: 10 });
    expect(await digShort(h.dnsPort, "_sip._tcp.example.com", "SRV")).toEqual(["10 5 5060 sip.example.com."]);
    expect((await add({ type: "CAA", name: "@", content: "0 issue letsencrypt.org" })).body.record.content).toBe('0 issue "letsencrypt.org"');
    expect(await digShort(h.dnsPort, "example.com", "CAA")).toEqual(['0 issue "letsencrypt.org"']);
    expect((await add({ type: "NS", name: "lab", content: "ns.lab-dns.net" })).status).toBe(201);
    // A delegation: served as a referral (authority) or, by a server without referrals yet, as an answer.
    const ref = await dig(h.dnsPort, "lab.example.com", "NS");
    expect([...ref.answer, ...ref.authority]).toContain("lab.example.com. 3600 IN NS ns.lab-dns.net.");
    expect((await add({ type: "TXT", name: "parts", content: '"part one" "part two"' })).status).toBe(201);
    expect(await digShort(h.dnsPort, "parts.example.com", "TXT")).toEqual(['"part one" "part two"']);
    expect((await add({ type: "TXT", name: "*.wild", content: "any" })).status).toBe(201);
    // Stored at the wildcard owner; synthesis for other names is the answer logic's job.
    expect(await digShort(h.dnsPort, "*.wild.example.com", "TXT")).toEqual(['"any"']);
  });

  it("CNAME exclusivity, apex rules and duplicates", async () => {
    const add = (body: object) => h.call("POST", `/api/domains/${id}/records`, { key: alice.key, body });
    const expectConflict = async (body: object, msg: string) => {
      const r = await add(body);
      expect(r.status, JSON.stringify(body)).toBe(409);
      expect(r.body.error).toContain(msg);
    };
    await expectConflict({ type: "TXT", name: "alias", content: "x" }, "already has a CNAME");
    await expectConflict({ type: "CNAME", name: "alias", content: "other.example.net" }, "already has a CNAME");
    await expectConflict({ type: "CNAME", name: "v6", content: "other.example.net" }, "cannot coexist");
    await expectConflict({ type: "CNAME", name: "@", content: "other.example.net" }, "apex");
    await expectConflict({ type: "NS", name: "@", content: "ns.other.net" }, "apex NS");
    await expectConflict({ type: "AAAA", name: "v6", content: "2001:db8::1" }, "already exists");
  });

  it("a hostname's dynamic addresses cannot be shadowed by records, nor a hostname put over records", async () => {
    const host = await h.call("POST", "/api/hostnames", { key: alice.key, body: { name: "home", domainId: id } });
    expect(host.status).toBe(201);
    for (const type of ["A", "AAAA", "CNAME"]) {
      const content = type === "A" ? "192.0.2.1" : type === "AAAA" ? "2001:db8::2" : "x.example.net";
      const r = await h.call("POST", `/api/domains/${id}/records`, { key: alice.key, body: { type, name: "home", content } });
      expect(r.status, type).toBe(409);
    }
    // Other data beside the hostname is fine (TXT, MX).
    expect((await h.call("POST", `/api/domains/${id}/records`, { key: alice.key, body: { type: "TXT", name: "home", content: "ok" } })).status).toBe(201);
    expect((await h.call("POST", "/api/hostnames", { key: alice.key, body: { name: "v6", domainId: id } })).status).toBe(409);
  });
});

describe("records in a built-in zone", () => {
  let hostId: number;
  beforeAll(async () => {
    hostId = (await h.call("POST", "/api/hostnames", { key: bob.key, body: { name: "bobhost", domainId: zoneId } })).body.hostname.id;
  });

  it("a user may add records at and below their own hostname, and they go with it", async () => {
    const txt = await h.call("POST", `/api/domains/${zoneId}/records`, {
      key: bob.key,
      body: { type: "TXT", name: "_acme-challenge.bobhost", content: "token123" },
    });
    expect(txt.status).toBe(201);
    expect(txt.body.record).toMatchObject({ name: `_acme-challenge.bobhost.${ZONE}`, hostnameId: hostId });
    expect(await digShort(h.dnsPort, `_acme-challenge.bobhost.${ZONE}`, "TXT")).toEqual(['"token123"']);
    const www = await h.call("POST", `/api/domains/${zoneId}/records`, {
      key: bob.key,
      body: { type: "CNAME", name: `www.bobhost.${ZONE}`, content: `bobhost.${ZONE}` },
    });
    expect(www.status).toBe(201);
    const mine = await h.call("GET", `/api/domains/${zoneId}/records`, { key: bob.key });
    expect(mine.body.records.map((r: { name: string }) => r.name)).toEqual([`_acme-challenge.bobhost.${ZONE}`, `www.bobhost.${ZONE}`]);
    // Others see none of them; the admin sees all.
    expect((await h.call("GET", `/api/domains/${zoneId}/records`, { key: alice.key })).body.records).toEqual([]);
    expect((await h.call("GET", `/api/domains/${zoneId}/records`, { key: admin.key })).body.records.length).toBeGreaterThanOrEqual(2);
  });

  it("elsewhere in the shared zone, or NS anywhere in it, is refused", async () => {
    const r1 = await h.call("POST", `/api/domains/${zoneId}/records`, { key: bob.key, body: { type: "TXT", name: "free", content: "x" } });
    expect(r1.status).toBe(403);
    const r2 = await h.call("POST", `/api/domains/${zoneId}/records`, { key: alice.key, body: { type: "TXT", name: "x.bobhost", content: "x" } });
    expect(r2.status).toBe(403);
    const r3 = await h.call("POST", `/api/domains/${zoneId}/records`, { key: bob.key, body: { type: "NS", name: "sub.bobhost", content: "ns.example.net" } });
    expect(r3.status).toBe(403);
    const r4 = await h.call("POST", `/api/domains/${zoneId}/records`, { key: admin.key, body: { type: "TXT", name: "free", content: "admin may" } });
    expect(r4.status).toBe(201);
  });

  it("deleting the hostname deletes its records", async () => {
    expect((await h.call("DELETE", `/api/hostnames/${hostId}`, { key: bob.key })).status).toBe(204);
    expect((await h.call("GET", `/api/domains/${zoneId}/records`, { key: bob.key })).body.records).toEqual([]);
    expect((await dig(h.dnsPort, `_acme-challenge.bobhost.${ZONE}`, "TXT")).status).toBe("NXDOMAIN");
  });
});

describe("record content validation (ipdock's messages)", () => {
  let id: number;
  beforeAll(async () => {
    id = (await h.call("POST", "/api/domains", { key: bob.key, body: { name: "bob.example" } })).body.domain.id;
  });
  const cases: [object, string][] = [
    [{ type: "A", name: "x", content: "1.2.3" }, "A record content must be a valid IPv4 address"],
    [{ type: "A", name: "x", content: "2001:db8::1" }, "A record content must be a valid IPv4 address"],
    [{ type: "A", name: "x", content: "010.1.1.1" }, "A record content must be a valid IPv4 address"],
    [{ type: "AAAA", name: "x", content: "1.2.3.4" }, "AAAA record content must be a valid IPv6 address"],
    [{ type: "CNAME", name: "x", content: "not a name" }, "CNAME record content must be a valid hostname"],
    [{ type: "MX", name: "x", content: "mail..example.com" }, "MX record content must be a valid hostname"],
    [{ type: "MX", name: "x", content: "mail.example.com", priority: 70000 }, "MX record priority must be an integer between 0 and 65535"],
    [{ type: "SRV", name: "_x._tcp", content: "sip.example.com" }, "SRV record content must be"],
    [{ type: "SRV", name: "_x._tcp", content: "5 99999 sip.example.com" }, "SRV record port must be an integer"],
    [{ type: "CAA", name: "x", content: "issue letsencrypt.org" }, "CAA record content must be"],
    [{ type: "CAA", name: "x", content: '0 issue "a"b"' }, "CAA record content must be"],
    [{ type: "NS", name: "x", content: "1.2.3.4" }, "NS record content must be a valid hostname"],
    [{ type: "TXT", name: "x", content: "" }, "TXT record content must be"],
    [{ type: "TXT", name: "x", content: "x".repeat(2049) }, "TXT record content must be"],
    [{ type: "TXT", name: "x", content: "bell\u0007" }, "TXT record content must be"],
    [{ type: "TXT", name: "x", content: '"unbalanced' }, "unbalanced quotes"],
    [{ type: "TXT", name: "x", content: "x", priority: 1 }, "priority is only valid for MX and SRV"],
    [{ type: "PTR", name: "x", content: "a.example.com" }, "Unsupported record type"],
    [{ type: "A", name: "bad..name", content: "1.2.3.4" }, "Invalid hostname"],
    [{ type: "A", name: "x.example.org.", content: "1.2.3.4" }, "is not inside bob.example"],
    [{ type: "A", name: "a.*.b", content: "1.2.3.4" }, "wildcard"],
    [{ type: "A", name: "x", content: "1.2.3.4", ttl: 10 }, "TTL must be between 30 and 86400"],
    [{ type: "A", name: "x", content: "1.2.3.4", ttl: 86401 }, "TTL must be between 30 and 86400"],
  ];
  it.each(cases)("%j → 400 %s", async (body, message) => {
    const r = await h.call("POST", `/api/domains/${id}/records`, { key: bob.key, body });
    expect(r.status).toBe(400);
    expect(r.body.error).toContain(message);
    expect(h.store.records.list(id)).toEqual([]);
  });

  const shapes: [string, string, string | undefined][] = [
    ["POST", "records", "{oops"],
    ["POST", "records", JSON.stringify({ type: "A", name: "x" })],
    ["POST", "records", JSON.stringify({ type: "A", name: "x", content: 1234 })],
    ["POST", "records", JSON.stringify({ type: "A", name: "x", content: "1.2.3.4", ttl: "3600" })],
    ["POST", "records", JSON.stringify({ type: "A", name: "x", content: "1.2.3.4", extra: true })],
    ["POST", "records", JSON.stringify({ type: "A", name: "x", content: "y".repeat(5000) })],
    ["PATCH", "records/1", JSON.stringify({})],
    ["PATCH", "records/1", JSON.stringify({ type: "AAAA" })],
    ["PATCH", "records/abc", JSON.stringify({ ttl: 300 })],
    ["DELETE", "records/0", undefined],
  ];
  it.each(shapes)("%s …/%s %s → 400", async (method, rest, raw) => {
    const r = await h.call(method, `/api/domains/${id}/${rest}`, { key: bob.key, raw });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("invalid_input");
  });

  it("domain routes refuse bad names and shapes", async () => {
    for (const raw of [
      "{x",
      JSON.stringify({}),
      JSON.stringify({ name: 1 }),
      JSON.stringify({ name: "a..b" }),
      JSON.stringify({ name: "com" }),
      JSON.stringify({ name: "ok.example", x: 1 }),
    ]) {
      const r = await h.call("POST", "/api/domains", { key: bob.key, raw });
      expect(r.status, raw).toBe(400);
    }
    for (const path of ["/api/domains/abc", "/api/domains/0/verify", "/api/domains/x/delegation-status", "/api/domains/1.5"]) {
      const r = await h.call(path.endsWith("verify") ? "POST" : "GET", path, { key: bob.key });
      expect(r.status, path).toBe(400);
    }
  });
});

describe("domains of others and built-in zones", () => {
  it("another user's custom domain and its records are not found on any route, and nothing changes", async () => {
    const d = (await h.call("POST", "/api/domains", { key: alice.key, body: { name: "alice-only.example" } })).body.domain;
    const rec = (await h.call("POST", `/api/domains/${d.id}/records`, { key: alice.key, body: { type: "TXT", name: "t", content: "secret-ish" } })).body.record;
    const before = JSON.stringify([h.store.domains.byId(d.id), h.store.records.list(d.id)]);
    const attempts: [string, string, unknown?][] = [
      ["GET", `/api/domains/${d.id}`],
      ["DELETE", `/api/domains/${d.id}`],
      ["POST", `/api/domains/${d.id}/verify`],
      ["GET", `/api/domains/${d.id}/delegation-status`],
      ["GET", `/api/domains/${d.id}/records`],
      ["POST", `/api/domains/${d.id}/records`, { type: "TXT", name: "x", content: "x" }],
      ["PATCH", `/api/domains/${d.id}/records/${rec.id}`, { content: "changed" }],
      ["DELETE", `/api/domains/${d.id}/records/${rec.id}`],
      ["POST", "/api/hostnames", { name: "h", domainId: d.id }],
      // A record of another domain reached through a domain of one's own.
      ["PATCH", `/api/domains/${zoneId}/records/${rec.id}`, { content: "changed" }],
    ];
    for (const [method, path, body] of attempts) {
      const r = await h.call(method, path, { key: bob.key, body });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.text).not.toContain("alice-only");
    }
    expect(JSON.stringify([h.store.domains.byId(d.id), h.store.records.list(d.id)])).toBe(before);
    expect((await h.call("GET", "/api/domains", { key: bob.key })).text).not.toContain("alice-only");
  });

  it("only an admin creates or removes a built-in zone; a domain inside another is refused", async () => {
    const body = { name: "zone2.example.net", nameservers: ["ns1.zone2.example.net=192.0.2.54", { name: "ns2.example.net" }] };
    expect((await h.call("POST", "/api/domains", { key: alice.key, body })).status).toBe(403);
    const r = await h.call("POST", "/api/domains", { key: admin.key, body });
    expect(r.status).toBe(201);
    expect(r.body.domain).toMatchObject({ kind: "builtin", verified: true, nameservers: ["ns1.zone2.example.net", "ns2.example.net"] });
    expect(await digShort(h.dnsPort, "ns1.zone2.example.net", "A")).toEqual(["192.0.2.54"]);
    expect((await h.call("DELETE", `/api/domains/${r.body.domain.id}`, { key: alice.key })).status).toBe(403);
    expect((await h.call("POST", "/api/domains", { key: alice.key, body: { name: `inside.${ZONE}` } })).status).toBe(409);
    expect((await h.call("POST", "/api/domains", { key: alice.key, body: { name: "example.net" } })).status).toBe(409);
    expect((await h.call("DELETE", `/api/domains/${r.body.domain.id}`, { key: admin.key })).status).toBe(204);
    expect((await dig(h.dnsPort, "zone2.example.net", "SOA")).status).toBe("REFUSED");
  });

  it("a resolver failure is a 502 with a reason, not a verification", async () => {
    const d = (await h.call("POST", "/api/domains", { key: alice.key, body: { name: "flaky.example" } })).body.domain;
    parent.failWith = "SERVFAIL";
    try {
      const r = await h.call("POST", `/api/domains/${d.id}/verify`, { key: alice.key });
      expect(r.status).toBe(502);
      expect(r.body).toEqual({ error: expect.stringContaining("SERVFAIL"), code: "resolver_failed" });
      expect(h.store.domains.byId(d.id)!.verified).toBe(false);
    } finally {
      parent.failWith = null;
    }
  });

  it("deleting a custom domain takes its hostnames, records and their tokens; DNS stops answering", async () => {
    const d = (await h.call("POST", "/api/domains", { key: bob.key, body: { name: "gone.example" } })).body.domain;
    parent.delegations.set("gone.example", OURS);
    expect((await h.call("POST", `/api/domains/${d.id}/verify`, { key: bob.key })).status).toBe(200);
    const host = (await h.call("POST", "/api/hostnames", { key: bob.key, body: { name: "pc.gone.example" } })).body;
    expect((await dig(h.dnsPort, "pc.gone.example", "A")).status).toBe("NOERROR");
    expect((await h.call("DELETE", `/api/domains/${d.id}`, { key: bob.key })).status).toBe(204);
    expect(h.store.hosts.byId(host.hostname.id)).toBeNull();
    expect(h.store.tokens.byId(host.token.id)).toBeNull();
    expect((await dig(h.dnsPort, "pc.gone.example", "A")).status).toBe("REFUSED");
  });
});

describe("quotas", () => {
  it("an unlimited default (null through PATCH /api/settings) never refuses", async () => {
    h.store.settings.set("default_quota_domains", "unlimited");
    try {
      const dave = h.user("dave@example.com");
      for (const n of [1, 2, 3, 4]) expect((await h.call("POST", "/api/domains", { key: dave.key, body: { name: `dave${n}.example` } })).status).toBe(201);
    } finally {
      h.store.db.prepare("DELETE FROM settings WHERE key = 'default_quota_domains'").run();
    }
  });

  it("limits hostnames, custom domains and records per user with ipdock's PLAN_LIMIT answer", async () => {
    const carol = h.user("carol@example.com");
    const saved = h.store.settings.get("default_quota_hostnames");
    h.store.settings.set("default_quota_hostnames", "1");
    h.store.db.prepare("UPDATE users SET quota_domains = 1, quota_records = 1 WHERE id = ?").run(carol.id);
    try {
      expect((await h.call("POST", "/api/hostnames", { key: carol.key, body: { name: `c1.${ZONE}` } })).status).toBe(201);
      const over = await h.call("POST", "/api/hostnames", { key: carol.key, body: { name: `c2.${ZONE}` } });
      expect(over.status).toBe(403);
      expect(over.body).toEqual({ error: expect.stringContaining("Hostname limit reached (1)"), code: "PLAN_LIMIT", upgrade: false });
      expect(h.store.hosts.byName(`c2.${ZONE}`)).toBeNull();
      const d = await h.call("POST", "/api/domains", { key: carol.key, body: { name: "carol.example" } });
      expect(d.status).toBe(201);
      expect((await h.call("POST", "/api/domains", { key: carol.key, body: { name: "carol2.example" } })).body.code).toBe("PLAN_LIMIT");
      expect(
        (await h.call("POST", `/api/domains/${d.body.domain.id}/records`, { key: carol.key, body: { type: "TXT", name: "a", content: "1" } })).status,
      ).toBe(201);
      const r = await h.call("POST", `/api/domains/${d.body.domain.id}/records`, { key: carol.key, body: { type: "TXT", name: "b", content: "2" } });
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ code: "PLAN_LIMIT", upgrade: false });
      // The admin is not limited.
      expect((await h.call("POST", "/api/hostnames", { key: admin.key, body: { name: `adm1.${ZONE}` } })).status).toBe(201);
      expect((await h.call("POST", "/api/hostnames", { key: admin.key, body: { name: `adm2.${ZONE}` } })).status).toBe(201);
    } finally {
      if (saved === null) h.store.db.prepare("DELETE FROM settings WHERE key = 'default_quota_hostnames'").run();
      else h.store.settings.set("default_quota_hostnames", saved);
    }
  });
});

describe("audit log", () => {
  it("records actor, action and target of every change", () => {
    const rows = h.store.db.prepare("SELECT actor, action, target FROM audit_log ORDER BY id").all<{ actor: string; action: string; target: string }>();
    const actions = new Set(rows.map((r) => r.action));
    for (const a of [
      "domain.create",
      "domain.verify",
      "domain.delete",
      "record.create",
      "record.update",
      "record.delete",
      "hostname.create",
      "hostname.delete",
    ]) {
      expect(actions, a).toContain(a);
    }
    expect(rows.find((r) => r.action === "domain.verify")).toMatchObject({ actor: `user:${alice.id}`, target: expect.stringContaining("example.com") });
  });
});
