/**
 * IPv64's DynDNS2 updater and DynDNS API document (shared/seeds 002), replayed: each example
 * request of the document against ipkeep (YOURDOMAIN.IPV64.NET is one of our hostnames). An
 * example that ipkeep answers differently has a row in the README's "Differences from the
 * documents we follow".
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, ZONE } from "../../helpers/resources";
import { basic, type UpdateFixture, updateFixture } from "../../helpers/updates";

let f: UpdateFixture;
const D = "home.dyn.example.com";
let token: string;

const get = async (url: string, headers: Record<string, string> = {}, peer = "198.51.100.4") => {
  const r = await f.request(url, { headers, peer });
  return { status: r.status, body: await r.text() };
};

describe("IPv64 updater examples", () => {
  beforeEach(async () => {
    f = await updateFixture({ limits: { tokenBurst: { count: 0, seconds: 10 } } });
    token = f.host(D).token;
  });
  afterEach(() => f.close());

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
    expect(await get(`/nic/update?key=${token}&domain=${D}&ip=10.20.30.40&ip6=2a01::a441:cf:1`)).toEqual({
      status: 200,
      body: "good 10.20.30.40,2a01::a441:cf:1",
    });
  });

  it("CURL example: Basic none:TOKEN, ?domain=YOURDOMAIN", async () => {
    expect(await get(`/nic/update?domain=${D}`, { authorization: `Basic ${Buffer.from(`none:${token}`).toString("base64")}` })).toEqual({
      status: 200,
      body: "good 198.51.100.4",
    });
  });

  it("the updater URLs /update and /update.php, GET and POST", async () => {
    expect((await get(`/update?key=${token}&host=${D}&ip=192.0.2.1`)).body).toBe("good 192.0.2.1");
    expect((await get(`/update.php?key=${token}&host=${D}&ip=192.0.2.2`)).body).toBe("good 192.0.2.2");
    const r = await f.request("/nic/update", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `key=${token}&domain=${D}&ipv4=192.0.2.3`,
    });
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

describe("IPv64 account API (/api.php and /api)", () => {
  let h: Harness;
  let key: string;
  beforeEach(async () => {
    h = await startHarness();
    key = h.user("me@example.test").key;
  });
  afterEach(() => h.close());
  // Form bodies, as curl -d sends them.
  const api = (method: string, path: string, body?: string, headers: Record<string, string> = { authorization: `Bearer ${key}` }) =>
    h.call(method, path, { key: null, raw: body, headers: body === undefined ? headers : { "content-type": "application/x-www-form-urlencoded", ...headers } });

  it("[GET] get_account_info: curl -X GET https://ipv64.net/api.php?get_account_info -H 'Authorization: Bearer KEY'", async () => {
    const r = await api("GET", "/api.php?get_account_info");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      info: "success",
      status: "200 OK",
      get_account_info: "successful",
      email: "me@example.test",
      account_status: "active",
      dyndns_domains: 0,
    });
  });

  it("[POST] add_domain: curl -X POST https://ipv64.net/api.php -H 'Authorization: Bearer KEY' -d 'add_domain=test1234.any64.de'", async () => {
    const r = await api("POST", "/api.php", `add_domain=test1234.${ZONE}`);
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ info: "success", status: "201 Created", add_domain: `test1234.${ZONE}`, update_token: expect.stringMatching(/^ipk_/) });
    expect(h.store.hosts.byName(`test1234.${ZONE}`)).toBeTruthy();
    // The hostname's token updates it.
    const u = await h.call("GET", `/nic/update?hostname=test1234.${ZONE}&myip=192.0.2.8&key=${r.body.update_token}`, { key: null });
    expect(u.text).toBe("good 192.0.2.8");
  });

  it("[DELETE] del_domain: curl -X DELETE https://ipv64.net/api.php -H 'Authorization: Bearer KEY' -d 'del_domain=test1234.any64.de'", async () => {
    await api("POST", "/api.php", `add_domain=test1234.${ZONE}`);
    const r = await api("DELETE", "/api.php", `del_domain=test1234.${ZONE}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ info: "success", del_domain: `test1234.${ZONE}` });
    expect(h.store.hosts.byName(`test1234.${ZONE}`)).toBeNull();
  });

  it("get_domains lists the domains with their records; add_record's praefix names the record below; del_record by fields and by id", async () => {
    await api("POST", "/api", `add_domain=home.${ZONE}`);
    expect((await api("POST", "/api", `add_record=home.${ZONE}&praefix=_acme&type=TXT&content=hello`)).status).toBe(201);
    const mx = await api("POST", "/api", `add_record=home.${ZONE}&praefix=&type=MX&content=${encodeURIComponent(`10 mail.${ZONE}`)}`);
    expect(mx.status, mx.text).toBe(201);
    const d = await api("GET", "/api?get_domains");
    expect(d.status).toBe(200);
    const recs = d.body.subdomains[`home.${ZONE}`].records;
    expect(recs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "TXT", praefix: "_acme", content: expect.stringContaining("hello") }),
        expect.objectContaining({ type: "MX", praefix: "", record_id: mx.body.record_id }),
      ]),
    );
    const txt = recs.find((r: { type: string }) => r.type === "TXT");
    expect((await api("DELETE", "/api", `del_record=home.${ZONE}&praefix=_acme&type=TXT&content=${encodeURIComponent(txt.content)}`)).status).toBe(200);
    expect((await api("DELETE", "/api", `del_record=${mx.body.record_id}`)).status).toBe(200);
    expect((await api("GET", "/api?get_domains")).body.subdomains[`home.${ZONE}`].records).toEqual([]);
    expect((await api("DELETE", "/api", `del_record=${mx.body.record_id}`)).status).toBe(404);
  });

  it("get_logs: the update history of the account's domains", async () => {
    const r = await api("POST", "/api", `add_domain=home.${ZONE}`);
    await h.call("GET", `/nic/update?hostname=home.${ZONE}&myip=192.0.2.9&key=${r.body.update_token}`, { key: null });
    const logs = await api("GET", "/api?get_logs");
    expect(logs.status).toBe(200);
    expect(logs.body).toMatchObject({ info: "success", get_logs: "successful" });
    expect(logs.body.logs[0]).toMatchObject({ subdomain: `home.${ZONE}`, result: "good", newIpv4: "192.0.2.9" });
  });

  it("the API key as Bearer, Basic password, apikey or token parameter; none or a wrong one is 401", async () => {
    expect((await api("GET", "/api.php?get_account_info", undefined, { authorization: basic("x", key) })).status).toBe(200);
    expect((await api("GET", `/api.php?get_account_info&apikey=${key}`, undefined, {})).status).toBe(200);
    expect((await api("GET", `/api.php?get_account_info&token=${key}`, undefined, {})).status).toBe(200);
    const none = await api("GET", "/api.php?get_account_info", undefined, {});
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ info: "error", status: "401 Unauthorized" });
    expect((await api("GET", "/api.php?get_account_info", undefined, { authorization: "Bearer ipka_wrong" })).status).toBe(401);
  });

  it("no call, or a call with the wrong method, is 400 in IPv64's envelope", async () => {
    expect((await api("GET", "/api.php")).body).toMatchObject({ info: "error", status: "400 Bad Request" });
    expect((await api("GET", `/api.php?add_domain=x.${ZONE}`)).status).toBe(400);
  });

  it("carries an API key: HTTPS from other machines (403 in IPv64's envelope over plain HTTP)", async () => {
    const r = await h.app.handle(new Request("http://localhost/api.php?get_account_info", { headers: { authorization: `Bearer ${key}` } }), {
      peer: "203.0.113.5",
      transport: "http",
    });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ info: "error", status: "403 Forbidden", code: "https_required" });
  });
});
