/**
 * Response rate limiting on real answers (answer() over a zone with hosts, a delegation and
 * a wildcard), with a hand-driven clock.
 */
import { describe, expect, it } from "vitest";
import type { ZoneData } from "../../src/core/ports";
import { answer } from "../../src/dns/answer";
import { peerBytes, RRL_DEFAULTS, RRL_DROP, RRL_SEND, RRL_SLIP, type RrlConfig, ResponseRateLimiter, slipped } from "../../src/dns/rrl";
import { buildZone, ZoneSet } from "../../src/dns/zone";
import { fuzzPacket, rng } from "../helpers/fuzz-packets";
import { query } from "../helpers/dns-client";

const Z = "dyn.example.com";
const zoneData: ZoneData = {
  id: 1,
  name: Z,
  serial: 7,
  soa: { mname: `ns1.${Z}`, rname: `hostmaster.${Z}`, refresh: 3600, retry: 600, expire: 1209600, minimum: 60, ttl: 3600 },
  nsTtl: 3600,
  nameservers: [{ name: `ns1.${Z}`, ipv4: "192.0.2.53", ipv6: null }],
  hosts: [
    { name: `home.${Z}`, ipv4: "203.0.113.10", ipv6: "2001:db8::10", ttl: 60 },
    { name: `work.${Z}`, ipv4: "203.0.113.11", ipv6: null, ttl: 60 },
  ],
  records: [
    { name: `sub.${Z}`, type: "NS", ttl: 60, content: "ns.elsewhere.example." },
    { name: `other.${Z}`, type: "NS", ttl: 60, content: "ns.elsewhere.example." },
  ],
};
const zones = new ZoneSet();
zones.set(buildZone(zoneData));
const reply = (name: string, type = "A") => answer(query(name, type), zones, { transport: "udp" })!;

const V4 = (s: string) => {
  const b = new Uint8Array(16);
  expect(peerBytes(s, b)).toBe(4);
  return b;
};
const V6 = (s: string) => {
  const b = new Uint8Array(16);
  expect(peerBytes(s, b)).toBe(6);
  return b;
};

/** How many of `n` answers (each from `make(i)`) are sent in full at one instant. */
function sentOf(rrl: ResponseRateLimiter, n: number, make: (i: number) => Uint8Array, src: Uint8Array, v6 = false, now = 1000): number {
  let sent = 0;
  for (let i = 0; i < n; i++) if (rrl.check(make(i), src, 0, v6, now) === RRL_SEND) sent++;
  return sent;
}

const limiter = (c: Partial<RrlConfig> = {}) => new ResponseRateLimiter({ ...RRL_DEFAULTS, rate: 10, ...c });

