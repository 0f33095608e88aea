/**
 * Update requests whose address is unusable: a JSON ip/myip that is null, an array or an
 * object (the source address used to stand in, answered good), and addresses no host can
 * have (unspecified, multicast, broadcast). Each is an error in the dialect's own words and
 * changes nothing; private and loopback addresses stay allowed (LAN names).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type UpdateFixture, updateFixture } from "../helpers/updates";

let f: UpdateFixture;
const H = "home.dyn.example.com";
beforeEach(async () => {
  f = await updateFixture({ limits: { tokenBurst: { count: 0, seconds: 1 } } });
});
afterEach(() => f.close());

const postJson = (path: string, token: string, body: unknown) =>
  f.request(path, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    peer: "198.51.100.77",
  });

const NOT_TEXT: [string, unknown][] = [
  ["null", null],
  ["an array", ["192.0.2.1"]],
  ["an empty array", []],
  ["an object", { v4: "192.0.2.1" }],
];

describe("JSON address values that are not text", () => {
  for (const name of ["ip", "myip", "ipv4", "myipv6"]) {
    it.each(NOT_TEXT)(`/api/update {"${name}": %s}: 400 Invalid IP address, nothing changed`, async (_what, value) => {
      const { token } = f.host(H);
      const r = await postJson("/api/update", token, { hostname: H, [name]: value });
      expect(r.status).toBe(400);
      expect(await r.json()).toEqual({ error: "Invalid IP address" });
      expect(f.reload(H).ipv4).toBeNull();
      expect(f.reload(H).ipv6).toBeNull();
    });
  }

  it.each(NOT_TEXT)('dyndns2 POST {"myip": %s}: dnserr, nothing changed', async (_what, value) => {
    const { token } = f.host(H);
    const r = await postJson("/nic/update", token, { hostname: H, myip: value });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("dnserr");
    expect(f.reload(H).ipv4).toBeNull();
  });

  it("a JSON number or boolean is no address either", async () => {
    const { token } = f.host(H);
    for (const ip of [3232235777, true]) {
      const r = await postJson("/api/update", token, { hostname: H, ip });
      expect(r.status).toBe(400);
    }
    expect(f.reload(H).ipv4).toBeNull();
  });

  it('a JSON body without any address still takes the source address ({"hostname"} only)', async () => {
    const { token } = f.host(H);
    const r = await postJson("/api/update", token, { hostname: H });
    expect(await r.json()).toEqual({ status: "good", ip: "198.51.100.77", previous: null });
  });
});

describe("addresses no host can have", () => {
  const REFUSED = ["0.0.0.0", "::", "224.0.0.1", "239.255.255.250", "255.255.255.255", "ff02::1", "ff05::1:3", "::ffff:224.0.0.1", "::ffff:0.0.0.0"];
  it.each(REFUSED)("myip=%s: dnserr (dyndns2), 400 (ipdock), nothing changed", async (addr) => {
    const { token } = f.host(H);
    const d = await f.request(`/nic/update?hostname=${H}&myip=${encodeURIComponent(addr)}&token=${token}`);
    expect(await d.text()).toBe("dnserr");
    const j = await f.request(`/api/update?hostname=${H}&ip=${encodeURIComponent(addr)}&token=${token}`);
    expect(j.status).toBe(400);
    expect(await j.json()).toEqual({ error: "Invalid IP address" });
    expect(f.reload(H).ipv4).toBeNull();
    expect(f.reload(H).ipv6).toBeNull();
    // The history says why.
    const log = f.store.updates.history(f.reload(H).id, 10);
    expect(log.every((l) => l.result === "dnserr")).toBe(true);
  });

  it("a family parameter with such an address is refused too (myipv4=0.0.0.0, myipv6=ff02::1)", async () => {
    const { token } = f.host(H);
    expect(await (await f.request(`/nic/update?hostname=${H}&myipv4=0.0.0.0&myipv6=2001:db8::1&token=${token}`)).text()).toBe("dnserr");
    expect(await (await f.request(`/nic/update?hostname=${H}&myipv4=192.0.2.1&myipv6=ff02::1&token=${token}`)).text()).toBe("dnserr");
    expect(f.reload(H).ipv4).toBeNull();
  });

  it("a multicast IPv6 prefix is refused", async () => {
    const { token } = f.host(H);
    f.store.hosts.update(f.reload(H).id, { ipv6Ifid: "::1234" }, 0);
    expect(await (await f.request(`/nic/update?hostname=${H}&myip=192.0.2.1&ip6lanprefix=ff02::/64&token=${token}`)).text()).toBe("dnserr");
    expect(f.reload(H).ipv6).toBeNull();
  });

  const ALLOWED = [
    "10.0.0.1",
    "192.168.1.20",
    "172.16.0.1",
    "127.0.0.1",
    "100.64.0.1",
    "169.254.1.1",
    "::1",
    "fd00::1",
    "fe80::1",
    "0.0.0.1",
    "223.255.255.255",
    "240.0.0.1",
    "ff::1",
  ];
  it.each(ALLOWED)("myip=%s (private, loopback, link-local, edge of a range): good", async (addr) => {
    const { token } = f.host(H);
    const r = await f.request(`/nic/update?hostname=${H}&myip=${encodeURIComponent(addr)}&token=${token}`);
    expect(await r.text()).toBe(`good ${addr}`);
  });
});
