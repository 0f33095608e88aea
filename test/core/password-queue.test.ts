/**
 * Password hashing under a flood (core/limits.ts FairHashQueue, LoginDelays): no wall clock.
 * Hashes are promises the test finishes one by one, so the order in which they start is
 * exact; the failure delay runs on a hand-moved clock.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_LOGIN_DELAYS, FairHashQueue, type HashFor, type HashStart, LoginDelays } from "../../src/core/limits";
import { TestClock } from "../helpers/platform";

/** A queue whose hashes wait until the test finishes them; every start is recorded. */
function gated(slots = 2, maxQueued = 64, maxPerSource = 16) {
  const starts: HashStart[] = [];
  const running: (() => void)[] = [];
  const q = new FairHashQueue(slots, maxQueued, maxPerSource, (s) => starts.push(s));
  const submit = (who: HashFor) => {
    const p = q.run(who, () => new Promise<void>((r) => running.push(r)));
    const outcome = p.then(
      () => "done" as const,
      (e) => e.code as string,
    );
    return outcome;
  };
  /** Finishes the oldest running hash and lets the queue hand out the slot. */
  const finishOne = async () => {
    running.shift()?.();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { q, starts, submit, finishOne, running };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe("FairHashQueue", () => {
  it("300 wrong logins for one account from 127.0.0.2-31, then the right one from 127.0.0.40: at most two other hashes run before it", async () => {
    const g = gated();
    const flood: Promise<string>[] = [];
    for (let i = 0; i < 300; i++) flood.push(g.submit({ source: `127.0.0.${2 + (i % 30)}`, account: "owner@example.com" }));
    await flush();
    expect(g.q.stats).toMatchObject({ running: 2, queued: 64 });
    // The flood has been running for a while: every source of it has had turns.
    for (let i = 0; i < 40; i++) await g.finishOne();
    expect(g.q.stats.queued).toBeGreaterThan(20);
    const before = g.starts.length;
    const owner = g.submit({ source: "127.0.0.40", account: "owner@example.com" });
    await flush();
    // Both slots were busy: the owner's hash is the next to start, after at most the two that were running.
    await g.finishOne();
    const mine = g.starts.findIndex((s) => s.source === "127.0.0.40");
    expect(mine).toBe(before);
    expect(g.starts[mine]!.startedAhead).toBe(0);
    while (g.running.length) await g.finishOne();
    expect(await owner).toBe("done");
    // The flood: what did not fit was refused at once (429), never queued without bound.
    const outcomes = await Promise.all(flood);
    expect(outcomes.filter((o) => o === "rate_limited").length).toBeGreaterThan(0);
    expect(outcomes.every((o) => o === "done" || o === "rate_limited")).toBe(true);
  });

  it("the owner arriving early in the flood, before its sources all had a turn, is still next", async () => {
    const g = gated();
    for (let i = 0; i < 300; i++) g.submit({ source: `127.0.0.${2 + (i % 30)}`, account: "owner@example.com" });
    await flush();
    await g.finishOne();
    const before = g.starts.length;
    g.submit({ source: "127.0.0.40", account: "owner@example.com" });
    await flush();
    await g.finishOne();
    expect(g.starts[before]).toMatchObject({ source: "127.0.0.40", startedAhead: 0 });
    while (g.running.length) await g.finishOne();
  });

  it("gives each backlogged source one turn per round, so a long queue cannot starve a short one", async () => {
    const g = gated(1, 64, 16);
    for (let i = 0; i < 16; i++) g.submit({ source: "a", account: "x" });
    await flush();
    for (let i = 0; i < 3; i++) g.submit({ source: "b", account: "x" });
    g.submit({ source: "c", account: "x" });
    await flush();
    for (let i = 0; i < 10; i++) await g.finishOne();
    // a was running; c asks for one hash, b for three: c first among the never served.
    expect(
      g.starts
        .slice(0, 9)
        .map((s) => s.source)
        .join(""),
    ).toBe("acbababaa");
  });

  it("within one source (one NAT), turns go round the accounts", async () => {
    const g = gated(1);
    for (let i = 0; i < 8; i++) g.submit({ source: "nat", account: "victim@example.com" });
    await flush();
    g.submit({ source: "nat", account: "me@example.com" });
    await flush();
    await g.finishOne();
    await g.finishOne();
    expect(g.starts.map((s) => s.account)).toEqual(["victim@example.com", "me@example.com", "victim@example.com"]);
  });

  it("bounds each source's queue, and when full lets a lighter source displace the heaviest's newest", async () => {
    const g = gated(1, 4, 3);
    const a = [0, 1, 2, 3, 4].map(() => g.submit({ source: "a", account: "x" }));
    await flush();
    // One runs, three queue; a fourth queued one from "a" is over its source bound.
    expect(await a[4]).toBe("rate_limited");
    const b = g.submit({ source: "b", account: "x" });
    const c = g.submit({ source: "c", account: "x" });
    await flush();
    // Full (a a a b): c displaced a's newest.
    expect(await a[3]).toBe("rate_limited");
    while (g.running.length || g.q.stats.queued) await g.finishOne();
    expect(await Promise.all([a[0], a[1], a[2], b, c])).toEqual(["done", "done", "done", "done", "done"]);
  });

  it("refuses without spending a hash when the caller became locked out while it waited", async () => {
    const g = gated(1);
    g.submit({ source: "a", account: "x" });
    await flush();
    let locked = false;
    const p = g.q.run(
      { source: "b", account: "x" },
      async () => "hashed",
      () => {
        if (locked) throw Object.assign(new Error("locked"), { code: "locked_out" });
      },
    );
    locked = true;
    await g.finishOne();
    await expect(p).rejects.toMatchObject({ code: "locked_out" });
    expect(g.starts.map((s) => s.source)).toEqual(["a"]);
  });
});

describe("LoginDelays (per-account failure delay)", () => {
  const who = (source: string): HashFor => ({ source, account: "owner@example.com" });

  it("lets five failures of an account pass; past that, each failing source waits 10 s, doubling, at most 10 minutes", () => {
    const clock = new TestClock();
    // A day-long counting window, so the doubling is seen up to its cap.
    const d = new LoginDelays(clock, { ...DEFAULT_LOGIN_DELAYS, windowSeconds: 86_400 });
    for (let i = 0; i < 5; i++) d.failed(who(`10.0.0.${i}`));
    for (let i = 0; i < 5; i++) expect(d.waitFor(who(`10.0.0.${i}`))).toBe(0);
    d.failed(who("10.0.0.9"));
    expect(d.waitFor(who("10.0.0.9"))).toBe(10);
    expect(() => d.check(who("10.0.0.9"))).toThrow(expect.objectContaining({ code: "locked_out", retryAfter: 10 }));
    clock.advance(10);
    d.failed(who("10.0.0.9"));
    expect(d.waitFor(who("10.0.0.9"))).toBe(20);
    for (let i = 0; i < 20; i++) {
      clock.advance(d.waitFor(who("10.0.0.9")));
      d.failed(who("10.0.0.9"));
    }
    expect(d.waitFor(who("10.0.0.9"))).toBe(600);
  });

  it("never delays a source that has not failed for the account, and a success clears a source's delay", () => {
    const clock = new TestClock();
    const d = new LoginDelays(clock);
    for (let i = 0; i < 300; i++) d.failed(who(`127.0.0.${2 + (i % 30)}`));
    expect(d.waitFor(who("127.0.0.2"))).toBeGreaterThan(0);
    expect(d.waitFor(who("127.0.0.40"))).toBe(0);
    expect(() => d.check(who("127.0.0.40"))).not.toThrow();
    // Another account is not touched.
    expect(d.waitFor({ source: "127.0.0.2", account: "other@example.com" })).toBe(0);
    clock.advance(600);
    expect(d.waitFor(who("127.0.0.2"))).toBe(0);
    d.succeeded(who("127.0.0.2"));
    d.failed(who("127.0.0.2"));
    expect(d.waitFor(who("127.0.0.2"))).toBe(10);
  });
});
