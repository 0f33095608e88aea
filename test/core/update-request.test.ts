/**
 * Reading an update request: hostnames, addresses, prefixes; pure functions, no store.
 */
import { describe, expect, it } from "vitest";
import {
  type AddressPlan,
  effectiveInterfaceId,
  intentForHost,
  normalizeInterfaceId,
  parseAddressPiece,
  planAddresses,
  presentedSecrets,
  requestedHostnames,
  resolveClientAddress,
  type UpdateCall,
} from "../../src/core/update";
import { parseCidr } from "../../src/core/addresses";

const params = (q: string) => {
  const m = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(q)) if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), v);
  return { get: (n: string) => m.get(n) };
};
const call = (q: string, extra: Partial<UpdateCall> = {}): UpdateCall => ({
  params: params(q),
  basic: null,
  bearer: null,
  client: "203.0.113.99",
  userAgent: null,
  ...extra,
});

describe("hostname determination", () => {
  const only = () => "only.dyn.example.com";
  const cases: [string, string, Partial<UpdateCall>, string[]][] = [
    ["hostname", "hostname=a.example.com", {}, ["a.example.com"]],
    ["host (IPv64)", "host=a.example.com", {}, ["a.example.com"]],
    ["domain (IPv64)", "domain=a.example.com,b.example.com", {}, ["a.example.com", "b.example.com"]],
    ["domains", "domains=a.example.com", {}, ["a.example.com"]],
    ["zone", "zone=a.example.com", {}, ["a.example.com"]],
    ["hostname=YES is ddclient's flag: host_id follows", "action=edit&started=1&hostname=YES&host_id=h.example.com", {}, ["h.example.com"]],
    ["Basic username when it is an FQDN", "", { basic: { username: "b.example.com", password: "ipk_x" } }, ["b.example.com"]],
    ["Basic username 'token' is not a name: the token's only host", "", { basic: { username: "token", password: "ipk_x" } }, ["only.dyn.example.com"]],
    ["username parameter when it is an FQDN", "username=u.example.com&password=ipk_x", {}, ["u.example.com"]],
    ["Basic username wins over username parameter", "username=u.example.com", { basic: { username: "b.example.com", password: "" } }, ["b.example.com"]],
    ["nothing: the token's only host", "myip=1.2.3.4", {}, ["only.dyn.example.com"]],
    ["list kept in order, blanks dropped", "hostname=c.example.com,,a.example.com, b.example.com", {}, ["c.example.com", "a.example.com", "b.example.com"]],
  ];
  it.each(cases)("%s", (_n, q, extra, expected) => {
    expect(requestedHostnames(call(q, extra), only)).toEqual(expected);
  });
  it("no host and no single host of the token: none", () => {
    expect(requestedHostnames(call("myip=1.2.3.4"), () => null)).toEqual([]);
  });
});

describe("credentials", () => {
  it("collects every presented form in order, without duplicates", () => {
    const c = call("token=ipk_q&key=ipk_k&password=p&user=u&username=n", { bearer: "ipk_b", basic: { username: "ipk_u", password: "ipk_p" } });
    expect(presentedSecrets(c)).toEqual(["ipk_b", "ipk_p", "ipk_u", "ipk_q", "ipk_k", "p", "u", "n"]);
    expect(presentedSecrets(call("", { basic: { username: "", password: "" } }))).toEqual([]);
  });
});

describe("address pieces", () => {
  it.each([
    ["1.2.3.4", { kind: "addr", family: 4, address: "1.2.3.4" }],
    ["2001:DB8::0010", { kind: "addr", family: 6, address: "2001:db8::10" }],
    ["2001:db8::10/64", { kind: "addr", family: 6, address: "2001:db8::10" }],
    ["2001:db8:1:2::/64", { kind: "prefix", prefix: "2001:db8:1:2::", len: 64 }],
    ["2001:db8:1::/56", { kind: "prefix", prefix: "2001:db8:1::", len: 56 }],
    ["1.2.3.0/24", { kind: "addr", family: 4, address: "1.2.3.0" }],
    ["preserve", { kind: "preserve" }],
  ])("%s", (input, expected) => {
    expect(parseAddressPiece(input)).toEqual(expected);
  });
  it.each(["999.1.1.1", "1.2.3", "2a01::a441:cf::1", "2001:db8::1/129", "1.2.3.4/33", "fe80::1%eth0", "<1.2.3.4>", "2001:db8::/x"])("refuses %s", (input) => {
    expect(parseAddressPiece(input)).toBeNull();
  });
});

