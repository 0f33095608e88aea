/**
 * A primary (dist/ipkeep serve) and a secondary (dist/ipkeep secondary) on 127.0.0.1: the
 * secondary pulls the zone by AXFR with TSIG, answers it, follows an update within seconds
 * (NOTIFY), and answers from its cache after a restart while the primary is down.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig, digShort } from "../helpers/dig";
import { cleanup, EXE, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { digShortAsync, digStatus } from "../helpers/dig-async";
import { freeDnsPort } from "../helpers/ports";

const ZONE = "dyn.example.com";
const KEY = "xfr.example.com:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=";
const WRONG_KEY = "xfr.example.com:b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMTI=";
let primaryData: string;
let secondaryData: string;
let primary: ServerProcess | null = null;
let secondaryPort: number;
let token: string;
const children: ChildProcess[] = [];

interface Secondary {
  proc: ChildProcess;
  logs: () => string;
  stop(): Promise<void>;
}

async function startSecondary(data: string, port: number, primaryPort: number, key = KEY): Promise<Secondary> {
  const proc = spawn(
    EXE,
    ["--data", data, "secondary", "--primary", `127.0.0.1:${primaryPort}`, "--tsig-key", key, "--zone", ZONE, "--dns", `127.0.0.1:${port}`],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(proc);
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const deadline = Date.now() + 15_000;
  while (!/msg="dns listening"/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`ipkeep secondary exited early:\n${out}`);
    if (Date.now() > deadline) throw new Error(`ipkeep secondary did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    proc,
    logs: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        const t = setTimeout(() => process.kill(proc.pid!, "SIGKILL"), 5000);
        proc.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
        process.kill(proc.pid!, "SIGTERM");
      }),
  };
}

/** Polls without blocking the event loop (the children's logs arrive through it). */
async function eventually<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}

