/**
 * The update endpoints in process (app.handle): credentials, hostnames, addresses, answers,
 * scope, limits. Each block names its scenario; "nothing changed" is asserted on the store.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { basic, type UpdateFixture, updateFixture } from "../helpers/updates";

let f: UpdateFixture;
const H = "home.dyn.example.com";
beforeEach(async () => {
  f = await updateFixture();
});
afterEach(() => f.close());

const get = async (url: string, headers: Record<string, string> = {}, peer?: string) => {
  const r = await f.request(url, { headers, peer });
  return { status: r.status, body: await r.text(), headers: r.headers };
};

/** Words inadyn counts as success (case-insensitive substrings): no error body may hold one. */
const SUCCESS_WORDS = /good|nochg|ok|true|updated/i;

describe("credentials: every form", () => {
  const forms: [string, (t: string) => { url: string; headers: Record<string, string> }][] = [
    ["Basic, token as password", (t) => ({ url: `/nic/update?hostname=${H}&myip=192.0.2.1`, headers: { authorization: basic("anything", t) } })],
    ["Basic, token as username", (t) => ({ url: `/nic/update?hostname=${H}&myip=192.0.2.1`, headers: { authorization: basic(t, "x") } })],
    ["Basic, FQDN as username (deSEC)", (t) => ({ url: `/nic/update?myip=192.0.2.1`, headers: { authorization: basic(H, t) } })],
    ["Bearer", (t) => ({ url: `/nic/update?hostname=${H}&myip=192.0.2.1`, headers: { authorization: `Bearer ${t}` } })],
    ["Token (deSEC)", (t) => ({ url: `/nic/update?hostname=${H}&myip=192.0.2.1`, headers: { authorization: `Token ${t}` } })],
    ["query token", (t) => ({ url: `/nic/update?hostname=${H}&myip=192.0.2.1&token=${t}`, headers: {} })],
    ["query key (IPv64)", (t) => ({ url: `/nic/update?hostname=${H}&myip=192.0.2.1&key=${t}`, headers: {} })],
    ["query user (IPv64)", (t) => ({ url: `/nic/update?hostname=${H}&myip=192.0.2.1&user=${t}`, headers: {} })],
    ["query username+password (deSEC)", (t) => ({ url: `/nic/update?myip=192.0.2.1&username=${H}&password=${t}`, headers: {} })],
    [
      "Basic Og== beside a query token (inadyn)",
      (t) => ({ url: `/nic/update?hostname=${H}&myip=192.0.2.1&token=${t}`, headers: { authorization: "Basic Og==" } }),
    ],
  ];
  it.each(forms)("%s", async (_n, make) => {
    const { token } = f.host(H);
    const { url, headers } = make(token);
    const r = await get(url, headers);
    expect(r.body).toBe("good 192.0.2.1");
    expect(r.status).toBe(200);
    expect(f.reload(H).ipv4).toBe("192.0.2.1");
  });

  it("POST form and JSON bodies carry the same parameters", async () => {
    const { token } = f.host(H);
    let r = await f.request("/nic/update", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `hostname=${H}&myip=192.0.2.5&token=${token}`,
    });
    expect(await r.text()).toBe("good 192.0.2.5");
    r = await f.request("/update.php", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ domain: H, ip: "192.0.2.6", key: token }),
    });
    expect(await r.text()).toBe("good 192.0.2.6");
    const form = new FormData();
    form.set("host", H);
    form.set("ipv6", "2001:db8::6");
    r = await f.request("/update", { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form });
    expect(await r.text()).toBe("good 2001:db8::6");
  });

  it("no credentials: 401 with a Basic challenge and badauth", async () => {
    f.host(H);
    const r = await get(`/nic/update?hostname=${H}&myip=192.0.2.1`);
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Basic realm="ipkeep"/);
    expect(r.body).toBe("badauth");
  });

  it.each([
    ["wrong token", basic("u", "ipk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")],
    ["Basic Og== alone", "Basic Og=="],
    ["not base64", "Basic !!!notbase64"],
    ["no colon", `Basic ${Buffer.from("justone").toString("base64")}`],
    ["invalid UTF-8 in Basic", `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0xc3]).toString("base64")}`],
    ["unknown scheme", "Digest username=x"],
    ["empty Bearer", "Bearer "],
    ["huge header", `Bearer ${"a".repeat(5000)}`],
    ["an API key is not an update token", "Bearer ipka_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
  ])("malformed or wrong Authorization (%s): 401 badauth, nothing changes", async (_n, auth) => {
    f.host(H);
    const r = await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, { authorization: auth });
    expect(r.status).toBe(401);
    expect(r.body).toBe("badauth");
    expect(f.reload(H).ipv4).toBeNull();
  });
});

