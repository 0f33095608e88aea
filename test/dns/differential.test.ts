/**
 * Differential test: the same zone file loaded into a real NSD and into ipkeep, the same
 * queries sent to both, the normalized responses compared.
 *
 * Normalizations (everything else must match byte for byte after decoding):
 * - record order inside each section is ignored (sorted), as the order of an RRset and of
 *   additional records carries no meaning;
 * - EDNS options are ignored (NSD adds Extended DNS Errors to REFUSED answers; NSID,
 *   cookies and padding are per-server values); the OPT record's payload size, version,
 *   DO bit and extended rcode are compared;
 * - AXFR/IXFR over UDP are not in the corpus: src/dns/xfr.ts answers them before answer(),
 *   with NSD's rcodes but without echoing OPT;
 * - nothing else: ids, flags, rcodes, the question's bytes (0x20 case), owner names and
 *   RDATA (with their case as sent on the wire), TTLs and section counts must be equal.
 *
 * Set IPKEEP_DIFF_VERBOSE=1 to print every exchange.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, type QueryOptions, render, tcpExchange, udpExchange } from "../helpers/wire-query";
import { startZoneNsd, type ZoneNsd } from "../helpers/nsd-zone";
import { type Ipkeep, startIpkeep } from "./differential-ipkeep";

const ZONE = "diff.test";
const KID = "kid.diff.test";
const ZONES: [string, string][] = [
  [ZONE, join(import.meta.dirname, "fixtures", "diff.zone")],
  [KID, join(import.meta.dirname, "fixtures", "kid.zone")],
];

const T = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  DNAME: 39,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DS: 43,
  SSHFP: 44,
  RRSIG: 46,
  TLSA: 52,
  HTTPS: 65,
  CAA: 257,
  ANY: 255,
} as const;

interface Case {
  label: string;
  bytes: Uint8Array;
  tcp?: boolean;
  /** Expect no answer at all (both must stay silent). */
  silent?: boolean;
}

function q(name: string, type: number, o: QueryOptions = {}): Uint8Array {
  return buildQuery(name, type, { edns: {}, ...o });
}

