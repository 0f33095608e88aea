/**
 * Keys: DNSKEY RDATA, key tag (RFC 4034 App. B) and DS (digest type 2) agree with BIND's
 * dnssec-dsfromkey and ldns-key2ds for both algorithms; a stored key loads back to the same key.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALG_ECDSAP256SHA256, ALG_ED25519, dsInfo, generateKey, keyTag, loadKey } from "../../../src/dns/dnssec/keys";

describe("zone keys", () => {
  it("key tag of RFC 4034 5.4's example DNSKEY (60485)", () => {
    // RFC 4034 5.4: dskey.example.com. 86400 IN DNSKEY 256 3 5 (AQOeiiR0GOMYkDshWoSKz9Xz...) ; key id = 60485
    const b64 =
      "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==";
    const pub = Buffer.from(b64, "base64");
    const rdata = Buffer.concat([Buffer.from([1, 0, 3, 5]), pub]);
    expect(keyTag(rdata)).toBe(60485);
  });

  for (const alg of [ALG_ECDSAP256SHA256, ALG_ED25519] as const) {
    it(`algorithm ${alg}: the DS and key tag are what dnssec-dsfromkey and ldns-key2ds compute`, () => {
      const key = loadKey(alg, generateKey(alg).pkcs8);
      const info = dsInfo("Example.z.test".toLowerCase(), key);
      expect(key.dnskey[0]).toBe(1);
      expect(key.dnskey[1]).toBe(1); // 257
      expect(key.publicKey.length).toBe(alg === ALG_ED25519 ? 32 : 64);
      const dir = mkdtempSync(join(tmpdir(), "ipkeep-key-"));
      try {
        const file = join(dir, "key");
        writeFileSync(file, `${info.dnskey.replace(" IN ", " 3600 IN ")}\n`);
        const bind = spawnSync("dnssec-dsfromkey", ["-2", "-f", file, "example.z.test"], { encoding: "utf8" });
        const after = (out: string) => out.trim().split(/\s+/).slice(-4).join(" ").toUpperCase();
        expect(bind.stdout, bind.stderr).toContain("example.z.test.");
        expect(after(bind.stdout)).toBe(`${info.keyTag} ${alg} 2 ${info.digest}`);
        expect(info.ds).toBe(`example.z.test. IN DS ${info.keyTag} ${alg} 2 ${info.digest}`);
        const ldns = spawnSync("ldns-key2ds", ["-n", "-2", file], { encoding: "utf8" });
        expect(after(ldns.stdout)).toBe(`${info.keyTag} ${alg} 2 ${info.digest}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      // Each key is new.
      const other = loadKey(alg, generateKey(alg).pkcs8);
      expect(Buffer.compare(other.publicKey, key.publicKey)).not.toBe(0);
    });
  }

  it("refuses a stored key of another algorithm", () => {
    const ed = generateKey(ALG_ED25519);
    expect(() => loadKey(ALG_ECDSAP256SHA256, ed.pkcs8)).toThrow(/not an ECDSAP256SHA256 key/);
  });
});