describe("address plan", () => {
  const plan = (q: string, client = "203.0.113.99") => planAddresses(params(q), client);
  const set = (address: string) => ({ kind: "set", address });
  const absent = { kind: "absent" };
  it.each([
    ["myip v4", "myip=1.2.3.4", set("1.2.3.4"), absent],
    ["myip v6", "myip=2001:db8::1", absent, set("2001:db8::1")],
    ["myip v4,v6", "myip=1.2.3.4,2001:db8::1", set("1.2.3.4"), set("2001:db8::1")],
    ["myip v6,v4", "myip=2001:db8::1,1.2.3.4", set("1.2.3.4"), set("2001:db8::1")],
    ["myipv4 and myipv6", "myipv4=1.2.3.4&myipv6=2001:db8::1", set("1.2.3.4"), set("2001:db8::1")],
    ["IPv64 aliases ip4/ip6", "ip4=1.2.3.4&ip6=2001:db8::1", set("1.2.3.4"), set("2001:db8::1")],
    ["ipv4/ipv6", "ipv4=1.2.3.4&ipv6=2001:db8::1", set("1.2.3.4"), set("2001:db8::1")],
    ["myip6", "myip6=2001:db8::1", absent, set("2001:db8::1")],
    ["ip (either family)", "ip=2001:db8::1", absent, set("2001:db8::1")],
    ["myip before ip", "myip=1.2.3.4&ip=5.6.7.8", set("1.2.3.4"), absent],
    ["/len stripped from an address", "myip=1.2.3.4/32&myipv6=2001:db8::10/64", set("1.2.3.4"), set("2001:db8::10")],
    ["empty family parameter deletes", "myip=1.2.3.4&myipv6=", set("1.2.3.4"), { kind: "delete" }],
    ["empty ipv4 deletes", "ipv4=&myipv6=2001:db8::1", { kind: "delete" }, set("2001:db8::1")],
    ["empty myip is absent: the client address", "myip=", set("203.0.113.99"), absent],
    ["preserve keeps", "myipv4=preserve&myipv6=2001:db8::1", { kind: "keep" }, set("2001:db8::1")],
    ["nothing: the client address, its family only", "", set("203.0.113.99"), absent],
  ] as [string, string, unknown, unknown][])("%s", (_n, q, v4, v6) => {
    const p = plan(q);
    expect(p.v4).toEqual(v4);
    expect(p.v6).toEqual(v6);
  });
  it("an IPv6 client fills only AAAA", () => {
    const p = plan("", "2001:db8::77");
    expect(p.v4).toEqual(absent);
    expect(p.v6).toEqual(set("2001:db8::77"));
  });
  it.each(["myip=999.1.1.1", "myipv4=2001:db8::1", "myipv6=1.2.3.4", "ip=bogus", "myip=1.2.3.4,zzz", "ipv6prefix=1.2.3.0/24", "ip6=2a01::a441:cf::1"])(
    "an invalid address is an error, never the client address: %s",
    (q) => {
      expect(() => plan(q)).toThrow(expect.objectContaining({ code: "invalid_address" }));
    },
  );
  it("prefixes from ipv6prefix, ip6lanprefix, myipv6 and the default /64", () => {
    expect(plan("ipv6prefix=2001:db8:1:2::/64").prefix).toEqual({ prefix: "2001:db8:1:2::", len: 64 });
    expect(plan("ip6lanprefix=2001:db8:1::/56").prefix).toEqual({ prefix: "2001:db8:1::", len: 56 });
    expect(plan("myipv6=2001:db8:1:2::/64").prefix).toEqual({ prefix: "2001:db8:1:2::", len: 64 });
    expect(plan("ipv6prefix=2001:db8:1:2::").prefix).toEqual({ prefix: "2001:db8:1:2::", len: 64 });
    expect(plan("ipv6prefix=auto", "2001:db8:5:6::99").prefix).toEqual({ prefix: "2001:db8:5:6::", len: 64 });
  });
  it("onlyprefix touches nothing but the prefix", () => {
    const p = plan("myip=1.2.3.4&myipv6=2001:db8::1&ipv6prefix=2001:db8:9::/64&onlyprefix=1");
    expect(p.onlyPrefix).toBe(true);
    expect(p.v4).toEqual({ kind: "keep" });
  });
});

