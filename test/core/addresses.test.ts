import { describe, expect, it } from "vitest";
import {
  cidrContains,
  composeIPv6,
  interfaceIdOf,
  isNetworkAddress,
  parseCidr,
  parseIP,
  parseIPv4,
  parseIPv6,
  unusableHostAddress,
  sourcePrefix,
  unmapIPv4,
} from "../../src/core/addresses";

describe("IPv4", () => {
  it.each(["1.2.3.4", "0.0.0.0", "255.255.255.255", "203.0.113.10"])("accepts %s", (a) => expect(parseIPv4(a)).toBe(a));
  it.each(["010.1.1.1", "1.1.1", "1.1.1.1.1", "256.1.1.1", "0x1.1.1.1", "1.2.3.-4", " 1.2.3.4", "1.2.3.4 ", "", "1..2.3", "01.2.3.4"])("refuses %j", (a) =>
    expect(parseIPv4(a)).toBeNull(),
  );
});

describe("IPv6", () => {
  it.each([
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::0:1", "2001:db8::1"],
    ["2001:db8:1:1:1:1:1:0", "2001:db8:1:1:1:1:1:0"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
  ])("canonicalises %s to %s", (a, b) => expect(parseIPv6(a)).toBe(b));
  it.each(["2001:db8::1::1", "2001:db8:::1", "12345::", "2001:db8::g", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1:2", "::1.2.3", ""])(
    "refuses %j",
    (a) => expect(parseIPv6(a)).toBeNull(),
  );
});

describe("helpers", () => {
  it("detects families and unmaps IPv4-mapped socket addresses", () => {
    expect(parseIP("1.2.3.4")).toEqual({ family: 4, address: "1.2.3.4" });
    expect(parseIP("2001:db8::1")).toEqual({ family: 6, address: "2001:db8::1" });
    expect(parseIP("nope")).toBeNull();
    expect(unmapIPv4("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(unmapIPv4("2001:db8::1")).toBe("2001:db8::1");
  });
  it("matches CIDRs", () => {
    const c = parseCidr("192.0.2.0/24")!;
    expect(cidrContains(c, "192.0.2.55")).toBe(true);
    expect(cidrContains(c, "192.0.3.1")).toBe(false);
    expect(cidrContains(c, "::ffff:192.0.2.1")).toBe(true);
    expect(cidrContains(parseCidr("2001:db8::/32")!, "2001:db8:ffff::1")).toBe(true);
    expect(parseCidr("1.2.3.4/33")).toBeNull();
    expect(parseCidr("1.2.3.4/x")).toBeNull();
  });
  it("keys a client by its source prefix: IPv4 address (or /24), IPv6 /64 (or /56)", () => {
    expect(sourcePrefix("192.0.2.7", 32, 64)).toBe("4:c0000207");
    expect(sourcePrefix("::ffff:192.0.2.7", 32, 64)).toBe("4:c0000207");
    expect(sourcePrefix("192.0.2.7", 24, 56)).toBe(sourcePrefix("192.0.2.200", 24, 56));
    expect(sourcePrefix("192.0.2.7", 24, 56)).not.toBe(sourcePrefix("192.0.3.7", 24, 56));
    // One customer's /64, whatever interface ids it uses, is one source.
    expect(sourcePrefix("2001:db8:1:2::1", 32, 64)).toBe(sourcePrefix("2001:db8:1:2:ffff:1:2:3", 32, 64));
    expect(sourcePrefix("2001:db8:1:2::1", 32, 64)).not.toBe(sourcePrefix("2001:db8:1:3::1", 32, 64));
    expect(sourcePrefix("2001:db8:1:2::1", 32, 56)).toBe(sourcePrefix("2001:db8:1:ff::1", 32, 56));
    expect(sourcePrefix("2001:db8:1:2::1", 32, 56)).not.toBe(sourcePrefix("2001:db8:1:100::1", 32, 56));
    expect(sourcePrefix("1.2.3.4", 32, 64)).not.toBe(sourcePrefix("::102:304", 32, 32));
    expect(sourcePrefix("nope", 32, 64)).toBe("");
  });
  it("composes an IPv6 prefix with an interface id", () => {
    expect(composeIPv6("2001:db8:1:2::", 64, "::abcd")).toBe("2001:db8:1:2::abcd");
    expect(composeIPv6("2001:db8:1:2::", 56, "::1:2:3:4:5")).toBe("2001:db8:1:1:2:3:4:5");
    expect(interfaceIdOf("2001:db8:1:2:a:b:c:d")).toBe("::a:b:c:d");
    expect(isNetworkAddress("2001:db8:1:2::", 64)).toBe(true);
    expect(isNetworkAddress("2001:db8:1:2::1", 64)).toBe(false);
  });
});

describe("unusableHostAddress: what no A or AAAA may hold", () => {
  it.each([
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["0:0:0:0:0:0:0:0", "unspecified"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["224.0.0.0", "multicast"],
    ["239.255.255.255", "multicast"],
    ["ff02::1", "multicast"],
    ["FF0E::101", "multicast"],
    ["::ffff:224.0.0.1", "multicast"],
    ["::ffff:e000:1", "multicast"],
    ["255.255.255.255", "broadcast"],
  ])("%s is %s", (addr, why) => {
    expect(unusableHostAddress(addr)).toBe(why);
  });
  it.each([
    "10.0.0.1",
    "127.0.0.1",
    "192.168.0.1",
    "169.254.0.1",
    "0.0.0.1",
    "223.255.255.255",
    "240.0.0.1",
    "255.255.255.254",
    "::1",
    "fe80::1",
    "fd00::1",
    "ff::1",
    "feff::1",
    "2001:db8::1",
  ])("%s is allowed", (addr) => {
    expect(unusableHostAddress(addr)).toBeNull();
  });
});
