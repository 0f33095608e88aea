/**
 * Builds dist/ipkeep once before the end-to-end tests, so `npm test` on a fresh clone tests
 * the real executable.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export default function setup(): void {
  const root = join(import.meta.dirname, "..");
  const r = spawnSync(process.execPath, ["scripts/build.ts"], { cwd: root, stdio: "pipe", encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building dist/ipkeep failed:\n${r.stdout}\n${r.stderr}`);
}
