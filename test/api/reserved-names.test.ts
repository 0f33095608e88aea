/**
 * The names a zone uses for itself (core/reserved.ts) through the API, with dig watching:
 * the outside review's hijack (a user's hostname at the zone's nameserver name, whose glue
 * then carried the attacker's address) and its neighbours. Every refusal is 409 and changes
 * nothing that DNS serves.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digAsync as dig, digShortAsync as digShort } from "../helpers/dig";
import { type Harness, startHarness, ZONE } from "../helpers/resources";

let h: Harness;
let alice: { id: number; key: string };
let bob: { id: number; key: string };
let admin: { id: number; key: string };
let zoneId: number;

beforeAll(async () => {
  h = await startHarness();
  alice = h.user("alice@example.com");
  bob = h.user("bob@example.com");
  admin = h.user("root@example.com", "admin");
  zoneId = h.store.domains.byName(ZONE)!.id;
  // As `ipkeep init --url https://ddns.dyn.ipkeep.test` leaves it: the what-is-my-IP name and the stored URL.
  h.store.records.create({ domainId: zoneId, name: `ip4.${ZONE}`, type: "A", ttl: 300, content: "192.0.2.53" }, 1);
  h.store.settings.set("public_url", `https://ddns.${ZONE}`);
  h.store.domains.bumpSerial(zoneId, 1);
  h.live.zoneChanged(zoneId);
});
afterAll(() => h?.close());

const newHost = (key: string, name: string) => h.call("POST", "/api/hostnames", { key, body: { domainId: zoneId, name } });
const newRecord = (key: string, body: Record<string, unknown>, domain = zoneId) => h.call("POST", `/api/domains/${domain}/records`, { key, body });

describe("no hostname at or below a name the zone uses", () => {
  it("the review's attack: ns1 as a user's hostname is refused and the glue stays the operator's", async () => {
    const r = await newHost(alice.key, "ns1");
    expect(r.status).toBe(409);
    expect(r.body.error).toContain("nameserver");
    expect(await digShort(h.dnsPort, `ns1.${ZONE}`, "A")).toEqual(["192.0.2.53"]);
    const ns = await dig(h.dnsPort, ZONE, "NS");
    expect(ns.additional.filter((l) => l.includes(`ns1.${ZONE}`))).toHaveLength(1);
  });

  for (const name of ["sub.ns1", "a.b.ns1", "ip4", "x.ip4", "ip6", "ddns", "www.ddns", `NS1.${ZONE}.`]) {
    it(`${name} is refused for users and admins alike`, async () => {
      for (const key of [alice.key, admin.key]) {
        const r = await newHost(key, name);
        expect(r.status, JSON.stringify(r.body)).toBe(409);
        expect(r.body.code).toBe("conflict");
      }
    });
  }

  it("the apex is never a hostname (400, as before)", async () => {
    expect((await newHost(admin.key, ZONE)).status).toBe(400);
  });

  it("the full-name form and the label form meet the same rule", async () => {
    expect((await h.call("POST", "/api/hostnames", { key: alice.key, body: { name: `ns1.${ZONE}` } })).status).toBe(409);
    expect((await h.call("POST", "/api/hostnames", { key: alice.key, body: { name: `x.ip4.${ZONE}` } })).status).toBe(409);
  });

  it("a name above another user's hostname, or holding the operator's records, is refused", async () => {
    expect((await newHost(alice.key, "deep.home")).status).toBe(201);
    // bob may not take "home", which would put alice's deep.home below his hostname
    expect((await newHost(bob.key, "home")).status).toBe(409);
    // nor a name inside alice's hostname
    expect((await newHost(bob.key, "x.deep.home")).status).toBe(409);
    // the operator's static TXT at "txt" (and below) is not a user's to take
    expect((await newRecord(admin.key, { type: "TXT", name: "notes", content: "operator" })).status).toBe(201);
    expect((await newHost(alice.key, "notes")).status).toBe(409);
    // alice may still make a hostname above her own
    expect((await newHost(alice.key, "home")).status).toBe(201);
  });

  it("nothing was created by any refusal", async () => {
    const hosts = h.store.hosts.list().map((x) => x.name);
    expect(hosts.sort()).toEqual([`deep.home.${ZONE}`, `home.${ZONE}`]);
  });
});

describe("records and delegations that would take over the zone's own names", () => {
  it("no record at or below a nameserver name, even for an admin", async () => {
    for (const body of [
      { type: "A", name: "ns1", content: "198.51.100.66" },
      { type: "TXT", name: "ns1", content: "x" },
      { type: "CNAME", name: "ns1", content: "evil.example.net" },
      { type: "A", name: "x.ns1", content: "198.51.100.66" },
    ]) {
      const r = await newRecord(admin.key, body);
      expect(r.status, JSON.stringify(body)).toBe(409);
    }
    expect(await digShort(h.dnsPort, `ns1.${ZONE}`, "A")).toEqual(["192.0.2.53"]);
  });

  it("no CNAME over ip4 or the web address, and no NS delegation above them", async () => {
    expect((await newRecord(admin.key, { type: "CNAME", name: "ddns", content: "evil.example.net" })).status).toBe(409);
    expect((await newRecord(admin.key, { type: "NS", name: "ip4", content: "evil.example.net" })).status).toBe(409);
    expect((await newRecord(admin.key, { type: "NS", name: "ns1", content: "evil.example.net" })).status).toBe(409);
    // a delegation above alice's hostnames would hide them
    expect((await newRecord(admin.key, { type: "NS", name: "home", content: "evil.example.net" })).status).toBe(409);
    // an ordinary delegation is still fine
    expect((await newRecord(admin.key, { type: "NS", name: "lab", content: "ns.lab.example.net" })).status).toBe(201);
  });

  it("a user's own records under their hostname still work", async () => {
    const r = await newRecord(alice.key, { type: "TXT", name: "home", content: "mine" });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  });
});

describe("custom domains around this server's own names", () => {
  it("a user cannot claim a domain that contains a nameserver or the web address", async () => {
    // The harness's second nameserver is ns2.example.net: claiming example.net would hand its glue to the claimant.
    const r = await h.call("POST", "/api/domains", { key: bob.key, body: { name: "example.net" } });
    expect(r.status).toBe(409);
    expect(r.body.error).toContain("ns2.example.net");
    expect((await h.call("POST", "/api/domains", { key: admin.key, body: { name: "example.net" } })).status).toBe(409);
    // inside or around a built-in zone stays refused as before
    expect((await h.call("POST", "/api/domains", { key: bob.key, body: { name: `x.${ZONE}` } })).status).toBe(409);
    expect((await h.call("POST", "/api/domains", { key: bob.key, body: { name: "ipkeep.test" } })).status).toBe(409);
  });
});

describe("nameservers never go over a name somebody holds", () => {
  it("a new built-in zone whose nameserver is a user's hostname is refused", async () => {
    const r = await h.call("POST", "/api/domains", { key: admin.key, body: { name: "other.test", nameservers: [`home.${ZONE}`] } });
    expect(r.status).toBe(409);
    expect(h.store.domains.byName("other.test")).toBeNull();
  });

  it("PUT /api/domains/{id}/nameservers replaces the NS set and glue, and DNS answers it", async () => {
    const r = await h.call("PUT", `/api/domains/${zoneId}/nameservers`, {
      key: admin.key,
      body: { nameservers: [`ns1.${ZONE}=192.0.2.54`, { name: `ns3.${ZONE}`, ipv4: "192.0.2.55", ipv6: "2001:db8::55" }] },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.domain.nameservers).toEqual([`ns1.${ZONE}`, `ns3.${ZONE}`]);
    expect((await digShort(h.dnsPort, ZONE, "NS")).sort()).toEqual([`ns1.${ZONE}.`, `ns3.${ZONE}.`]);
    expect(await digShort(h.dnsPort, `ns1.${ZONE}`, "A")).toEqual(["192.0.2.54"]);
    expect(await digShort(h.dnsPort, `ns3.${ZONE}`, "AAAA")).toEqual(["2001:db8::55"]);
    // the new name is reserved at once
    expect((await newHost(bob.key, "ns3")).status).toBe(409);
  });

  it("refuses a nameserver over a user's hostname (409), and bad sets (400), changing nothing", async () => {
    const before = h.store.domains.byId(zoneId)!.serial;
    const put = (nameservers: unknown, key = admin.key) => h.call("PUT", `/api/domains/${zoneId}/nameservers`, { key, body: { nameservers } });
    expect((await put([`home.${ZONE}=192.0.2.9`])).status).toBe(409);
    expect((await put([`deep.home.${ZONE}=192.0.2.9`])).status).toBe(409);
    expect((await put([`ns9.${ZONE}`])).status).toBe(400); // in-zone without glue
    expect((await put([])).status).toBe(400);
    expect((await put("ns1")).status).toBe(400);
    expect((await put([`ns1.${ZONE}=999.1.1.1`])).status).toBe(400);
    expect((await put([`ns1.${ZONE}=192.0.2.1`], alice.key)).status).toBe(403);
    expect(h.store.domains.byId(zoneId)!.serial).toBe(before);
    expect(await digShort(h.dnsPort, `ns1.${ZONE}`, "A")).toEqual(["192.0.2.54"]);
  });
});
