/**
 * Signed zones on the compiled executable: a zone is signed by default, `domain ds` gives the
 * DS its DNSKEY really has, AXFR carries the signed zone and both validators accept it as
 * transferred, before and after updates (IXFR carries the new signatures too); a restart signs
 * nothing that is still valid; `domain dnssec off` serves it unsigned; the private key is
 * never printed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store";
import { verifyZone } from "../dns/dnssec/validators";
import { digShort } from "../helpers/dig";
import { startUnbound } from "../helpers/unbound";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "signed.example.com";
let data: string;
let server: ServerProcess;
let token: string;
const outputs: string[] = [];

const cli = (args: string[]) => {
  const r = run(["--data", data, ...args]);
  outputs.push(r.stdout, r.stderr);
  return r;
};
/** The zone as dig receives it by AXFR, the closing SOA dropped (a master file has one). */
const axfr = (): string => {
  const out = spawnSync("dig", ["@127.0.0.1", "-p", String(server.dnsPort), ZONE, "AXFR", "+nocomments", "+nostats", "+nocmd"], { encoding: "utf8" }).stdout;
  const lines = out.split("\n").filter((l) => l.trim() && !l.startsWith(";"));
  return `${lines.slice(0, -1).join("\n")}\n`;
};
const rrsigOf = (zone: string, owner: string, type: string) =>
  zone.split("\n").find((l) => {
    const f = l.split(/\s+/);
    return f[0] === owner && f[3] === "RRSIG" && f[4] === type;
  });
const serial = () => Number(digShort(server.dnsPort, ZONE, "SOA")[0]?.split(" ")[2] ?? -1);
async function until(fn: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fn();
}
function expectValid(text: string): void {
  const v = verifyZone(ZONE, text);
  expect(v.ldns.output).toContain("Zone is verified and complete");
  expect(v.bind!.ok, v.bind!.output).toBe(true);
}

