/**
 * What the primary hands out to the machines it enrolls: the executables per architecture,
 * their SHA256SUMS and install.sh, kept in one directory beside its own executable.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import installer from "../../install.sh" with { type: "text" };
import type { BinaryCatalog } from "../core/install";

export type Binaries = BinaryCatalog & {
  file(name: string): string | null;
  /** install.sh: the one beside the executable, else the copy built into it. */
  installer(): string;
  /** What to put where, in words, when an architecture's executable is missing. */
  missing(target: string): string;
};

type Target = "linux-x64" | "linux-arm64";

/**
 * This very executable, when it is a compiled ipkeep (never `bun` running the sources): the
 * primary that is only the copied executable serves itself for its own architecture.
 */
export function selfExecutable(): { path: string; target: Target } | null {
  const compiled = typeof Bun !== "undefined" && Bun.main.startsWith("/$bunfs/");
  if (!compiled || process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) return null;
  return { path: process.execPath, target: `linux-${process.arch}` };
}

/**
 * Where the primary keeps what it hands out: beside its own executable (dist/ in a build
 * tree), or ../lib/ipkeep from it (install.sh's layout: /usr/local/bin + /usr/local/lib/ipkeep).
 */
export function findDistDir(execPath: string): string | null {
  const here = dirname(execPath);
  for (const d of [here, join(here, "..", "lib", "ipkeep")]) if (existsSync(join(d, "SHA256SUMS"))) return d;
  return null;
}

/**
 * The executables, their sums and install.sh in one directory; without one (or where it lacks
 * this machine's architecture), this executable itself, its SHA-256 computed once.
 */
export function distCatalog(dir: string | null, self: { path: string; target: Target } | null = null): Binaries {
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
  let selfSum: string | null = null;
  const fromDir = (target: Target) => (file(`ipkeep-${target}`) ? (load().get(`ipkeep-${target}`) ?? null) : null);
  const useSelf = (target: Target) => self !== null && self.target === target && fromDir(target) === null;
  return {
    sha256For: (target) => {
      const listed = fromDir(target);
      if (listed || !useSelf(target)) return listed;
      selfSum ??= createHash("sha256").update(readFileSync(self!.path)).digest("hex");
      return selfSum;
    },
    file: (name) => {
      const m = /^ipkeep-(linux-x64|linux-arm64)$/.exec(name);
      if (m && useSelf(m[1] as Target)) return self!.path;
      return file(name);
    },
    installer: () => {
      const f = file("install.sh");
      return f ? readFileSync(f, "utf8") : installer;
    },
    missing: (target) =>
      `put ipkeep-${target} (built with npm run build) and its line in SHA256SUMS ${dir ? `in ${dir}` : `beside ${self?.path ?? "the executable"}`}` +
      (self ? `; this primary itself is ${self.target}` : ""),
  };
}
