/**
 * Answer tables, CoreDNS style: (qname, qtype, flags) -> rcode, flags, sections, on a zone
 * written in zone-file syntax. No sockets: answer() on bytes. The behaviours follow NSD (the
 * differential test checks the same against a real NSD).
 */
import { describe, expect, it } from "vitest";
import { answer, EDNS_PAYLOAD } from "../../src/dns/answer";
import { buildZone, ZoneSet } from "../../src/dns/zone";
import { parseZoneFile, zoneDataOf } from "../../src/dns/zonefile";
import { decodeResponse } from "../helpers/dns-text";
import { buildQuery, type QueryOptions } from "../helpers/wire-query";

const ZONE = `
$ORIGIN example.test.
$TTL 3600
@        IN SOA ns1 hostmaster 2026010101 7200 900 1209600 300
         IN NS  ns1
         IN NS  ns.other.example.
         IN MX  10 mail
ns1      IN A   192.0.2.1
mail  60 IN A   192.0.2.25
mail     IN AAAA 2001:db8::25
www      IN A   192.0.2.80
alias    IN CNAME www
chain    IN CNAME alias
dangling IN CNAME nowhere
loop1    IN CNAME loop2
loop2    IN CNAME loop1
out      IN CNAME www.other.example.
a.b.ent  IN TXT "deep"
*.wild   IN A   192.0.2.42
*.wild   IN MX  5 mail
exists.wild IN TXT "exists"
_sip._tcp IN SRV 0 5 5060 mail
deleg    IN NS  ns.deleg
deleg    IN DS  1 8 2 ABCD
ns.deleg IN A   192.0.2.53
nods     IN NS  ns.other.example.
*.nods   IN A   192.0.2.9
mxglue   IN MX  10 ns.deleg
opaque   IN TYPE65534 \\# 3 010203
https    IN HTTPS \\# 3 000100
txt      IN TXT "a" "b c"
mixed    IN TXT "t"
mixed    IN AAAA 2001:db8::7
Upper    IN A   192.0.2.7
`;

const parsed = parseZoneFile(ZONE);
const data = zoneDataOf(parsed);
// A TXT value from the JSON API: one unquoted string longer than 255 octets.
data.records.push({ name: "long.example.test", type: "TXT", ttl: 60, content: "x".repeat(300) });
// Content as the JSON API stores it (core/records.ts): unquoted TXT, null MX, root SRV target.
data.records.push(
  { name: "api.example.test", type: "TXT", ttl: 60, content: "v=spf1 include:_spf.example.com -all" },
  { name: "api.example.test", type: "MX", ttl: 60, content: "0 ." },
  { name: "_x._tcp.example.test", type: "SRV", ttl: 60, content: "0 0 0 ." },
  { name: "api.example.test", type: "CAA", ttl: 60, content: '0 issuewild "letsencrypt.org"' },
);
const zones = new ZoneSet();
zones.set(buildZone(data));

function ask(name: string, qtype: number, o: QueryOptions & { tcp?: boolean } = {}) {
  const out = answer(buildQuery(name, qtype, { edns: {}, ...o }), zones, { transport: o.tcp ? "tcp" : "udp" });
  expect(out).not.toBeNull();
  return decodeResponse(out!);
}

const T = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DS: 43, HTTPS: 65, CAA: 257, ANY: 255 };
const SOA_NEG = "example.test. 300 SOA ns1.example.test. hostmaster.example.test. 2026010101 7200 900 1209600 300";
const APEX_NS = ["example.test. 3600 NS ns1.example.test.", "example.test. 3600 NS ns.other.example."];
const NS1_A = "ns1.example.test. 3600 A 192.0.2.1";

interface Row {
  name: string;
  qtype: number;
  rcode: string;
  flags: string;
  answer?: string[];
  ns?: string[];
  extra?: string[];
}

const sorted = (a: string[] = []) => [...a].sort();

