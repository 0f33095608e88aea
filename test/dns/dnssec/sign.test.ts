/**
 * Signing a zone, whole and incrementally, judged by real validators: ldns-verify-zone and
 * dnssec-verify accept the master file before and after changes and after a refresh with the
 * clock moved ahead, and reject a tampered one (so the check can fail).
 */
import { describe, expect, it } from "vitest";
import type { ZoneData } from "../../../src/core/ports";
import { exportSignedZone } from "../../../src/dns/dnssec/present";
import { ALG_ECDSAP256SHA256, ALG_ED25519, generateKey, loadKey } from "../../../src/dns/dnssec/keys";
import { refreshSignatures, resignNames, RENEW_LEFT, signedRecords, signZone, T_NSEC3, T_RRSIG, VALIDITY } from "../../../src/dns/dnssec/sign";
import { applyDelta, buildZone, type NodeContent, type Zone } from "../../../src/dns/zone";
import { verifyZone } from "./validators";

const NOW = Math.floor(Date.now() / 1000);

function data(): ZoneData {
  return {
    id: 1,
    name: "z.test",
    serial: 10,
    soa: { mname: "ns1.z.test", rname: "hostmaster.z.test", refresh: 3600, retry: 600, expire: 604800, minimum: 300, ttl: 3600 },
    nsTtl: 3600,
    nameservers: [
      { name: "ns1.z.test", ipv4: "192.0.2.1", ipv6: "2001:db8::1" },
      { name: "ns.elsewhere.test", ipv4: null, ipv6: null },
    ],
    hosts: [
      { name: "home.z.test", ipv4: "198.51.100.7", ipv6: "2001:db8::7", ttl: 60 },
      { name: "only6.z.test", ipv4: null, ipv6: "2001:db8::8", ttl: 60 },
      { name: "empty.z.test", ipv4: null, ipv6: null, ttl: 60 },
      { name: "deep.a.b.z.test", ipv4: "198.51.100.9", ipv6: null, ttl: 60 },
    ],
    records: [
      { name: "z.test", type: "MX", ttl: 300, content: "10 mail.z.test" },
      { name: "z.test", type: "TXT", ttl: 300, content: '"v=spf1 -all"' },
      { name: "z.test", type: "CAA", ttl: 300, content: '0 issue "letsencrypt.org"' },
      { name: "mail.z.test", type: "A", ttl: 300, content: "198.51.100.25" },
      { name: "www.z.test", type: "CNAME", ttl: 300, content: "home.z.test" },
      { name: "*.wild.z.test", type: "A", ttl: 300, content: "198.51.100.30" },
      { name: "_sip._tcp.z.test", type: "SRV", ttl: 300, content: "0 5 5060 home.z.test" },
      // A secure delegation (DS at the cut, signed) with in-bailiwick glue (not signed).
      { name: "secure.z.test", type: "NS", ttl: 300, content: "ns.secure.z.test" },
      { name: "secure.z.test", type: "DS", ttl: 300, content: "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF" },
      { name: "ns.secure.z.test", type: "A", ttl: 300, content: "198.51.100.53" },
      // An insecure one: NS unsigned, glue unsigned, nothing signed at or below it.
      { name: "insecure.z.test", type: "NS", ttl: 300, content: "ns.insecure.z.test" },
      { name: "ns.insecure.z.test", type: "A", ttl: 300, content: "198.51.100.54" },
      { name: "below.ns.insecure.z.test", type: "TXT", ttl: 300, content: "occluded" },
    ],
  };
}

function expectValid(zone: Zone, text: string): void {
  const v = verifyZone(zone.name, text);
  expect(v.ldns.output, "ldns-verify-zone").toContain("Zone is verified and complete");
  expect(v.ldns.ok, v.ldns.output).toBe(true);
  expect(v.bind!.ok, v.bind!.output).toBe(true);
  expect(v.bind!.output).toContain("Zone fully signed");
}

function node(name: string, hostname: boolean, records: NodeContent["records"]): NodeContent {
  return { name, hostname, records };
}

