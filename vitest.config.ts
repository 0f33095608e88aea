import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

// Files the executable embeds as text (`with { type: "text" }`: install.sh, systemd units) load
// as text here too, as Bun's bundler does.
const textImports = {
  name: "text-imports",
  enforce: "pre" as const,
  load(id: string) {
    if (/\.(sh|service)$/.test(id)) return `export default ${JSON.stringify(readFileSync(id, "utf8"))};`;
    return null;
  },
};

// Under Bun (`bun --bun vitest run`): everything. With VITEST_JSON set (CI), a JSON report is
// written too, from which .ci/run prints the plain "N passed, N failed" line.
export default defineConfig({
  plugins: [textImports],
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: process.env.VITEST_JSON ? ["default", ["json", { outputFile: `${process.env.VITEST_JSON}/bun.json` }]] : ["default"],
  },
});
