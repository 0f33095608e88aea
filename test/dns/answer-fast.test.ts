/**
 * The NXDOMAIN fast path (precomputed SOA authority) must write exactly the bytes the general
 * encoder writes: same compression pointers, flags, OPT, truncation, for any question.
 */
import { afterEach, describe, expect, it } from "vitest";
import { answer, setFastNegative } from "../../src/dns/answer";
import { buildZone, ZoneSet } from "../../src/dns/zone";
import { parseZoneFile, zoneDataOf } from "../../src/dns/zonefile";
import { buildQuery, type QueryOptions } from "../helpers/wire-query";

function zonesOf(...texts: string[]): ZoneSet {
  const z = new ZoneSet();
  for (const [i, text] of texts.entries()) z.set(buildZone(zoneDataOf(parseZoneFile(text), i + 1)));
  expect(z.size).toBe(texts.length);
  return z;
}

// SOA names inside the zone (the usual case), outside it sharing a parent, and unrelated.
const INSIDE = zonesOf(`
$ORIGIN example.test.
$TTL 3600
@        IN SOA ns1 hostmaster.mail 2026010101 7200 900 1209600 300
         IN NS  ns1
ns1      IN A   192.0.2.1
www      IN A   192.0.2.80
a.b.ent  IN TXT "deep"
*.wild   IN A   192.0.2.42
deleg    IN NS  ns.deleg
ns.deleg IN A   192.0.2.53
`);
const SIBLING = zonesOf(`
$ORIGIN sub.example.test.
$TTL 3600
@        IN SOA ns.example.test. admin.example.test. 1 7200 900 1209600 60
         IN NS  ns.example.test.
host     IN A   192.0.2.9
`);
const OTHER = zonesOf(`
$ORIGIN zone.test.
$TTL 3600
@        IN SOA a.very.long.primary.nameserver.elsewhere.example. a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example. 1 2 3 4 5
         IN NS  ns.elsewhere.example.
`);

// A parent and a child zone served together, and a zone with a wildcard at its apex.
const NESTED = zonesOf(
  `$ORIGIN example.test.\n@ 3600 IN SOA ns1 hostmaster 1 2 3 4 5\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.1\n`,
  `$ORIGIN sub.example.test.\n@ 3600 IN SOA ns.example.test. admin.example.test. 1 2 3 4 60\n@ 3600 IN NS ns.example.test.\n`,
  `$ORIGIN wildapex.test.\n@ 3600 IN SOA ns.wildapex.test. h.wildapex.test. 1 2 3 4 5\n@ 3600 IN NS ns\n* 3600 IN A 192.0.2.7\n`,
  // DNAMEs redirect what lies below them: nothing there is NXDOMAIN by absence alone.
  `$ORIGIN dnapex.test.\n@ 3600 IN SOA ns.example.test. h.example.test. 1 2 3 4 5\n@ 3600 IN NS ns.example.test.\n@ 3600 IN DNAME example.test.\n`,
  `$ORIGIN dnbelow.test.\n@ 3600 IN SOA ns.example.test. h.example.test. 1 2 3 4 5\n@ 3600 IN NS ns.example.test.\nd 3600 IN DNAME sub.example.test.\n`,
);

const NAMES: [ZoneSet, string][] = [];
for (const n of [
  "nope.example.test",
  "nope.SUB.example.test",
  "sub.example.test",
  "x.ns1.example.test",
  "nope.wildapex.test",
  "a.b.wildapex.test",
  "test",
  "nope.test",
  "nope.dnapex.test",
  "ns1.dnapex.test",
  "x.d.dnbelow.test",
  "nope.dnbelow.test",
  "d.dnbelow.test",
])
  NAMES.push([NESTED, n]);
for (const n of [
  "nope.example.test",
  "NoPe.ExAmPlE.tEsT",
  "x.y.z.example.test",
  "ns1.example.test.x", // not in any zone: REFUSED either way
  "x.ns1.example.test",
  "x.mail.example.test",
  "hostmaster.mail.example.test",
  "x.hostmaster.mail.example.test",
  "HOSTMASTER.Mail.example.test",
  "c.b.ent.example.test",
  "x.a.b.ent.example.test",
  "x.wild.example.test",
  "x.deleg.example.test",
  "www.example.test",
  "example.test",
  "w\\.x.example.test",
  `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(40)}.example.test`,
])
  NAMES.push([INSIDE, n]);
for (const n of ["nope.sub.example.test", "x.ns.example.test.sub.example.test", "admin.example.test.sub.example.test", "a.b.SUB.example.test"])
  NAMES.push([SIBLING, n]);
for (const n of ["nope.zone.test", "elsewhere.example.zone.test", `${"x".repeat(63)}.${"y".repeat(63)}.${"z".repeat(63)}.${"q".repeat(50)}.zone.test`])
  NAMES.push([OTHER, n]);

const OPTIONS: (QueryOptions & { tcp?: boolean })[] = [
  {},
  { rd: true, cd: true },
  { edns: {} },
  { edns: { do: true, payload: 4096 } },
  { edns: { payload: 100 } },
  { edns: { version: 1 } },
  { tcp: true },
  { qclass: 255 },
  { qclass: 3 },
];

afterEach(() => setFastNegative(true));

describe("answer() NXDOMAIN fast path", () => {
  it("writes the same bytes as the general encoder for every question and option", () => {
    let compared = 0;
    for (const [zones, name] of NAMES) {
      for (const qtype of [1, 28, 16, 43, 255]) {
        for (const o of OPTIONS) {
          const q = buildQuery(name, qtype, { ...o, id: 0x1234 });
          const opts = { transport: o.tcp ? ("tcp" as const) : ("udp" as const) };
          setFastNegative(true);
          const fast = answer(q, zones, opts);
          setFastNegative(false);
          const slow = answer(q, zones, opts);
          expect([name, qtype, o, fast && Buffer.from(fast).toString("hex")]).toEqual([name, qtype, o, slow && Buffer.from(slow).toString("hex")]);
          compared++;
        }
      }
    }
    expect(compared).toBe(NAMES.length * 5 * OPTIONS.length);
  });
});
