/**
 * The hardened units: systemd-analyze accepts them, scores them under 2.5 offline, and the
 * executable carries exactly these files (`ipkeep print-unit ROLE`, what install.sh installs).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXE, run } from "../helpers/exe";

const ROOT = join(import.meta.dirname, "..", "..");
const UNITS = { primary: "ipkeep.service", agent: "ipkeep-agent.service", secondary: "ipkeep-secondary.service" } as const;
const dir = mkdtempSync(join(tmpdir(), "ipkeep-units-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The unit as shipped, with ExecStart pointed at an executable that exists on this machine. */
function staged(file: string): string {
  const text = readFileSync(join(ROOT, "systemd", file), "utf8").replaceAll("/usr/local/bin/ipkeep", EXE);
  const p = join(dir, file);
  writeFileSync(p, text);
  return p;
}

describe.each(Object.entries(UNITS))("systemd unit for %s", (role, file) => {
  it("passes systemd-analyze verify", () => {
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", staged(file)], { encoding: "utf8" });
    expect(r.error, "systemd-analyze missing (Debian package systemd)").toBeUndefined();
    expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
    expect(r.status).toBe(0);
  });

  it("scores under 2.5 in systemd-analyze security --offline", () => {
    const r = spawnSync("systemd-analyze", ["security", "--offline=true", staged(file)], { encoding: "utf8" });
    const m = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(2.5);
  });

  it("is embedded in the executable unchanged (ipkeep print-unit)", () => {
    const r = run(["print-unit", role]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, "systemd", file), "utf8"));
    expect(run(["print-unit", role, "--name"]).stdout.trim()).toBe(file);
  });
});

it("print-unit refuses an unknown role with exit 2", () => {
  const r = run(["print-unit", "router"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("unknown role");
});
