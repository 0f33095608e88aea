/**
 * The agent against an in-process primary: updates only on change, checks in, backs off.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addressIn, Agent, type AgentDeps, BACKOFF_MAX_MS, BACKOFF_START_MS, interfaceIPv6 } from "../../src/agent/agent";
import { readNodeConfig } from "../../src/agent/config";
import { type Primary, primary, ZONE } from "../helpers/install";

let p: Primary;
let state: string;
let myip = "203.0.113.20";
const seen: string[] = [];

beforeEach(async () => {
  p = await primary();
  state = mkdtempSync(join(tmpdir(), "ipkeep-agent-"));
  seen.length = 0;
});
afterEach(() => {
  p.close();
  rmSync(state, { recursive: true, force: true });
});

async function enrolledAgent(): Promise<Agent> {
  const code = await p.issue();
  const pre = await p.prechecked(code);
  const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token));
  const file = join(state, "agent.json");
  await Bun.write(file, JSON.stringify({ role: "agent", primary_url: "http://localhost", activation: act.body.data }));
  const config = readNodeConfig("agent", file);
  const deps: AgentDeps = {
    fetch: async (url, init) => {
      seen.push(`${init?.method ?? "GET"} ${new URL(url).pathname}${new URL(url).search}`);
      if (new URL(url).pathname === "/api/myip") return new Response(`${myip}\n`);
      const req = new Request(url, init);
      return p.app.handle(req, { peer: myip });
    },
    getOverFamily: async (url, family) => {
      seen.push(`GET${family} ${new URL(url).pathname}`);
      return family === 4 ? `${myip}\n` : null;
    },
    now: () => p.clock.now(),
    sleep: async () => {},
    interfaces: () => ({}),
    version: "test",
  };
  return new Agent(config, join(state, "s"), deps);
}

describe("ipkeep agent", () => {
  it("reads install.sh's configuration (the activation kept whole)", async () => {
    await enrolledAgent();
    const c = readNodeConfig("agent", join(state, "agent.json"));
    expect(c).toMatchObject({ role: "agent", hostname: `box.${ZONE}`, zones: [ZONE], checkin_interval_seconds: 300 });
    expect(c.node_token).toMatch(/^ipkn_/);
    expect(c.update_token).toMatch(/^ipk_/);
  });

  it("registers, updates its address once, checks in; sends no update while nothing changes", async () => {
    const a = await enrolledAgent();
    await a.register();
    await a.cycle(true);
    expect(p.store.hosts.byName(`box.${ZONE}`)!.ipv4).toBe("203.0.113.20");
    expect(seen.filter((s) => s.startsWith("GET /nic/update"))).toHaveLength(1);
    expect(p.store.install.listNodes()[0]!.lastCheckinAt).not.toBeNull();
    await a.cycle();
    expect(seen.filter((s) => s.startsWith("GET /nic/update"))).toHaveLength(1);
    myip = "203.0.113.21";
    await a.cycle();
    expect(p.store.hosts.byName(`box.${ZONE}`)!.ipv4).toBe("203.0.113.21");
    myip = "203.0.113.20";
  });

  it("fails the round when the primary refuses it (revoked node)", async () => {
    const a = await enrolledAgent();
    await a.register();
    await p.call("POST", "/revoke", {}, { auth: readNodeConfig("agent", join(state, "agent.json")).node_token });
    await expect(a.cycle(true)).rejects.toThrow(/badauth|node_revoked/);
  });

  it("backs off exponentially up to a cap and resets after a success", async () => {
    const a = await enrolledAgent();
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(() => a.delayAfter(false));
    expect(delays.slice(0, 3)).toEqual([BACKOFF_START_MS, BACKOFF_START_MS * 2, BACKOFF_START_MS * 4]);
    expect(delays.at(-1)).toBe(BACKOFF_MAX_MS);
    expect(a.delayAfter(true)).toBe(60_000);
    expect(a.delayAfter(false)).toBe(BACKOFF_START_MS);
  });
});

describe("address sources", () => {
  it("reads plain-text and JSON what-is-my-IP answers, and nothing else", () => {
    expect(addressIn("203.0.113.5\n")).toBe("203.0.113.5");
    expect(addressIn('{"ip":"2001:db8::1"}')).toBe("2001:db8::1");
    expect(addressIn('{"data":{"address":"198.51.100.1"}}')).toBe("198.51.100.1");
    expect(addressIn("<html>")).toBeNull();
  });

  it("takes a global IPv6 from the interfaces, never link-local or ULA", () => {
    expect(
      interfaceIPv6({
        lo: [{ address: "::1", family: "IPv6", internal: true, netmask: "", mac: "", cidr: null, scopeid: 0 }],
        eth0: [
          { address: "fe80::1", family: "IPv6", internal: false, netmask: "", mac: "", cidr: null, scopeid: 2 },
          { address: "fd00::1", family: "IPv6", internal: false, netmask: "", mac: "", cidr: null, scopeid: 0 },
          { address: "2001:db8::42", family: "IPv6", internal: false, netmask: "", mac: "", cidr: null, scopeid: 0 },
        ],
      }),
    ).toBe("2001:db8::42");
  });
});

describe("getOverFamily", () => {
  it("asks over IPv4 and gives the body; a failed connection is null, not an exception", async () => {
    const { getOverFamily } = await import("../../src/agent/agent");
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("198.51.100.9\n") });
    try {
      expect(await getOverFamily(`http://localhost:${server.port}/api/myip`, 4)).toBe("198.51.100.9\n");
      expect(await getOverFamily("http://127.0.0.1:1/api/myip", 4)).toBeNull();
      expect(await getOverFamily("not a url", 6)).toBeNull();
    } finally {
      server.stop(true);
    }
  });
});
