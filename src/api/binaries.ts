/**
 * What the primary hands out to the machines it enrolls: the executables per architecture,
 * their SHA256SUMS and install.sh, kept in one directory beside its own executable.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BinaryCatalog } from "../core/install";

export type Binaries = BinaryCatalog & { file(name: string): string | null };

/**
 * Where the primary keeps what it hands out: beside its own executable (dist/ in a build
 * tree), or ../lib/ipkeep from it (install.sh's layout: /usr/local/bin + /usr/local/lib/ipkeep).
 */
export function findDistDir(execPath: string): string | null {
  const here = dirname(execPath);
  for (const d of [here, join(here, "..", "lib", "ipkeep")]) if (existsSync(join(d, "SHA256SUMS"))) return d;
  return null;
}

/** The executables, their sums and install.sh in one directory. */
export function distCatalog(dir: string | null): Binaries {
  let sums: Map<string, string> | null = null;
  const load = () => {
    if (sums) return sums;
    sums = new Map();
    const f = dir ? join(dir, "SHA256SUMS") : null;
    if (f && existsSync(f)) {
      for (const line of readFileSync(f, "utf8").split("\n")) {
        const m = /^([0-9a-f]{64})\s+\*?(\S+)$/.exec(line.trim());
        if (m) sums.set(m[2]!, m[1]!);
      }
    }
    return sums;
  };
  const file = (name: string) => {
    if (!dir) return null;
    const p = join(dir, name);
    return existsSync(p) && statSync(p).isFile() ? p : null;
  };
  return {
    sha256For: (target) => (file(`ipkeep-${target}`) ? (load().get(`ipkeep-${target}`) ?? null) : null),
    file,
  };
}