describe("hostnames", () => {
  it("comma-separated hosts: one line each, in order; others' and unknown hosts nohost and unchanged", async () => {
    const a = f.host("a.dyn.example.com").host;
    const b = f.host("b.dyn.example.com").host;
    f.host("c.dyn.example.com");
    f.host("theirs.dyn.example.com", f.other);
    const t = f.token([a, b]);
    const r = await get(
      `/nic/update?hostname=b.dyn.example.com,c.dyn.example.com,theirs.dyn.example.com,nope.dyn.example.com,a.dyn.example.com&myip=192.0.2.9`,
      { authorization: basic("u", t) },
    );
    expect(r.body).toBe(["good 192.0.2.9", "nohost", "nohost", "nohost", "good 192.0.2.9"].join("\n"));
    expect(f.reload("c.dyn.example.com").ipv4).toBeNull();
    expect(f.reload("theirs.dyn.example.com").ipv4).toBeNull();
  });

  it("a token of scope 'all' covers every host of its owner and none of another's", async () => {
    f.host("a.dyn.example.com");
    f.host("theirs.dyn.example.com", f.other);
    const t = f.token("all");
    const r = await get(`/nic/update?hostname=A.Dyn.Example.Com.,theirs.dyn.example.com&myip=192.0.2.9`, { authorization: basic("u", t) });
    expect(r.body).toBe("good 192.0.2.9\nnohost");
  });

  it("20 hosts are fine; 21 are numhost and nothing changes", async () => {
    const { host, token } = f.host(H);
    const t = f.token([host]);
    void token;
    const twenty = Array(20).fill(H).join(",");
    let r = await get(`/nic/update?hostname=${twenty}&myip=192.0.2.2`, { authorization: basic("u", t) });
    expect(r.body.split("\n")).toEqual(["good 192.0.2.2", ...Array(19).fill("nochg 192.0.2.2")]);
    r = await get(`/nic/update?hostname=${twenty},${H}&myip=192.0.2.3`, { authorization: basic("u", t) });
    expect(r.status).toBe(200);
    expect(r.body).toBe("numhost");
    expect(f.reload(H).ipv4).toBe("192.0.2.2");
  });

  it("hostname=YES is ignored; ddclient's dyndns1 form with host_id works", async () => {
    const { token } = f.host(H);
    const r = await get(`/nic/dyndns?action=edit&started=1&hostname=YES&host_id=${H}&myip=192.0.2.4`, { authorization: basic("u", token) });
    expect(r.body).toBe("good 192.0.2.4");
    const s = await get(`/nic/statdns?action=edit&started=1&hostname=YES&host_id=${H}&myip=192.0.2.4`, { authorization: basic("u", token) });
    expect(s.body).toBe("nochg 192.0.2.4");
  });

  it("no hostname and a token of several hosts: notfqdn; a malformed name: notfqdn", async () => {
    const a = f.host("a.dyn.example.com").host;
    const b = f.host("b.dyn.example.com").host;
    const t = f.token([a, b]);
    expect((await get(`/nic/update?myip=192.0.2.1`, { authorization: basic("token", t) })).body).toBe("notfqdn");
    expect((await get(`/nic/update?hostname=..bad..&myip=192.0.2.1`, { authorization: basic("token", t) })).body).toBe("notfqdn");
    expect((await get(`/nic/update?hostname=${"x".repeat(300)}.com&myip=192.0.2.1`, { authorization: basic("token", t) })).body).toBe("notfqdn");
  });
});