function corpus(): Case[] {
  const cases: Case[] = [];
  const add = (label: string, bytes: Uint8Array, extra: Partial<Case> = {}) => cases.push({ label, bytes, ...extra });
  const rel = [
    "",
    "www",
    "WwW",
    "alias",
    "chain1",
    "dangling",
    "outcname",
    "loop1",
    "txt",
    "txt2",
    "longtxt",
    "_sip._tcp",
    "sip",
    "a.b.c.ent",
    "b.c.ent",
    "c.ent",
    "ent",
    "x.c.ent",
    "y.b.c.ent",
    "foo.wild",
    "a.b.wild",
    "exists.wild",
    "x.exists.wild",
    "sub.exists.wild",
    "wild",
    "*.wild",
    "x.cnwild",
    "nowild",
    "zz.nowild",
    "deleg",
    "x.deleg",
    "ns.deleg",
    "nods",
    "x.nods",
    "hinfo",
    "sshfp",
    "tlsa._443._tcp",
    "naptr",
    "generic",
    "https",
    "ptr",
    "upper",
    "UPPER",
    "esc\\.dot",
    "ttl5",
    "big",
    "mid",
    "mixed",
    "mxwild",
    "mxdeleg",
    "cndeleg",
    "srvonly",
    "nx",
    "deep.nx.name",
    "ns1",
    "ns2",
    "mail",
    "dn",
    "www.dn",
    "WwW.dN",
    "mail.dn",
    "nx.dn",
    "a.b.dn",
    "target",
    "www.target",
    "a.b.dnout",
    "www.dnkid",
    "nx.dnkid",
    "y.dnself",
    "short.dnlong",
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.dnlong",
  ];
  const fq = (r: string) => (r ? `${r}.${ZONE}` : ZONE);
  for (const r of rel) for (const t of [T.A, T.AAAA, T.TXT, T.MX, T.ANY]) add(`${fq(r)} ${t}`, q(fq(r), t));
  const extra: [string, number][] = [
    ["", T.NS],
    ["", T.SOA],
    ["", T.CAA],
    ["", T.DS],
    ["www", T.SOA],
    ["www", T.NS],
    ["deleg", T.NS],
    ["deleg", T.DS],
    ["nods", T.DS],
    ["x.deleg", T.DS],
    ["ns.deleg", T.A],
    ["alias", T.CNAME],
    ["dangling", T.CNAME],
    ["x.cnwild", T.CNAME],
    ["_sip._tcp", T.SRV],
    ["ptr", T.PTR],
    ["hinfo", T.HINFO],
    ["sshfp", T.SSHFP],
    ["tlsa._443._tcp", T.TLSA],
    ["naptr", T.NAPTR],
    ["generic", 65534],
    ["https", T.HTTPS],
    ["svc", T.HTTPS],
    ["svcb", 64],
    ["www", T.RRSIG],
    ["www", 1000],
    ["www", 0],
    ["foo.wild", T.NS],
    ["srvonly", T.SRV],
    ["MiXeD.DiFf", T.A],
    ["ALIAS", T.A],
    ["x.CNWILD", T.A],
    ["X.DELEG", T.A],
    ["Foo.Wild", T.TXT],
    ["dn", T.DNAME],
    ["www.dn", T.DNAME],
    ["www.dn", T.CNAME],
    ["www.dn", T.DS],
    ["dnout", T.DNAME],
    ["www.dnkid", T.DS],
  ];
  for (const [r, t] of extra) add(`${fq(r)} ${t}`, q(fq(r), t));
  // Two served zones, parent and child: DS from the parent, the rest from the child, CNAMEs across.
  for (const n of ["kid", "www.kid", "nx.kid", "x.w.kid", "back.kid", "tokid", "tokidnx", "WWW.KID"]) {
    for (const t of [T.A, T.DS, T.NS, T.SOA, T.TXT, T.ANY]) add(`${fq(n)} ${t}`, q(fq(n), t));
  }
  // Without EDNS: the 512-octet limit and truncation.
  for (const r of ["", "www", "big", "mid", "txt", "_sip._tcp", "deleg", "nx", "mixed", "longtxt"]) {
    for (const t of [T.A, T.TXT, T.ANY, T.NS, T.MX]) add(`${fq(r)} ${t} noedns`, buildQuery(fq(r), t));
  }
  // Truncated answers are complete over TCP.
  for (const r of ["big", "mid", ""]) add(`${fq(r)} TXT tcp`, buildQuery(fq(r), T.TXT), { tcp: true });
  add("www tcp edns", q(fq("www"), T.A), { tcp: true });
  // EDNS variants.
  add("payload 100", q(fq("big"), T.TXT, { edns: { payload: 100 } }));
  add("payload 600", q(fq("big"), T.TXT, { edns: { payload: 600 } }));
  add("payload 4096", q(fq("big"), T.TXT, { edns: { payload: 4096 } }));
  add("DO bit", q(fq("www"), T.A, { edns: { do: true } }));
  add("BADVERS", q(fq("www"), T.A, { edns: { version: 1 } }));
  add("BADVERS nx", q(fq("nx"), T.A, { edns: { version: 3 } }));
  add("two OPT", q(fq("www"), T.A, { edns: { count: 2 } }));
  add("RD copied", q(fq("www"), T.A, { rd: true }));
  add("CD copied", q(fq("www"), T.A, { cd: true }));
  add("other id", q(fq("www"), T.A, { id: 0xbeef }));
  // Outside the served zone.
  for (const n of ["www.other.test", "test", ".", "xdiff.test", "diff.test.evil"]) add(`refused ${n}`, q(n, T.A));
  // Classes.
  for (const n of ["version.bind", "version.server", "id.server", "hostname.bind", "authors.bind"]) add(`CH ${n}`, q(n, T.TXT, { qclass: 3 }));
  add("CH A", q("www.diff.test", T.A, { qclass: 3 }));
  add("class ANY", q("www.diff.test", T.A, { qclass: 255 }));
  add("class ANY nx", q("nx.diff.test", T.A, { qclass: 255 }));
  add("class HS", q("www.diff.test", T.A, { qclass: 4 }));
  add("class NONE", q("www.diff.test", T.A, { qclass: 254 }));
  add("class 42", q("www.diff.test", T.A, { qclass: 42 }));
  // Opcodes. (UPDATE, 5, is left out: NSD has none and answers NOTIMP; ipkeep answers RFC 2136
  // signed updates and REFUSED to unsigned ones, see test/e2e/dns-update.test.ts.)
  for (const op of [1, 2, 3, 4, 6, 15]) add(`opcode ${op}`, q(fq("www"), T.A, { opcode: op }));
  // Meta types in the question. (AXFR and IXFR are left out: the transfer code answers them
  // before answer() sees them, see src/dns/xfr.ts.)
  for (const t of [41, 250, 253, 254]) add(`qtype ${t} udp`, q(ZONE, t));
  add("NOTIFY for the zone", q(ZONE, T.SOA, { opcode: 4 }));
  add("NOTIFY for the zone, no EDNS", buildQuery(ZONE, T.SOA, { opcode: 4 }));
  add("NOTIFY other zone", q("other.test", T.SOA, { opcode: 4 }));
  // Malformed.
  const ok = buildQuery(fq("www"), T.A);
  const noQ = Uint8Array.from(ok);
  noQ[5] = 0;
  add("qdcount 0", noQ.subarray(0, 12));
  const twoQ = Uint8Array.from([...ok, ...ok.subarray(12)]);
  twoQ[5] = 2;
  add("qdcount 2", twoQ);
  add("cut in name", ok.subarray(0, 16));
  add("cut in type", ok.subarray(0, ok.length - 3));
  const badLabel = Uint8Array.from(ok);
  badLabel[12] = 0x43;
  add("label type 01", badLabel);
  const ptr = Uint8Array.from([...ok.subarray(0, 12), 0xc0, 12, 0, 1, 0, 1]);
  add("pointer in question", ptr);
  const big = Uint8Array.from(ok);
  big[7] = 5;
  add("ancount beyond data", big);
  const resp = Uint8Array.from(ok);
  resp[2]! |= 0x80;
  add("a response", resp, { silent: true });
  return cases;
}

