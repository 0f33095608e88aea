/**
 * Answers from a signed zone, judged by delv (BIND's validating stub) with the zone's key as
 * trust anchor: "fully validated" for a host, a wildcard, an NXDOMAIN, a NODATA, an empty
 * non-terminal, a CNAME, a DS and a denied DS at cuts, the apex DNSKEY; "resolution failed"
 * when a signature is tampered with (the check can fail); and queries without DO are answered
 * exactly as before signing, apart from the apex's DNSKEY & co.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ZoneData } from "../../../src/core/ports";
import { answer } from "../../../src/dns/answer";
import { ALG_ECDSAP256SHA256, dsInfo, generateKey, loadKey } from "../../../src/dns/dnssec/keys";
import { type SignedZone, signZone } from "../../../src/dns/dnssec/sign";
import { type DnsServer, startDns } from "../../../src/dns/server";
import { buildZone, ZoneSet } from "../../../src/dns/zone";

const ZONE = "signed.test";
const data: ZoneData = {
  id: 1,
  name: ZONE,
  serial: 3,
  soa: { mname: `ns1.${ZONE}`, rname: `hostmaster.${ZONE}`, refresh: 3600, retry: 600, expire: 604800, minimum: 300, ttl: 3600 },
  nsTtl: 3600,
  nameservers: [{ name: `ns1.${ZONE}`, ipv4: "192.0.2.1", ipv6: null }],
  hosts: [
    { name: `home.${ZONE}`, ipv4: "198.51.100.7", ipv6: "2001:db8::7", ttl: 60 },
    { name: `empty.${ZONE}`, ipv4: null, ipv6: null, ttl: 60 },
    { name: `deep.a.${ZONE}`, ipv4: "198.51.100.9", ipv6: null, ttl: 60 },
  ],
  records: [
    { name: `www.${ZONE}`, type: "CNAME", ttl: 300, content: `home.${ZONE}` },
    { name: `*.wild.${ZONE}`, type: "A", ttl: 300, content: "198.51.100.30" },
    { name: ZONE, type: "MX", ttl: 300, content: `10 home.${ZONE}` },
    { name: `secure.${ZONE}`, type: "NS", ttl: 300, content: "ns.elsewhere.test" },
    { name: `secure.${ZONE}`, type: "DS", ttl: 300, content: "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF" },
    { name: `insecure.${ZONE}`, type: "NS", ttl: 300, content: "ns.elsewhere.test" },
  ],
};

const key = loadKey(ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8);
const zones = new ZoneSet();
const zone = buildZone(data);
zones.set(zone);
let signed: SignedZone = signZone(zone, key, { now: Math.floor(Date.now() / 1000) }).signed;
let server: DnsServer;
let port = 0;
let dir: string;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", () => resolve(out));
  });
}
const delv = (name: string, type: string) => run("delv", ["@127.0.0.1", "-p", String(port), "-a", join(dir, "anchor"), `+root=${ZONE}`, "+tcp", name, type]);
const dig = (name: string, type: string, extra: string[] = []) => run("dig", ["@127.0.0.1", "-p", String(port), name, type, "+norec", "+nocookie", ...extra]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ipkeep-delv-"));
  const info = dsInfo(ZONE, key);
  writeFileSync(join(dir, "anchor"), `trust-anchors {\n  "${ZONE}." static-key ${info.flags} ${info.protocol} ${info.algorithm} "${info.publicKey}";\n};\n`);
  server = await startDns([{ host: "127.0.0.1", port: 0 }], (q, t) => answer(q, zones, { transport: t, dnssec: () => signed }));
  port = server.addresses[0]!.port;
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("signed answers, validated by delv", () => {
  const cases: [string, string, string, RegExp][] = [
    ["a host", `home.${ZONE}`, "A", /198\.51\.100\.7/],
    ["a host's AAAA", `home.${ZONE}`, "AAAA", /2001:db8::7/],
    ["a wildcard", `anything.wild.${ZONE}`, "A", /198\.51\.100\.30/],
    ["a CNAME", `www.${ZONE}`, "A", /198\.51\.100\.7/],
    ["the apex MX", ZONE, "MX", /10 home/],
    ["the DNSKEY", ZONE, "DNSKEY", /257 3 13/],
    ["the DS at a secure cut", `secure.${ZONE}`, "DS", /12345 13 2/],
    ["an NXDOMAIN", `nope.${ZONE}`, "A", /negative response, fully validated/],
    ["an NXDOMAIN below an existing name", `x.home.${ZONE}`, "A", /negative response, fully validated/],
    ["a NODATA", `home.${ZONE}`, "TXT", /negative response, fully validated/],
    ["an empty non-terminal", `a.${ZONE}`, "A", /negative response, fully validated/],
    ["a wildcard NODATA", `anything.wild.${ZONE}`, "TXT", /negative response, fully validated/],
    ["no DS at an insecure cut", `insecure.${ZONE}`, "DS", /negative response, fully validated/],
    ["a hostname without addresses (denied in the signed zone)", `empty.${ZONE}`, "A", /negative response, fully validated/],
  ];
  for (const [what, name, type, want] of cases) {
    it(`${what}: ${name} ${type}`, async () => {
      const out = await delv(name, type);
      expect(out, out).toContain("fully validated");
      expect(out).toMatch(want);
    });
  }

  it("an insecure delegation is insecure, not bogus", async () => {
    const out = await run("dig", ["@127.0.0.1", "-p", String(port), `x.insecure.${ZONE}`, "A", "+dnssec", "+norec"]);
    expect(out).toMatch(/NSEC3/);
    expect(out).toMatch(/insecure\.signed\.test\.\s+\d+\s+IN\s+NS/);
  });

  it("queries without DO get the same answers as the unsigned zone (the DNSKEY apart)", async () => {
    const plain = new ZoneSet();
    plain.set(buildZone(data));
    for (const [, name, type] of cases) {
      if (type === "DNSKEY") continue;
      expect(await dig(name, type, ["+noedns"])).not.toMatch(/RRSIG|NSEC3/);
    }
    // Byte for byte: the same query (EDNS, DO clear) with and without signatures behind it.
    for (const [, name, type] of cases) {
      if (type === "DNSKEY") continue;
      const packet = (await import("dns-packet")).encode({
        type: "query",
        id: 7,
        questions: [{ type: type as "A", name, class: "IN" }],
        additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232, flags: 0 } as never],
      });
      expect(Buffer.from(answer(packet, zones, { transport: "udp", dnssec: () => signed })!)).toEqual(
        Buffer.from(answer(packet, plain, { transport: "udp" })!),
      );
    }
  });

  it("a tampered signature makes delv fail (the check can fail)", async () => {
    const good = signed;
    const e = signed.sig(`home.${ZONE}`, 1)!;
    const bad = e.rdata.slice();
    bad[bad.length - 1]! ^= 1;
    signed.sigs.get(`home.${ZONE}`)!.set(1, { ...e, rdata: bad });
    try {
      const out = await delv(`home.${ZONE}`, "A");
      expect(out).not.toContain("fully validated");
      expect(out).toMatch(/resolution failed|verify failure|no valid RRSIG/);
    } finally {
      signed.sigs.get(`home.${ZONE}`)!.set(1, e);
      signed = good;
    }
  });
});