describe("response rate limiting", () => {
  it("defaults as NSD: 200 a second, every 2nd dropped answer slipped, IPv4 /24; IPv6 /56 as Knot", () => {
    expect(RRL_DEFAULTS).toEqual({ rate: 200, slip: 2, ipv4Prefix: 24, ipv6Prefix: 56 });
  });

  it("sends `rate` answers at once, then one per 1/rate seconds (a token bucket of one second)", () => {
    const rrl = limiter();
    const src = V4("192.0.2.1");
    const r = reply(`home.${Z}`);
    expect(sentOf(rrl, 100, () => r, src, false, 1000)).toBe(10);
    // 100 ms later: one more; after a long pause, a full second's worth and no more.
    expect(sentOf(rrl, 100, () => r, src, false, 1100)).toBe(1);
    expect(sentOf(rrl, 100, () => r, src, false, 60_000)).toBe(10);
  });

  it("slips every 2nd dropped answer (slip 2), none with slip 0, all with slip 1", () => {
    for (const [slip, want] of [
      [2, 45],
      [0, 0],
      [1, 90],
    ] as const) {
      const rrl = limiter({ slip });
      const r = reply(`home.${Z}`);
      const verdicts = Array.from({ length: 100 }, () => rrl.check(r, V4("192.0.2.1"), 0, false, 5000));
      expect(verdicts.filter((v) => v === RRL_SEND).length).toBe(10);
      expect(verdicts.filter((v) => v === RRL_SLIP).length).toBe(want);
      expect(verdicts.filter((v) => v === RRL_DROP).length).toBe(90 - want);
    }
  });

  it("a slipped answer is the header and question with TC and no records: no larger than the query", () => {
    const rrl = limiter();
    const r = reply(`home.${Z}`, "TXT");
    rrl.check(r, V4("192.0.2.1"), 0, false, 0);
    const s = slipped(r, rrl.questionEnd);
    const q = query(`home.${Z}`, "TXT");
    expect(s.length).toBe(q.length);
    expect(s[2]! & 0x02).toBe(2); // TC
    expect(s[3]).toBe(r[3]); // rcode kept
    expect([...s.subarray(6, 12)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([...s.subarray(12)]).toEqual([...q.subarray(12)]);
    expect([...s.subarray(0, 2)]).toEqual([...r.subarray(0, 2)]); // the id
  });

  it("counts positive answers per name, so one flooded name does not starve another", () => {
    const rrl = limiter();
    const src = V4("192.0.2.1");
    expect(sentOf(rrl, 50, () => reply(`home.${Z}`), src)).toBe(10);
    expect(sentOf(rrl, 50, () => reply(`work.${Z}`), src)).toBe(10);
    // Case does not make a new name (0x20 spelling is one name).
    expect(sentOf(rrl, 5, () => reply(`HoMe.${Z}`), src)).toBe(0);
  });

  it("counts NXDOMAIN and NODATA per zone: a random-subdomain flood shares one bucket", () => {
    const rrl = limiter();
    const src = V4("192.0.2.1");
    expect(sentOf(rrl, 50, (i) => reply(`x${i}.${Z}`), src)).toBe(10);
    expect(sentOf(rrl, 50, (i) => reply(`a${i}.b${i}.${Z}`), src)).toBe(0);
    // NODATA is a class of its own (per zone too), and positive answers are untouched.
    expect(sentOf(rrl, 50, () => reply(`work.${Z}`, "AAAA"), src)).toBe(10);
    expect(sentOf(rrl, 50, () => reply(`home.${Z}`, "TXT"), src)).toBe(0);
    expect(sentOf(rrl, 5, () => reply(`home.${Z}`), src)).toBe(5);
  });

  it("counts referrals per delegation point, and errors per source", () => {
    const rrl = limiter();
    const src = V4("192.0.2.1");
    expect(sentOf(rrl, 50, (i) => reply(`h${i}.sub.${Z}`), src)).toBe(10);
    expect(sentOf(rrl, 5, (i) => reply(`h${i}.other.${Z}`), src)).toBe(5);
    // REFUSED (not our zone) of any name, then FORMERR: one "error" bucket for the source.
    expect(sentOf(rrl, 50, (i) => reply(`n${i}.example.org`), src)).toBe(10);
    const formerr = answer(new Uint8Array([0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]), zones, { transport: "udp" })!;
    expect(formerr[3]! & 0x0f).toBe(1);
    expect(rrl.check(formerr, src, 0, false, 1000)).not.toBe(RRL_SEND);
  });

  it("groups IPv4 sources by /24 and IPv6 by /56; other prefixes have budgets of their own", () => {
    const rrl = limiter();
    const r = reply(`home.${Z}`);
    expect(sentOf(rrl, 50, () => r, V4("192.0.2.1"))).toBe(10);
    expect(sentOf(rrl, 5, () => r, V4("192.0.2.200"))).toBe(0);
    expect(sentOf(rrl, 5, () => r, V4("::ffff:192.0.2.9"))).toBe(0);
    expect(sentOf(rrl, 5, () => r, V4("192.0.3.1"))).toBe(5);
    expect(sentOf(rrl, 50, () => r, V6("2001:db8:1:200::1"), true)).toBe(10);
    expect(sentOf(rrl, 5, () => r, V6("2001:db8:1:2ff:ffff::9"), true)).toBe(0);
    expect(sentOf(rrl, 5, () => r, V6("2001:db8:1:300::1"), true)).toBe(5);
    // --rrl-ipv4-prefix 32: every address is its own source.
    const exact = limiter({ ipv4Prefix: 32 });
    expect(sentOf(exact, 50, () => r, V4("192.0.2.1"))).toBe(10);
    expect(sentOf(exact, 5, () => r, V4("192.0.2.2"))).toBe(5);
  });

  it("reads client addresses as node:dgram writes them, without a string per IPv4 packet", () => {
    const b = new Uint8Array(16);
    expect(peerBytes("127.0.0.2", b)).toBe(4);
    expect([...b.subarray(0, 4)]).toEqual([127, 0, 0, 2]);
    expect(peerBytes("::ffff:10.1.2.3", b)).toBe(4);
    expect([...b.subarray(0, 4)]).toEqual([10, 1, 2, 3]);
    expect(peerBytes("2001:db8::1", b)).toBe(6);
    expect(b[0]).toBe(0x20);
    expect(b[15]).toBe(1);
    expect(peerBytes("", b)).toBe(0);
    expect(peerBytes("1.2.3.999", b)).toBe(0);
  });

  it("takes any answer our server writes, to hostile queries too, without throwing", () => {
    const r = rng(11);
    const rrl = limiter();
    const src = V4("192.0.2.1");
    let checked = 0;
    const bad: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const out = answer(fuzzPacket(r, Z), zones, { transport: "udp" });
      if (!out) continue;
      const v = rrl.check(out, src, 0, false, i);
      if (![RRL_SEND, RRL_DROP, RRL_SLIP].includes(v) || rrl.questionEnd > out.length) bad.push(i);
      checked++;
    }
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
    for (const junk of [new Uint8Array(12), new Uint8Array([0, 0, 0x84, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0xc0, 0x0c]), new Uint8Array(3)]) {
      expect(() => rrl.check(junk, src, 0, false, 0)).not.toThrow();
    }
  });
});
