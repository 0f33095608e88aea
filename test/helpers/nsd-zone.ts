/**
 * NSD serving one zone file, configured as the differential test needs: hide-version,
 * hide-identity, no rate limiting, a 1232-octet UDP limit. Own temp directory; stopped by PID.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startNsd } from "./nsd";

export interface ZoneNsd {
  port: number;
  stop(): Promise<void>;
}

/** zones: [name, file] pairs. */
export async function startZoneNsd(zones: [string, string][], ready: (port: number) => Promise<boolean>): Promise<ZoneNsd> {
  const dir = mkdtempSync(join(tmpdir(), "ipkeep-nsd-"));
  const clauses = zones.map(([name, file], i) => {
    copyFileSync(file, join(dir, `zone${i}`));
    return `zone:\n  name: ${name}\n  zonefile: "${join(dir, `zone${i}`)}"\n`;
  });
  try {
    const nsd = await startNsd(dir, await freePort(), clauses.join("\n"), "  ipv4-edns-size: 1232\n  ipv6-edns-size: 1232");
    const stop = async () => {
      await nsd.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    // TCP accepting is not the zone being loaded: wait for an answer.
    const deadline = Date.now() + 10_000;
    while (!(await ready(nsd.port))) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`nsd did not serve the zones: ${nsd.logs()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return { port: nsd.port, stop };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
