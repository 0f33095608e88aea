/**
 * The rules of this server's own certificate (core/acme-cert.ts) and its settings: when ACME is
 * on and for which name, which challenge, when to renew, how failures back off.
 */
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { acmeName, challengeFor, LETS_ENCRYPT_DIRECTORY, renewAt, retryDelay, serialReached, zoneOfName } from "../../src/core/acme-cert";
import type { DomainRow } from "../../src/core/ports";

const zone = (id: number, name: string): DomainRow => ({ id, name, kind: "builtin", ownerId: null, verified: true, serial: 1 });
const base = { https: ["0.0.0.0:443"], tlsCert: null, tlsKey: null, acme: null, url: "https://ddns.dyn.example.com" };

describe("acmeName", () => {
  it("is on for --https without --tls-cert, or with --acme; off with --acme no or a certificate of one's own", () => {
    expect(acmeName(base)).toBe("ddns.dyn.example.com");
    expect(acmeName({ ...base, acme: true })).toBe("ddns.dyn.example.com");
    expect(acmeName({ ...base, https: [], acme: null })).toBeNull(); // behind a reverse proxy: nothing changes
    expect(acmeName({ ...base, tlsCert: "/c", tlsKey: "/k" })).toBeNull();
    expect(acmeName({ ...base, acme: false, tlsCert: "/c", tlsKey: "/k" })).toBeNull();
    expect(acmeName({ ...base, url: "https://DDNS.Dyn.Example.com.:8443/" })).toBe("ddns.dyn.example.com");
  });
  it("refuses what cannot work, in words", () => {
    expect(() => acmeName({ ...base, acme: false })).toThrow("--acme no needs --tls-cert");
    expect(() => acmeName({ ...base, acme: true, tlsCert: "/c", tlsKey: "/k" })).toThrow("--acme gets the certificate itself");
    expect(() => acmeName({ ...base, acme: true, https: [] })).toThrow("--acme needs an HTTPS listener");
    expect(() => acmeName({ ...base, url: null })).toThrow("give --url https://NAME");
    expect(() => acmeName({ ...base, url: "http://ddns.dyn.example.com" })).toThrow("give --url https://NAME");
    expect(() => acmeName({ ...base, url: "https://192.0.2.1" })).toThrow("needs a DNS name");
    expect(() => acmeName({ ...base, tlsCert: "/c" })).toThrow("needs both --tls-cert FILE and --tls-key FILE");
  });
});

describe("challenge and zone", () => {
  const zones = [zone(1, "example.com"), zone(2, "dyn.example.com")];
  it("DNS-01 in the most specific served zone (the apex too); HTTP-01 outside them only with port 80", () => {
    expect(zoneOfName(zones, "ddns.dyn.example.com")?.id).toBe(2);
    expect(zoneOfName(zones, "dyn.example.com")?.id).toBe(2);
    expect(zoneOfName(zones, "www.example.com")?.id).toBe(1);
    expect(zoneOfName(zones, "example.org")).toBeNull();
    expect(challengeFor(zones[1]!, "ddns.dyn.example.com", [])).toBe("dns-01");
    expect(challengeFor(null, "web.example.org", [8080, 80])).toBe("http-01");
    expect(() => challengeFor(null, "web.example.org", [8080])).toThrow("needs --http on port 80");
  });
});

describe("timing", () => {
  it("renews at a third of the life left, backs off 10 s to an hour, compares serials by RFC 1982", () => {
    expect(renewAt(0, 90 * 86_400_000)).toBe(60 * 86_400_000);
    expect(renewAt(1000, 1000)).toBe(1000);
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(retryDelay)).toEqual([10, 30, 60, 300, 900, 3600, 3600, 3600]);
    expect(serialReached(5, 5)).toBe(true);
    expect(serialReached(6, 5)).toBe(true);
    expect(serialReached(4, 5)).toBe(false);
    expect(serialReached(0, 4294967295)).toBe(true);
  });
});

describe("settings", () => {
  const cfg = (flags: Record<string, unknown>, env: Record<string, string> = {}) => resolveConfig({ data: "/tmp/x", ...flags }, env, () => false);
  it("--acme bare, yes/no, the environment; the directory defaults to Let's Encrypt's production", () => {
    expect(cfg({}).acme).toBeNull();
    expect(cfg({ acme: true }).acme).toBe(true);
    expect(cfg({ acme: "no" }).acme).toBe(false);
    expect(cfg({}, { IPKEEP_ACME: "yes" }).acme).toBe(true);
    expect(() => cfg({ acme: "maybe" })).toThrow('"acme" must be yes or no');
    expect(cfg({}).acmeDirectory).toBe(LETS_ENCRYPT_DIRECTORY);
    expect(cfg({}, { IPKEEP_ACME_DIRECTORY: "https://ca.example/dir", IPKEEP_ACME_EMAIL: "a@example.com", IPKEEP_ACME_CA: "/ca.pem" })).toMatchObject({
      acmeDirectory: "https://ca.example/dir",
      acmeEmail: "a@example.com",
      acmeCa: "/ca.pem",
    });
  });
});
