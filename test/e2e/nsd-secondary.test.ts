/**
 * A real NSD as secondary of the compiled ipkeep: it loads the zone by AXFR, and after an
 * update over HTTP the NOTIFY makes it serve the new address within two seconds. Once with
 * --xfr-allow (no key) and once with TSIG on transfers and NOTIFY.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { freePort, type NsdProcess, startNsd } from "../helpers/nsd";

const ZONE = "sec.example.com";
const SECRET = Buffer.alloc(32, 11).toString("base64");

interface Setup {
  data: string;
  nsdDir: string;
  server: ServerProcess;
  nsd: NsdProcess;
  token: string;
}
const running: Setup[] = [];

afterAll(async () => {
  for (const s of running) {
    await s.nsd.stop();
    await s.server.stop();
    cleanup(s.data);
    cleanup(s.nsdDir);
  }
});

async function setup(withTsig: boolean): Promise<Setup> {
  const data = tempDir();
  const nsdDir = tempDir("ipkeep-nsd-");
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  const add = run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com", "--json"]);
  expect(add.code, add.stderr).toBe(0);
  const token = JSON.parse(add.stdout).token.tokenValue as string;
  const nsdPort = await freePort();
  const args = withTsig
    ? ["--tsig-key", `xfr-key:${SECRET}`, "--notify", `127.0.0.1:${nsdPort} xfr-key`]
    : ["--xfr-allow", "127.0.0.1/32", "--notify", `127.0.0.1:${nsdPort}`];
  const server = await startServe(data, args);
  const keyName = withTsig ? "xfr-key" : "NOKEY";
  const nsd = await startNsd(
    nsdDir,
    nsdPort,
    `${withTsig ? `key:\n  name: xfr-key\n  algorithm: hmac-sha256\n  secret: "${SECRET}"\n` : ""}
zone:
  name: ${ZONE}
  zonefile: "${ZONE}.zone"
  request-xfr: AXFR 127.0.0.1@${server.dnsPort} ${keyName}
  allow-notify: 127.0.0.1 ${keyName}
`,
    // NSD throttles reloads to one a second by default; the initial load must not delay the
    // update under test.
    "  xfrd-reload-timeout: 0",
  );
  const s = { data, nsdDir, server, nsd, token };
  running.push(s);
  return s;
}

async function until(fn: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (fn()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fn() ? Date.now() - start : -1;
}

describe.each([
  ["without TSIG (--xfr-allow)", false],
  ["with TSIG", true],
])("NSD follows ipkeep %s", (_name, withTsig) => {
  it("loads the zone, then serves an update made over HTTP within two seconds", async () => {
    const s = await setup(withTsig);
    const nsdLog = () => {
      try {
        return readFileSync(join(s.nsdDir, "nsd.log"), "utf8");
      } catch {
        return "";
      }
    };
    // Initial load (NSD asks at start; ipkeep's start-up NOTIFY may also prompt it).
    const loaded = await until(() => digShort(s.nsd.port, ZONE, "SOA").length === 1, 15_000);
    expect(loaded, `NSD never loaded the zone:\n${nsdLog()}\n${s.server.logs()}`).toBeGreaterThanOrEqual(0);
    const res = await fetch(`${s.server.base}/nic/update?hostname=home.${ZONE}&myip=203.0.113.${withTsig ? 77 : 66}`, {
      headers: { authorization: `Basic ${Buffer.from(`u:${s.token}`).toString("base64")}` },
    });
    expect(await res.text()).toMatch(/^good /);
    const want = `203.0.113.${withTsig ? 77 : 66}`;
    const took = await until(() => digShort(s.nsd.port, `home.${ZONE}`, "A").includes(want), 2000);
    expect(took, `NSD did not follow within 2 s:\n${nsdLog()}\n${s.server.logs()}`).toBeGreaterThanOrEqual(0);
    // The zone is signed (the default): NSD serves the new address with its signature, the
    // very one ipkeep serves (NSD has no key: it serves what it transferred).
    const signedA = (port: number) => digShort(port, `home.${ZONE}`, "A", ["+dnssec"]).filter((l) => l.startsWith("A "));
    expect(signedA(s.nsd.port)).toHaveLength(1);
    expect(signedA(s.nsd.port)).toEqual(signedA(s.server.dnsPort));
    // NSD answers the NOTIFY too (perhaps only to a retry, if it arrived during a reload).
    // With TSIG, NSD's answer is signed over our NOTIFY and verifies: nothing else counts.
    expect(await until(() => s.server.logs().includes("notify acknowledged"), 5000)).toBeGreaterThanOrEqual(0);
    expect(s.server.logs()).not.toContain("failed its TSIG check");
    if (withTsig) {
      // Without the key, the primary refuses the transfer.
      expect(digShort(s.server.dnsPort, ZONE, "AXFR", ["+tcp"]).join("\n")).not.toContain(want);
    }
  });
});
