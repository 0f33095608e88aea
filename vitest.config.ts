import { defineConfig } from "vitest/config";

// Under Bun (`bun --bun vitest run`): everything. With VITEST_JSON set (CI), a JSON report is
// written too, from which .ci/run prints the plain "N passed, N failed" line.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: process.env.VITEST_JSON ? ["default", ["json", { outputFile: `${process.env.VITEST_JSON}/bun.json` }]] : ["default"],
  },
});
