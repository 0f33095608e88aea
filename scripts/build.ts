/**
 * npm run build: dist/ipkeep (one self-contained executable for this machine), the
 * executables the primary hands to other machines (dist/ipkeep-linux-x64 and
 * dist/ipkeep-linux-arm64, cross-compiled with --target), dist/install.sh, and
 * dist/SHA256SUMS over all of them.
 *
 * IPKEEP_TARGETS overrides the target list ("bun-linux-x64,bun-linux-arm64" by default;
 * "host" or "" for the host executable only).
 */
import { createHash } from "node:crypto";
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
mkdirSync(dist, { recursive: true });

export const DEFAULT_TARGETS = ["bun-linux-x64", "bun-linux-arm64"];

function compile(outfile: string, target?: string): boolean {
  const args = [
    "build",
    "src/main.ts",
    // The DNS thread's entry (new Worker(new URL("./udp-worker.ts", import.meta.url))).
    "src/dns/udp-worker.ts",
    "--compile",
    "--minify",
    "--sourcemap=none",
    // A stray .env or bunfig.toml in the service's working directory must not change behaviour.
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    // better-sqlite3 is the Node driver; the executable always runs bun:sqlite.
    "--external",
    "better-sqlite3",
    "--outfile",
    outfile,
  ];
  if (target) args.push(`--target=${target}`);
  const r = Bun.spawnSync([process.execPath, ...args], { cwd: root, stdout: "inherit", stderr: "inherit" });
  return r.exitCode === 0;
}

const hostTarget = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64") ? `bun-linux-${process.arch}` : null;

const outputs = [join(dist, "ipkeep")];
if (!compile(outputs[0]!)) {
  console.error("build failed for the host executable");
  process.exit(1);
}

const env = process.env.IPKEEP_TARGETS;
const targets =
  env === undefined
    ? DEFAULT_TARGETS
    : env === "host"
      ? []
      : env
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
const missing: string[] = [];
for (const target of targets) {
  const out = join(dist, `ipkeep-${target.replace(/^bun-/, "")}`);
  rmSync(out, { force: true });
  if (target === hostTarget) {
    // The host executable already is this target: no second compile.
    copyFileSync(outputs[0]!, out);
    chmodSync(out, 0o755);
  } else if (!compile(out, target)) {
    // Cross-compiling needs bun's runtime for the target (fetched from npm once, then cached).
    missing.push(target);
    continue;
  }
  outputs.push(out);
}
if (missing.length) {
  console.error(
    `\nNOTE: could not cross-compile ${missing.join(", ")} (bun needs that target's runtime from the npm registry once; ` +
      `offline and not cached?). Built the host executable only for those; agents on such machines cannot be installed ` +
      `from this primary. Set IPKEEP_TARGETS=host to silence this.\n`,
  );
}

// The installer travels with the executables: the primary serves it from beside its own binary.
const installer = join(root, "install.sh");
if (existsSync(installer)) {
  copyFileSync(installer, join(dist, "install.sh"));
  chmodSync(join(dist, "install.sh"), 0o755);
  outputs.push(join(dist, "install.sh"));
}

const sums = outputs.map((f) => `${createHash("sha256").update(readFileSync(f)).digest("hex")}  ${basename(f)}`).join("\n");
writeFileSync(join(dist, "SHA256SUMS"), `${sums}\n`);
console.log(sums);
