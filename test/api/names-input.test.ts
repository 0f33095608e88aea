/**
 * Hostile names and record texts through the API, with dig watching: invalid punycode and
 * mixed-script look-alikes in the shared zone, and TXT escapes that could never be served.
 * Each refusal is a 400 with the reason and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digAsync as dig, digShortAsync as digShort } from "../helpers/dig";
import { type Harness, startHarness, ZONE } from "../helpers/resources";

let h: Harness;
let alice: { id: number; key: string };
let zoneId: number;

beforeAll(async () => {
  h = await startHarness();
  alice = h.user("alice@example.com");
  zoneId = h.store.domains.byName(ZONE)!.id;
});
afterAll(() => h?.close());

const newHost = (name: string) => h.call("POST", "/api/hostnames", { key: alice.key, body: { domainId: zoneId, name } });

describe("internationalized hostnames in the shared zone", () => {
  for (const name of ["xn--zz", "xn--a", "ab--cd"]) {
    it(`${name}: 400, not a valid A-label`, async () => {
      const r = await newHost(name);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe("invalid_hostname");
    });
  }

  it("a Cyrillic look-alike (аhost1) is refused, in either form", async () => {
    for (const name of ["аhost1", "xn--host1-3ve"]) {
      const r = await newHost(name);
      expect(r.status).toBe(400);
      expect(r.body.error).toContain("mixes letters of different scripts");
    }
    expect(h.store.hosts.list()).toHaveLength(0);
  });

  it("a real IDN in one script is accepted and served under its A-label", async () => {
    const r = await newHost("bücher");
    expect(r.status).toBe(201);
    expect(r.body.hostname.hostname).toBe(`xn--bcher-kva.${ZONE}`);
    expect((await dig(h.dnsPort, `xn--bcher-kva.${ZONE}`, "A")).status).toBe("NOERROR");
  });
});

describe("TXT escapes", () => {
  it("\\999 is refused with the record's own message; \\065 is served as A", async () => {
    const home = await newHost("home");
    expect(home.status).toBe(201);
    const bad = await h.call("POST", `/api/domains/${zoneId}/records`, { key: alice.key, body: { type: "TXT", name: "home", content: "\\999" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("TXT record content has an invalid escape");
    const good = await h.call("POST", `/api/domains/${zoneId}/records`, { key: alice.key, body: { type: "TXT", name: "home", content: "x\\065y" } });
    expect(good.status).toBe(201);
    expect(await digShort(h.dnsPort, `home.${ZONE}`, "TXT")).toEqual(['"xAy"']);
  });
});
