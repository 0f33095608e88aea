/**
 * IPv64's DynDNS2 updater and DynDNS API document (shared/seeds 002), replayed: each example
 * request of the document against ipkeep (YOURDOMAIN.IPV64.NET is one of our hostnames). An
 * example that ipkeep answers differently has a row in the README's "Differences from the
 * documents we follow".
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { basic, type UpdateFixture, updateFixture } from "../../helpers/updates";

let f: UpdateFixture;
const D = "home.dyn.example.com";
let token: string;
beforeEach(async () => {
  f = await updateFixture({ limits: { tokenBurst: { count: 0, seconds: 10 } } });
  token = f.host(D).token;
});
afterEach(() => f.close());

const get = async (url: string, headers: Record<string, string> = {}, peer = "198.51.100.4") => {
  const r = await f.request(url, { headers, peer });
  return { status: r.status, body: await r.text() };
};

describe("IPv64 updater examples", () => {
  it("Example 1: https://{anything}:{token}@ipv64.net/nic/update?host=YOURDOMAIN (Basic)", async () => {
    expect(await get(`/nic/update?host=${D}`, { authorization: basic("anything", token) })).toEqual({ status: 200, body: "good 198.51.100.4" });
  });

  it("Example 2: the token as a Bearer token", async () => {
    expect(await get(`/nic/update?host=${D}`, { authorization: `Bearer ${token}` })).toEqual({ status: 200, body: "good 198.51.100.4" });
  });

  it("Example 3: ?key=TOKEN&host=YOURDOMAIN", async () => {
    expect(await get(`/nic/update?key=${token}&host=${D}`)).toEqual({ status: 200, body: "good 198.51.100.4" });
  });

  it("Example 4: ?key=…&domain=…&ip=10.20.30.40&ip6=2a01::a441:cf::1 (two '::': not an address): dnserr, nothing changed (README: differences)", async () => {
    expect(await get(`/nic/update?key=${token}&domain=${D}&ip=10.20.30.40&ip6=2a01::a441:cf::1`)).toEqual({ status: 200, body: "dnserr" });
    expect(f.reload(D)).toMatchObject({ ipv4: null, ipv6: null });
    // With a well-formed IPv6 both are set.
    expect(await get(`/nic/update?key=${token}&domain=${D}&ip=10.20.30.40&ip6=2a01::a441:cf:1`)).toEqual({ status: 200, body: "good 10.20.30.40,2a01::a441:cf:1" });
  });

  it("CURL example: Basic none:TOKEN, ?domain=YOURDOMAIN", async () => {
    expect(await get(`/nic/update?domain=${D}`, { authorization: `Basic ${Buffer.from(`none:${token}`).toString("base64")}` })).toEqual({ status: 200, body: "good 198.51.100.4" });
  });

  it("the updater URLs /update and /update.php, GET and POST", async () => {
    expect((await get(`/update?key=${token}&host=${D}&ip=192.0.2.1`)).body).toBe("good 192.0.2.1");
    expect((await get(`/update.php?key=${token}&host=${D}&ip=192.0.2.2`)).body).toBe("good 192.0.2.2");
    const r = await f.request("/nic/update", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `key=${token}&domain=${D}&ipv4=192.0.2.3` });
    expect(await r.text()).toBe("good 192.0.2.3");
  });

  it("Multidomain update (comma separated)", async () => {
    const other = f.host("serv.dyn.example.com").host;
    const both = f.token([f.reload(D), other]);
    expect((await get(`/nic/update?key=${both}&domain=${D},serv.dyn.example.com&ip=192.0.2.20`)).body).toBe("good 192.0.2.20\ngood 192.0.2.20");
  });

  it("output=none, min, full (the document's default is JSON; ipkeep's is dyndns2 text: README: differences)", async () => {
    expect((await get(`/nic/update?key=${token}&host=${D}&ip=192.0.2.30&output=none`)).body).toBe("");
    expect((await get(`/nic/update?key=${token}&host=${D}&ip=192.0.2.30&output=min`)).body).toBe("nochg");
    const full = JSON.parse((await get(`/nic/update?key=${token}&host=${D}&ip=192.0.2.31&output=full`)).body);
    expect(full).toEqual({ status: "success", ip: ["192.0.2.31"], hosts: [{ hostname: D, status: "good", ip: ["192.0.2.31"] }] });
  });

  it("howismyip", async () => {
    expect(await get("/nic/update?howismyip")).toEqual({ status: 200, body: "198.51.100.4" });
  });

  it("ipv6prefix / ip6lanprefix with onlyprefix, and auto", async () => {
    await get(`/nic/update?key=${token}&host=${D}&ip6=2001:db8:1:2::abcd`);
    expect((await get(`/nic/update?key=${token}&host=${D}&ipv6prefix=2a01:5a32:12aa:6234::/64&onlyprefix=1`)).body).toBe("good 2a01:5a32:12aa:6234::abcd");
    expect((await get(`/nic/update?key=${token}&host=${D}&ipv6prefix=auto&onlyprefix=1`, {}, "2001:db8:9:9::1")).body).toBe("good 2001:db8:9:9::abcd");
  });

  it("praefix updates the name below the domain, never the domain itself", async () => {
    const www = f.host(`www.${D}`).host;
    const covering = f.token([f.reload(D), www]);
    expect((await get(`/nic/update?key=${covering}&host=${D}&praefix=www&ip=192.0.2.40`)).body).toBe("good 192.0.2.40");
    expect(f.reload(`www.${D}`).ipv4).toBe("192.0.2.40");
    expect(f.reload(D).ipv4).toBeNull();
    // A praefix naming no hostname the token covers: nohost, and the base is left alone.
    expect((await get(`/nic/update?key=${token}&host=${D}&praefix=nothere&ip=192.0.2.41`)).body).toBe("nohost");
    expect(f.reload(D).ipv4).toBeNull();
  });

  it("healthcheck is accepted with an update and recorded as the host's heartbeat (last seen)", async () => {
    expect((await get(`/nic/update?key=${token}&host=${D}&ip=192.0.2.50&healthcheck=hc_token`)).body).toBe("good 192.0.2.50");
    f.clock.advance(120);
    expect((await get(`/nic/update?key=${token}&host=${D}&ip=192.0.2.50&healthcheck=hc_token`)).body).toBe("nochg 192.0.2.50");
    // Shown with the host (GET /api/hostnames/{id}: lastSeenAt), the nochg included.
    f.store.flushUpdates();
    expect(f.store.updates.lastSeen(f.reload(D).id)).toBe(Math.floor(f.clock.now() / 1000));
  });

  it("too many failures lock the source out for 10 minutes (abuse, 429)", async () => {
    for (let i = 0; i < 10; i++) await get(`/nic/update?key=ipk_wrong${i}&host=${D}`);
    const r = await get(`/nic/update?key=${token}&host=${D}`);
    expect(r).toEqual({ status: 429, body: "abuse" });
    f.clock.advance(601);
    expect((await get(`/nic/update?key=${token}&host=${D}`)).status).toBe(200);
  });
});
