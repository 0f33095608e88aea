/**
 * The signed differential: ipkeep signs the differential test's zones, a real NSD loads them
 * as ipkeep transfers them (AXFR), and the corpus sent with DO must be answered alike by both
 * (signatures and NSEC3 proofs included: they are the same records). Normalizations as in
 * differential.test.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, render, tcpExchange, udpExchange } from "../helpers/wire-query";
import { startZoneNsd, type ZoneNsd } from "../helpers/nsd-zone";
import { type Ipkeep, startIpkeep } from "./differential-ipkeep";

const ZONE = "diff.test";
const KID = "kid.diff.test";
const ZONES: [string, string][] = [
  [ZONE, join(import.meta.dirname, "fixtures", "diff.zone")],
  [KID, join(import.meta.dirname, "fixtures", "kid.zone")],
];
const T = { A: 1, NS: 2, SOA: 6, MX: 15, TXT: 16, AAAA: 28, DS: 43, DNSKEY: 48, NSEC3PARAM: 51, CDS: 59, ANY: 255 } as const;

function corpus(): { label: string; bytes: Uint8Array; tcp: boolean }[] {
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
  ];
  const fq = (r: string) => (r ? `${r}.${ZONE}` : ZONE);
  const out: { label: string; bytes: Uint8Array; tcp: boolean }[] = [];
  // Over UDP (1232 octets: truncation with signatures) and over TCP (everything).
  for (const r of rel) {
    for (const t of [T.A, T.AAAA, T.TXT, T.MX, T.ANY]) {
      for (const tcp of [false, true]) out.push({ label: `${fq(r)} ${t}${tcp ? " tcp" : ""}`, bytes: buildQuery(fq(r), t, { edns: { do: true } }), tcp });
    }
  }
  for (const [n, t] of [
    [ZONE, T.DNSKEY],
    [ZONE, T.NSEC3PARAM],
    [ZONE, T.CDS],
    [ZONE, T.NS],
    [ZONE, T.SOA],
    [`deleg.${ZONE}`, T.DS],
    [`nods.${ZONE}`, T.DS],
    [KID, T.DNSKEY],
    [`www.${KID}`, T.A],
  ] as [string, number][]) {
    out.push({ label: `${n} ${t}`, bytes: buildQuery(n, t, { edns: { do: true } }), tcp: true });
  }
  return out;
}

const HAVE_NSD = spawnSync("nsd", ["-v"]).status === 0;
let nsd: ZoneNsd;
let ipk: Ipkeep;
let dir: string;

describe.skipIf(!HAVE_NSD)("signed differential: NSD serving the zones ipkeep signed and transferred", () => {
  beforeAll(async () => {
    ipk = await startIpkeep(ZONES, { signed: true });
    dir = mkdtempSync(join(tmpdir(), "ipkeep-signed-diff-"));
    const files: [string, string][] = [];
    for (const [zone] of ZONES) {
      const file = join(dir, zone);
      let text = "";
      for (let i = 0; i < 50 && !text.includes("RRSIG"); i++) {
        text = spawnSync("dig", ["@127.0.0.1", "-p", String(ipk.port), zone, "AXFR", "+nocomments", "+nostats", "+nocmd"], { encoding: "utf8" }).stdout;
        if (!text.includes("RRSIG")) await new Promise((r) => setTimeout(r, 100));
      }
      // A master file has one SOA: the transfer's closing one goes.
      const lines = text.split("\n").filter((l) => l.trim() && !l.startsWith(";"));
      writeFileSync(file, `${lines.slice(0, -1).join("\n")}\n`);
      files.push([zone, file]);
    }
    const ready = async (port: number) => (await udpExchange(port, buildQuery(ZONE, T.SOA), 300)) !== null;
    nsd = await startZoneNsd(files, ready);
  }, 60_000);
  afterAll(async () => {
    await nsd?.stop();
    await ipk?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers every DO query of the corpus as NSD does", async () => {
    expect(corpus().length).toBeGreaterThan(600);
    const diffs: string[] = [];
    for (const c of corpus()) {
      const send = c.tcp ? tcpExchange : udpExchange;
      const [a, b] = await Promise.all([send(nsd.port, c.bytes, 2000), send(ipk.port, c.bytes, 2000)]);
      const ra = render(a);
      const rb = render(b);
      if (JSON.stringify(ra) !== JSON.stringify(rb)) diffs.push(`${c.label}\n  nsd:    ${JSON.stringify(ra)}\n  ipkeep: ${JSON.stringify(rb)}`);
    }
    expect(diffs.length, diffs.join("\n")).toBe(0);
  }, 120_000);
});
