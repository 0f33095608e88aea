/**
 * Enrolled secondaries (nodes table) get transfers with their own TSIG key and are NOTIFY
 * targets, without restarting the primary.
 */
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { DEMO_ZONE, type RunningServer, secondaryPeers, startServer } from "../../src/server";
import { cleanup, tempDir } from "../helpers/exe";

const SECRET = Buffer.alloc(32, 21).toString("base64");
let data: string;
let server: RunningServer;

function dig(args: string[]): Promise<string> {
  return new Promise((resolve) =>
    execFile("dig", ["@127.0.0.1", "-p", String(server.dns[0]!.port), "+time=3", "+tries=1", ...args], { encoding: "utf8" }, (_e, o, e) => resolve(o + e)),
  );
}

function enroll(name: string, status: string, tsigName: string | null, secret: string | null, ip: string | null): void {
  server.store.db
    .prepare(
      `INSERT INTO nodes (role, name, machine_id, public_ip, credential_hash, tsig_name, tsig_secret, status, created_at)
       VALUES ('secondary', ?, ?, ?, ?, ?, ?, ?, 0)`,
    )
    .run(name, `m-${name}`, ip, `hash-${name}`, tsigName, secret, status);
}

beforeAll(async () => {
  data = tempDir();
  server = await startServer(resolveConfig({ data, dns: ["127.0.0.1:0"], http: ["127.0.0.1:0"], demo: true }, {}, () => false));
});
afterAll(async () => {
  await server.stop();
  cleanup(data);
});

describe("enrolled secondaries", () => {
  it("an active secondary's key is accepted for AXFR; a revoked one's is not", async () => {
    expect(await dig(["-y", `hmac-sha256:ns2-key:${SECRET}`, DEMO_ZONE, "AXFR"])).toMatch(/NOTAUTH|BADKEY|failed/i);
    enroll("ns2", "active", "ns2-key", SECRET, "192.0.2.2");
    enroll("ns3", "revoked", "ns3-key", SECRET, "192.0.2.3");
    const ok = await dig(["-y", `hmac-sha256:ns2-key:${SECRET}`, DEMO_ZONE, "AXFR"]);
    expect(ok).toMatch(new RegExp(`^${DEMO_ZONE.replace(/\./g, "\\.")}\\.\\s+\\d+\\s+IN\\s+SOA`, "m"));
    expect(ok).not.toMatch(/failed|Couldn't verify/i);
    expect(await dig(["-y", `hmac-sha256:ns3-key:${SECRET}`, DEMO_ZONE, "AXFR"])).toMatch(/NOTAUTH|BADKEY|failed/i);
    expect(await dig([DEMO_ZONE, "AXFR"])).toMatch(/REFUSED|failed/i);
  });

  it("active secondaries with an address are NOTIFY targets on port 53, signed with their key", () => {
    enroll("ns4", "active", null, null, null);
    enroll("ns5", "active", "bad key", "not base64!", "192.0.2.5");
    const { keys, targets } = secondaryPeers(server.store);
    expect(keys.map((k) => k.name)).toEqual(["ns2-key"]);
    expect(targets.map((t) => [t.host, t.port, t.key?.name ?? null])).toEqual([
      ["192.0.2.2", 53, "ns2-key"],
      ["192.0.2.5", 53, null],
    ]);
  });
});
