import { describe, expect, it } from "vitest";
import { ChallengeExpiry, challengeHostname, dns01Value, normalizeChallengeValue } from "../../src/core/acme";
import { IpkeepError } from "../../src/core/errors";
import { TestClock, testPlatform } from "../helpers/platform";

const code = (fn: () => unknown) => {
  try {
    fn();
    return null;
  } catch (e) {
    return (e as IpkeepError).code;
  }
};

describe("challengeHostname", () => {
  it.each([
    ["home.dyn.example.com", "home.dyn.example.com"],
    ["_acme-challenge.home.dyn.example.com.", "home.dyn.example.com"],
    ["_ACME-Challenge.Home.Dyn.Example.COM", "home.dyn.example.com"],
    ["*.home.dyn.example.com", "home.dyn.example.com"],
  ])("%s is the challenge of %s", (input, host) => {
    expect(challengeHostname(input)).toBe(host);
  });
  it.each(["", "_x.home.example.com", "_acme-challenge._acme-challenge.home.example.com", "home..example.com", "a/b.example.com", "*.*.example.com", 42, null])(
    "%s is refused",
    (input) => {
      expect(code(() => challengeHostname(input))).toBe("invalid_hostname");
    },
  );
});

describe("DNS-01 values", () => {
  it("RFC 8555 8.4: base64url(SHA-256(key authorization)), 43 characters", () => {
    expect(dns01Value(testPlatform(), "abc")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  });
  it("accepts exactly that shape", () => {
    expect(normalizeChallengeValue("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    for (const bad of ["", "short", "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0", 43, null]) {
      expect(code(() => normalizeChallengeValue(bad))).toBe("invalid_input");
    }
  });
});

describe("ChallengeExpiry", () => {
  function setup(next: (number | null)[]) {
    const clock = new TestClock(1_000_000_000);
    const set: number[] = [];
    let expired = 0;
    const store = {
      challenges: {
        nextExpiry: () => next.shift() ?? null,
        removeExpired: () => {
          expired++;
          return [];
        },
      },
      transaction: <T>(fn: () => T) => fn(),
    };
    let pending: (() => void) | null = null;
    const timers = {
      set: (fn: () => void, ms: number) => {
        set.push(ms);
        pending = fn;
        return set.length;
      },
      clear: () => {
        pending = null;
      },
    };
    const expiry = new ChallengeExpiry({ store, platform: testPlatform(clock), changes: { zoneChanged() {} } } as never, clock, timers);
    const fire = () => {
      const fn = pending;
      pending = null;
      fn?.();
    };
    return { expiry, set, clock, fire, expiredCount: () => expired, pending: () => pending };
  }

  it("waits until the earliest expiry, then expires and looks again", () => {
    const t = setup([1_000_100, 1_000_200, null]);
    t.expiry.reschedule();
    expect(t.set).toEqual([100_000]);
    t.clock.advance(100);
    t.fire();
    expect(t.expiredCount()).toBe(1);
    expect(t.set).toEqual([100_000, 100_000]);
    t.clock.advance(100);
    t.fire();
    expect(t.pending()).toBeNull();
  });
  it("a sooner expiry replaces the timer, a later one does not", () => {
    const t = setup([1_000_500]);
    t.expiry.reschedule();
    t.expiry.consider(1_000_900);
    t.expiry.consider(1_000_050);
    expect(t.set).toEqual([500_000, 50_000]);
  });
  it("never waits more than a day (setTimeout's range, clock steps)", () => {
    const t = setup([1_000_000 + 90 * 86400]);
    t.expiry.reschedule();
    expect(t.set).toEqual([86_400_000]);
  });
});
