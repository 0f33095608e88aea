/**
 * The update limits in the configuration: flags, environment and config file.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config";

describe("update-burst and update-daily", () => {
  it("default to 5/10 and 1440", () => {
    const c = resolveConfig({ data: "/tmp/x" }, {}, () => false);
    expect([c.updateBurst, c.updateDaily]).toEqual(["5/10", 1440]);
  });
  it("come from flags, the environment and the config file, in that order", () => {
    const dir = mkdtempSync(join(tmpdir(), "ipkeep-cfg-"));
    try {
      const file = join(dir, "ipkeep.toml");
      writeFileSync(file, 'update-burst = "20/60"\nupdate-daily = 0\n');
      expect(resolveConfig({ config: file }, {}).updateBurst).toBe("20/60");
      expect(resolveConfig({ config: file }, {}).updateDaily).toBe(0);
      expect(resolveConfig({ config: file }, { IPKEEP_UPDATE_BURST: "0" }).updateBurst).toBe("0");
      expect(resolveConfig({ config: file, updateBurst: "7/10", updateDaily: "100" }, {}).updateDaily).toBe(100);
      writeFileSync(file, 'update-burst = "lots"\n');
      expect(() => resolveConfig({ config: file }, {})).toThrow(/COUNT\/SECONDS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("trusted-proxy must be addresses or CIDRs", () => {
    expect(resolveConfig({ data: "/tmp/x", trustedProxy: ["10.0.0.0/8", "::1"] }, {}, () => false).trustedProxy).toEqual(["10.0.0.0/8", "::1"]);
    expect(() => resolveConfig({ data: "/tmp/x", trustedProxy: ["proxy.example.com"] }, {}, () => false)).toThrow(/trusted-proxy/);
  });
});
