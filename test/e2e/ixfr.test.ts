/**
 * IXFR from the journal of deltas (RFC 1995), against the compiled executable: dig asks for
 * the differences since a serial and gets exactly the records that changed, between the SOAs;
 * a serial older than the journal gets the whole zone; and real NSD and Knot secondaries of
 * a zone of 2,000 hosts follow the updates by IXFR, the bytes sent growing with the changes,
 * not with the zone.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store";
import { dig, digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { freePort, type NsdProcess, startNsd } from "../helpers/nsd";
import { parseProm, value } from "../helpers/prom";

const ZONE = "ixfr.example.com";
const HOSTS = 2000;
let data: string;
let nsdDir: string;
let server: ServerProcess;
let nsd: NsdProcess;
let token: string;

const soaSerial = (port: number) => Number(digShort(port, ZONE, "SOA")[0]?.split(" ")[2] ?? -1);
const update = async (ip: string) => {
  const r = await fetch(`${server.base}/nic/update?hostname=home.${ZONE}&myip=${ip}`, { headers: { authorization: `Basic ${btoa(`u:${token}`)}` } });
  return r.text();
};
const transfers = async () => {
  const { samples } = parseProm(await (await fetch(`${server.base}/metrics`)).text());
  const get = (name: string, kind: string) => value(samples, name, { kind }) ?? 0;
  return {
    axfr: get("ipkeep_dns_transfers_total", "axfr"),
    ixfr: get("ipkeep_dns_transfers_total", "ixfr"),
    full: get("ipkeep_dns_transfers_total", "ixfr-full"),
    axfrBytes: get("ipkeep_dns_transfer_bytes_total", "axfr"),
    ixfrBytes: get("ipkeep_dns_transfer_bytes_total", "ixfr"),
  };
};
async function until(fn: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fn();
}

beforeAll(async () => {
  data = tempDir();
  nsdDir = tempDir("ipkeep-nsd-");
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  const add = run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com", "--json"]);
  token = JSON.parse(add.stdout).token.tokenValue;
  // The rest of the zone, written as the CLI would.
  const store = await Store.open(join(data, "ipkeep.db"));
  const d = store.domains.byName(ZONE)!;
  const owner = store.users.byEmail("me@example.com")!;
  store.transaction(() => {
    for (let i = 0; i < HOSTS; i++) {
      const h = store.hosts.create({ name: `h${i}.${ZONE}`, domainId: d.id, ownerId: owner.id, ttl: 60 }, 1);
      store.hosts.setAddresses(h.id, { ipv4: `10.0.${i >> 8}.${i & 255}`, ipv6: null }, 1);
    }
    store.domains.bumpSerial(d.id, 1);
  });
  store.close();
  const nsdPort = await freePort();
  server = await startServe(data, ["--xfr-allow", "127.0.0.1/32", "--notify", `127.0.0.1:${nsdPort}`, "--update-burst", "0", "--update-daily", "0"]);
  // request-xfr without "AXFR": NSD asks for IXFR first.
  nsd = await startNsd(
    nsdDir,
    nsdPort,
    `zone:\n  name: ${ZONE}\n  zonefile: "${ZONE}.zone"\n  request-xfr: 127.0.0.1@${server.dnsPort} NOKEY\n  allow-notify: 127.0.0.1 NOKEY\n`,
    "  xfrd-reload-timeout: 0",
  );
});
let knot: ChildProcess | null = null;
afterAll(async () => {
  if (knot?.pid && knot.exitCode === null) {
    knot.kill("SIGTERM");
    await new Promise((r) => knot!.once("exit", r));
  }
  await nsd?.stop();
  await server?.stop();
  cleanup(data);
  cleanup(nsdDir);
});

describe("IXFR from the journal", () => {
  it("dig IXFR=serial gets the changed records between SOAs, nothing else", async () => {
    const s0 = soaSerial(server.dnsPort);
    expect(await update("203.0.113.1")).toBe("good 203.0.113.1");
    expect(await update("203.0.113.2")).toBe("good 203.0.113.2");
    const s2 = soaSerial(server.dnsPort);
    expect(s2).toBe(s0 + 2);
    const r = dig(server.dnsPort, ZONE, `IXFR=${s0}`, ["+tcp"]);
    const all = r.raw.split("\n").filter((l) => l && !l.startsWith(";"));
    // The zone is signed: each delta also takes away and brings the signatures of what it
    // changed: the SOA's each time, the host's A; the host had no address before the first, so
    // it joins the NSEC3 chain then (its NSEC3 comes, its predecessor's is replaced).
    const type = (l: string) => l.split(/\s+/)[3];
    const sigs = all.filter((l) => type(l) === "RRSIG").map((l) => l.split(/\s+/)[4]);
    expect(sigs.sort(), all.join("\n")).toEqual(["A", "A", "A", "NSEC3", "NSEC3", "NSEC3", "SOA", "SOA", "SOA", "SOA"]);
    expect(all.filter((l) => type(l) === "NSEC3")).toHaveLength(3);
    const lines = all.filter((l) => type(l) !== "RRSIG" && type(l) !== "NSEC3");
    const shape = lines.map((l) => {
      const f = l.split(/\s+/);
      return f[3] === "SOA" ? `SOA ${f[6]}` : `${f[0]} ${f[3]} ${f[4]}`;
    });
    // RFC 1995 §4: new SOA, (old SOA, removed, new SOA, added) per delta, new SOA.
    expect(shape).toEqual([
      `SOA ${s2}`,
      `SOA ${s0}`,
      `SOA ${s0 + 1}`,
      `home.${ZONE}. A 203.0.113.1`,
      `SOA ${s0 + 1}`,
      `home.${ZONE}. A 203.0.113.1`,
      `SOA ${s2}`,
      `home.${ZONE}. A 203.0.113.2`,
      `SOA ${s2}`,
    ]);
  });

  it("a serial the journal does not reach gets the whole zone; the current one gets the SOA alone", () => {
    const full = dig(server.dnsPort, ZONE, "IXFR=12345", ["+tcp"])
      .raw.split("\n")
      .filter((l) => l && !l.startsWith(";"));
    expect(full.length).toBeGreaterThan(HOSTS);
    const current = dig(server.dnsPort, ZONE, `IXFR=${soaSerial(server.dnsPort)}`, ["+tcp"])
      .raw.split("\n")
      .filter((l) => l && !l.startsWith(";"));
    expect(current).toHaveLength(1);
  });

  it("NSD follows 100 updates by IXFR: bytes grow with the changes, not with the zone", async () => {
    const loaded = await until(() => digShort(nsd.port, `h1999.${ZONE}`, "A").length === 1, 20_000);
    const nsdLog = () => {
      try {
        return readFileSync(join(nsdDir, "nsd.log"), "utf8");
      } catch {
        return "";
      }
    };
    expect(loaded, nsdLog()).toBe(true);
    const before = await transfers();
    for (let i = 0; i < 100; i++) {
      expect(await update(`198.51.100.${i + 1}`)).toMatch(/^good /);
      if (i % 10 === 9) {
        // let NSD catch up now and then, as a secondary under a steady stream would
        expect(await until(() => digShort(nsd.port, `home.${ZONE}`, "A").includes(`198.51.100.${i + 1}`), 5000), nsdLog()).toBe(true);
      }
    }
    expect(await until(() => soaSerial(nsd.port) === soaSerial(server.dnsPort), 5000)).toBe(true);
    expect(digShort(nsd.port, `home.${ZONE}`, "A")).toEqual(["198.51.100.100"]);
    expect(digShort(nsd.port, `h1234.${ZONE}`, "A")).toEqual(["10.0.4.210"]);
    const after = await transfers();
    // Every transfer after the first load was an IXFR from the journal.
    expect(after.axfr).toBe(before.axfr);
    expect(after.full).toBe(before.full);
    expect(after.ixfr).toBeGreaterThan(before.ixfr);
    // The whole zone is tens of kilobytes; all of these together carry far less.
    const perChange = (after.ixfrBytes - before.ixfrBytes) / 100;
    expect(perChange).toBeLessThan(before.axfrBytes / 50);
  });

  it("Knot follows 50 more updates by IXFR after its first transfer", async () => {
    const k = join(data, "knot");
    mkdirSync(join(k, "db"), { recursive: true });
    mkdirSync(join(k, "zones"), { recursive: true });
    const port = await freePort();
    const conf = join(k, "knot.conf");
    writeFileSync(
      conf,
      `server:\n    rundir: "${k}"\n    listen: 127.0.0.1@${port}\ndatabase:\n    storage: "${join(k, "db")}"\nlog:\n  - target: stdout\n    any: info\nremote:\n  - id: primary\n    address: 127.0.0.1@${server.dnsPort}\nacl:\n  - id: from_primary\n    address: 127.0.0.1\n    action: notify\ntemplate:\n  - id: default\n    storage: "${join(k, "zones")}"\n    zonefile-sync: -1\n    zonefile-load: none\n    journal-content: all\nzone:\n  - domain: ${ZONE}\n    master: primary\n    acl: from_primary\n`,
    );
    const check = spawnSync("knotc", ["-c", conf, "conf-check"], { encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    let log = "";
    knot = spawn("knotd", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    knot.stdout!.on("data", (d) => (log += d));
    knot.stderr!.on("data", (d) => (log += d));
    expect(await until(() => soaSerial(port) === soaSerial(server.dnsPort), 20_000), log).toBe(true);
    const before = await transfers();
    for (let i = 0; i < 50; i++) {
      expect(await update(`198.51.100.${150 + i}`)).toMatch(/^good /);
      // Knot is not NOTIFYd here (ipkeep notifies NSD): ask it to refresh now and then.
      if (i % 10 === 9) {
        spawnSync("knotc", ["-c", conf, "zone-refresh", ZONE], { encoding: "utf8" });
        expect(await until(() => digShort(port, `home.${ZONE}`, "A").includes(`198.51.100.${150 + i}`), 10_000), log).toBe(true);
      }
    }
    expect(digShort(port, `h1234.${ZONE}`, "A")).toEqual(["10.0.4.210"]);
    const after = await transfers();
    // Knot's own account: one AXFR (the first), then IXFR only.
    const xfrs = log.split("\n").filter((l) => /[AI]XFR, incoming/.test(l) && /finished/.test(l));
    expect(
      xfrs.filter((l) => l.includes("AXFR")),
      xfrs.join("\n"),
    ).toHaveLength(1);
    expect(xfrs.filter((l) => l.includes("IXFR")).length, xfrs.join("\n")).toBeGreaterThanOrEqual(5);
    expect(after.ixfr).toBeGreaterThan(before.ixfr);
  }, 60_000);
});