describe("addresses and answers", () => {
  it("v4 and v6 on one host: one line, comma list; only supplied addresses echoed", async () => {
    const { token } = f.host(H);
    const auth = { authorization: basic("u", token) };
    expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.1,2001:db8::1`, auth)).body).toBe("good 192.0.2.1,2001:db8::1");
    expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, auth)).body).toBe("nochg 192.0.2.1");
    expect((await get(`/nic/update?hostname=${H}&myip=2001%3adb8%3a%3a1`, auth)).body).toBe("nochg 2001:db8::1");
  });

  it("per family independently: unmentioned kept, empty deletes, preserve keeps", async () => {
    const { token } = f.host(H);
    const auth = { authorization: basic("u", token) };
    await get(`/nic/update?hostname=${H}&myip=192.0.2.1,2001:db8::1`, auth);
    f.clock.advance(60);
    expect((await get(`/nic/update?hostname=${H}&myipv4=192.0.2.2`, auth)).body).toBe("good 192.0.2.2");
    expect(f.reload(H).ipv6).toBe("2001:db8::1");
    f.clock.advance(60);
    expect((await get(`/nic/update?hostname=${H}&myipv4=preserve&myipv6=2001:db8::2`, auth)).body).toBe("good 2001:db8::2");
    expect(f.reload(H).ipv4).toBe("192.0.2.2");
    f.clock.advance(60);
    expect((await get(`/nic/update?hostname=${H}&myipv4=192.0.2.2&myipv6=`, auth)).body).toBe("good 192.0.2.2");
    expect(f.reload(H).ipv6).toBeNull();
  });

  it("no address: the connecting address, its family only", async () => {
    const { token } = f.host(H);
    expect((await get(`/nic/update?hostname=${H}`, { authorization: basic("u", token) }, "198.51.100.20")).body).toBe("good 198.51.100.20");
    expect((await get(`/nic/update?hostname=${H}`, { authorization: basic("u", token) }, "2001:db8:9::20")).body).toBe("good 2001:db8:9::20");
    expect(f.reload(H)).toMatchObject({ ipv4: "198.51.100.20", ipv6: "2001:db8:9::20" });
  });

  it("an invalid address is an error for each host, never the source address", async () => {
    const a = f.host("a.dyn.example.com").host;
    const b = f.host("b.dyn.example.com").host;
    const t = f.token([a, b]);
    const r = await get(`/nic/update?hostname=a.dyn.example.com,b.dyn.example.com&myip=999.1.1.1`, { authorization: basic("u", t) });
    expect(r.status).toBe(200);
    expect(r.body).toBe("dnserr\ndnserr");
    expect(f.reload("a.dyn.example.com").ipv4).toBeNull();
  });

  it("IPv6 prefix updates compose each host's interface id", async () => {
    const nas = f.host("nas.dyn.example.com").host;
    const router = f.host("router.dyn.example.com").host;
    f.store.hosts.update(nas.id, { ipv6Ifid: "::abcd" }, 0);
    const t = f.token([nas, router]);
    // FRITZ!Box: WAN address in myipv6, LAN prefix in ip6lanprefix.
    const r = await get(
      `/nic/update?hostname=nas.dyn.example.com,router.dyn.example.com&myip=192.0.2.1&myipv6=2001:db8:ffff::1&ip6lanprefix=2001:db8:aaaa:bbbb::/64`,
      { authorization: basic("u", t) },
    );
    expect(r.body).toBe("good 192.0.2.1,2001:db8:aaaa:bbbb::abcd\ngood 192.0.2.1,2001:db8:ffff::1");
    f.clock.advance(60);
    // New prefix only: the router keeps the low 64 bits of its last AAAA.
    const p = await get(`/nic/update?hostname=nas.dyn.example.com,router.dyn.example.com&ipv6prefix=2001:db8:cccc:dddd::/64&onlyprefix=1`, {
      authorization: basic("u", t),
    });
    expect(p.body).toBe("good 2001:db8:cccc:dddd::abcd\ngood 2001:db8:cccc:dddd::1");
    expect(f.reload("nas.dyn.example.com").ipv4).toBe("192.0.2.1");
  });

  it("output=min, none and full (IPv64)", async () => {
    const { token } = f.host(H);
    const auth = { authorization: basic("u", token) };
    expect((await get(`/nic/update?hostname=${H},x.dyn.example.com&myip=192.0.2.1&output=min`, auth)).body).toBe("good\nfail");
    f.clock.advance(60);
    const none = await get(`/nic/update?hostname=${H}&myip=192.0.2.2&output=none`, auth);
    expect(none.body).toBe("");
    expect(none.headers.get("content-length")).toBe("0");
    f.clock.advance(60);
    const full = await get(`/nic/update?hostname=${H}&myip=192.0.2.2,2001:db8::2&output=full`, auth);
    expect(JSON.parse(full.body)).toEqual({
      status: "success",
      ip: ["192.0.2.2", "2001:db8::2"],
      hosts: [{ hostname: H, status: "good", ip: ["192.0.2.2", "2001:db8::2"] }],
    });
    const bad = await get(`/nic/update?hostname=${H}&output=min`, { authorization: "Basic Og==" });
    expect(bad.status).toBe(401);
    expect(bad.body).toBe("fail");
  });

  it("every dyndns path and duplicate slashes", async () => {
    const { token } = f.host(H);
    let n = 1;
    for (const path of ["/nic/update", "/v3/update", "/v2/update", "/update", "/update.php", "//nic/update", "/nic//update", "/", "/nic/update/"]) {
      f.clock.advance(60);
      const r = await get(`${path}?hostname=${H}&myip=192.0.2.${n}`, { authorization: basic("u", token) });
      expect([path, r.status, r.body]).toEqual([path, 200, `good 192.0.2.${n}`]);
      n++;
    }
  });

  it("/ without credentials or update parameters is not an update", async () => {
    expect((await f.request("/")).status).toBe(404);
  });

  it("text/plain with Content-Length and the rate headers on every update response", async () => {
    const { token } = f.host(H);
    for (const auth of [basic("u", token), "Basic Og==", null]) {
      const r = await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, auth ? { authorization: auth } : {});
      expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(r.headers.get("content-length")).toBe(String(Buffer.byteLength(r.body)));
      expect(r.headers.get("x-ratelimit-limit")).toMatch(/^\d+$/);
      expect(r.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);
      expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
    }
  });

  it("other methods: badagent, 200", async () => {
    f.host(H);
    const r = await f.request(`/nic/update?hostname=${H}`, { method: "PUT" });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("badagent");
  });
});

describe("error words", () => {
  it("each word is reachable and no error body says success", async () => {
    const { token } = f.host(H);
    const auth = { authorization: basic("u", token) };
    const seen = new Map<string, string>();
    const note = async (url: string, headers: Record<string, string>, init: RequestInit = {}) => {
      const r = await f.request(url, { headers, ...init });
      const body = await r.text();
      seen.set(body.split("\n")[0]!, body);
    };
    await note(`/nic/update?hostname=${H}&myip=192.0.2.1`, {});
    await note(`/nic/update?hostname=-bad-&myip=192.0.2.1`, auth);
    await note(`/nic/update?hostname=nope.dyn.example.com&myip=192.0.2.1`, auth);
    await note(`/nic/update?hostname=${Array(21).fill(H).join(",")}`, auth);
    await note(`/nic/update?hostname=${H}&myip=1.2.3`, auth);
    await note(`/nic/update?hostname=${H}`, auth, { method: "DELETE" });
    for (let i = 0; i < 5; i++) await note(`/nic/update?hostname=${H}&myip=192.0.2.1`, auth);
    expect([...seen.keys()].sort()).toEqual(["abuse", "badagent", "badauth", "dnserr", "good 192.0.2.1", "nohost", "notfqdn", "numhost"].sort());
    for (const [word, body] of seen) if (!/^(good|nochg)/.test(word)) expect(body).not.toMatch(SUCCESS_WORDS);
  });

  it("a server fault answers 911", async () => {
    const { token } = f.host(H);
    f.store.close();
    const r = await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, { authorization: basic("u", token) });
    expect(r.status).toBe(200);
    expect(r.body).toBe("911");
  });
});

describe("hostile input changes nothing", () => {
  it("huge query strings, invalid UTF-8 and control characters", async () => {
    const { token } = f.host(H);
    const auth = { authorization: basic("u", token) };
    const huge = await get(`/nic/update?hostname=${H}&myip=192.0.2.1&junk=${"x".repeat(60_000)}`, auth);
    expect(huge.body).toBe("good 192.0.2.1");
    f.clock.advance(60);
    expect((await get(`/nic/update?hostname=%ff%fe.dyn.example.com&myip=192.0.2.7`, auth)).body).toBe("notfqdn");
    expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.7%00`, auth)).body).toBe("dnserr");
    expect((await get(`/nic/update?hostname=${H}%0d%0aX:1&myip=192.0.2.7`, auth)).body).toBe("notfqdn");
    expect(f.reload(H).ipv4).toBe("192.0.2.1");
  });
  it("a malformed JSON body is ignored, the query decides", async () => {
    const { token } = f.host(H);
    const r = await f.request(`/nic/update?hostname=${H}&myip=192.0.2.8&token=${token}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(await r.text()).toBe("good 192.0.2.8");
  });
});

describe("ipdock /api/update", () => {
  it("Bearer, auto-detect, ?ip=, POST JSON, ?token=; exact shapes", async () => {
    const { token } = f.host(H);
    let r = await f.request(`/api/update`, { headers: { authorization: `Bearer ${token}` }, peer: "198.51.100.1" });
    expect(await r.json()).toEqual({ status: "good", ip: "198.51.100.1", previous: null });
    f.clock.advance(60);
    r = await f.request(`/api/update?ip=1.2.3.4`, { headers: { authorization: `Bearer ${token}` } });
    expect(await r.json()).toEqual({ status: "good", ip: "1.2.3.4", previous: "198.51.100.1" });
    f.clock.advance(60);
    r = await f.request(`/api/update`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ ip: "1.2.3.4" }),
    });
    expect(await r.json()).toEqual({ status: "nochg", ip: "1.2.3.4" });
    f.clock.advance(60);
    r = await f.request(`/api/update?token=${token}`, { peer: "5.6.7.8" });
    expect(await r.json()).toEqual({ status: "good", ip: "5.6.7.8", previous: "1.2.3.4" });
    expect(r.headers.get("x-ratelimit-limit")).toBe("5");
  });
  it("errors: Invalid API token (401), bad ip (400), other user's host (404)", async () => {
    const { token } = f.host(H);
    f.host("theirs.dyn.example.com", f.other);
    let r = await f.request(`/api/update?ip=1.2.3.4`, { headers: { authorization: "Bearer ipk_wrongwrongwrong" } });
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: "Invalid API token" });
    r = await f.request(`/api/update?ip=1.2.3.999`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: "Invalid IP address" });
    r = await f.request(`/api/update?ip=1.2.3.4&hostname=theirs.dyn.example.com`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: "Hostname not found" });
  });
});

describe("what is my IP", () => {
  it("/api/myip, /nic/checkip.html and ?howismyip", async () => {
    expect(await (await f.request("/api/myip", { peer: "198.51.100.3" })).text()).toBe("198.51.100.3");
    expect(await (await f.request("/api/myip", { peer: "::ffff:198.51.100.3" })).text()).toBe("198.51.100.3");
    const html = await (await f.request("/nic/checkip.html", { peer: "2001:db8::3" })).text();
    expect(html).toContain("Current IP Address: 2001:db8::3");
    for (const path of ["/nic/update", "/update.php", "/api/update", "/"]) {
      expect(await (await f.request(`${path}?howismyip`, { peer: "198.51.100.4" })).text()).toBe("198.51.100.4");
    }
  });
});

describe("trusted proxies", () => {
  it("X-Forwarded-For and X-Real-IP only from a configured proxy", async () => {
    f.close();
    f = await updateFixture({ trustedProxies: ["10.0.0.0/8"] });
    const { token } = f.host(H);
    const auth = { authorization: basic("u", token), "x-forwarded-for": "198.51.100.50" };
    expect((await get(`/nic/update?hostname=${H}`, auth, "203.0.113.5")).body).toBe("good 203.0.113.5");
    expect((await get(`/nic/update?hostname=${H}`, auth, "10.1.2.3")).body).toBe("good 198.51.100.50");
    expect((await get(`/api/myip`, { "x-real-ip": "198.51.100.51" }, "10.1.2.3")).body).toBe("198.51.100.51");
  });
});

describe("limits (clock moved by hand)", () => {
  it("5 requests per 10 s per token, nochg included; 429 abuse with Retry-After", async () => {
    const { token } = f.host(H);
    const auth = { authorization: basic("u", token) };
    for (let i = 0; i < 5; i++) expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, auth)).status).toBe(200);
    const r = await get(`/nic/update?hostname=${H}&myip=192.0.2.2`, auth);
    expect(r.status).toBe(429);
    expect(r.body).toBe("abuse");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(f.reload(H).ipv4).toBe("192.0.2.1");
    f.clock.advance(10);
    expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.2`, auth)).body).toBe("good 192.0.2.2");
  });

  it("repeated nochg never locks out: a FRITZ!Box resending every 240 s for a day", async () => {
    const { token } = f.host(H);
    const auth = { authorization: basic("u", token) };
    await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, auth);
    for (let i = 0; i < 24 * 15; i++) {
      f.clock.advance(240);
      const r = await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, auth);
      if (r.body !== "nochg 192.0.2.1") throw new Error(`request ${i}: ${r.status} ${r.body}`);
    }
  });

  it("the daily change cap refuses changes but still answers nochg", async () => {
    f.close();
    f = await updateFixture({ limits: { dailyChanges: 2 } });
    const { token } = f.host(H);
    const auth = { authorization: basic("u", token) };
    expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, auth)).body).toBe("good 192.0.2.1");
    expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.2`, auth)).body).toBe("good 192.0.2.2");
    const r = await get(`/nic/update?hostname=${H}&myip=192.0.2.3`, auth);
    expect(r.status).toBe(429);
    expect(r.body).toBe("abuse");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.2`, auth)).body).toBe("nochg 192.0.2.2");
    expect(f.reload(H).ipv4).toBe("192.0.2.2");
  });

  it("10 bad credentials from one source in 10 minutes lock it out for 10 minutes, even with a good token", async () => {
    const { token } = f.host(H);
    for (let i = 0; i < 9; i++) expect((await get(`/nic/update?hostname=${H}&token=ipk_bad${i}bad`, {}, "198.51.100.66")).status).toBe(401);
    const tenth = await get(`/nic/update?hostname=${H}&token=ipk_bad9bad`, {}, "198.51.100.66");
    expect(tenth.status).toBe(429);
    expect(tenth.body).toBe("abuse");
    const locked = await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, { authorization: basic("u", token) }, "198.51.100.66");
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toBe("600");
    expect(f.reload(H).ipv4).toBeNull();
    // Another source is not affected; the lockout ends after 10 minutes.
    expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, { authorization: basic("u", token) }, "198.51.100.67")).status).toBe(200);
    f.clock.advance(600);
    expect((await get(`/nic/update?hostname=${H}&myip=192.0.2.2`, { authorization: basic("u", token) }, "198.51.100.66")).body).toBe("good 192.0.2.2");
  });

  it("the challenge step (no credentials) is not a failure", async () => {
    f.host(H);
    for (let i = 0; i < 30; i++) expect((await get(`/nic/update?hostname=${H}`, {}, "198.51.100.70")).status).toBe(401);
  });

  it("60 requests per 10 s per source, IPv6 per /64", async () => {
    for (let i = 0; i < 60; i++) await get(`/nic/update?hostname=${H}`, {}, `2001:db8:1:2::${i + 1}`);
    const r = await get(`/nic/update?hostname=${H}`, {}, "2001:db8:1:2::ffff");
    expect(r.status).toBe(429);
    expect((await get(`/nic/update?hostname=${H}`, {}, "2001:db8:1:3::1")).status).toBe(401);
  });
});

