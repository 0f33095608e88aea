/**
 * PUT /api/domains/{id}/dnssec and GET /api/domains/{id}/ds: an admin switches a built-in zone's
 * signing and gets its DS; a user may not switch a built-in zone but may ask for its DS, and
 * manages their own custom domain's; bad bodies are 400 naming the problem; a zone the caller
 * cannot see is 404; each switch is audited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judgeDnssec } from "../../src/core/domains";
import { ResolverDelegationLookup } from "../../src/dns/delegation";
import { type ParentZone, startParentZone } from "../helpers/parent-zone";
import { type Harness, startHarness, ZONE } from "../helpers/resources";

let h: Harness;
let parent: ParentZone;
let admin: { id: number; key: string };
let alice: { id: number; key: string };
let bob: { id: number; key: string };
let zoneId: number;

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

describe("DNSSEC through the API", () => {
  it("GET /api/domains/{id}/ds gives the DS and DNSKEY (the key made on first ask)", async () => {
    const r = await h.call("GET", `/api/domains/${zoneId}/ds`, { key: alice.key });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.ds).toMatchObject({ zone: `${ZONE}.`, algorithm: 13, digestType: 2, flags: 257, protocol: 3 });
    expect(r.body.ds.ds).toMatch(new RegExp(`^${ZONE}\\. IN DS ${r.body.ds.keyTag} 13 2 [0-9A-F]{64}$`));
    // The same key the second time.
    expect((await h.call("GET", `/api/domains/${zoneId}/ds`, { key: admin.key })).body.ds.digest).toBe(r.body.ds.digest);
  });

  it("PUT /api/domains/{id}/dnssec: an admin turns a built-in zone's signing off and on; a user may not", async () => {
    expect((await h.call("PUT", `/api/domains/${zoneId}/dnssec`, { key: alice.key, body: { enabled: false } })).status).toBe(403);
    // The key has been published (its DS was asked for): off withdraws it first (CDS delete, still signed) ...
    let r = await h.call("PUT", `/api/domains/${zoneId}/dnssec`, { key: admin.key, body: { enabled: false } });
    expect(r.status).toBe(200);
    expect(r.body.dnssec).toMatchObject({ zone: `${ZONE}.`, dnssec: true, withdrawing: true, algorithm: 13 });
    expect(h.store.dnssec.mode(zoneId)).toBe("withdrawing");
    expect((await h.call("GET", `/api/domains/${zoneId}/ds`, { key: admin.key })).status).toBe(400);
    // ... and "now" ends it.
    r = await h.call("PUT", `/api/domains/${zoneId}/dnssec`, { key: admin.key, body: { enabled: false, now: true } });
    expect(r.body.dnssec).toEqual({ zone: `${ZONE}.`, dnssec: false, withdrawing: false, keyTag: null, algorithm: null });
    expect(h.store.dnssec.enabled(zoneId)).toBe(false);
    expect((await h.call("GET", `/api/domains/${zoneId}/ds`, { key: admin.key })).status).toBe(400);
    r = await h.call("PUT", `/api/domains/${zoneId}/dnssec`, { key: admin.key, body: { enabled: true } });
    expect(r.body.dnssec).toMatchObject({ dnssec: true, algorithm: 13 });
    // Another algorithm for a zone that has a key is a rollover: refused.
    r = await h.call("PUT", `/api/domains/${zoneId}/dnssec`, { key: admin.key, body: { enabled: true, algorithm: "ed25519" } });
    expect(r.status).toBe(409);
    expect(JSON.stringify(r.body)).toContain("rollover");
    const audit = h.store.db.prepare("SELECT detail FROM audit_log WHERE action = 'domain.dnssec' ORDER BY id").all<{ detail: string }>();
    expect(audit.map((a) => a.detail.split(" ")[0])).toEqual(["withdrawing", "off", "on"]);
  });

  it("a user's own custom domain: theirs to switch, with Ed25519 as its first key; hidden from others", async () => {
    const c = await h.call("POST", "/api/domains", { key: alice.key, body: { name: "alice.example" } });
    expect(c.status).toBe(201);
    const id = c.body.domain.id;
    const r = await h.call("PUT", `/api/domains/${id}/dnssec`, { key: alice.key, body: { enabled: true, algorithm: "ed25519" } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.dnssec).toMatchObject({ zone: "alice.example.", dnssec: true, algorithm: 15 });
    expect((await h.call("GET", `/api/domains/${id}/ds`, { key: alice.key })).body.ds.algorithm).toBe(15);
    expect((await h.call("PUT", `/api/domains/${id}/dnssec`, { key: bob.key, body: { enabled: false } })).status).toBe(404);
    expect((await h.call("GET", `/api/domains/${id}/ds`, { key: bob.key })).status).toBe(404);
  });

  it("bad bodies are 400, never 500", async () => {
    for (const body of [{}, { enabled: "yes" }, { enabled: true, algorithm: "rsasha1" }, { enabled: true, extra: 1 }]) {
      const r = await h.call("PUT", `/api/domains/${zoneId}/dnssec`, { key: admin.key, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect((await h.call("PUT", `/api/domains/${zoneId}/dnssec`, { body: { enabled: true } })).status).toBe(401);
  });

  it("delegation-status says secure, insecure or bogus from the parent's DS (and what to paste where)", async () => {
    const c = await h.call("POST", "/api/domains", { key: alice.key, body: { name: "ds.example" } });
    const id = c.body.domain.id;
    parent.delegations.set("ds.example", [`ns1.${ZONE}`, "ns2.example.net"]);
    const ds = (await h.call("GET", `/api/domains/${id}/ds`, { key: alice.key })).body.ds;
    const ours = `${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest}`;
    const status = async () => (await h.call("GET", `/api/domains/${id}/delegation-status`, { key: alice.key })).body.delegation.dnssec;
    expect(await status()).toMatchObject({ state: "insecure", signed: true, expected: ours, found: [] });
    expect((await status()).advice).toContain(`ds.example. IN DS ${ours}`);
    parent.ds.set("ds.example", [ours.toLowerCase()]);
    expect(await status()).toMatchObject({ state: "secure", advice: null });
    parent.ds.set("ds.example", ["1 13 2 00"]);
    expect((await status()).state).toBe("bogus");
    // Being withdrawn: remove the DS, then finish.
    await h.call("PUT", `/api/domains/${id}/dnssec`, { key: alice.key, body: { enabled: false } });
    parent.ds.set("ds.example", [ours]);
    expect(await status()).toMatchObject({ state: "secure", signed: true, advice: expect.stringContaining("remove the DS") });
    parent.ds.delete("ds.example");
    expect((await status()).advice).toContain("off --now");
    parent.ds.set("ds.example", [ours]);
    await h.call("PUT", `/api/domains/${id}/dnssec`, { key: alice.key, body: { enabled: false, now: true } });
    expect(await status()).toMatchObject({ state: "bogus", signed: false });
    parent.ds.delete("ds.example");
    expect((await status()).state).toBe("unsigned");
  });
});

describe("judgeDnssec", () => {
  it("is the one rule: ours and only while we sign", () => {
    expect(judgeDnssec("z.test", null, []).state).toBe("unsigned");
    expect(judgeDnssec("z.test", null, ["1 13 2 AB"]).state).toBe("bogus");
    expect(judgeDnssec("z.test", "1 13 2 AB", ["1  13 2 ab"]).state).toBe("secure");
    expect(judgeDnssec("z.test", "1 13 2 AB", ["1 13 2 AB", "9 8 2 CD"]).state).toBe("secure");
    expect(judgeDnssec("z.test", "1 13 2 AB", []).state).toBe("insecure");
    expect(judgeDnssec("z.test", "1 13 2 AB", ["9 8 2 CD"]).state).toBe("bogus");
  });
});
