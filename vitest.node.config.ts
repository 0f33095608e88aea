import { defineConfig } from "vitest/config";

// Under Node: the store's tests again, on better-sqlite3, so both drivers stay honest.
export default defineConfig({
  test: {
    include: ["test/store/**/*.test.ts"],
    testTimeout: 30_000,
    reporters: process.env.VITEST_JSON ? ["default", ["json", { outputFile: `${process.env.VITEST_JSON}/node.json` }]] : ["default"],
  },
});
