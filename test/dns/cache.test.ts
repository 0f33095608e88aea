/**
 * The answer cache: same bytes as answer() would give, id and question case patched, bounded,
 * dropped on any zone change.
 */
import * as packet from "dns-packet";
import { describe, expect, it } from "vitest";
import type { ZoneData } from "../../src/core/ports";
import { answer } from "../../src/dns/answer";
import { AnswerCache } from "../../src/dns/cache";
import { buildZone, ZoneSet } from "../../src/dns/zone";
import { query } from "../helpers/dns-client";

const zoneData = (addr: string): ZoneData => ({
  id: 1,
  name: "dyn.example.com",
  serial: 7,
  soa: { mname: "ns1.dyn.example.com", rname: "hostmaster.dyn.example.com", refresh: 3600, retry: 600, expire: 1209600, minimum: 60, ttl: 3600 },
  nsTtl: 3600,
  nameservers: [{ name: "ns1.dyn.example.com", ipv4: "192.0.2.53", ipv6: null }],
  hosts: [{ name: "home.dyn.example.com", ipv4: addr, ipv6: null, ttl: 60 }],
  records: [{ name: "*.wild.dyn.example.com", type: "A", ttl: 60, content: "192.0.2.7" }],
});

function setup(maxEntries?: number) {
  const zones = new ZoneSet();
  zones.set(buildZone(zoneData("203.0.113.10")));
  const cache = new AnswerCache(zones, maxEntries);
  const direct = (q: Uint8Array, t: "udp" | "tcp") => answer(q, zones, { transport: t });
  const wrapped = cache.wrap(direct);
  return { zones, cache, ask: (q: Uint8Array, t: "udp" | "tcp") => wrapped(q, t, "127.0.0.1"), direct };
}

describe("answer cache", () => {
  it("a repeated question is answered from the cache with the same bytes answer() gives", () => {
    const { cache, ask, direct } = setup();
    const first = ask(query("home.dyn.example.com", "A", { id: 1 }), "udp")!;
    const second = ask(query("home.dyn.example.com", "A", { id: 2 }), "udp")!;
    expect(cache.hits).toBe(1);
    expect(Buffer.from(second)).toEqual(Buffer.from(direct(query("home.dyn.example.com", "A", { id: 2 }), "udp")!));
    expect(packet.decode(Buffer.from(first)).id).toBe(1);
    expect(packet.decode(Buffer.from(second)).id).toBe(2);
  });

  it("patches the question's case (0x20) into the question and the answer owner", () => {
    const { cache, ask } = setup();
    ask(query("home.dyn.example.com", "A"), "udp");
    const out = packet.decode(Buffer.from(ask(query("HoMe.DyN.eXample.com", "A", { id: 77 }), "udp")!));
    expect(cache.hits).toBe(1);
    expect(out.id).toBe(77);
    expect(out.questions![0]!.name).toBe("HoMe.DyN.eXample.com");
    expect(out.answers![0]!.name).toBe("HoMe.DyN.eXample.com");
    expect((out.answers![0] as { data: unknown }).data).toBe("203.0.113.10");
  });

  it("keeps transports and EDNS parameters apart", () => {
    const { cache, ask } = setup();
    ask(query("home.dyn.example.com", "A"), "udp");
    ask(query("home.dyn.example.com", "A"), "tcp");
    ask(query("home.dyn.example.com", "A", { edns: true }), "udp");
    expect(cache.hits).toBe(0);
    expect(cache.size).toBe(3);
    const withOpt = packet.decode(Buffer.from(ask(query("home.dyn.example.com", "A", { edns: true }), "udp")!));
    expect(withOpt.additionals?.some((a) => a.type === "OPT")).toBe(true);
    expect(cache.hits).toBe(1);
  });

  it("a zone change drops cached answers", () => {
    const { zones, ask } = setup();
    expect((packet.decode(Buffer.from(ask(query("home.dyn.example.com"), "udp")!)).answers![0] as { data: unknown }).data).toBe("203.0.113.10");
    zones.set(buildZone(zoneData("203.0.113.99")));
    expect((packet.decode(Buffer.from(ask(query("home.dyn.example.com"), "udp")!)).answers![0] as { data: unknown }).data).toBe("203.0.113.99");
  });

  it("stays bounded under a flood of unique names, and a hot name survives it", () => {
    const { cache, ask } = setup(1000);
    for (let i = 0; i < 20_000; i++) {
      // Under a wildcard: every name has an answer, and every answer could be stored.
      ask(query(`r${i.toString(36)}${Math.random().toString(36).slice(2, 8)}.wild.dyn.example.com`, "A"), "udp");
      if (i % 100 === 0) ask(query("home.dyn.example.com", "A"), "udp");
      expect(cache.size).toBeLessThanOrEqual(2000);
    }
    const before = cache.hits;
    ask(query("home.dyn.example.com", "A"), "udp");
    expect(cache.hits).toBe(before + 1);
  });

  it("does not store NXDOMAIN (a random-subdomain flood would only churn it), yet answers it right", () => {
    const { cache, ask, direct } = setup();
    for (let i = 0; i < 3; i++) {
      const q = query(`nope${i}.dyn.example.com`, "A", { id: 9 + i });
      const out = ask(q, "udp")!;
      expect(Buffer.from(out)).toEqual(Buffer.from(direct(q, "udp")!));
      expect(out[3]! & 0x0f).toBe(3); // NXDOMAIN
      ask(q, "udp");
    }
    expect(cache.size).toBe(0);
    expect(cache.hits).toBe(0);
  });

  it("does not cache what must be fresh or is not a plain query", () => {
    const { cache, ask } = setup();
    const twoQuestions = packet.encode({
      id: 1,
      type: "query",
      questions: [
        { name: "home.dyn.example.com", type: "A", class: "IN" },
        { name: "home.dyn.example.com", type: "A", class: "IN" },
      ],
    });
    const notify = Buffer.from(query("dyn.example.com", "SOA"));
    notify[2] = 0x20; // opcode NOTIFY
    const withTsigLikeRecord = packet.encode({
      id: 1,
      type: "query",
      questions: [{ name: "home.dyn.example.com", type: "A", class: "IN" }],
      additionals: [{ name: "key", type: "TXT", class: "IN", ttl: 0, data: "x" } as packet.Answer],
    });
    for (const q of [twoQuestions, notify, withTsigLikeRecord, query("dyn.example.com", "AXFR")]) {
      ask(q, "udp");
      ask(q, "udp");
    }
    expect(cache.hits).toBe(0);
    expect(cache.size).toBe(0);
  });

  it("truncated or garbage queries pass through without throwing", () => {
    const { ask } = setup();
    const q = query("home.dyn.example.com");
    for (let n = 0; n < q.length; n++) expect(() => ask(q.subarray(0, n), "udp")).not.toThrow();
  });
});