function check(rows: Row[]) {
  it.each(rows.map((r) => [`${r.name} ${r.qtype} -> ${r.rcode} ${r.flags}`, r] as const))("%s", (_label, r) => {
    const got = ask(r.name, r.qtype);
    expect(got.rcode).toBe(r.rcode);
    expect(got.flags.join(" ")).toBe(r.flags);
    expect(sorted(got.answer)).toEqual(sorted(r.answer));
    expect(sorted(got.authority)).toEqual(sorted(r.ns));
    expect(sorted(got.additional)).toEqual(sorted(r.extra));
    // Every answer echoes EDNS with our payload size, and recursion is never available.
    expect(got.opt).toBe(`udp=${EDNS_PAYLOAD} version=0 do=0`);
  });
}

describe("authoritative answers", () => {
  check([
    // AA on positive answers, the apex NS (and its in-zone addresses) in authority as NSD.
    { name: "www.example.test", qtype: T.A, rcode: "NOERROR", flags: "qr aa", answer: ["www.example.test. 3600 A 192.0.2.80"], ns: APEX_NS, extra: [NS1_A] },
    // Apex NS: no duplicate in authority; addresses in additional.
    { name: "example.test", qtype: T.NS, rcode: "NOERROR", flags: "qr aa", answer: APEX_NS, extra: [NS1_A] },
    // MX and SRV targets in the zone get their addresses in additional.
    {
      name: "example.test",
      qtype: T.MX,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["example.test. 3600 MX 10 mail.example.test."],
      ns: APEX_NS,
      extra: ["mail.example.test. 60 A 192.0.2.25", "mail.example.test. 3600 AAAA 2001:db8::25", NS1_A],
    },
    {
      name: "_sip._tcp.example.test",
      qtype: T.SRV,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["_sip._tcp.example.test. 3600 SRV 0 5 5060 mail.example.test."],
      ns: APEX_NS,
      extra: ["mail.example.test. 60 A 192.0.2.25", "mail.example.test. 3600 AAAA 2001:db8::25", NS1_A],
    },
    // ...but not glue below a delegation (NSD only adds that for NS).
    {
      name: "mxglue.example.test",
      qtype: T.MX,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["mxglue.example.test. 3600 MX 10 ns.deleg.example.test."],
      ns: APEX_NS,
      extra: [NS1_A],
    },
  ]);
});

describe("negative answers (RFC 2308: SOA with min(SOA TTL, MINIMUM))", () => {
  check([
    { name: "nope.example.test", qtype: T.A, rcode: "NXDOMAIN", flags: "qr aa", ns: [SOA_NEG] },
    { name: "x.www.example.test", qtype: T.A, rcode: "NXDOMAIN", flags: "qr aa", ns: [SOA_NEG] },
    // NODATA: the name exists, the type does not.
    { name: "www.example.test", qtype: T.AAAA, rcode: "NOERROR", flags: "qr aa", ns: [SOA_NEG] },
    // Empty non-terminals exist: NODATA, not NXDOMAIN.
    { name: "b.ent.example.test", qtype: T.A, rcode: "NOERROR", flags: "qr aa", ns: [SOA_NEG] },
    { name: "ent.example.test", qtype: T.TXT, rcode: "NOERROR", flags: "qr aa", ns: [SOA_NEG] },
    { name: "x.b.ent.example.test", qtype: T.A, rcode: "NXDOMAIN", flags: "qr aa", ns: [SOA_NEG] },
    // DS at the apex: no parent here, NODATA.
    { name: "example.test", qtype: T.DS, rcode: "NOERROR", flags: "qr aa", ns: [SOA_NEG] },
  ]);
});

