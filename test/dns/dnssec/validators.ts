/** The zone validators of Debian (ldnsutils' ldns-verify-zone, bind9-utils' dnssec-verify) run on a master file. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Verdict {
  ok: boolean;
  output: string;
}

/**
 * Runs both validators on the file (dnssec-verify -z: a combined signing key signs everything).
 * aheadSeconds moves ldns-verify-zone's clock forward (-t); dnssec-verify has no such option
 * and libfaketime hangs it, so it runs only on the real clock (bind is null then).
 */
export function verifyZone(origin: string, text: string, aheadSeconds = 0): { ldns: Verdict; bind: Verdict | null } {
  const dir = mkdtempSync(join(tmpdir(), "ipkeep-dnssec-"));
  try {
    const file = join(dir, "zone");
    writeFileSync(file, text);
    const l = spawnSync("ldns-verify-zone", aheadSeconds ? ["-t", `+${aheadSeconds}`, file] : [file], { encoding: "utf8", timeout: 60_000 });
    const ldns = { ok: l.status === 0, output: `${l.stdout}${l.stderr}${l.error ?? ""}` };
    if (aheadSeconds) return { ldns, bind: null };
    const b = spawnSync("dnssec-verify", ["-z", "-o", origin, file], { encoding: "utf8", timeout: 60_000 });
    return { ldns, bind: { ok: b.status === 0, output: `${b.stdout}${b.stderr}${b.error ?? ""}` } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