beforeAll(async () => {
  primaryData = tempDir();
  secondaryData = tempDir("ipkeep-secondary-");
  expect(run(["--data", primaryData, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`, "--ns", `ns2.${ZONE}=192.0.2.54`]).code).toBe(0);
  const add = run(["--data", primaryData, "host", "add", `home.${ZONE}`, "--owner", "me@example.com", "--json"]);
  expect(add.code, add.stderr).toBe(0);
  token = JSON.parse(add.stdout).token.tokenValue;
  expect(run(["--data", primaryData, "record", "add", `${ZONE}`, "TXT", "v=spf1 -all"]).code).toBeDefined();
  secondaryPort = await freeDnsPort();
  primary = await startServe(primaryData, ["--tsig-key", KEY, "--notify", `127.0.0.1:${secondaryPort} xfr.example.com`]);
  const r = await fetch(`${primary.base}/nic/update?hostname=home.${ZONE}&myip=198.51.100.10&token=${token}`);
  expect(await r.text()).toBe("good 198.51.100.10");
});

afterAll(async () => {
  await primary?.stop();
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  cleanup(primaryData);
  cleanup(secondaryData);
});

describe("ipkeep secondary", () => {
  let sec: Secondary;

  it("pulls the primary's zone by AXFR with TSIG and answers it authoritatively", async () => {
    sec = await startSecondary(secondaryData, secondaryPort, primary!.dnsPort);
    await eventually(
      () => digStatus(secondaryPort, ZONE, "SOA"),
      (d) => d.status === "NOERROR",
    );
    const soa = dig(secondaryPort, ZONE, "SOA");
    expect(soa.status, sec.logs()).toBe("NOERROR");
    expect(soa.flags).toContain("aa");
    expect(soa.answer).toEqual(dig(primary!.dnsPort, ZONE, "SOA").answer);
    expect(digShort(secondaryPort, `home.${ZONE}`)).toEqual(["198.51.100.10"]);
    expect(digShort(secondaryPort, ZONE, "NS").sort()).toEqual([`ns1.${ZONE}.`, `ns2.${ZONE}.`]);
    expect(digShort(secondaryPort, `ns2.${ZONE}`)).toEqual(["192.0.2.54"]);
    expect(dig(secondaryPort, `nope.${ZONE}`).status).toBe("NXDOMAIN");
    // The zone is signed on the primary: the secondary keeps what it transferred (issue 18),
    // the DNSKEY and the signatures byte for byte.
    expect(digShort(secondaryPort, ZONE, "DNSKEY")).toHaveLength(1);
    expect(digShort(secondaryPort, `home.${ZONE}`, "RRSIG")).toHaveLength(1);
    expect(dig(secondaryPort, "example.org").status).toBe("REFUSED");
    // UDP from the DNS thread; NOTIFY (next case) is handed from it to the main thread.
    expect(sec.logs()).toMatch(/msg="dns listening".*udp=thread/);
  });

  it("answers an update made on the primary within seconds (NOTIFY)", async () => {
    const r = await fetch(`${primary!.base}/nic/update?hostname=home.${ZONE}&myip=198.51.100.11&token=${token}`);
    expect(await r.text()).toBe("good 198.51.100.11");
    const started = Date.now();
    const got = await eventually(
      () => digShortAsync(secondaryPort, `home.${ZONE}`),
      (a) => a[0] === "198.51.100.11",
      5000,
    );
    expect(got, sec.logs()).toEqual(["198.51.100.11"]);
    expect(Date.now() - started).toBeLessThan(5000);
    await eventually(sec.logs, (l) => /msg="zone transferred".*why=notify/.test(l), 2000);
    // It held the zone already: the change came by IXFR, one difference sequence for one name.
    // The host, and the apex (the zone is signed: its SOA's signature changed too).
    expect(sec.logs()).toMatch(/msg="zone transferred".*ixfr=1 names=2 why=notify/);
    // And again: a removed address and a new one, the rest of the zone untouched.
    const r2 = await fetch(`${primary!.base}/nic/update?hostname=home.${ZONE}&myip=198.51.100.12&token=${token}`);
    expect(await r2.text()).toBe("good 198.51.100.12");
    expect(
      await eventually(
        () => digShortAsync(secondaryPort, `home.${ZONE}`),
        (a) => a[0] === "198.51.100.12",
        5000,
      ),
    ).toEqual(["198.51.100.12"]);
    expect(digShort(secondaryPort, `ns2.${ZONE}`)).toEqual(["192.0.2.54"]);
  });

  it("answers DO queries with the signatures and NSEC3 proofs it transferred: delv validates them (issue 18)", async () => {
    const info = JSON.parse(run(["--data", primaryData, "domain", "ds", ZONE, "--json"]).stdout);
    const dir = tempDir("ipkeep-delv-");
    try {
      writeFileSync(
        join(dir, "anchor"),
        `trust-anchors {\n  "${ZONE}." static-key ${info.flags} ${info.protocol} ${info.algorithm} "${info.publicKey}";\n};\n`,
      );
      const delv = (name: string, type: string, tcp: boolean) =>
        spawnSync("delv", ["@127.0.0.1", "-p", String(secondaryPort), "-a", join(dir, "anchor"), `+root=${ZONE}`, ...(tcp ? ["+tcp"] : []), name, type], {
          encoding: "utf8",
        }).stdout;
      for (const tcp of [false, true]) {
        const host = delv(`home.${ZONE}`, "A", tcp);
        expect(host, `home (tcp ${tcp})`).toContain("; fully validated");
        expect(host).toContain("198.51.100.12");
        expect(delv(`nope.${ZONE}`, "A", tcp)).toContain("negative response, fully validated");
        expect(delv(`home.${ZONE}`, "MX", tcp)).toContain("negative response, fully validated");
      }
    } finally {
      cleanup(dir);
    }
  });

  it("answers from its cache after a restart while the primary is down", async () => {
    await sec.stop();
    await primary!.stop();
    sec = await startSecondary(secondaryData, secondaryPort, primary!.dnsPort);
    expect(await digShortAsync(secondaryPort, `home.${ZONE}`)).toEqual(["198.51.100.12"]);
    await eventually(sec.logs, (l) => /zone loaded from cache/.test(l), 2000);
    expect(sec.logs()).toMatch(/zone loaded from cache/);
    await sec.stop();
    primary = await startServe(primaryData, ["--tsig-key", KEY, "--notify", `127.0.0.1:${secondaryPort} xfr.example.com`]);
  });

  it("gets nothing with the wrong TSIG key, and says why", async () => {
    const other = tempDir("ipkeep-secondary-");
    const port = await freeDnsPort();
    const bad = await startSecondary(other, port, primary!.dnsPort, WRONG_KEY);
    await eventually(
      () => bad.logs(),
      (l) => /zone refresh failed/.test(l),
    );
    expect(bad.logs()).toMatch(/zone refresh failed.*(TSIG|refused)/);
    expect(dig(port, ZONE, "SOA").status).toBe("REFUSED");
    await bad.stop();
    cleanup(other);
  });

  it("refuses to start without a primary or zones", () => {
    const r = run(["--data", secondaryData, "secondary", "--zone", ZONE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/No primary/);
    const r2 = run(["--data", secondaryData, "secondary", "--primary", "127.0.0.1:53"]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/No zones/);
    const r3 = run(["--data", secondaryData, "secondary", "--primary", "127.0.0.1:53", "--zone", ZONE, "--tsig-key", "nonsense"]);
    expect(r3.code).toBe(2);
  });
});
