/**
 * An update answered "good" survives a crash. An update storm runs against the compiled
 * server, which is killed with SIGKILL in the middle of it; after a restart every host holds
 * its last acknowledged address, or a later one whose answer was lost in the crash (sent,
 * committed, never answered), and DNS answers the same.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
const HOSTS = Array.from({ length: 6 }, (_, i) => `h${i}.${ZONE}`);
/** Enough acknowledged updates that the kill lands mid-storm, with requests in flight. */
const KILL_AFTER_ACKS = 300;

let data: string;
let server: ServerProcess | null = null;
let token: string;

beforeAll(() => {
  data = tempDir();
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  for (const h of HOSTS) expect(run(["--data", data, "host", "add", h, "--owner", "me@example.com", "--json"]).code).toBe(0);
  const r = run(["--data", data, "token", "create", "--all", "--owner", "me@example.com", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  token = JSON.parse(r.stdout).token.tokenValue;
});

afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

/** 10.x.y.z from a counter: every update of a host sets a new address. */
const addr = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** Rate limits (when this build has them) would turn the storm into "abuse" answers. */
function limitFlags(): string[] {
  const help = run(["serve", "--help"]).stdout;
  const flags: string[] = [];
  if (help.includes("--update-burst")) flags.push("--update-burst", "0");
  if (help.includes("--update-daily")) flags.push("--update-daily", "0");
  return flags;
}

describe("durability", () => {
  it("every update answered good is still there after kill -9 and a restart", async () => {
    const extra = limitFlags();
    server = await startServe(data, extra);
    const s = server;
    const base = s.base;
    const exited = new Promise((r) => s.proc.once("exit", r));
    /** Per host: the last address answered good, and every address sent after it. */
    const acked = new Map<string, number>();
    const sentAfterAck = new Map<string, number[]>();
    let acks = 0;
    let killed = false;
    let counter = 1;

    async function worker(host: string): Promise<void> {
      sentAfterAck.set(host, []);
      while (!killed) {
        const n = counter++;
        sentAfterAck.get(host)!.push(n);
        let body: string;
        try {
          const res = await fetch(`${base}/nic/update?hostname=${host}&myip=${addr(n)}`, {
            headers: { authorization: `Basic ${Buffer.from(`u:${token}`).toString("base64")}` },
          });
          body = await res.text();
        } catch {
          return; // the server is gone: this request's outcome is unknown
        }
        if (body !== `good ${addr(n)}`) throw new Error(`unexpected answer for ${host}: ${body}`);
        acked.set(host, n);
        sentAfterAck.set(host, []);
        if (++acks >= KILL_AFTER_ACKS && !killed) {
          killed = true;
          process.kill(s.proc.pid!, "SIGKILL");
        }
      }
    }
    await Promise.all(HOSTS.map(worker));
    await exited;
    server = null;
    expect(s.proc.signalCode).toBe("SIGKILL");
    expect(acks).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    server = await startServe(data, extra);
    const listed = run(["--data", data, "host", "list", "--json"]);
    expect(listed.code).toBe(0);
    const rows = new Map<string, string | null>(JSON.parse(listed.stdout).map((h: { hostname: string; ipv4: string | null }) => [h.hostname, h.ipv4]));
    for (const host of HOSTS) {
      const last = acked.get(host);
      expect(last, `${host} got no acknowledged update`).toBeDefined();
      // Allowed: the acknowledged address, or one sent later whose answer the crash swallowed.
      const allowed = [last!, ...sentAfterAck.get(host)!].map(addr);
      expect(allowed, host).toContain(rows.get(host));
      expect(digShort(server.dnsPort, host, "A"), host).toEqual([rows.get(host)]);
    }
  });
});
