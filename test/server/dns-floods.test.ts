/**
 * The compiled server under floods from one loopback address (127.0.0.2, the attacker) while
 * another (127.0.0.3, the user) asks as a real resolver would; both reach it on 127.0.0.1.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { digAsync } from "../helpers/dig";
import { tcpConnect, type TcpReader } from "../helpers/dns-client";
import { cleanup, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const DEMO_NS = "ns1.dyn.ipkeep.test";
const dirs: string[] = [];
let server: ServerProcess | null = null;
const readers: TcpReader[] = [];

afterEach(async () => {
  for (const r of readers.splice(0)) r.sock.destroy();
  await server?.stop();
  server = null;
});
afterAll(() => dirs.forEach(cleanup));

async function serve(extra: string[]): Promise<ServerProcess> {
  const dir = tempDir();
  dirs.push(dir);
  server = await startServe(dir, ["--demo", ...extra]);
  return server;
}

describe("DNS over TCP, per source", () => {
  it("--dns-tcp-max and --dns-tcp-per-source take whole numbers from 1 (flag or environment)", () => {
    const config = (flags: Record<string, unknown>, env: Record<string, string> = {}) => resolveConfig({ data: "/tmp/x", ...flags }, env, () => false);
    expect(config({})).toMatchObject({ dnsTcpMax: 200, dnsTcpPerSource: 20 });
    expect(config({ dnsTcpMax: "50", dnsTcpPerSource: "5" })).toMatchObject({ dnsTcpMax: 50, dnsTcpPerSource: 5 });
    expect(config({}, { IPKEEP_DNS_TCP_PER_SOURCE: "3" }).dnsTcpPerSource).toBe(3);
    expect(() => config({ dnsTcpPerSource: "0" })).toThrow(/dns-tcp-per-source/);
    expect(() => config({ dnsTcpMax: "1.5" })).toThrow(/dns-tcp-max/);
  });

  it("an address holding idle connections leaves room: dig +tcp from another address is answered", async () => {
    const { dnsPort } = await serve(["--dns-tcp-per-source", "5", "--dns-tcp-max", "8"]);
    const flood = await Promise.all(Array.from({ length: 30 }, () => tcpConnect(dnsPort, "127.0.0.2").catch(() => null)));
    for (const r of flood) if (r) readers.push(r);
    await new Promise((r) => setTimeout(r, 200));
    expect(flood.filter((r) => r && !r.closed).length).toBe(5);
    for (let i = 0; i < 3; i++) {
      const dig = await digAsync(dnsPort, DEMO_NS, "A", ["+tcp", "-b", "127.0.0.3"]);
      expect(dig.answer).toEqual([`${DEMO_NS}. 3600 IN A 127.0.0.1`]);
    }
  });
});
