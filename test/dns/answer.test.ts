/**
 * Answer tables: (qname, qtype) -> rcode, flags, sections, on an in-memory zone. No sockets.
 */
import * as packet from "dns-packet";
import { describe, expect, it } from "vitest";
import type { ZoneData } from "../../src/core/ports";
import { answer } from "../../src/dns/answer";
import { buildZone, ZoneSet } from "../../src/dns/zone";

const zoneData: ZoneData = {
  id: 1,
  name: "dyn.example.com",
  serial: 2026010101,
  soa: { mname: "ns1.dyn.example.com", rname: "hostmaster.dyn.example.com", refresh: 3600, retry: 600, expire: 1209600, minimum: 60, ttl: 3600 },
  nsTtl: 3600,
  nameservers: [{ name: "ns1.dyn.example.com", ipv4: "192.0.2.53", ipv6: null }],
  hosts: [
    { name: "home.dyn.example.com", ipv4: "203.0.113.10", ipv6: "2001:db8::10", ttl: 60 },
    { name: "v4only.dyn.example.com", ipv4: "203.0.113.11", ipv6: null, ttl: 60 },
    { name: "empty.dyn.example.com", ipv4: null, ipv6: null, ttl: 60 },
    { name: "deep.sub.dyn.example.com", ipv4: "203.0.113.12", ipv6: null, ttl: 60 },
  ],
  records: [
    { name: "www.dyn.example.com", type: "CNAME", ttl: 300, content: "home.dyn.example.com." },
    { name: "txt.dyn.example.com", type: "TXT", ttl: 300, content: '"hello world"' },
  ],
};
const zones = new ZoneSet();
zones.set(buildZone(zoneData));

function ask(name: string, type: string, opts: { edns?: boolean; id?: number; klass?: string } = {}) {
  const q = packet.encode({
    id: opts.id ?? 4242,
    type: "query",
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as packet.RecordType, class: (opts.klass ?? "IN") as packet.RecordClass }],
    additionals: opts.edns ? [{ type: "OPT", name: ".", udpPayloadSize: 4096 } as packet.Answer] : [],
  });
  const out = answer(q, zones, { transport: "udp" });
  expect(out).not.toBeNull();
  const r = packet.decode(Buffer.from(out!));
  const show = (d: unknown) => (Array.isArray(d) ? d.map((b) => JSON.stringify(String(b))).join(" ") : typeof d === "object" ? JSON.stringify(d) : d);
  const fmt = (rr: packet.Answer) => `${rr.name} ${"ttl" in rr ? rr.ttl : ""} ${rr.type} ${show((rr as { data?: unknown }).data)}`;
  return {
    id: r.id,
    rcode: (r as { rcode?: string }).rcode,
    aa: r.flag_aa,
    ra: r.flag_ra,
    rd: r.flag_rd,
    answer: (r.answers ?? []).map(fmt),
    authority: (r.authorities ?? []).map(fmt),
    additional: (r.additionals ?? []).map((a) => a.type),
  };
}

const SOA_NEG = `dyn.example.com 60 SOA ${JSON.stringify({ mname: "ns1.dyn.example.com", rname: "hostmaster.dyn.example.com", serial: 2026010101, refresh: 3600, retry: 600, expire: 1209600, minimum: 60 })}`;

describe("answer", () => {
  it.each([
    // qname, qtype -> rcode, aa, answer, authority
    ["home.dyn.example.com", "A", "NOERROR", true, ["home.dyn.example.com 60 A 203.0.113.10"], []],
    ["home.dyn.example.com", "AAAA", "NOERROR", true, ["home.dyn.example.com 60 AAAA 2001:db8::10"], []],
    ["v4only.dyn.example.com", "AAAA", "NOERROR", true, [], [SOA_NEG]],
    ["empty.dyn.example.com", "A", "NOERROR", true, [], [SOA_NEG]],
    ["sub.dyn.example.com", "A", "NOERROR", true, [], [SOA_NEG]],
    ["nope.dyn.example.com", "A", "NXDOMAIN", true, [], [SOA_NEG]],
    ["x.home.dyn.example.com", "A", "NXDOMAIN", true, [], [SOA_NEG]],
    ["dyn.example.com", "NS", "NOERROR", true, ["dyn.example.com 3600 NS ns1.dyn.example.com"], []],
    ["ns1.dyn.example.com", "A", "NOERROR", true, ["ns1.dyn.example.com 3600 A 192.0.2.53"], []],
    ["www.dyn.example.com", "A", "NOERROR", true, ["www.dyn.example.com 300 CNAME home.dyn.example.com", "home.dyn.example.com 60 A 203.0.113.10"], []],
    ["txt.dyn.example.com", "TXT", "NOERROR", true, ['txt.dyn.example.com 300 TXT "hello world"'], []],
    ["example.org", "A", "REFUSED", false, [], []],
    ["example.com", "SOA", "REFUSED", false, [], []],
  ] as const)("%s %s -> %s", (name, type, rcode, aa, ans, auth) => {
    const r = ask(name, type);
    expect(r.rcode).toBe(rcode);
    expect(r.aa).toBe(aa);
    expect(r.ra).toBe(false);
    expect(r.answer).toEqual(ans);
    expect(r.authority).toEqual(auth);
  });

  it("keeps the id and the question's case (0x20)", () => {
    const r = ask("HoMe.DyN.example.COM", "A", { id: 777 });
    expect(r.id).toBe(777);
    expect(r.answer).toEqual(["HoMe.DyN.example.COM 60 A 203.0.113.10"]);
  });

  it("echoes EDNS only when asked", () => {
    expect(ask("home.dyn.example.com", "A", { edns: true }).additional).toEqual(["OPT"]);
    expect(ask("home.dyn.example.com", "A").additional).toEqual([]);
  });

  it("refuses other classes", () => {
    expect(ask("home.dyn.example.com", "A", { klass: "CH" }).rcode).toBe("REFUSED");
  });

  it("answers garbage with FORMERR or not at all, never throwing", () => {
    expect(answer(new Uint8Array([1, 2, 3]), zones, { transport: "udp" })).toBeNull();
    const junk = new Uint8Array([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x41]);
    const out = answer(junk, zones, { transport: "udp" })!;
    expect(out[0]).toBe(0xab);
    expect(out[1]).toBe(0xcd);
    expect(out[3]! & 0x0f).toBe(1);
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(Math.random() * 80);
      const b = new Uint8Array(n).map(() => Math.floor(Math.random() * 256));
      expect(() => answer(b, zones, { transport: "udp" })).not.toThrow();
    }
  });

  it("does not answer responses", () => {
    const q = packet.encode({ id: 1, type: "response", questions: [{ name: "home.dyn.example.com", type: "A" }] });
    expect(answer(q, zones, { transport: "udp" })).toBeNull();
  });

  it("answers unknown opcodes with NOTIMP", () => {
    const q = Buffer.from(packet.encode({ id: 9, type: "query", questions: [{ name: "home.dyn.example.com", type: "A" }] }));
    q[2] = (q[2]! & 0x87) | (5 << 3); // opcode 5 (UPDATE)
    const out = answer(q, zones, { transport: "udp" })!;
    expect(out[3]! & 0x0f).toBe(4);
  });
});
