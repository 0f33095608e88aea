/**
 * core/records.ts: names inside a domain, per-type content in presentation form, and where a
 * record may sit. Pure: no store, no sockets.
 */
import { describe, expect, it } from "vitest";
import { judgeDelegation } from "../../src/core/domains";
import type { RecordRow } from "../../src/core/ports";
import { checkPlacement, presentContent, recordContent, recordName, recordTtl, recordType } from "../../src/core/records";

const row = (type: string, content: string, name = "x.example.com"): RecordRow => ({ id: 1, domainId: 1, name, type, ttl: 3600, content, hostnameId: null });

describe("record names", () => {
  it.each([
    ["@", "example.com"],
    ["", "example.com"],
    ["www", "www.example.com"],
    ["WWW.Example.COM", "www.example.com"],
    ["www.example.com.", "www.example.com"],
    ["_sip._tcp", "_sip._tcp.example.com"],
    ["*.lab", "*.lab.example.com"],
    // Relative even when it looks like a name: only the domain's own suffix makes it absolute.
    ["www.example.org", "www.example.org.example.com"],
  ])("%j in example.com is %s", (input, want) => {
    expect(recordName(input, "example.com")).toBe(want);
  });

  it("refuses names outside the domain and malformed ones", () => {
    expect(() => recordName("www.example.org.", "example.com")).toThrow(expect.objectContaining({ code: "outside_zone" }));
    expect(() => recordName("a..b", "example.com")).toThrow(expect.objectContaining({ code: "invalid_hostname" }));
    expect(() => recordName("a.*", "example.com")).toThrow(/wildcard/);
  });
});

describe("record contents", () => {
  it.each([
    ["A", " 192.0.2.1 ", undefined, "192.0.2.1"],
    ["AAAA", "2001:DB8::0:1", undefined, "2001:db8::1"],
    ["CNAME", "Target.Example.NET.", undefined, "target.example.net"],
    ["CNAME", "_acme.auth.example.net", undefined, "_acme.auth.example.net"],
    ["NS", "ns1.example.net", undefined, "ns1.example.net"],
    ["MX", "mail.example.com", 10, "10 mail.example.com"],
    ["MX", "5 mail.example.com", undefined, "5 mail.example.com"],
    ["MX", "mail.example.com", undefined, "10 mail.example.com"],
    ["MX", "0 .", undefined, "0 ."],
    ["SRV", "5 5060 sip.example.com", 10, "10 5 5060 sip.example.com"],
    ["SRV", "1 2 443 web.example.com", undefined, "1 2 443 web.example.com"],
    ["TXT", "v=spf1 -all", undefined, "v=spf1 -all"],
    ["TXT", '"part one" "part two"', undefined, '"part one" "part two"'],
    ["CAA", "0 issue letsencrypt.org", undefined, '0 issue "letsencrypt.org"'],
    ["CAA", '128 IODEF "mailto:sec@example.com"', undefined, '128 iodef "mailto:sec@example.com"'],
  ] as const)("%s %j (priority %s) is stored as %j", (type, content, priority, stored) => {
    expect(recordContent(type, content, priority)).toBe(stored);
  });

  it("shows MX and SRV priority apart from the rest", () => {
    expect(presentContent("MX", "10 mail.example.com")).toEqual({ content: "mail.example.com", priority: 10 });
    expect(presentContent("SRV", "10 5 5060 sip.example.com")).toEqual({ content: "5 5060 sip.example.com", priority: 10 });
    expect(presentContent("TXT", "10 things")).toEqual({ content: "10 things", priority: null });
  });

  it("names types and TTLs plainly", () => {
    expect(recordType(" mx ")).toBe("MX");
    expect(() => recordType("HTTPS")).toThrow(/Unsupported record type/);
    expect(recordTtl(undefined)).toBe(3600);
    expect(() => recordTtl(29)).toThrow(/TTL must be between 30 and 86400/);
  });
});

describe("placement", () => {
  const base = { zone: "example.com", name: "x.example.com", content: "c", existing: [] as RecordRow[], hostnameHere: false, nameservers: ["ns1.example.com"] };

  it("one CNAME alone at a name", () => {
    expect(() => checkPlacement({ ...base, type: "CNAME", existing: [row("TXT", "t")] })).toThrow(/cannot coexist/);
    expect(() => checkPlacement({ ...base, type: "CNAME", existing: [row("CNAME", "a.example.net")] })).toThrow(/already has a CNAME/);
    expect(() => checkPlacement({ ...base, type: "TXT", existing: [row("CNAME", "a.example.net")] })).toThrow(/already has a CNAME/);
    expect(() => checkPlacement({ ...base, type: "CNAME", name: "ns1.example.com" })).toThrow(/cannot coexist/);
    expect(() => checkPlacement({ ...base, type: "CNAME" })).not.toThrow();
  });

  it("nothing over a hostname's dynamic addresses; other data beside it is fine", () => {
    for (const type of ["A", "AAAA", "CNAME", "NS"] as const) expect(() => checkPlacement({ ...base, type, hostnameHere: true }), type).toThrow();
    expect(() => checkPlacement({ ...base, type: "TXT", hostnameHere: true })).not.toThrow();
    expect(() => checkPlacement({ ...base, type: "MX", hostnameHere: true })).not.toThrow();
  });

  it("no CNAME or NS at the apex; no duplicates", () => {
    expect(() => checkPlacement({ ...base, name: "example.com", type: "CNAME" })).toThrow(/apex/);
    expect(() => checkPlacement({ ...base, name: "example.com", type: "NS" })).toThrow(/apex NS/);
    expect(() => checkPlacement({ ...base, type: "TXT", content: "t", existing: [row("TXT", "t")] })).toThrow(/already exists/);
  });
});

describe("delegation judgement", () => {
  const ours = ["ns1.dyn.example.com", "ns2.example.net"];
  it("delegated when the parent lists only ours (case and trailing dots aside), at least one", () => {
    expect(judgeDelegation("example.com", ours, ["NS1.dyn.example.com.", "ns2.example.net"])).toMatchObject({ delegated: true, missing: [], unexpected: [] });
    expect(judgeDelegation("example.com", ours, ["ns2.example.net"])).toMatchObject({ delegated: true, missing: ["ns1.dyn.example.com"] });
  });
  it("not delegated with nothing, or with a foreign server beside ours", () => {
    expect(judgeDelegation("example.com", ours, []).delegated).toBe(false);
    expect(judgeDelegation("example.com", ours, ["ns2.example.net", "ns.elsewhere.net"])).toMatchObject({ delegated: false, unexpected: ["ns.elsewhere.net"] });
  });
});

describe("TXT escapes (RFC 1035 5.1)", () => {
  it.each(["\\999", "a\\256b", "\\1", "x\\12", '"\\300"', "trailing\\"])("refuses %j with the record's own message", (content) => {
    expect(() => recordContent("TXT", content)).toThrow(/TXT record content has an invalid escape/);
  });
  it.each(["\\065", "\\255", "a\\;b", '"quote \\" inside"', "\\\\"])("accepts %j", (content) => {
    expect(recordContent("TXT", content)).toBe(content);
  });
});