const HAVE_NSD = spawnSync("nsd", ["-v"]).status === 0;
let nsd: ZoneNsd;
let ipk: Ipkeep;

describe.skipIf(!HAVE_NSD)("differential: ipkeep answers as NSD on the same zone file", () => {
  beforeAll(async () => {
    const ready = async (port: number) => (await udpExchange(port, buildQuery(ZONE, T.SOA), 300)) !== null;
    nsd = await startZoneNsd(ZONES, ready);
    ipk = await startIpkeep(ZONES);
  }, 60_000);
  afterAll(async () => {
    await nsd?.stop();
    await ipk?.stop();
  });

  const cases = corpus();
  it(`has at least 150 queries (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
  });

  it("answers every query of the corpus as NSD does", async () => {
    const diffs: string[] = [];
    for (const c of cases) {
      const send = c.tcp ? tcpExchange : udpExchange;
      const timeout = c.silent ? 300 : 2000;
      const [a, b] = await Promise.all([send(nsd.port, c.bytes, timeout), send(ipk.port, c.bytes, timeout)]);
      const ra = render(a);
      const rb = render(b);
      if (process.env.IPKEEP_DIFF_VERBOSE) console.log(c.label, JSON.stringify(ra), JSON.stringify(rb));
      if (JSON.stringify(ra) !== JSON.stringify(rb)) diffs.push(`${c.label}\n  nsd:    ${JSON.stringify(ra)}\n  ipkeep: ${JSON.stringify(rb)}`);
    }
    expect(diffs.join("\n")).toBe("");
  }, 120_000);
});
