/**
 * The secondary's pieces without sockets: transferred records to ZoneData, serial
 * arithmetic, and who may NOTIFY it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as packet from "dns-packet";
import { afterAll, describe, expect, it } from "vitest";
import { notifyMessage } from "../../src/dns/notify";
import { makeKey, signRequest } from "../../src/dns/tsig";
import { buildZone, ZoneSet } from "../../src/dns/zone";
import { answer } from "../../src/dns/answer";
import { zoneDataFromTransfer } from "../../src/secondary/records";
import { serialGreater as serialNewer } from "../../src/core/zone-contents";
import { Secondary } from "../../src/secondary/secondary";

const ZONE = "dyn.example.com";
const soa = (serial: number): packet.Answer => ({
  name: ZONE,
  type: "SOA",
  ttl: 3600,
  class: "IN",
  data: { mname: `ns1.${ZONE}`, rname: `hostmaster.${ZONE}`, serial, refresh: 3600, retry: 600, expire: 1209600, minimum: 60 },
});
const rr = (name: string, type: string, data: unknown, ttl = 60) => ({ name, type, ttl, class: "IN", data }) as packet.Answer;

describe("transferred records to ZoneData", () => {
  const records = [
    soa(42),
    rr(ZONE, "NS", `ns1.${ZONE}`, 3600),
    rr(ZONE, "NS", "ns.other.example", 3600),
    rr(`ns1.${ZONE}`, "A", "192.0.2.53", 3600),
    rr(`Home.${ZONE}`, "A", "198.51.100.1"),
    rr(`home.${ZONE}`, "AAAA", "2001:db8::1"),
    rr(ZONE, "MX", { preference: 10, exchange: `mail.${ZONE}` }),
    rr(ZONE, "TXT", [Buffer.from('v=spf1 "quoted" \\ -all'), Buffer.from("second")]),
    rr(`_sip._udp.${ZONE}`, "SRV", { priority: 1, weight: 2, port: 5060, target: `sip.${ZONE}` }),
    rr(ZONE, "CAA", { flags: 0, tag: "issue", value: "letsencrypt.org" }),
    rr(`www.${ZONE}`, "CNAME", `home.${ZONE}`),
    rr("evil.example.org", "A", "203.0.113.66"),
  ];
  const data = zoneDataFromTransfer(7, ZONE, records);

  it("keeps the SOA, the apex NS set and every record of the zone", () => {
    expect(data.serial).toBe(42);
    expect(data.soa).toMatchObject({ mname: `ns1.${ZONE}`, rname: `hostmaster.${ZONE}`, refresh: 3600, retry: 600, minimum: 60 });
    expect(data.nameservers.map((n) => n.name)).toEqual([`ns1.${ZONE}`, "ns.other.example"]);
    expect(data.records).toContainEqual({ name: `home.${ZONE}`, type: "A", ttl: 60, content: "198.51.100.1" });
    expect(data.records).toContainEqual({ name: ZONE, type: "MX", ttl: 60, content: `10 mail.${ZONE}.` });
    expect(data.records).toContainEqual({ name: ZONE, type: "TXT", ttl: 60, content: '"v=spf1 \\"quoted\\" \\\\ -all" "second"' });
    expect(data.records).toContainEqual({ name: ZONE, type: "CAA", ttl: 60, content: '0 issue "letsencrypt.org"' });
  });

  it("drops records outside the zone (a primary cannot make us serve someone else's names)", () => {
    expect(data.records.some((r) => r.name.includes("example.org"))).toBe(false);
  });

  it("serves the same answers through buildZone and answer()", () => {
    const zones = new ZoneSet();
    zones.set(buildZone(data));
    const q = (name: string, type: string) => {
      const out = answer(new Uint8Array(packet.encode({ id: 1, type: "query", questions: [{ name, type: type as "A" }] })), zones, { transport: "udp" })!;
      return packet.decode(Buffer.from(out)) as unknown as { rcode: string; answers: { type: string; data: unknown }[] };
    };
    expect(q(`home.${ZONE}`, "A").answers?.map((a) => a.data)).toEqual(["198.51.100.1"]);
    expect(q(`www.${ZONE}`, "A").answers?.map((a) => a.type)).toEqual(["CNAME", "A"]);
    const txt = q(ZONE, "TXT").answers?.[0]?.data as Buffer[];
    expect(txt.map(String)).toEqual(['v=spf1 "quoted" \\ -all', "second"]);
    expect(q(`evil.example.org`, "A").rcode).toBe("REFUSED");
  });

  it("refuses a transfer that does not start with the zone's SOA", () => {
    expect(() => zoneDataFromTransfer(1, ZONE, [rr(`home.${ZONE}`, "A", "192.0.2.1")])).toThrow(/SOA/);
    expect(() => zoneDataFromTransfer(1, ZONE, [])).toThrow(/SOA/);
  });
});

describe("serial arithmetic (RFC 1982)", () => {
  it("compares across the wrap", () => {
    expect(serialNewer(2, 1)).toBe(true);
    expect(serialNewer(1, 2)).toBe(false);
    expect(serialNewer(5, 5)).toBe(false);
    expect(serialNewer(0, 0xffffffff)).toBe(true);
    expect(serialNewer(0x7fffffff, 0)).toBe(true);
    expect(serialNewer(0x80000000, 0)).toBe(false); // exactly half way: undefined, treated as not newer
  });
});

describe("NOTIFY", () => {
  const dir = mkdtempSync(join(tmpdir(), "ipkeep-sec-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const key = makeKey("xfr.example.com", Buffer.from("0123456789abcdef0123456789abcdef").toString("base64"));
  // Port 9 (discard) on loopback: the refresh a NOTIFY starts fails quietly, which is all we need here.
  const sec = new Secondary({ primary: { host: "127.0.0.1", port: 9 }, key, zones: [ZONE], dns: [], dataDir: dir });
  const notify = () => notifyMessage(77, ZONE, soa(43));
  const header = (m: Uint8Array) => ({ id: (m[0]! << 8) | m[1]!, qr: !!(m[2]! & 0x80), opcode: (m[2]! >> 3) & 0xf, aa: !!(m[2]! & 0x04), rcode: m[3]! & 0xf });

  it("acknowledges an unsigned NOTIFY from the primary's address", async () => {
    const out = sec.handle(notify(), "udp", "127.0.0.1")!;
    expect(header(out)).toEqual({ id: 77, qr: true, opcode: 4, aa: true, rcode: 0 });
    await sec.stop();
  });

  it("refuses an unsigned NOTIFY from anyone else", () => {
    expect(header(sec.handle(notify(), "udp", "203.0.113.5")!).rcode).toBe(5);
  });

  it("accepts a NOTIFY signed with our key from anywhere, and signs the answer", () => {
    const signed = signRequest(notify(), key, Math.floor(Date.now() / 1000)).message;
    const out = sec.handle(signed, "udp", "203.0.113.5")!;
    expect(header(out).rcode).toBe(0);
    expect(out.length).toBeGreaterThan(12 + ZONE.length + 6); // carries a TSIG record
  });

  it("answers NOTAUTH to a NOTIFY signed with another key", () => {
    const other = makeKey("xfr.example.com", Buffer.from("another-secret-another-secret!!!").toString("base64"));
    const signed = signRequest(notify(), other, Math.floor(Date.now() / 1000)).message;
    expect(header(sec.handle(signed, "udp", "127.0.0.1")!).rcode).toBe(9);
  });

  it("answers NOTAUTH for a zone it does not pull, and nothing to garbage", () => {
    expect(header(sec.handle(notifyMessage(5, "other.example", soa(1)), "udp", "127.0.0.1")!).rcode).toBe(9);
    const junk = notify().slice(0, 14);
    expect(sec.handle(junk, "udp", "127.0.0.1")).toBeNull();
  });
});
