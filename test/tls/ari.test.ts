/**
 * ARI's certificate identifier and renewal time (RFC 9773), against openssl's own reading of
 * a certificate.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ariCertId, ariRenewAt, parseRenewalInfo } from "../../src/tls/ari";

function openssl(args: string[], cwd: string): string {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

describe("ARI", () => {
  it("names a certificate base64url(authority key id).base64url(serial), the serial's DER octets (a leading 00 kept)", () => {
    const dir = mkdtempSync(join(tmpdir(), "ipkeep-ari-"));
    try {
      openssl(
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:P-256",
          "-nodes",
          "-keyout",
          "ca.key",
          "-out",
          "ca.pem",
          "-days",
          "1",
          "-subj",
          "/CN=ca",
        ],
        dir,
      );
      openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem", "-out", "r.csr", "-subj", "/CN=leaf"], dir);
      writeFileSync(join(dir, "ext.cnf"), "authorityKeyIdentifier=keyid\n");
      // A serial with its high bit set: DER keeps a leading 00.
      openssl(
        [
          "x509",
          "-req",
          "-in",
          "r.csr",
          "-CA",
          "ca.pem",
          "-CAkey",
          "ca.key",
          "-set_serial",
          "0x87654321",
          "-out",
          "leaf.pem",
          "-days",
          "1",
          "-extfile",
          "ext.cnf",
        ],
        dir,
      );
      const aki = /keyid:([0-9A-F:]+)|([0-9A-F]{2}(?::[0-9A-F]{2})+)/.exec(
        openssl(["x509", "-in", "leaf.pem", "-noout", "-ext", "authorityKeyIdentifier"], dir),
      )!;
      const akiHex = (aki[1] ?? aki[2])!.replace(/:/g, "");
      const expected = `${Buffer.from(akiHex, "hex").toString("base64url")}.${Buffer.from("0087654321", "hex").toString("base64url")}`;
      expect(ariCertId(readFileSync(join(dir, "leaf.pem"), "utf8"))).toBe(expected);
      expect(ariCertId("not a certificate")).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("renews at a random time inside the suggested window, at once when it has passed", () => {
    const w = parseRenewalInfo({ suggestedWindow: { start: "2026-01-01T00:00:00Z", end: "2026-01-02T00:00:00Z" } })!;
    expect(w.end - w.start).toBe(86_400_000);
    expect(ariRenewAt(w, w.start - 1000, 0.5)).toBe(w.start + 43_200_000);
    expect(ariRenewAt(w, w.end + 5, 0.5)).toBe(w.end + 5);
    expect(ariRenewAt(w, w.start + 100, 0)).toBe(w.start + 100);
    expect(parseRenewalInfo({ suggestedWindow: { start: "x", end: "y" } })).toBeNull();
    expect(parseRenewalInfo({ suggestedWindow: { start: "2026-01-02T00:00:00Z", end: "2026-01-01T00:00:00Z" } })).toBeNull();
    expect(parseRenewalInfo(null)).toBeNull();
  });
});