describe("signZone", () => {
  it("signs a zone that both validators accept: every RRset signed, NSEC3 over every name, delegations as RFC 4035 says", () => {
    const zone = buildZone(data());
    const key = loadKey(ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8);
    const { signed, changes } = signZone(zone, key, { now: NOW });
    expect(changes.signed).toBe(signed.signatureCount);
    const text = exportSignedZone(zone, signed);
    expectValid(zone, text);

    // Glue, the NS at a cut and what lies below a cut are not signed; the DS at a secure cut is.
    const sigs = signedRecords(zone, signed).filter((r) => r.code === T_RRSIG);
    const covered = sigs.map((r) => `${r.name} ${(r.rdata[0]! << 8) | r.rdata[1]!}`);
    expect(covered).toContain("secure.z.test 43");
    expect(covered).not.toContain("secure.z.test 2");
    expect(covered).not.toContain("ns.secure.z.test 1");
    expect(covered).not.toContain("insecure.z.test 2");
    expect(covered).not.toContain("ns.insecure.z.test 1");
    expect(covered).toContain("z.test 48");
    expect(covered).toContain("z.test 51");
    // Names: apex, ns1, home, only6, deep.a.b, a.b and b (ENTs), mail, www, *.wild, wild (ENT),
    // _sip._tcp, _tcp (ENT), secure, insecure: 15 NSEC3 records, none for the names below cuts,
    // none for "empty" (a hostname without addresses has no record a transfer could carry).
    expect(signed.labels.length).toBe(15);
    expect(signed.nsec3Of.has("empty.z.test")).toBe(false);
    expect(signedRecords(zone, signed).filter((r) => r.code === T_NSEC3)).toHaveLength(15);
    // Expirations are spread, inception an hour back.
    const exps = new Set([...signed.sigs.values()].flatMap((m) => [...m.values()].map((e) => e.expiration)));
    expect(exps.size).toBeGreaterThan(10);
    for (const e of exps) expect(e).toBeLessThanOrEqual(NOW + VALIDITY);
  });

  it("signs with Ed25519 too", () => {
    const zone = buildZone(data());
    const key = loadKey(ALG_ED25519, generateKey(ALG_ED25519).pkcs8);
    expectValid(zone, exportSignedZone(zone, signZone(zone, key, { now: NOW }).signed));
  });

  it("a tampered zone fails both validators (the check can fail)", () => {
    const zone = buildZone(data());
    const key = loadKey(ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8);
    const text = exportSignedZone(zone, signZone(zone, key, { now: NOW }).signed).replace("198.51.100.7", "198.51.100.66");
    const v = verifyZone(zone.name, text);
    expect(v.ldns.ok).toBe(false);
    expect(v.bind!.ok).toBe(false);
  });

  it("reuses stored signatures that still cover the same data: re-signing after a restart signs nothing", () => {
    const zone = buildZone(data());
    const key = loadKey(ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8);
    const first = signZone(zone, key, { now: NOW });
    const again = signZone(buildZone(data()), key, { now: NOW + 3600, stored: first.changes.put });
    expect(again.changes.signed).toBe(0);
    expect(again.changes.drop).toEqual([]);
    expectValid(zone, exportSignedZone(zone, again.signed));
    // A changed RRset is signed afresh; the rest is kept.
    const d = data();
    d.hosts[0]!.ipv4 = "198.51.100.77";
    const changed = signZone(buildZone(d), key, { now: NOW + 3600, stored: first.changes.put });
    // home's A, its NSEC3 is the same (same types), so: one signature.
    expect(changed.changes.signed).toBe(1);
  });
});

