import { describe, expect, it } from "vitest";
import { IpkeepError } from "../../src/core/errors";
import { findZone, inZone, mixedScriptLabel, normalizeHostname, normalizeName, relativeName, tryName } from "../../src/core/names";

describe("normalizeName", () => {
  it.each([
    ["Home.Dyn.Example.COM", "home.dyn.example.com"],
    ["home.dyn.example.com.", "home.dyn.example.com"],
    ["  a-b.example.com ", "a-b.example.com"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["bücher.example", "xn--bcher-kva.example"],
    [`${"a".repeat(63)}.example.com`, `${"a".repeat(63)}.example.com`],
  ])("accepts %s as %s", (input, expected) => {
    expect(normalizeHostname(input)).toBe(expected);
  });

  it.each([
    ["", "empty"],
    ["example", "two labels"],
    ["a..example.com", "empty label"],
    ["-a.example.com", "letters"],
    ["a-.example.com", "letters"],
    ["a_b.example.com", "letters"],
    ["_acme-challenge.example.com", "underscore"],
    [`${"a".repeat(64)}.example.com`, "longer than 63"],
    [`${"abcdefghi.".repeat(26)}com`, "longer than 253"],
    ["*.example.com", "wildcard"],
    ["a b.example.com", "letters"],
    ["a.example.123", "all digits"],
    ["a.example.com/evil", "letters"],
    ["a.example.com\u0000", "letters"],
  ])("refuses %j (%s)", (input, reason) => {
    let err: unknown;
    try {
      normalizeHostname(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IpkeepError);
    expect((err as IpkeepError).code).toBe("invalid_hostname");
    expect((err as IpkeepError).message.toLowerCase()).toContain(reason.toLowerCase());
  });

  it("refuses non-strings", () => {
    expect(() => normalizeHostname(42)).toThrow(IpkeepError);
    expect(tryName(null)).toBeNull();
  });

  it("allows underscore labels only as a leading prefix where asked", () => {
    expect(normalizeName("_acme-challenge.home.example.com", { underscore: true })).toBe("_acme-challenge.home.example.com");
    expect(normalizeName("_sip._tcp.example.com", { underscore: true })).toBe("_sip._tcp.example.com");
    expect(tryName("home._tcp.example.com", { underscore: true })).toBeNull();
    expect(normalizeName("*.example.com", { wildcard: true })).toBe("*.example.com");
    expect(tryName("a.*.example.com", { wildcard: true })).toBeNull();
  });
});

describe("zone membership", () => {
  it("is by whole labels", () => {
    expect(inZone("a.dyn.example.com", "dyn.example.com")).toBe(true);
    expect(inZone("dyn.example.com", "dyn.example.com")).toBe(true);
    expect(inZone("xdyn.example.com", "dyn.example.com")).toBe(false);
    expect(findZone("a.b.example.com", ["example.com", "b.example.com", "c.example.com"])).toBe("b.example.com");
    expect(findZone("a.example.org", ["example.com"])).toBeNull();
    expect(relativeName("home.dyn.example.com", "dyn.example.com")).toBe("home");
    expect(relativeName("dyn.example.com", "dyn.example.com")).toBe("");
  });
});

describe("internationalized names (RFC 5890/5891)", () => {
  it.each(["xn--zz.example.com", "xn--a.example.com", "xn--.example.com", "xn--bcher-kva9.example.com", "ab--cd.example.com"])(
    "refuses %s: not a valid A-label",
    (input) => {
      expect(tryName(input)).toBeNull();
      expect(() => normalizeHostname(input)).toThrow(expect.objectContaining({ code: "invalid_hostname" }));
    },
  );

  it.each([
    ["xn--bcher-kva.example.com", "xn--bcher-kva.example.com"],
    ["москва.example.com", "xn--80adxhks.example.com"],
    ["日本語.example.com", "xn--wgv71a119e.example.com"],
    ["ελλάδα.example.com", "xn--hxakic4aa.example.com"],
  ])("accepts %s as %s, one script per label", (input, want) => {
    expect(normalizeHostname(input)).toBe(want);
    expect(mixedScriptLabel(want)).toBeNull();
  });

  it("finds a label that mixes scripts (Cyrillic а beside Latin host1)", () => {
    const name = normalizeHostname("аhost1.dyn.example.com");
    expect(name).toBe("xn--host1-3ve.dyn.example.com");
    expect(mixedScriptLabel(name)).toBe("xn--host1-3ve");
    expect(mixedScriptLabel("plain.dyn.example.com")).toBeNull();
  });
});
