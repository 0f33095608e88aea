/**
 * Limits with a hand-moved clock: no sleeps, no timing assertions.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, Lockout, parseRate, RateLimiter, sourceKey, UpdateLimits, updateLimitConfig } from "../../src/core/limits";
import { TestClock } from "../helpers/platform";

describe("RateLimiter (token bucket)", () => {
  it("allows COUNT requests, refuses the next with Retry-After, and refills over SECONDS", () => {
    const clock = new TestClock();
    const rl = new RateLimiter({ count: 5, seconds: 10 }, clock, 100);
    for (let i = 4; i >= 1; i--) expect(rl.take("a")).toEqual({ allowed: true, limit: 5, remaining: i, retryAfter: 0 });
    // The fifth is allowed and says when the sixth would be.
    expect(rl.take("a")).toEqual({ allowed: true, limit: 5, remaining: 0, retryAfter: 2 });
    const refused = rl.take("a");
    expect(refused.allowed).toBe(false);
    expect(refused.remaining).toBe(0);
    expect(refused.retryAfter).toBe(2);
    clock.advance(2);
    expect(rl.take("a").allowed).toBe(true);
    expect(rl.take("a").allowed).toBe(false);
    clock.advance(10);
    expect(rl.peek("a").remaining).toBe(5);
  });
  it("keeps keys apart", () => {
    const rl = new RateLimiter({ count: 1, seconds: 60 }, new TestClock(), 100);
    expect(rl.take("a").allowed).toBe(true);
    expect(rl.take("a").allowed).toBe(false);
    expect(rl.take("b").allowed).toBe(true);
  });
  it("count 0 turns the limit off", () => {
    const rl = new RateLimiter({ count: 0, seconds: 1 }, new TestClock(), 100);
    for (let i = 0; i < 1000; i++) expect(rl.take("a").allowed).toBe(true);
    expect(rl.size).toBe(0);
  });
  it("never holds more keys than its bound, whatever keys arrive", () => {
    const clock = new TestClock();
    const rl = new RateLimiter({ count: 5, seconds: 10 }, clock, 1000);
    for (let i = 0; i < 50_000; i++) rl.take(`attacker-${i}`);
    expect(rl.size).toBeLessThanOrEqual(1000);
  });
});

describe("Lockout", () => {
  it("ten failures within ten minutes lock the source for ten minutes", () => {
    const clock = new TestClock();
    const lo = new Lockout(clock, 10, 600_000, 600_000, 100);
    for (let i = 0; i < 9; i++) expect(lo.fail("s")).toBe(0);
    expect(lo.fail("s")).toBe(600);
    clock.advance(599);
    expect(lo.lockedFor("s")).toBe(1);
    clock.advance(1);
    expect(lo.lockedFor("s")).toBe(0);
  });
  it("failures spread over more than the window do not lock", () => {
    const clock = new TestClock();
    const lo = new Lockout(clock, 10, 600_000, 600_000, 100);
    for (let i = 0; i < 30; i++) {
      lo.fail("s");
      clock.advance(70);
    }
    expect(lo.lockedFor("s")).toBe(0);
  });
  it("is bounded too", () => {
    const lo = new Lockout(new TestClock(), 10, 600_000, 600_000, 500);
    for (let i = 0; i < 20_000; i++) lo.fail(`x${i}`);
    expect(lo.size).toBeLessThanOrEqual(500);
  });
});

describe("sourceKey", () => {
  it("counts IPv4 per address and IPv6 per /64", () => {
    expect(sourceKey("192.0.2.1")).toBe("192.0.2.1");
    expect(sourceKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(sourceKey("2001:db8:1:2::1")).toBe(sourceKey("2001:db8:1:2:ffff::9"));
    expect(sourceKey("2001:db8:1:2::1")).not.toBe(sourceKey("2001:db8:1:3::1"));
    expect(sourceKey(null)).toBe("unknown");
  });
});

describe("UpdateLimits", () => {
  it("the defaults are 5/10 s per token, 1440 changes a day, 60/10 s per source", () => {
    expect(DEFAULT_LIMITS.tokenBurst).toEqual({ count: 5, seconds: 10 });
    expect(DEFAULT_LIMITS.dailyChanges).toBe(1440);
    expect(DEFAULT_LIMITS.sourceBurst).toEqual({ count: 60, seconds: 10 });
    const l = new UpdateLimits(new TestClock());
    for (let i = 0; i < 60; i++) expect(l.admitSource("2001:db8::1").reason).toBeNull();
    expect(l.admitSource("2001:db8::2").reason).toBe("rate_limited");
  });
  it("a locked-out source is refused before anything else", () => {
    const clock = new TestClock();
    const l = new UpdateLimits(clock);
    for (let i = 0; i < 10; i++) l.badCredentials("198.51.100.1");
    const r = l.admitSource("198.51.100.1");
    expect(r.reason).toBe("locked_out");
    expect(r.verdict.retryAfter).toBe(600);
    expect(l.admitSource("198.51.100.2").reason).toBeNull();
    clock.advance(600);
    expect(l.admitSource("198.51.100.1").reason).toBeNull();
  });
  it("the daily cap counts changes only, refilling one a minute", () => {
    const clock = new TestClock();
    const l = new UpdateLimits(clock, updateLimitConfig("0", 3));
    for (let i = 0; i < 3; i++) expect(l.spendChange(1).allowed).toBe(true);
    const v = l.spendChange(1);
    expect(v.allowed).toBe(false);
    expect(v.retryAfter).toBe(28_800);
    expect(l.admitToken(1).allowed).toBe(true);
  });
});

describe("configuration", () => {
  it("parses COUNT/SECONDS and 0", () => {
    expect(parseRate("5/10")).toEqual({ count: 5, seconds: 10 });
    expect(parseRate(" 120 / 60 ")).toEqual({ count: 120, seconds: 60 });
    expect(parseRate("0")!.count).toBe(0);
    for (const bad of ["", "5", "5/0", "a/b", "-1/10", "5/10/2", "1e3/10"]) expect(parseRate(bad)).toBeNull();
  });
  it("refuses malformed values with a clear message", () => {
    expect(() => updateLimitConfig("fast", 10)).toThrow(/COUNT\/SECONDS/);
    expect(() => updateLimitConfig("5/10", -1)).toThrow(/update-daily/);
    expect(() => updateLimitConfig("5/10", 1.5)).toThrow(/update-daily/);
  });
  it("0 turns the bursts off but keeps lockouts", () => {
    const c = updateLimitConfig("0", 0);
    expect(c.tokenBurst.count).toBe(0);
    expect(c.sourceBurst.count).toBe(0);
    expect(c.dailyChanges).toBe(0);
    expect(c.maxFailures).toBe(10);
  });
});
