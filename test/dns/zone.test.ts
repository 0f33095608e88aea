/**
 * Building in-memory zones from stored data: bad rows are skipped, never fatal; records keep
 * their exact wire form.
 */
import { describe, expect, it } from "vitest";
import type { ZoneData } from "../../src/core/ports";
import { packZone } from "../../src/core/packed-zone";
import { buildPackedZone, buildZone, rrWire, ZoneSet, zoneRecords } from "../../src/dns/zone";

const base: ZoneData = {
  id: 1,
  name: "z.test",
  serial: 5,
  soa: { mname: "ns1.z.test", rname: "hostmaster.z.test", refresh: 1, retry: 2, expire: 3, minimum: 4, ttl: 60 },
  nsTtl: 60,
  nameservers: [{ name: "ns1.z.test", ipv4: "192.0.2.1", ipv6: null }],
  hosts: [{ name: "h.z.test", ipv4: "192.0.2.2", ipv6: "2001:db8::2", ttl: 30 }],
  records: [],
};

describe("buildZone", () => {
  it("skips stored rows that do not parse or lie outside the zone, keeping the rest", () => {
    const z = buildZone({
      ...base,
      records: [
        { name: "a.z.test", type: "A", ttl: 60, content: "not an address" },
        { name: "b.z.test", type: "MX", ttl: 60, content: "ten mail" },
        { name: "c.z.test", type: "NOPE", ttl: 60, content: "x" },
        { name: "elsewhere.test", type: "A", ttl: 60, content: "192.0.2.9" },
        { name: "ok.z.test", type: "TXT", ttl: 60, content: "fine" },
      ],
    });
    expect([...z.nodes.keys()].sort()).toEqual(["h.z.test", "ns1.z.test", "ok.z.test", "z.test"]);
  });

  it("lists every record once, SOA first, for transfers; rrWire is the exact wire form", () => {
    const z = buildZone({ ...base, records: [{ name: "o.z.test", type: "TYPE65534", ttl: 60, content: "\\# 2 ABCD" }] });
    const all = zoneRecords(z);
    expect(all[0]).toBe(z.soa);
    // The apex first, then packed nodes, then address-only slots (NodeMap): the order carries no meaning in a transfer.
    expect(all.map((r) => `${r.name} ${r.type}`)).toEqual(["z.test SOA", "z.test NS", "o.z.test UNKNOWN_65534", "h.z.test A", "h.z.test AAAA", "ns1.z.test A"]);
    expect(z.nodes.isHost("h.z.test")).toBe(true);
    expect(z.nodes.isHost("o.z.test")).toBe(false);
    const o = all[2]!;
    expect(Buffer.from(rrWire(o)).toString("hex")).toBe(`016f017a047465737400fffe00010000003c0002abcd`);
    // dns-packet's view for the structured types, raw bytes for the rest.
    expect(all[3]!.data).toBe("192.0.2.2");
    expect(Buffer.from(o.data as Buffer).toString("hex")).toBe("abcd");
  });

  it("a packed zone (as posted to the DNS thread) builds into the same records", () => {
    const data = {
      ...base,
      hosts: [...base.hosts, { name: "v6.z.test", ipv4: null, ipv6: "2001:db8::6", ttl: 30 }, { name: "none.z.test", ipv4: null, ipv6: null, ttl: 60 }],
      records: [
        { name: "o.z.test", type: "TXT", ttl: 60, content: '"a\\"b" c' },
        { name: "h.z.test", type: "MX", ttl: 60, content: "10 mx.z.test." },
      ],
    };
    const wire = (z: ReturnType<typeof buildZone>) =>
      zoneRecords(z)
        .map((r) => Buffer.from(rrWire(r)).toString("hex"))
        .sort();
    const packed = buildPackedZone(packZone(data));
    expect(wire(packed)).toEqual(wire(buildZone(data)));
    expect(packed.nodes.has("none.z.test")).toBe(true);
    expect(buildPackedZone(packZone({ ...base, hosts: [], records: [] })).nodes.size).toBe(buildZone({ ...base, hosts: [], records: [] }).nodes.size);
  });

  it("finds zones by longest suffix", () => {
    const set = new ZoneSet();
    set.set(buildZone(base));
    set.set(buildZone({ ...base, id: 2, name: "sub.z.test", soa: { ...base.soa } }));
    expect(set.find("x.sub.z.test")?.id).toBe(2);
    expect(set.find("x.z.test")?.id).toBe(1);
    expect(set.find("z.other")).toBeNull();
    expect(set.maxLabels).toBe(3);
    set.removeId(2);
    expect(set.maxLabels).toBe(2);
  });
});
