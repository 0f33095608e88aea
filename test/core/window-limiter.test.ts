import { describe, expect, it } from "vitest";
import { WindowLimiter } from "../../src/core/limits";
import { TestClock } from "../helpers/platform";

describe("WindowLimiter", () => {
  it("allows the limit per window, then refuses until the window ends", () => {
    const clock = new TestClock();
    const r = new WindowLimiter(clock);
    const seen = Array.from({ length: 11 }, () => r.hit("login|1.2.3.4", 10));
    expect(seen.slice(0, 10).every((d) => d.allowed)).toBe(true);
    expect(seen[9]!.remaining).toBe(0);
    expect(seen[10]).toMatchObject({ allowed: false, remaining: 0, limit: 10, resetIn: 60 });
    clock.advance(45);
    expect(r.hit("login|1.2.3.4", 10)).toMatchObject({ allowed: false, resetIn: 15 });
    clock.advance(15);
    expect(r.hit("login|1.2.3.4", 10)).toMatchObject({ allowed: true, remaining: 9 });
  });

  it("counts keys apart", () => {
    const r = new WindowLimiter(new TestClock());
    r.hit("a", 1);
    expect(r.hit("a", 1).allowed).toBe(false);
    expect(r.hit("b", 1).allowed).toBe(true);
  });

  it("keeps memory bounded: never more keys than its maximum", () => {
    const clock = new TestClock();
    const r = new WindowLimiter(clock, 60_000, 100);
    for (let i = 0; i < 10_000; i++) r.hit(`k${i}`, 5);
    expect(r.size).toBeLessThanOrEqual(100);
    clock.advance(61);
    r.hit("fresh", 5);
    expect(r.size).toBeLessThanOrEqual(100);
  });
});
