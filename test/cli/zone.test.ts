/**
 * `ipkeep zone import/export/soa` on the compiled executable.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, run, startServe, tempDir } from "../helpers/exe";

const FIXTURE = join(import.meta.dirname, "..", "dns", "fixtures", "diff.zone");
let dir: string;
const ipk = (...args: string[]) => run(["--data", dir, ...args]);
const soaOf = (exported: string) => /\tSOA\t(.*)/.exec(exported)?.[1]?.split(" ");

beforeAll(() => {
  dir = tempDir();
  expect(ipk("init", "--zone", "init.invalid", "--ns", "ns1.init.invalid=192.0.2.9").code).toBe(0);
});
afterAll(() => cleanup(dir));

describe("ipkeep zone", () => {
  it("refuses a bad file whole, naming each problem's line (exit 2)", () => {
    const bad = join(dir, "bad.zone");
    writeFileSync(bad, "$ORIGIN bad.test.\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nx A 999.1.1.1\n$INCLUDE y\n");
    const r = ipk("zone", "import", bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:5: "999.1.1.1" is not an IPv4 address`);
    expect(r.stderr).toContain(`${bad}:6: $INCLUDE is not supported`);
    expect(ipk("zone", "export", "bad.test").code).toBe(4);
  });

  it("refuses a file for another zone than --zone", () => {
    const r = ipk("zone", "import", FIXTURE, "--zone", "other.test");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("diff.test. is outside the zone other.test.");
  });

  it("imports a file with its own serial and exports it again", () => {
    const r = ipk("zone", "import", FIXTURE, "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: "diff.test", serial: 2026010101, replaced: false });
    const out = ipk("zone", "export", "diff.test");
    expect(out.code).toBe(0);
    expect(soaOf(out.stdout)).toEqual(["ns1.diff.test.", "hostmaster.diff.test.", "2026010101", "7200", "900", "1209600", "300"]);
    expect(out.stdout).toContain("generic.diff.test.\t3600\tIN\tTYPE65534\t\\# 4 DEADBEEF");
  });

  it("re-importing the same serial serves the next one (RFC 1982), so secondaries see a change", () => {
    const r = ipk("zone", "import", FIXTURE, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ serial: 2026010102, replaced: true });
    expect(r.stderr).toContain("not newer");
  });

  it("sets SOA timers and bumps the serial", () => {
    const r = ipk("zone", "soa", "diff.test", "--refresh", "2h", "--retry", "600", "--expire", "2w", "--minimum", "60");
    expect(r.code, r.stderr).toBe(0);
    expect(soaOf(ipk("zone", "export", "diff.test").stdout)).toEqual(["ns1.diff.test.", "hostmaster.diff.test.", "2026010103", "7200", "600", "1209600", "60"]);
    expect(ipk("zone", "soa", "diff.test").code).toBe(2);
    expect(ipk("zone", "soa", "nope.test", "--retry", "5").code).toBe(4);
  });

  it("wraps the serial modulo 2^32", () => {
    const f = join(dir, "wrap.zone");
    writeFileSync(f, "$ORIGIN wrap.test.\n@ SOA ns1 h 4294967295 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n");
    expect(ipk("zone", "import", f).code).toBe(0);
    expect(ipk("zone", "soa", "wrap.test", "--ttl", "60").code).toBe(0);
    expect(soaOf(ipk("zone", "export", "wrap.test").stdout)?.[2]).toBe("0");
  });

  it("is served by a running server", async () => {
    const srv = await startServe(dir);
    try {
      expect(digShort(srv.dnsPort, "www.diff.test", "A").sort()).toEqual(["192.0.2.80", "192.0.2.81"]);
      expect(digShort(srv.dnsPort, "diff.test", "SOA")[0]).toContain("2026010103 7200 600 1209600 60");
    } finally {
      await srv.stop();
    }
  });
});
