/**
 * `ipkeep domain rm` deletes a zone with its hostnames: it asks on a terminal (a real pty from
 * util-linux `script`) and, anywhere else, does nothing without --yes.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, EXE, run, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
let data: string;

const zones = () => JSON.parse(run(["--data", data, "domain", "list", "--json"]).stdout).map((d: { name: string }) => d.name);

/** Runs the executable on a pseudo-terminal, typing `typed` at it. */
function onTerminal(args: string[], typed: string) {
  const cmd = [EXE, "--data", data, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", input: typed, timeout: 20_000 });
  return { code: r.status ?? -1, out: r.stdout ?? "" };
}

beforeAll(() => {
  data = tempDir();
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  expect(run(["--data", data, "domain", "add", "other.example.org", "--ns", "ns.example.net"]).code).toBe(0);
  expect(run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com"]).code).toBe(0);
});
afterAll(() => cleanup(data));

describe("domain rm", () => {
  it("refuses without --yes when standard input is not a terminal, and deletes nothing", () => {
    const r = run(["--data", data, "domain", "rm", ZONE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--yes");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(zones()).toContain(ZONE);
  });

  it("asks on a terminal: anything but yes keeps the zone, yes deletes it", () => {
    const no = onTerminal(["domain", "rm", "other.example.org"], "no\n");
    expect(no.out).toContain('Type "yes"');
    expect(no.code).toBe(2);
    expect(zones()).toContain("other.example.org");
    const yes = onTerminal(["domain", "rm", "other.example.org"], "yes\n");
    expect(yes.code, yes.out).toBe(0);
    expect(yes.out).toContain("Removed zone other.example.org");
    expect(zones()).not.toContain("other.example.org");
  });

  it("deletes with --yes, its hostnames included", () => {
    const r = run(["--data", data, "domain", "rm", ZONE, "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ removed: ZONE });
    expect(zones()).toEqual([]);
    expect(JSON.parse(run(["--data", data, "host", "list", "--json"]).stdout)).toEqual([]);
  });
});
