import { describe, expect, it } from "vitest";
import { constantTimeEqual, hashToken, looksLikeToken, mintToken } from "../../src/core/tokens";
import { testPlatform } from "../helpers/platform";

describe("tokens", () => {
  const p = testPlatform();
  it("are a prefix plus 256 random bits, stored as SHA-256", () => {
    const t = mintToken(p, "update");
    expect(t.value).toMatch(/^ipk_[A-Za-z0-9_-]{43}$/);
    expect(t.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(t.hash).toBe(hashToken(p, t.value));
    expect(t.hint).toBe(`${t.value.slice(0, 8)}…`);
    expect(t.hash).not.toContain(t.value.slice(4, 20));
  });
  it("never repeat", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => mintToken(p, "update").value));
    expect(seen.size).toBe(1000);
  });
  it("are recognised by kind", () => {
    expect(looksLikeToken(mintToken(p, "update").value, "update")).toBe(true);
    expect(looksLikeToken(mintToken(p, "apiKey").value, "update")).toBe(false);
    expect(looksLikeToken("ipk_abc def", "update")).toBe(false);
    expect(looksLikeToken(`ipk_${"a".repeat(500)}`, "update")).toBe(false);
  });
  it("compare in constant time semantics", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
  });
});