describe("history", () => {
  it("every attempt is logged with time, source, user agent, old and new addresses and result", async () => {
    const { host, token } = f.host(H);
    await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, { authorization: basic("u", token), "user-agent": "ddclient/3.10.0" }, "198.51.100.9");
    await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, { authorization: basic("u", token) });
    await get(`/nic/update?hostname=${H}&myip=192.0.2.1`, { authorization: basic("u", "ipk_wrongwrongwrong") });
    f.store.flushUpdates(); // nochg and refusals are answered before their lines are written
    const log = f.store.updates.history(host.id, 10);
    expect(log.map((e) => e.result)).toEqual(["nochg", "good"]);
    expect(log[1]).toMatchObject({ hostname: H, source: "198.51.100.9", userAgent: "ddclient/3.10.0", oldIpv4: null, newIpv4: "192.0.2.1" });
    const bad = f.store.db.prepare("SELECT hostname, result, token_id FROM update_log WHERE result = 'badauth'").all();
    expect(bad).toEqual([{ hostname: H, result: "badauth", token_id: null }]);
  });
});

describe("history never keeps a secret", () => {
  it("a token pasted where the hostname goes is stored as *** in the update log", async () => {
    const { token } = f.host(H);
    const other = f.host("other.dyn.example.com").token;
    const r = await get(`/nic/update?hostname=${other}&myip=192.0.2.1`, { authorization: basic("x", token) });
    expect(r.body).toBe("notfqdn");
    f.store.flushUpdates();
    const dump = JSON.stringify(f.store.db.prepare("SELECT * FROM update_log").all());
    expect(dump).not.toContain(other);
    expect(dump).not.toContain(token);
  });
});
