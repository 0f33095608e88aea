/**
 * RFC 1035 master files: what the parser accepts, what it refuses (with line numbers), and
 * exports that NSD and BIND load.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildZone } from "../../src/dns/zone";
import { exportZone, parseZoneFile, ZoneFileError, zoneDataOf } from "../../src/dns/zonefile";

const lines = (text: string, zone?: string) => parseZoneFile(text, { zone }).records.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.content}`);

function problems(text: string, zone?: string): string[] {
  try {
    parseZoneFile(text, { zone });
  } catch (e) {
    if (e instanceof ZoneFileError) return e.problems.map((p) => `${p.line}: ${p.message}`);
    throw e;
  }
  throw new Error("expected the file to be refused");
}

const HEAD = `$ORIGIN z.test.
$TTL 300
@ IN SOA ns1 host\\.master 1 7200 900 1209600 60
@ IN NS ns1
ns1 IN A 192.0.2.1
`;

describe("zone file syntax", () => {
  it("reads $ORIGIN, $TTL, @, relative and absolute names, and class/TTL in either order", () => {
    const p = parseZoneFile(`${HEAD}
www 60 IN A 192.0.2.80
www IN 61 AAAA 2001:db8::1
abs.z.test. A 192.0.2.2
$ORIGIN sub.z.test.
deep CNAME @
$TTL 1h
x TXT "in an hour"
`);
    expect(p.name).toBe("z.test");
    expect(p.soa).toEqual({ mname: "ns1.z.test", rname: "host\\.master.z.test", serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 60, ttl: 300 });
    expect(p.nameservers).toEqual(["ns1.z.test"]);
    expect(p.records.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.content}`)).toEqual([
      "ns1.z.test 300 A 192.0.2.1",
      "www.z.test 60 A 192.0.2.80",
      "www.z.test 61 AAAA 2001:db8::1",
      "abs.z.test 300 A 192.0.2.2",
      "deep.sub.z.test 300 CNAME sub.z.test.",
      'x.sub.z.test 3600 TXT "in an hour"',
    ]);
  });

  it("joins parentheses across lines, skips comments, keeps the owner of indented lines", () => {
    const p = parseZoneFile(`$ORIGIN z.test.
@ 300 IN SOA ns1 hostmaster ( ; comment inside
      2026010101 ; serial
      2h 15m 2w 5m )
  IN NS ns1 ; the owner is @ again
ns1 IN A 192.0.2.1
    IN AAAA 2001:db8::1
`);
    expect(p.soa.serial).toBe(2026010101);
    expect([p.soa.refresh, p.soa.retry, p.soa.expire, p.soa.minimum]).toEqual([7200, 900, 1209600, 300]);
    expect(p.records.map((r) => `${r.name} ${r.type}`)).toEqual(["ns1.z.test A", "ns1.z.test AAAA"]);
  });

  it("reads quoted strings with escapes, several strings, and splits text over 255 octets", () => {
    expect(lines(`${HEAD}t TXT "a \\"quoted\\" word; not a comment" "\\065\\066" plain ""\n`).at(-1)).toBe(
      't.z.test 300 TXT "a \\"quoted\\" word; not a comment" "AB" "plain" ""',
    );
    const long = "y".repeat(300);
    expect(lines(`${HEAD}t TXT "${long}"\n`).at(-1)).toBe(`t.z.test 300 TXT "${"y".repeat(255)}" "${"y".repeat(45)}"`);
  });

  it("reads escaped owner names and --zone as the origin of a file without $ORIGIN", () => {
    const p = parseZoneFile(
      `@ 300 IN SOA ns1 hostmaster 1 2 3 4 5
@ NS ns1
ns1 A 192.0.2.1
esc\\.dot A 192.0.2.3
Upper A 192.0.2.4
`,
      { zone: "q.test" },
    );
    expect(p.records.map((r) => r.name)).toEqual(["ns1.q.test", "esc\\.dot.q.test", "upper.q.test"]);
  });

  it("reads RFC 3597 generic syntax for unknown and known types", () => {
    expect(lines(`${HEAD}g TYPE65534 \\# 4 DEAD BEEF\ng A \\# 4 C0000201\nh HTTPS \\# 3 000100\ne TYPE65000 \\# 0\n`).slice(-4)).toEqual([
      "g.z.test 300 TYPE65534 \\# 4 DEADBEEF",
      "g.z.test 300 A 192.0.2.1",
      "h.z.test 300 HTTPS 1 .",
      "e.z.test 300 TYPE65000 \\# 0",
    ]);
  });

  it("reads the other types as opaque RDATA in their own syntax", () => {
    expect(
      lines(`${HEAD}d DS 12345 8 2 ABCD EF01
s SSHFP 1 1 0123456789abcdef
t TLSA 3 1 1 ABCDEF
n NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:a@b!" .
h HINFO "PC" "Linux"
c CAA 0 issue "letsencrypt.org"
k DNSKEY 257 3 13 AQID
w HTTPS 1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1
v SVCB 16 svc.example. mandatory=alpn alpn="h2" key65333=ex no-default-alpn ech=AQID
`).slice(-9),
    ).toEqual([
      "d.z.test 300 DS 12345 8 2 ABCDEF01",
      "s.z.test 300 SSHFP 1 1 0123456789ABCDEF",
      "t.z.test 300 TLSA 3 1 1 ABCDEF",
      'n.z.test 300 NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:a@b!" .',
      'h.z.test 300 HINFO "PC" "Linux"',
      'c.z.test 300 CAA 0 issue "letsencrypt.org"',
      "k.z.test 300 DNSKEY 257 3 13 AQID",
      'w.z.test 300 HTTPS 1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1',
      'v.z.test 300 SVCB 16 svc.example. mandatory=alpn alpn="h2" no-default-alpn ech=AQID key65333="ex"',
    ]);
  });
});

describe("zone file problems are reported with their line, and nothing is taken", () => {
  it.each([
    [`${HEAD}$INCLUDE other.zone\n`, ["6: $INCLUDE is not supported (only $ORIGIN and $TTL)"]],
    [`${HEAD}$GENERATE 1-2 h$ A 1.2.3.$\n`, ["6: $GENERATE is not supported (only $ORIGIN and $TTL)"]],
    [`${HEAD}x CH TXT "chaos"\n`, ["6: class CH is not supported (only IN)"]],
    [`${HEAD}x A 300.1.1.1\n`, ['6: "300.1.1.1" is not an IPv4 address']],
    [`${HEAD}x AAAA nope\n`, ['6: "nope" is not an IPv6 address']],
    [`${HEAD}x WHAT 1\n`, ['6: unknown type "WHAT" (use TYPEnnn with \\# for unknown types)']],
    [`${HEAD}x LOC 52 22 23.000 N 4 53 32.000 E -2.00m\n`, ["6: LOC is only accepted in the RFC 3597 generic form (\\# length hex)"]],
    [`${HEAD}x HTTPS 1 . alpn=h2 alpn=h3\n`, ["6: SvcParamKey alpn given twice"]],
    [`${HEAD}x HTTPS 1 . color=red\n`, ['6: unknown SvcParamKey "color"']],
    [`${HEAD}x TYPE99 \\# 3 0102\n`, ["6: \\# length 3 does not match 2 bytes of data"]],
    [`${HEAD}x NSEC3PARAM \\# 1 00\n`, ["6: signed zones are not supported (NSEC3PARAM)"]],
    [`${HEAD}x RRSIG \\# 1 00\n`, ["6: signed zones are not supported (RRSIG)"]],
    [`${HEAD}x MX 10\n`, ["6: MX record is missing its name"]],
    [`${HEAD}x MX 70000 mail\n`, ['6: "70000" is not a number from 0 to 65535']],
    [`${HEAD}x TXT "open\n`, ["6: unterminated quoted string"]],
    [`${HEAD}x A ( 192.0.2.1\n`, ['7: unbalanced "(": the file ends inside parentheses']],
    [`${HEAD}x A 192.0.2.1 )\n`, ['6: unbalanced ")"']],
    [`${HEAD}out.example. A 192.0.2.1\n`, ["6: out.example. is outside the zone z.test."]],
    [`${HEAD}x CNAME www\nx A 192.0.2.1\n`, ["7: CNAME and other data at x.z.test."]],
    [`${HEAD}@ SOA ns1 h 2 2 3 4 5\n`, ["6: a second SOA record"]],
    [`$ORIGIN z.test.\n@ SOA ns1 h 1 2 3 4 5\n`, ["2: no NS records at the apex z.test."]],
    [`$ORIGIN z.test.\n@ NS ns1\n`, ["0: no SOA record for z.test."]],
    [`x A 192.0.2.1\n`, ['1: relative name "x" before any $ORIGIN (give --zone)']],
    [`${HEAD}x 99999999999 A 192.0.2.1\n`, ['6: "99999999999" is out of range']],
    [`${HEAD}${"a".repeat(64)} A 192.0.2.1\n`, ['6: label longer than 63 octets in "' + "a".repeat(64) + '"']],
  ])("%#", (text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it("lists every problem of a file, not just the first", () => {
    expect(problems(`${HEAD}a A 1\nb AAAA 2\n$INCLUDE x\n`)).toEqual([
      '6: "1" is not an IPv4 address',
      '7: "2" is not an IPv6 address',
      "8: $INCLUDE is not supported (only $ORIGIN and $TTL)",
    ]);
  });
});

describe("export", () => {
  const FIXTURE = join(import.meta.dirname, "fixtures", "diff.zone");
  const text = readFileSync(FIXTURE, "utf8");

  it("round-trips: the exported file parses to the same records", () => {
    const first = parseZoneFile(text);
    const exported = exportZone(buildZone(zoneDataOf(first)));
    const again = parseZoneFile(exported);
    const key = (p: typeof first) => [p.soa, p.nameservers, p.records.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.content}`).sort()];
    expect(key(again)).toEqual(key(first));
  });

  it("writes a file named-checkzone and nsd-checkzone accept", () => {
    const dir = mkdtempSync(join(tmpdir(), "ipkeep-export-"));
    try {
      const file = join(dir, "diff.test.zone");
      writeFileSync(file, exportZone(buildZone(zoneDataOf(parseZoneFile(text)))));
      const bind = spawnSync("named-checkzone", ["-k", "ignore", "diff.test", file], { encoding: "utf8" });
      expect(bind.status, bind.stdout + bind.stderr).toBe(0);
      const nsd = spawnSync("nsd-checkzone", ["diff.test", file], { encoding: "utf8" });
      expect(nsd.status, nsd.stdout + nsd.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("hostile zone files", () => {
  it("never fails with anything but a ZoneFileError listing lines", () => {
    const pieces = [
      "$ORIGIN",
      "$TTL",
      "@",
      "(",
      ")",
      ";",
      '"',
      "\\",
      "\\#",
      "IN",
      "CH",
      "A",
      "TXT",
      "MX",
      "NS",
      "SOA",
      "TYPE65",
      "*",
      ".",
      "..",
      "x.",
      "1.2.3.4",
      "::1",
      "65536",
      "-1",
      "\n",
      " ",
      "\t",
      "é",
      "\\999",
      "\\065",
      "a".repeat(70),
    ];
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let i = 0; i < 3000; i++) {
      let text = HEAD;
      for (let k = 0; k < 1 + rnd(30); k++) text += pieces[rnd(pieces.length)] + (rnd(3) ? " " : "");
      try {
        parseZoneFile(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ZoneFileError);
        for (const p of (e as ZoneFileError).problems) expect(p.line).toBeGreaterThanOrEqual(0);
      }
    }
  });
});
