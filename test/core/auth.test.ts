import { describe, expect, it } from "vitest";
import { checkPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, normalizeEmail, PasswordHasher } from "../../src/core/auth";
import { IpkeepError } from "../../src/core/errors";
import type { Platform } from "../../src/core/platform";
import { testPlatform } from "../helpers/platform";

/** A platform whose hashing waits until released, so the test sees how many run at once. */
function gatedPlatform() {
  const base = testPlatform();
  let running = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  const gate = async <T>(v: T) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise<void>((r) => waiting.push(r));
    running--;
    return v;
  };
  const platform: Platform = {
    ...base,
    hashPassword: (pw) => gate(`hash:${pw}`),
    verifyPassword: (pw, hash) => gate(hash === `hash:${pw}`),
  };
  return {
    platform,
    peak: () => peak,
    running: () => running,
    releaseAll: async () => {
      while (waiting.length || running) {
        for (const r of waiting.splice(0)) r();
        await new Promise((r) => setTimeout(r, 1));
      }
    },
  };
}

describe("password policy", () => {
  it(`needs ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`, () => {
    expect(() => checkPassword("x".repeat(MIN_PASSWORD_LENGTH - 1))).toThrow(IpkeepError);
    expect(() => checkPassword("x".repeat(MIN_PASSWORD_LENGTH))).not.toThrow();
    expect(() => checkPassword("x".repeat(MAX_PASSWORD_LENGTH + 1))).toThrow(/at most/);
  });

  it("normalises e-mail addresses and refuses malformed ones", () => {
    expect(normalizeEmail("  Me@Example.COM ")).toBe("me@example.com");
    for (const bad of ["", "me", "me@", "@example.com", "me@example", "a b@example.com", `${"x".repeat(250)}@example.com`]) {
      expect(() => normalizeEmail(bad), bad).toThrow(IpkeepError);
    }
  });
});

describe("PasswordHasher", () => {
  it("never runs more than its bound of argon2 operations at once", async () => {
    const g = gatedPlatform();
    const hasher = new PasswordHasher(g.platform, { slots: 2, maxQueued: 100 });
    const all = Promise.all(Array.from({ length: 10 }, (_, i) => hasher.hash(`password-${i}`)));
    await new Promise((r) => setTimeout(r, 5));
    expect(g.running()).toBe(2);
    await g.releaseAll();
    expect(await all).toHaveLength(10);
    expect(g.peak()).toBe(2);
  });

  it("refuses beyond its queue bound (429) instead of piling up memory", async () => {
    const g = gatedPlatform();
    const hasher = new PasswordHasher(g.platform, { slots: 1, maxQueued: 2 });
    const accepted = [hasher.hash("password-1"), hasher.hash("password-2"), hasher.hash("password-3")];
    await expect(hasher.hash("password-4")).rejects.toMatchObject({ code: "rate_limited" });
    await g.releaseAll();
    await Promise.all(accepted);
  });

  it("verifies against a dummy hash when there is none, so an unknown user costs the same", async () => {
    let verifies = 0;
    const base = testPlatform();
    const platform: Platform = {
      ...base,
      hashPassword: async (pw) => `hash:${pw}`,
      verifyPassword: async (pw, hash) => {
        verifies++;
        return hash === `hash:${pw}`;
      },
    };
    const hasher = new PasswordHasher(platform);
    expect(await hasher.verify("anything at all", null)).toBe(false);
    expect(await hasher.verify("anything at all", "hash:anything at all")).toBe(true);
    expect(verifies).toBe(2);
  });
});
