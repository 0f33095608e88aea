/**
 * `ipkeep init` prints what the parent zone must publish: the NS lines and, for nameservers
 * inside the zone, the glue without which resolvers cannot reach them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, run, tempDir } from "../helpers/exe";

let data: string | undefined;
afterEach(() => {
  if (data) cleanup(data);
  data = undefined;
});

describe("ipkeep init: the delegation to create", () => {
  it("prints the NS lines and the A/AAAA glue of in-zone nameservers only", () => {
    data = tempDir();
    const r = run([
      "--data",
      data,
      "init",
      "--zone",
      "dyn.example.com",
      "--ns",
      "ns1.dyn.example.com=203.0.113.53,2001:db8::53",
      "--ns",
      "ns2.dns.example.net",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n").map((l) => l.trim());
    expect(lines).toContain("dyn.example.com. IN NS ns1.dyn.example.com.");
    expect(lines).toContain("dyn.example.com. IN NS ns2.dns.example.net.");
    expect(lines).toContain("ns1.dyn.example.com. IN A 203.0.113.53");
    expect(lines).toContain("ns1.dyn.example.com. IN AAAA 2001:db8::53");
    // A nameserver outside the zone takes no glue.
    expect(r.stdout).not.toMatch(/ns2\.dns\.example\.net\. IN (A|AAAA)/);
  });

  it("answers the same in --json, per zone", () => {
    data = tempDir();
    const r = run(["--data", data, "init", "--zone", "a.example.com", "--zone", "b.example.com", "--ns", "ns1.a.example.com=192.0.2.1", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).delegation).toEqual([
      { zone: "a.example.com", ns: ["a.example.com. IN NS ns1.a.example.com."], glue: ["ns1.a.example.com. IN A 192.0.2.1"] },
      // ns1.a.example.com is outside b.example.com: the parent of b needs no glue for it.
      { zone: "b.example.com", ns: ["b.example.com. IN NS ns1.a.example.com."], glue: [] },
    ]);
  });
});