beforeAll(async () => {
  data = tempDir();
  expect(cli(["init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  const add = cli(["host", "add", `home.${ZONE}`, "--owner", "me@example.com", "--json"]);
  token = JSON.parse(add.stdout).token.tokenValue;
  server = await startServe(data, ["--xfr-allow", "127.0.0.1/32", "--update-burst", "0", "--update-daily", "0"]);
});
afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("signed zones on the executable", () => {
  let first = "";

  it("domain ds prints the DS of the DNSKEY the zone serves (digest type 2)", async () => {
    const r = cli(["domain", "ds", ZONE, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.ds).toMatch(new RegExp(`^${ZONE}\\. IN DS \\d+ 13 2 [0-9A-F]{64}$`));
    const text = cli(["domain", "ds", ZONE]);
    expect(text.stdout).toContain(info.ds);
    // The DNSKEY in the transferred zone gives the same DS (ldns-key2ds).
    await until(() => axfr().includes("DNSKEY"), 5000);
    first = axfr();
    const dnskey = first.split("\n").find((l) => l.split(/\s+/)[3] === "DNSKEY")!;
    const dir = mkdtempSync(join(tmpdir(), "ipkeep-ds-"));
    try {
      writeFileSync(join(dir, "k"), `${dnskey}\n`);
      const ds = spawnSync("ldns-key2ds", ["-n", "-2", join(dir, "k")], { encoding: "utf8" })
        .stdout.trim()
        .split(/\s+/)
        .slice(-4)
        .join(" ")
        .toUpperCase();
      expect(`${ZONE}. IN DS ${ds}`).toBe(info.ds);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("delv with the zone's key as trust anchor validates a host, an NXDOMAIN and a NODATA (UDP through the DNS thread, and TCP)", async () => {
    const info = JSON.parse(cli(["domain", "ds", ZONE, "--json"]).stdout);
    const dir = mkdtempSync(join(tmpdir(), "ipkeep-delv-"));
    try {
      writeFileSync(
        join(dir, "anchor"),
        `trust-anchors {\n  "${ZONE}." static-key ${info.flags} ${info.protocol} ${info.algorithm} "${info.publicKey}";\n};\n`,
      );
      const delv = (name: string, type: string, tcp: boolean) =>
        spawnSync("delv", ["@127.0.0.1", "-p", String(server.dnsPort), "-a", join(dir, "anchor"), `+root=${ZONE}`, ...(tcp ? ["+tcp"] : []), name, type], {
          encoding: "utf8",
        });
      for (const tcp of [false, true]) {
        const host = delv(`ns1.${ZONE}`, "A", tcp);
        expect(host.stdout + host.stderr, "host").toContain("; fully validated");
        expect(host.stdout).toContain("192.0.2.53");
        // A hostname without addresses yet: denied by the signed zone, and validated so.
        expect(delv(`home.${ZONE}`, "A", tcp).stdout).toContain("negative response, fully validated");
        expect(delv(`nope.${ZONE}`, "A", tcp).stdout).toContain("negative response, fully validated");
        expect(delv(`ns1.${ZONE}`, "TXT", tcp).stdout).toContain("negative response, fully validated");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Without DO nothing is signed; with DO the signature comes along.
    expect(spawnSync("dig", ["@127.0.0.1", "-p", String(server.dnsPort), `ns1.${ZONE}`, "A", "+norec"], { encoding: "utf8" }).stdout).not.toContain("RRSIG");
    expect(spawnSync("dig", ["@127.0.0.1", "-p", String(server.dnsPort), `ns1.${ZONE}`, "A", "+norec", "+dnssec"], { encoding: "utf8" }).stdout).toContain(
      "RRSIG",
    );
  });

  it("AXFR carries the signed zone, and both validators accept it as transferred", () => {
    for (const t of ["SOA", "NS", "DNSKEY", "CDS", "CDNSKEY", "NSEC3PARAM"]) expect(rrsigOf(first, `${ZONE}.`, t), t).toBeDefined();
    expect(first).toMatch(/NSEC3\s+1 0 0 - /);
    expectValid(first);
  });

  it("after updates the zone is still valid, the changed address signed anew; IXFR carries the new signatures", async () => {
    const before = serial();
    const sigBefore = rrsigOf(first, `home.${ZONE}.`, "A");
    for (const ip of ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) {
      const r = await fetch(`${server.base}/nic/update?hostname=home.${ZONE}&myip=${ip}`, { headers: { authorization: `Basic ${btoa(`u:${token}`)}` } });
      expect(await r.text()).toMatch(/^good/);
    }
    expect(await until(() => serial() >= before + 3, 5000)).toBe(true);
    const z = axfr();
    expect(z).toMatch(/home\.signed\.example\.com\.\s+\d+\s+IN\s+A\s+198\.51\.100\.3/);
    const sigAfter = rrsigOf(z, `home.${ZONE}.`, "A");
    expect(sigAfter).toBeDefined();
    expect(sigAfter).not.toBe(sigBefore);
    expectValid(z);
    const ixfr = spawnSync("dig", ["@127.0.0.1", "-p", String(server.dnsPort), ZONE, `IXFR=${before}`, "+nocomments", "+nostats", "+nocmd"], {
      encoding: "utf8",
    }).stdout;
    expect(ixfr).toContain(sigAfter!.split(/\s+/).at(-1));
    first = z;
  });

  it("after 1,000 more updates (addresses coming and going) the transferred zone is still valid", async () => {
    const before = serial();
    for (let i = 0; i < 1000; i++) {
      // Every tenth update takes the IPv4 address away (the host leaves the NSEC3 chain and comes back).
      const q = i % 10 === 4 ? "myipv4=&myipv6=2001:db8::1" : `myip=198.51.${100 + (i >> 8)}.${i & 255}`;
      const r = await fetch(`${server.base}/nic/update?hostname=home.${ZONE}&${q}`, { headers: { authorization: `Basic ${btoa(`u:${token}`)}` } });
      expect(await r.text()).toMatch(/^(good|nochg)/);
    }
    expect(await until(() => serial() >= before + 900, 10_000)).toBe(true);
    const z = axfr();
    expectValid(z);
    first = z;
  }, 120_000);

  it("a restart signs nothing still valid: the same signatures are served", async () => {
    await server.stop();
    const rows = await countSignatures();
    server = await startServe(data, ["--xfr-allow", "127.0.0.1/32", "--update-burst", "0", "--update-daily", "0"]);
    expect(await until(() => axfr().includes("RRSIG"), 5000)).toBe(true);
    const again = axfr();
    expect(rrsigOf(again, `home.${ZONE}.`, "A")).toBe(rrsigOf(first, `home.${ZONE}.`, "A"));
    expect(rrsigOf(again, `${ZONE}.`, "DNSKEY")).toBe(rrsigOf(first, `${ZONE}.`, "DNSKEY"));
    expect(server.logs()).not.toContain('msg="zone signed"');
    await server.stop();
    expect(await countSignatures()).toBe(rows);
    server = await startServe(data, ["--xfr-allow", "127.0.0.1/32", "--update-burst", "0", "--update-daily", "0"]);
  });

  it("Unbound, validating with a stub zone pointing here, gives AD; with a tampered stored signature, SERVFAIL (the check can fail)", async () => {
    const info = JSON.parse(cli(["domain", "ds", ZONE, "--json"]).stdout);
    const ask = (port: number) =>
      spawnSync("dig", ["@127.0.0.1", "-p", String(port), `home.${ZONE}`, "A", "+dnssec", "+time=5", "+tries=1"], { encoding: "utf8" }).stdout;
    let unbound = await startUnbound(ZONE, server.dnsPort, info.dnskey);
    try {
      const good = ask(unbound.port);
      expect(good, unbound.logs()).toMatch(/flags: qr rd ra ad;/);
      expect(good).toMatch(/IN\s+A\s+198\.51\.10\d\./);
    } finally {
      await unbound.stop();
    }
    // The stored signature of home's A, damaged while the server is down, is served as stored.
    await server.stop();
    const store = await Store.open(join(data, "ipkeep.db"));
    const d = store.domains.byName(ZONE)!;
    const row = store.db
      .prepare("SELECT rrsig FROM dnssec_signatures WHERE domain_id = ? AND owner = ? AND type = 1")
      .get<{ rrsig: Uint8Array }>(d.id, `home.${ZONE}`)!;
    const original = new Uint8Array(row.rrsig);
    const bad = original.slice();
    bad[bad.length - 1]! ^= 0xff;
    const put = (v: Uint8Array) =>
      store.db.prepare("UPDATE dnssec_signatures SET rrsig = ? WHERE domain_id = ? AND owner = ? AND type = 1").run(v, d.id, `home.${ZONE}`);
    put(bad);
    store.close();
    server = await startServe(data, ["--xfr-allow", "127.0.0.1/32", "--update-burst", "0", "--update-daily", "0"]);
    unbound = await startUnbound(ZONE, server.dnsPort, info.dnskey);
    try {
      expect(ask(unbound.port)).toContain("status: SERVFAIL");
    } finally {
      await unbound.stop();
      await server.stop();
      const again = await Store.open(join(data, "ipkeep.db"));
      again.db.prepare("UPDATE dnssec_signatures SET rrsig = ? WHERE domain_id = ? AND owner = ? AND type = 1").run(original, d.id, `home.${ZONE}`);
      again.close();
      server = await startServe(data, ["--xfr-allow", "127.0.0.1/32", "--update-burst", "0", "--update-daily", "0"]);
    }
  });

  it("domain dnssec off withdraws first (signed, CDS/CDNSKEY delete), off --now serves the zone unsigned; on signs it again", async () => {
    const off = cli(["domain", "dnssec", ZONE, "off"]);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toContain("off --now");
    expect(await until(() => /CDS\s+0 0 0 00/.test(axfr()), 5000)).toBe(true);
    const withdrawing = axfr();
    expect(withdrawing).toMatch(/CDNSKEY\s+0 3 0 AA==/);
    expectValid(withdrawing);
    expect(cli(["domain", "ds", ZONE]).code).toBe(2);
    expect(cli(["domain", "dnssec", ZONE, "off", "--now"]).code).toBe(0);
    expect(await until(() => !axfr().includes("RRSIG"), 5000)).toBe(true);
    expect(axfr()).not.toContain("DNSKEY");
    const ds = cli(["domain", "ds", ZONE]);
    expect(ds.code).toBe(2);
    expect(ds.stderr).toContain(`ipkeep domain dnssec ${ZONE} on`);
    const on = cli(["domain", "dnssec", ZONE, "on", "--algorithm", "ed25519"]);
    expect(on.code).toBe(5);
    expect(on.stderr).toContain("rollover");
    expect(cli(["domain", "dnssec", ZONE, "on"]).code).toBe(0);
    expect(await until(() => axfr().includes("RRSIG"), 5000)).toBe(true);
    expectValid(axfr());
    expect(cli(["domain", "dnssec", "nosuch.example", "on"]).code).toBe(4);
    expect(cli(["domain", "dnssec", ZONE, "maybe"]).code).toBe(2);
  });

  it("never prints the private key", async () => {
    const store = await Store.open(join(data, "ipkeep.db"));
    try {
      const d = store.domains.byName(ZONE)!;
      const key = Buffer.from(store.dnssec.activeKey(d.id)!.pkcs8).toString("base64");
      for (const o of [...outputs, server.logs()]) expect(o.includes(key.slice(-40))).toBe(false);
    } finally {
      store.close();
    }
  });
});

async function countSignatures(): Promise<number> {
  const store = await Store.open(join(data, "ipkeep.db"));
  try {
    return store.db.prepare("SELECT COUNT(*) AS n FROM dnssec_signatures").get<{ n: number }>()!.n;
  } finally {
    store.close();
  }
}
