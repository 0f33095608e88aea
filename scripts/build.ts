/**
 * npm run build: dist/ipkeep (one self-contained executable for this machine) and
 * dist/SHA256SUMS. Extra targets: IPKEEP_TARGETS="bun-linux-x64,bun-linux-arm64".
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
mkdirSync(dist, { recursive: true });

function compile(outfile: string, target?: string): void {
  const args = [
    "build",
    "src/main.ts",
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
  if (r.exitCode !== 0) {
    console.error(`build failed for ${target ?? "host"}`);
    process.exit(r.exitCode ?? 1);
  }
}

const outputs = [join(dist, "ipkeep")];
compile(outputs[0]!);
for (const target of (process.env.IPKEEP_TARGETS ?? "").split(",").filter(Boolean)) {
  const out = join(dist, `ipkeep-${target.replace(/^bun-/, "")}`);
  compile(out, target);
  outputs.push(out);
}

const sums = outputs.map((f) => `${createHash("sha256").update(readFileSync(f)).digest("hex")}  ${basename(f)}`).join("\n");
writeFileSync(join(dist, "SHA256SUMS"), `${sums}\n`);
console.log(sums);