describe("prefix updates per host", () => {
  const withPrefix = (extra: Partial<AddressPlan> = {}): AddressPlan => ({
    v4: { kind: "absent" },
    v6: { kind: "absent" },
    prefix: { prefix: "2001:db8:aaaa:bbbb::", len: 64 },
    onlyPrefix: false,
    ...extra,
  });
  it("composes with the stored interface id", () => {
    expect(intentForHost(withPrefix(), { ipv6: null, ipv6Ifid: "::abcd" }).v6).toEqual({ kind: "set", address: "2001:db8:aaaa:bbbb::abcd" });
  });
  it("otherwise with the low 64 bits of the last AAAA", () => {
    expect(intentForHost(withPrefix(), { ipv6: "2001:db8:1:2:a:b:c:d", ipv6Ifid: null }).v6).toEqual({ kind: "set", address: "2001:db8:aaaa:bbbb:a:b:c:d" });
  });
  it("no interface id (or an all-zero one): AAAA kept", () => {
    expect(intentForHost(withPrefix(), { ipv6: null, ipv6Ifid: null }).v6).toEqual({ kind: "keep" });
    expect(intentForHost(withPrefix(), { ipv6: "2001:db8:1:2::", ipv6Ifid: null }).v6).toEqual({ kind: "keep" });
  });
  it("a full address wins for a host without its own interface id; the prefix wins for one with it", () => {
    const p = withPrefix({ v6: { kind: "set", address: "2001:db8::1" } });
    expect(intentForHost(p, { ipv6: null, ipv6Ifid: null }).v6).toEqual({ kind: "set", address: "2001:db8::1" });
    expect(intentForHost(p, { ipv6: null, ipv6Ifid: "::5" }).v6).toEqual({ kind: "set", address: "2001:db8:aaaa:bbbb::5" });
  });
  it("effective interface id", () => {
    expect(effectiveInterfaceId({ ipv6: "2001:db8::1:2", ipv6Ifid: null })).toBe("::1:2");
    expect(effectiveInterfaceId({ ipv6: null, ipv6Ifid: "::9" })).toBe("::9");
  });
  it("interface ids are normalised to the low 64 bits", () => {
    expect(normalizeInterfaceId("::ABCD")).toBe("::abcd");
    expect(normalizeInterfaceId("1:2:3:4")).toBe("::1:2:3:4");
    expect(normalizeInterfaceId("2001:db8:1:2:a:b:c:d")).toBe("::a:b:c:d");
    expect(() => normalizeInterfaceId("2001:db8::")).toThrow(/all-zero/);
    expect(() => normalizeInterfaceId("::")).toThrow(/all-zero/);
    expect(() => normalizeInterfaceId("nonsense")).toThrow();
  });
});

describe("client address", () => {
  const trusted = [parseCidr("10.0.0.0/8")!, parseCidr("::1")!];
  it("is the socket's unless the socket is a trusted proxy", () => {
    expect(resolveClientAddress("198.51.100.1", "1.2.3.4", "5.6.7.8", trusted)).toBe("198.51.100.1");
    expect(resolveClientAddress("10.1.1.1", "1.2.3.4", null, trusted)).toBe("1.2.3.4");
    expect(resolveClientAddress("::ffff:10.1.1.1", null, "5.6.7.8", trusted)).toBe("5.6.7.8");
  });
  it("reads X-Forwarded-For from the right, skipping trusted hops; a forged left part is ignored", () => {
    expect(resolveClientAddress("10.1.1.1", "6.6.6.6, 1.2.3.4, 10.2.2.2", null, trusted)).toBe("1.2.3.4");
    expect(resolveClientAddress("10.1.1.1", "garbage", null, trusted)).toBe("10.1.1.1");
  });
  it("no proxies configured: headers are never believed", () => {
    expect(resolveClientAddress("127.0.0.1", "1.2.3.4", "1.2.3.4", [])).toBe("127.0.0.1");
  });
});
