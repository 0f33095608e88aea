/**
 * Before the CA is told to look, the DNS-01 value must be on our own DNS and every enrolled
 * secondary must have the zone's new serial (RFC 1982 order): real UDP to scripted servers.
 */
import { afterAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../src/log";
import { waitForNameservers } from "../../src/tls/acme";
import { type FakeDns, fakeDns, soa } from "../helpers/fake-dns";

const ZONE = "dyn.example.test";
const FQDN = `_acme-challenge.ddns.${ZONE}`;
const VALUE = "x".repeat(43);
const servers: FakeDns[] = [];
const logs: string[] = [];
setLogSink((l) => logs.push(l));
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function own(after = 0): Promise<FakeDns> {
  const started = Date.now();
  const s = await fakeDns((name, type) =>
    name === FQDN && type === "TXT" && Date.now() - started >= after
      ? { answers: [{ name: FQDN, type: "TXT", ttl: 60, class: "IN", data: VALUE }] }
      : { answers: [] },
  );
  servers.push(s);
  return s;
}

/** A secondary at serial `from` that takes `to` after `ms`. */
async function secondary(from: number, to: number, ms: number): Promise<FakeDns> {
  const started = Date.now();
  const s = await fakeDns((name, type) => (name === ZONE && type === "SOA" ? { answers: [soa(ZONE, Date.now() - started >= ms ? to : from)] } : null));
  servers.push(s);
  return s;
}

describe("waiting for our nameservers before the CA looks", () => {
  it("waits for our own DNS to answer the value, then for each secondary to reach the serial", async () => {
    const self = await own(300);
    const slow = await secondary(41, 42, 800);
    const t0 = Date.now();
    const lagging = await waitForNameservers({
      self: { host: "127.0.0.1", port: self.port },
      secondaries: [{ name: "ns2", host: "127.0.0.1", port: slow.port }],
      zone: ZONE,
      fqdn: FQDN,
      value: VALUE,
      serial: 42,
      secondaryWaitMs: 5000,
    });
    expect(lagging).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(750);
    expect(self.queries.some((q) => q.type === "TXT")).toBe(true);
  });

  it("compares serials in RFC 1982 order: 0 follows 4294967295", async () => {
    const self = await own();
    const wrapped = await secondary(4294967295, 0, 400);
    const t0 = Date.now();
    const lagging = await waitForNameservers({
      self: { host: "127.0.0.1", port: self.port },
      secondaries: [{ name: "ns3", host: "127.0.0.1", port: wrapped.port }],
      zone: ZONE,
      fqdn: FQDN,
      value: VALUE,
      serial: 0,
      secondaryWaitMs: 5000,
    });
    expect(lagging).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  });

  it("asks the CA anyway after the wait when a secondary never catches up, naming it in the log", async () => {
    const self = await own();
    const stuck = await secondary(7, 7, 0);
    const lagging = await waitForNameservers({
      self: { host: "127.0.0.1", port: self.port },
      secondaries: [{ name: "ns9", host: "127.0.0.1", port: stuck.port }],
      zone: ZONE,
      fqdn: FQDN,
      value: VALUE,
      serial: 8,
      secondaryWaitMs: 600,
    });
    expect(lagging).toEqual([`ns9 (127.0.0.1:${stuck.port})`]);
    expect(logs.join("\n")).toMatch(/secondaries have not taken the zone's new serial yet.*ns9/);
  });

  it("fails in words when our own DNS never answers the value", async () => {
    const silent = await fakeDns(() => ({ answers: [] }));
    servers.push(silent);
    await expect(
      waitForNameservers({ self: { host: "127.0.0.1", port: silent.port }, secondaries: [], zone: ZONE, fqdn: FQDN, value: VALUE, serial: 1, selfWaitMs: 500 }),
    ).rejects.toThrow(`this server's own DNS did not answer ${FQDN} TXT within 1 s`);
  });
});
