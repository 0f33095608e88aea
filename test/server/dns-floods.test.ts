/**
 * The compiled server under floods from one loopback address (127.0.0.2, the attacker) while
 * another (127.0.0.3, the user; 127.1.0.3 for rate limiting, which counts IPv4 sources per /24)
 * asks as a real resolver would; all reach it on 127.0.0.1.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { digAsync } from "../helpers/dig";
import * as packet from "dns-packet";
import { query, tcpAsk, tcpConnect, type TcpReader, udpAsk, udpFlood } from "../helpers/dns-client";
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

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);

describe("response rate limiting", () => {
  it("is on by default at 200 a second with slip 2, /24 and /56; flags, environment and checks", () => {
    const config = (flags: Record<string, unknown>, env: Record<string, string> = {}) => resolveConfig({ data: "/tmp/x", ...flags }, env, () => false);
    expect(config({})).toMatchObject({ rrlRate: 200, rrlSlip: 2, rrlIpv4Prefix: 24, rrlIpv6Prefix: 56 });
    expect(config({ rrlRate: "0" }).rrlRate).toBe(0);
    expect(config({}, { IPKEEP_RRL_RATE: "50", IPKEEP_RRL_SLIP: "1", IPKEEP_RRL_IPV6_PREFIX: "64" })).toMatchObject({
      rrlRate: 50,
      rrlSlip: 1,
      rrlIpv6Prefix: 64,
    });
    expect(() => config({ rrlRate: "-1" })).toThrow(/rrl-rate/);
    expect(() => config({ rrlSlip: "101" })).toThrow(/rrl-slip/);
    expect(() => config({ rrlIpv4Prefix: "33" })).toThrow(/rrl-ipv4-prefix/);
  });

  it.each([["yes"], ["no"]])(
    "--dns-thread %s: 5,000 identical queries from one address are mostly dropped, some slipped, counted; others answered",
    async (thread) => {
      const { dnsPort, base } = await serve(["--dns-thread", thread]);
      const q = query(DEMO_NS, "A");
      const flood = await udpFlood(dnsPort, q, 5000, "127.0.0.2");
      expect(flood.full).toBeGreaterThanOrEqual(200);
      expect(flood.full).toBeLessThanOrEqual(200 + (flood.elapsedMs / 1000) * 200 + 20);
      expect(flood.truncated).toBeGreaterThan(1000);
      expect(flood.unanswered).toBeGreaterThan(1000);
      // Another source's query, and the flooding address over TCP, are answered in full.
      const other = packet.decode(await udpAsk(dnsPort, q, 2000, "127.1.0.3"));
      expect(other.answers?.map((a) => (a as { data: unknown }).data)).toEqual(["127.0.0.1"]);
      const [tcp] = await tcpAsk(dnsPort, [q], "127.0.0.2");
      expect(packet.decode(tcp!).answers?.length).toBe(1);
      // A real resolver at the flooding address: a slipped answer sends it to TCP, and it is
      // answered either way.
      const dig = await digAsync(dnsPort, DEMO_NS, "A", ["-b", "127.0.0.2"]);
      expect(dig.answer).toEqual([`${DEMO_NS}. 3600 IN A 127.0.0.1`]);
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(metric(text, "ipkeep_dns_rrl_slipped_total")).toBe(flood.truncated);
      expect(metric(text, "ipkeep_dns_rrl_dropped_total")).toBe(flood.unanswered);
    },
  );

  it.each([["yes"], ["no"]])("--dns-thread %s --rrl-rate 0 answers every one of them", async (thread) => {
    const { dnsPort, base } = await serve(["--dns-thread", thread, "--rrl-rate", "0"]);
    const flood = await udpFlood(dnsPort, query(DEMO_NS, "A"), 5000, "127.0.0.2");
    expect(flood).toMatchObject({ full: 5000, truncated: 0, unanswered: 0 });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(metric(text, "ipkeep_dns_rrl_dropped_total")).toBe(0);
  });
});
