/**
 * The metrics registry: bounded labels whatever the input, and exposition that parses.
 */
import * as packet from "dns-packet";
import { beforeEach, describe, expect, it } from "vitest";
import { DNS_TYPES, DnsCounters, Exposition, labelValue, LabeledCounter, metrics, resetMetrics, writeCounters } from "../src/metrics";
import { parseProm, value } from "./helpers/prom";

const query = (name: string, type: string) => new Uint8Array(packet.encode({ id: 1, type: "query", questions: [{ name, type: type as "A" }] }));
const reply = (rcode: number) => {
  const r = new Uint8Array(12);
  r[2] = 0x84;
  r[3] = rcode;
  return r;
};

beforeEach(() => resetMetrics());

describe("DNS counters", () => {
  it("counts a reply by its rcode and the question's type", () => {
    const c = new DnsCounters();
    c.count(query("a.example.com", "AAAA"), reply(0));
    c.count(query("a.example.com", "AAAA"), reply(0));
    c.count(query("x.example.com", "A"), reply(3));
    expect(c.get("NOERROR", "AAAA")).toBe(2);
    expect(c.get("NXDOMAIN", "A")).toBe(1);
  });

  it("counts types it does not name as other", () => {
    const c = new DnsCounters();
    c.count(query("a.example.com", "NAPTR"), reply(0));
    c.count(query("a.example.com", "UNKNOWN_999"), reply(5));
    expect(c.get("NOERROR", "other")).toBe(1);
    expect(c.get("REFUSED", "other")).toBe(1);
  });

  it("counts malformed questions as other and unanswered packets as dropped", () => {
    const c = new DnsCounters();
    const bad = new Uint8Array(40).fill(0xff);
    c.count(bad, reply(1));
    c.count(new Uint8Array(5), reply(1));
    c.count(query("a.example.com", "A"), null);
    expect(c.get("FORMERR", "other")).toBe(2);
    expect(c.dropped).toBe(1);
  });

  it("keeps a fixed number of series whatever arrives", () => {
    const c = new DnsCounters();
    for (let t = 0; t < 70000; t += 97) {
      const q = query("a.example.com", "A");
      q[q.length - 4] = t >> 8;
      q[q.length - 3] = t & 0xff;
      c.count(q, reply(t % 16));
    }
    expect(c.responses.length).toBe(16 * DNS_TYPES.length);
  });
});

describe("labeled counters", () => {
  it("maps an unknown label to the fallback", () => {
    const c = new LabeledCounter(["good", "nochg", "other"], "other");
    c.inc("good");
    c.inc('evil"} 1\nfake_metric 9');
    expect(c.get("good")).toBe(1);
    expect(c.get("other")).toBe(1);
    expect(c.entries().length).toBe(3);
  });
});

describe("exposition", () => {
  it("escapes and caps label values taken from stored names", () => {
    expect(labelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(labelValue("x".repeat(1000)).length).toBe(253);
  });

  it("writes counters that a Prometheus parser reads back", () => {
    metrics.dns.count(query("a.example.com", "TXT"), reply(0));
    metrics.updates.inc("good");
    metrics.updates.inc("nochg");
    metrics.updates.inc("nochg");
    metrics.updates.inc("some-new-word");
    metrics.http.inc("200");
    metrics.http.inc("999");
    const out = new Exposition();
    writeCounters(out);
    const { samples, types } = parseProm(out.text());
    expect(types.get("ipkeep_dns_responses_total")).toBe("counter");
    expect(value(samples, "ipkeep_dns_responses_total", { rcode: "NOERROR", type: "TXT" })).toBe(1);
    expect(value(samples, "ipkeep_updates_total", { result: "good" })).toBe(1);
    expect(value(samples, "ipkeep_updates_total", { result: "nochg" })).toBe(2);
    expect(value(samples, "ipkeep_updates_total", { result: "other" })).toBe(1);
    expect(value(samples, "ipkeep_http_responses_total", { status: "200" })).toBe(1);
    expect(value(samples, "ipkeep_http_responses_total", { status: "other" })).toBe(1);
  });
});
