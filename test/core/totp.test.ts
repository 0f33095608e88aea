import { describe, expect, it } from "vitest";
import { base32Decode, base32Encode, hotp, matchTotp, otpauthUrl, totpAt } from "../../src/core/totp";
import { testPlatform } from "../helpers/platform";

const p = testPlatform();
// RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const RFC_SECRET = base32Encode(new TextEncoder().encode("12345678901234567890"));

describe("TOTP (RFC 6238)", () => {
  it.each([
    [59, "287082"],
    [1111111109, "081804"],
    [1111111111, "050471"],
    [1234567890, "005924"],
    [2000000000, "279037"],
    [20000000000, "353130"],
  ])("gives the RFC 6238 test vector at T=%i (last 6 digits)", (t, pin) => {
    expect(totpAt(p, RFC_SECRET, t * 1000)).toBe(pin);
  });

  it("gives the RFC 4226 HOTP vectors", () => {
    const key = new TextEncoder().encode("12345678901234567890");
    expect([0, 1, 2, 9].map((c) => hotp(p, key, c))).toEqual(["755224", "287082", "359152", "520489"]);
  });

  it("round-trips base32 and refuses characters outside the alphabet", () => {
    const bytes = p.randomBytes(20);
    expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
    expect(base32Decode("JBSW Y3DP ehpk3pxp")).toEqual(base32Decode("JBSWY3DPEHPK3PXP"));
    expect(base32Decode("ABC1")).toBeNull();
  });

  it("accepts the previous, current and next step and nothing further", () => {
    const t = 1_700_000_000_000;
    for (const skew of [-30, 0, 30]) expect(matchTotp(p, RFC_SECRET, totpAt(p, RFC_SECRET, t + skew * 1000), t, null)).not.toBeNull();
    for (const skew of [-90, -60, 60, 90]) expect(matchTotp(p, RFC_SECRET, totpAt(p, RFC_SECRET, t + skew * 1000), t, null)).toBeNull();
  });

  it("never accepts a step at or before the last used one (no replay)", () => {
    const t = 1_700_000_000_000;
    const pin = totpAt(p, RFC_SECRET, t);
    const step = matchTotp(p, RFC_SECRET, pin, t, null)!;
    expect(matchTotp(p, RFC_SECRET, pin, t, step)).toBeNull();
    expect(matchTotp(p, RFC_SECRET, totpAt(p, RFC_SECRET, t - 30_000), t, step)).toBeNull();
    expect(matchTotp(p, RFC_SECRET, totpAt(p, RFC_SECRET, t + 30_000), t, step)).toBe(step + 1);
  });

  it("refuses malformed pins", () => {
    for (const bad of ["", "12345", "1234567", "abcdef", " 12345", "12 345"]) expect(matchTotp(p, RFC_SECRET, bad, 0, null)).toBeNull();
  });

  it("builds an otpauth:// URL authenticator apps read", () => {
    const u = new URL(otpauthUrl("ipkeep", "me@example.com", "JBSWY3DPEHPK3PXP"));
    expect(u.protocol).toBe("otpauth:");
    expect(u.host).toBe("totp");
    expect(decodeURIComponent(u.pathname)).toBe("/ipkeep:me@example.com");
    expect(u.searchParams.get("secret")).toBe("JBSWY3DPEHPK3PXP");
    expect(u.searchParams.get("issuer")).toBe("ipkeep");
    expect(u.searchParams.get("period")).toBe("30");
    expect(u.searchParams.get("digits")).toBe("6");
  });
});