describe("CNAME chains within the zone", () => {
  check([
    {
      name: "alias.example.test",
      qtype: T.A,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["alias.example.test. 3600 CNAME www.example.test.", "www.example.test. 3600 A 192.0.2.80"],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    {
      name: "chain.example.test",
      qtype: T.A,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["chain.example.test. 3600 CNAME alias.example.test.", "alias.example.test. 3600 CNAME www.example.test.", "www.example.test. 3600 A 192.0.2.80"],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    // The CNAME itself when asked for.
    {
      name: "alias.example.test",
      qtype: T.CNAME,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["alias.example.test. 3600 CNAME www.example.test."],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    // RFC 6604: the rcode is the chain's last name's.
    {
      name: "dangling.example.test",
      qtype: T.A,
      rcode: "NXDOMAIN",
      flags: "qr aa",
      answer: ["dangling.example.test. 3600 CNAME nowhere.example.test."],
      ns: [SOA_NEG],
    },
    { name: "alias.example.test", qtype: T.TXT, rcode: "NOERROR", flags: "qr aa", answer: ["alias.example.test. 3600 CNAME www.example.test."], ns: [SOA_NEG] },
    // A loop stops when a CNAME would repeat.
    {
      name: "loop1.example.test",
      qtype: T.A,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["loop1.example.test. 3600 CNAME loop2.example.test.", "loop2.example.test. 3600 CNAME loop1.example.test."],
    },
    // Out of our zones: the resolver follows it.
    { name: "out.example.test", qtype: T.A, rcode: "NOERROR", flags: "qr aa", answer: ["out.example.test. 3600 CNAME www.other.example."] },
  ]);
});

describe("delegations", () => {
  const REF = ["deleg.example.test. 3600 NS ns.deleg.example.test."];
  const GLUE = ["ns.deleg.example.test. 3600 A 192.0.2.53"];
  check([
    // Referral: AA clear, NS in authority, glue in additional.
    { name: "deleg.example.test", qtype: T.A, rcode: "NOERROR", flags: "qr", ns: REF, extra: GLUE },
    { name: "host.deleg.example.test", qtype: T.A, rcode: "NOERROR", flags: "qr", ns: REF, extra: GLUE },
    { name: "ns.deleg.example.test", qtype: T.A, rcode: "NOERROR", flags: "qr", ns: REF, extra: GLUE },
    { name: "deleg.example.test", qtype: T.NS, rcode: "NOERROR", flags: "qr", ns: REF, extra: GLUE },
    // DS lives on the parent side of the cut: answered authoritatively, no apex NS.
    { name: "deleg.example.test", qtype: T.DS, rcode: "NOERROR", flags: "qr aa", answer: ["deleg.example.test. 3600 DS 1 8 2 ABCD"] },
    { name: "nods.example.test", qtype: T.DS, rcode: "NOERROR", flags: "qr aa", ns: [SOA_NEG] },
    // Below the cut, DS is the child's: a referral.
    { name: "x.deleg.example.test", qtype: T.DS, rcode: "NOERROR", flags: "qr", ns: REF, extra: GLUE },
    // A wildcard below a cut is occluded.
    { name: "x.nods.example.test", qtype: T.A, rcode: "NOERROR", flags: "qr", ns: ["nods.example.test. 3600 NS ns.other.example."] },
  ]);
});

describe("wildcards (RFC 4592)", () => {
  check([
    {
      name: "host.wild.example.test",
      qtype: T.A,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["host.wild.example.test. 3600 A 192.0.2.42"],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    {
      name: "a.b.wild.example.test",
      qtype: T.A,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["a.b.wild.example.test. 3600 A 192.0.2.42"],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    // Wildcard NODATA: the type is not at the wildcard.
    { name: "host.wild.example.test", qtype: T.TXT, rcode: "NOERROR", flags: "qr aa", ns: [SOA_NEG] },
    // Not across an existing name: exists.wild owns TXT only...
    { name: "exists.wild.example.test", qtype: T.A, rcode: "NOERROR", flags: "qr aa", ns: [SOA_NEG] },
    // ...and names below it are not covered by *.wild.
    { name: "x.exists.wild.example.test", qtype: T.A, rcode: "NXDOMAIN", flags: "qr aa", ns: [SOA_NEG] },
    // The wildcard node itself answers for "*".
    {
      name: "*.wild.example.test",
      qtype: T.A,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["*.wild.example.test. 3600 A 192.0.2.42"],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    // Additional records from a synthesised MX.
    {
      name: "m.wild.example.test",
      qtype: T.MX,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["m.wild.example.test. 3600 MX 5 mail.example.test."],
      ns: APEX_NS,
      extra: ["mail.example.test. 60 A 192.0.2.25", "mail.example.test. 3600 AAAA 2001:db8::25", NS1_A],
    },
  ]);
});

describe("record types", () => {
  check([
    { name: "txt.example.test", qtype: T.TXT, rcode: "NOERROR", flags: "qr aa", answer: ['txt.example.test. 3600 TXT "a" "b c"'], ns: APEX_NS, extra: [NS1_A] },
    // More than 255 octets: split into character-strings of at most 255.
    {
      name: "long.example.test",
      qtype: T.TXT,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: [`long.example.test. 60 TXT "${"x".repeat(255)}" "${"x".repeat(45)}"`],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    {
      name: "api.example.test",
      qtype: T.TXT,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ['api.example.test. 60 TXT "v=spf1 include:_spf.example.com -all"'],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    { name: "api.example.test", qtype: T.MX, rcode: "NOERROR", flags: "qr aa", answer: ["api.example.test. 60 MX 0 ."], ns: APEX_NS, extra: [NS1_A] },
    {
      name: "_x._tcp.example.test",
      qtype: T.SRV,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["_x._tcp.example.test. 60 SRV 0 0 0 ."],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    {
      name: "api.example.test",
      qtype: T.CAA,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ['api.example.test. 60 CAA 0 issuewild "letsencrypt.org"'],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    // RFC 3597: unknown types as opaque RDATA, the bytes exactly.
    {
      name: "opaque.example.test",
      qtype: 65534,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["opaque.example.test. 3600 TYPE65534 \\# 3 010203"],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    {
      name: "https.example.test",
      qtype: T.HTTPS,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["https.example.test. 3600 HTTPS 1 ."],
      ns: APEX_NS,
      extra: [NS1_A],
    },
    // ANY (RFC 8482 as NSD): one RRset, preferring A/AAAA/SOA/MX/PTR; no authority.
    { name: "mixed.example.test", qtype: T.ANY, rcode: "NOERROR", flags: "qr aa", answer: ["mixed.example.test. 3600 AAAA 2001:db8::7"] },
    {
      name: "example.test",
      qtype: T.ANY,
      rcode: "NOERROR",
      flags: "qr aa",
      answer: ["example.test. 3600 SOA ns1.example.test. hostmaster.example.test. 2026010101 7200 900 1209600 300"],
    },
    { name: "txt.example.test", qtype: T.ANY, rcode: "NOERROR", flags: "qr aa", answer: ['txt.example.test. 3600 TXT "a" "b c"'] },
    { name: "b.ent.example.test", qtype: T.ANY, rcode: "NOERROR", flags: "qr aa", ns: [SOA_NEG] },
  ]);
});

describe("outside the served zones", () => {
  check([
    { name: "example.org", qtype: T.A, rcode: "REFUSED", flags: "qr" },
    { name: "test", qtype: T.SOA, rcode: "REFUSED", flags: "qr" },
    { name: "xexample.test", qtype: T.A, rcode: "REFUSED", flags: "qr" },
  ]);
});

describe("names and case", () => {
  it("copies the question's bytes, so its 0x20 case comes back as sent", () => {
    const r = ask("WwW.ExAmPlE.TeSt", T.A, { id: 777 });
    expect(r.id).toBe(777);
    expect(r.question).toBe("WwW.ExAmPlE.TeSt. 1 1");
    expect(r.answer).toEqual(["WwW.ExAmPlE.TeSt. 3600 A 192.0.2.80"]);
    // Names after it are compressed against the question, as NSD does.
    expect(sorted(r.authority)).toEqual(["ExAmPlE.TeSt. 3600 NS ns.other.example.", "ExAmPlE.TeSt. 3600 NS ns1.example.test."]);
  });

  it("matches names case-insensitively, zone data written in any case", () => {
    expect(ask("upper.example.test", T.A).answer).toEqual(["upper.example.test. 3600 A 192.0.2.7"]);
    expect(ask("UPPER.EXAMPLE.TEST", T.A).answer).toEqual(["UPPER.EXAMPLE.TEST. 3600 A 192.0.2.7"]);
  });

  it("synthesises wildcard owners in the question's spelling", () => {
    expect(ask("HoSt.WiLd.example.test", T.A).answer).toEqual(["HoSt.WiLd.example.test. 3600 A 192.0.2.42"]);
  });
});

describe("protocol", () => {
  const raw = (q: Uint8Array, tcp = false) => answer(q, zones, { transport: tcp ? "tcp" : "udp" });

  it("echoes EDNS with payload 1232 only when asked, and the DO bit", () => {
    expect(ask("www.example.test", T.A, { edns: { payload: 4096 } }).opt).toBe("udp=1232 version=0 do=0");
    expect(ask("www.example.test", T.A, { edns: { do: true } }).opt).toBe("udp=1232 version=0 do=1");
    expect(decodeResponse(raw(buildQuery("www.example.test", T.A))!).opt).toBeNull();
  });

  it("answers EDNS version 1 with BADVERS and an empty message", () => {
    const r = ask("www.example.test", T.A, { edns: { version: 1 } });
    expect(r.rcode).toBe("BADVERS");
    expect(r.answer).toEqual([]);
    expect(r.opt).toBe("udp=1232 version=0 do=0");
  });

  it("answers two OPT records with FORMERR", () => {
    expect(decodeResponse(raw(buildQuery("www.example.test", T.A, { edns: { count: 2 } }))!).rcode).toBe("FORMERR");
  });

  it("truncates at 512 octets without EDNS (TC, whole RRsets left out) and answers fully over TCP", () => {
    // 5 TXT records of 200 octets: too big for 512, fits 1232.
    const big = zoneDataOf(parsed, 2);
    big.name = "big.test";
    big.soa = { ...big.soa, mname: "ns1.big.test" };
    big.nameservers = [{ name: "ns1.big.test", ipv4: "192.0.2.1", ipv6: null }];
    big.records = Array.from({ length: 5 }, (_, i) => ({ name: "t.big.test", type: "TXT", ttl: 60, content: String(i).repeat(200) }));
    const z = new ZoneSet();
    z.set(buildZone(big));
    const plain = decodeResponse(answer(buildQuery("t.big.test", T.TXT), z, { transport: "udp" })!);
    expect(plain.flags).toContain("tc");
    expect(plain.answer).toEqual([]);
    expect(plain.size).toBeLessThanOrEqual(512);
    const edns = decodeResponse(answer(buildQuery("t.big.test", T.TXT, { edns: {} }), z, { transport: "udp" })!);
    expect(edns.flags).not.toContain("tc");
    expect(edns.answer).toHaveLength(5);
    expect(edns.size).toBeLessThanOrEqual(1232);
    const small = decodeResponse(answer(buildQuery("t.big.test", T.TXT, { edns: { payload: 100 } }), z, { transport: "udp" })!);
    expect(small.flags).toContain("tc"); // a payload below 512 counts as 512
    const tcp = decodeResponse(answer(buildQuery("t.big.test", T.TXT), z, { transport: "tcp" })!);
    expect(tcp.flags).not.toContain("tc");
    expect(tcp.answer).toHaveLength(5);
    expect(tcp.authority).toHaveLength(1);
  });

  it("never answers with more than the client can take (no amplification)", () => {
    for (const name of ["example.test", "www.example.test", "long.example.test", "nope.example.test", "deleg.example.test"]) {
      for (const qtype of [T.ANY, T.TXT, T.A, T.MX, T.NS]) {
        expect(raw(buildQuery(name, qtype))!.length).toBeLessThanOrEqual(512);
        expect(raw(buildQuery(name, qtype, { edns: { payload: 65535 } }))!.length).toBeLessThanOrEqual(1232);
      }
    }
  });

  it("refuses CHAOS (version.bind, id.server) as NSD with hide-version and hide-identity", () => {
    for (const n of ["version.bind", "version.server", "id.server", "hostname.bind"]) {
      const r = ask(n, T.TXT, { qclass: 3 });
      expect(r.rcode).toBe("REFUSED");
      expect(r.flags).toEqual(["qr"]);
      expect(r.answer).toEqual([]);
    }
  });

  it("answers class ANY from IN data, not authoritatively and without SOA", () => {
    const r = ask("www.example.test", T.A, { qclass: 255 });
    expect(r.flags).toEqual(["qr"]);
    expect(r.answer).toEqual(["www.example.test. 3600 A 192.0.2.80"]);
    expect(ask("nope.example.test", T.A, { qclass: 255 }).authority).toEqual([]);
  });

  it("refuses other classes without echoing the question", () => {
    const r = ask("www.example.test", T.A, { qclass: 4 });
    expect(r.rcode).toBe("REFUSED");
    expect(r.question).toBe("");
  });

  it("keeps RD, never sets RA, clears CD", () => {
    const r = ask("www.example.test", T.A, { rd: true, cd: true });
    expect(r.flags).toEqual(["qr", "aa", "rd"]);
  });

  it("answers FORMERR for zero or two questions and undecodable questions", () => {
    const ok = buildQuery("www.example.test", T.A);
    const none = Uint8Array.from(ok.subarray(0, 12));
    none[5] = 0;
    const two = Uint8Array.from([...ok, ...ok.subarray(12)]);
    two[5] = 2;
    const pointer = Uint8Array.from([...ok.subarray(0, 12), 0xc0, 12, 0, 1, 0, 1]);
    const cut = ok.subarray(0, 20);
    for (const q of [none, two, pointer, cut]) {
      const r = decodeResponse(raw(q)!);
      expect(r.rcode).toBe("FORMERR");
      expect(r.id).toBe(0x4242);
    }
  });

  it("answers unknown opcodes with NOTIMP, UPDATE with NOTIMP, NOTIFY with REFUSED", () => {
    for (const op of [1, 2, 3, 6, 15]) expect(decodeResponse(raw(buildQuery("www.example.test", T.A, { opcode: op }))!).rcode).toBe("NOTIMP");
    expect(decodeResponse(raw(buildQuery("example.test", T.SOA, { opcode: 5 }))!).rcode).toBe("NOTIMP");
    expect(decodeResponse(raw(buildQuery("example.test", T.SOA, { opcode: 4 }))!).rcode).toBe("REFUSED");
  });

  it("answers AXFR over UDP with NOTIMP and IXFR with REFUSED, as NSD (transfers are TCP)", () => {
    expect(ask("example.test", 252).rcode).toBe("NOTIMP");
    expect(ask("example.test", 251).rcode).toBe("REFUSED");
  });

  it("does not answer responses or fragments shorter than a header", () => {
    const q = Uint8Array.from(buildQuery("www.example.test", T.A));
    q[2]! |= 0x80;
    expect(raw(q)).toBeNull();
    expect(raw(new Uint8Array([1, 2, 3]))).toBeNull();
  });

  it("never throws on random or mutated packets", () => {
    const base = buildQuery("a.b.wild.example.test", T.MX, { edns: {} });
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 20000; i++) {
      const b = Uint8Array.from(base);
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const cutAt = rnd() < 0.3 ? Math.floor(rnd() * b.length) : b.length;
      expect(() => raw(b.subarray(0, cutAt))).not.toThrow();
    }
  });

  it("walks a 127-label random name label by label (negative answers need no cache)", () => {
    const name = `${Array.from({ length: 120 }, (_, i) => `l${i}`).join(".")}.wild.example.test`.slice(-250);
    const r = ask(name.replace(/^[^.]*\./, ""), T.A);
    expect(["NOERROR", "NXDOMAIN"]).toContain(r.rcode);
  });
});
