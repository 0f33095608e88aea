/**
 * `serve` answers UDP from the DNS thread by default (--dns-thread no: on the main thread);
 * either way changes are served at once and /metrics counts every answer.
 */
import * as packet from "dns-packet";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { createHost } from "../../src/core/hosts";
import { type RunningServer, DEMO_ZONE, startServer } from "../../src/server";
import { createPlatform } from "../../src/platform";
import { query, udpAsk } from "../helpers/dns-client";
import { cleanup, tempDir } from "../helpers/exe";

const dirs: string[] = [];
let server: RunningServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});
afterAll(() => dirs.forEach(cleanup));

function config(flags: Record<string, unknown>, env: Record<string, string> = {}) {
  const data = tempDir();
  dirs.push(data);
  return resolveConfig({ data, dns: ["127.0.0.1:0"], http: ["127.0.0.1:0"], demo: true, ...flags }, env, () => false);
}

describe("--dns-thread", () => {
  it("is on by default, and off with no (flag or environment); other words are refused", () => {
    expect(config({}).dnsThread).toBe(true);
    expect(config({ dnsThread: "no" }).dnsThread).toBe(false);
    expect(config({}, { IPKEEP_DNS_THREAD: "no" }).dnsThread).toBe(false);
    expect(() => config({ dnsThread: "maybe" })).toThrow(/dns-thread/);
  });

  it.each([
    ["the DNS thread", {}, true],
    ["the main thread", { dnsThread: "no" }, false],
  ])("%s serves a change at once and counts its answers", async (_name, flags, threaded) => {
    server = await startServer(config(flags));
    expect(server.udpThread).toBe(threaded);
    const port = server.dns[0]!.port;
    const ns = packet.decode(await udpAsk(port, query(`ns1.${DEMO_ZONE}`)));
    expect(ns.answers?.map((a) => (a as { data: unknown }).data)).toEqual(["127.0.0.1"]);
    expect((await udpAsk(port, query(`late.${DEMO_ZONE}`)))[3]! & 0x0f).toBe(3); // NXDOMAIN
    // A router's update over HTTP, then the very next query.
    const owner = server.store.users.create({ email: "me@example.com", role: "user", passwordHash: null }, 0);
    const token = createHost({ store: server.store, platform: createPlatform(), changes: server.live }, { name: `late.${DEMO_ZONE}`, ownerId: owner.id }).value;
    const base = `http://127.0.0.1:${server.http[0]!.port}`;
    expect(await (await fetch(`${base}/nic/update?hostname=late.${DEMO_ZONE}&myip=198.51.100.7&token=${token}`)).text()).toBe("good 198.51.100.7");
    const late = packet.decode(await udpAsk(port, query(`late.${DEMO_ZONE}`)));
    expect(late.answers?.map((a) => (a as { data: unknown }).data)).toEqual(["198.51.100.7"]);
    const text = await (await fetch(`${base}/metrics`)).text();
    const a = Number(/ipkeep_dns_responses_total\{rcode="NOERROR",type="A"\} (\d+)/.exec(text)?.[1]);
    const nx = Number(/ipkeep_dns_responses_total\{rcode="NXDOMAIN",type="A"\} (\d+)/.exec(text)?.[1]);
    expect(a).toBeGreaterThanOrEqual(2);
    expect(nx).toBeGreaterThanOrEqual(1);
  });
});

describe("listening on 0.0.0.0 and [::] together", () => {
  it("binds HTTP and DNS on both wildcards with the same ports", async () => {
    const probe = await startServer(config({}));
    const [http, dns] = [probe.http[0]!.port, probe.dns[0]!.port];
    await probe.stop();
    server = await startServer(config({ http: [`0.0.0.0:${http}`, `[::]:${http}`], dns: [`0.0.0.0:${dns}`, `[::]:${dns}`] }));
    expect(server.dns.map((l) => l.port)).toEqual([dns, dns]);
    for (const host of ["127.0.0.1", "[::1]"]) expect((await fetch(`http://${host}:${http}/metrics`)).status).toBe(200);
  });
});