describe("resignNames", () => {
  it("re-signs only what a change touched, and stays valid through additions, removals, new empty non-terminals and cuts", () => {
    const zone = buildZone(data());
    const key = loadKey(ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8);
    const { signed } = signZone(zone, key, { now: NOW });
    let serial = zone.serial;
    const step = (nodes: NodeContent[]) => {
      const d = data();
      const applied = applyDelta(zone, { id: 1, serial: ++serial, soa: d.soa, nodes });
      return resignNames(zone, signed, applied.names, NOW + 60);
    };

    // A host's address changes: its A signature, and the SOA's. Its NSEC3 stays (same types).
    let c = step([
      node("home.z.test", true, [
        { type: "A", ttl: 60, content: "198.51.100.70" },
        { type: "AAAA", ttl: 60, content: "2001:db8::7" },
      ]),
    ]);
    expect(c.signed).toBe(2);
    expectValid(zone, exportSignedZone(zone, signed));

    // A new name below a new empty non-terminal: two NSEC3 records join the chain.
    const before = signed.labels.length;
    c = step([node("x.new.z.test", true, [{ type: "A", ttl: 60, content: "198.51.100.71" }])]);
    expect(signed.labels.length).toBe(before + 2);
    // x's A, SOA, the two new NSEC3s, and at most two predecessors whose next hash moved.
    expect(c.signed).toBeLessThanOrEqual(6);
    expectValid(zone, exportSignedZone(zone, signed));

    // The host loses its IPv4: NODATA for A now, its bitmap changes.
    step([node("home.z.test", true, [{ type: "AAAA", ttl: 60, content: "2001:db8::7" }])]);
    expectValid(zone, exportSignedZone(zone, signed));

    // A name goes away (and with it the empty non-terminal above it).
    step([node("x.new.z.test", false, [])]);
    expect(signed.labels.length).toBe(before);
    expectValid(zone, exportSignedZone(zone, signed));

    // A name becomes a delegation: what was below it is now glue and unsigned.
    step([node("a.b.z.test", false, [{ type: "NS", ttl: 300, content: "ns.elsewhere.test" }])]);
    expect(signed.sig("deep.a.b.z.test", 1)).toBeUndefined();
    expectValid(zone, exportSignedZone(zone, signed));
    // And back.
    step([node("a.b.z.test", false, [])]);
    expect(signed.sig("deep.a.b.z.test", 1)).toBeDefined();
    expectValid(zone, exportSignedZone(zone, signed));

    // The incremental result is what a fresh signing gives: same names, same covered RRsets.
    const fresh = signZone(zone, key, { now: NOW + 60 }).signed;
    expect(signed.labels).toEqual(fresh.labels);
    const shape = (s: typeof signed) => [...s.sigs].flatMap(([o, m]) => [...m.keys()].map((k) => `${o} ${k}`)).sort();
    expect(shape(signed)).toEqual(shape(fresh));
    for (const l of fresh.labels) expect(signed.nsec3.get(l)!.rdata).toEqual(fresh.nsec3.get(l)!.rdata);
  });

  it("many random updates stay valid", () => {
    const zone = buildZone(data());
    const key = loadKey(ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8);
    const { signed } = signZone(zone, key, { now: NOW });
    let serial = zone.serial;
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const name = `h${rnd(40)}.${["", "g1.", "g2.x."][rnd(3)]}z.test`;
      const records =
        rnd(4) === 0
          ? []
          : [{ type: rnd(2) ? "A" : "AAAA", ttl: 60, content: rnd(2) ? `198.51.100.${rnd(250)}` : `2001:db8::${rnd(999)}` }].filter(
              (r) => (r.type === "A") === r.content.includes("."),
            );
      const applied = applyDelta(zone, { id: 1, serial: ++serial, soa: data().soa, nodes: [node(name, rnd(3) > 0, records)] });
      resignNames(zone, signed, applied.names, NOW + i);
    }
    expectValid(zone, exportSignedZone(zone, signed));
  });
});

describe("refreshSignatures", () => {
  // dnssec-verify takes the real clock (and libfaketime does not work with it), so the zone is
  // signed eleven days back and refreshed now; ldns-verify-zone also checks a clock moved ahead.
  const ahead = VALIDITY - RENEW_LEFT + 86400;

  it("renews what has less than a third left, and the zone validates after the refresh", () => {
    const zone = buildZone(data());
    const key = loadKey(ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8);
    const { signed } = signZone(zone, key, { now: NOW - ahead });
    // Nothing is due a day after signing.
    expect(refreshSignatures(zone, signed, NOW - ahead + 86400).signed).toBe(0);
    // Eleven days on, everything has at most three days left: all renewed.
    const c = refreshSignatures(zone, signed, NOW);
    expect(c.signed).toBe(signed.signatureCount);
    expect(c.put).toHaveLength(c.signed);
    expectValid(zone, exportSignedZone(zone, signed));
    // Renewed again eleven days later still (ldns with its clock ahead).
    refreshSignatures(zone, signed, NOW + ahead);
    const v = verifyZone(zone.name, exportSignedZone(zone, signed), ahead);
    expect(v.ldns.output).toContain("Zone is verified and complete");
  });

  it("without a refresh the signatures expire and both validators reject the zone", () => {
    const zone = buildZone(data());
    const key = loadKey(ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8);
    const stale = signZone(zone, key, { now: NOW - VALIDITY - 3600 }).signed;
    const v = verifyZone(zone.name, exportSignedZone(zone, stale));
    expect(v.ldns.ok).toBe(false);
    expect(v.bind!.ok).toBe(false);
  });

  it("spreads renewals: signatures made at one moment fall due over more than a day", () => {
    const zone = buildZone(data());
    const key = loadKey(ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8);
    const { signed } = signZone(zone, key, { now: NOW });
    const due = [...signed.sigs.values()].flatMap((m) => [...m.values()].map((e) => e.expiration - RENEW_LEFT));
    expect(Math.max(...due) - Math.min(...due)).toBeGreaterThan(86400);
  });
});
