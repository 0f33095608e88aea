/**
 * Token policies (core/token-policy.ts), one rule in every dialect: names, record types,
 * source networks, expiry and time unused, each refused in the dialect's own words: dyndns2
 * `badauth`, ipdock and acme-dns/httpreq 403, DNS UPDATE REFUSED. A real server on loopback;
 * clients send from 127.0.0.1 or 127.0.0.2 (bound locally) to play two networks.
 */
import { createSocket } from "node:dgram";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { createHost, removeHost } from "../../src/core/hosts";
import type { UserRow } from "../../src/core/ports";
import { LocalResources } from "../../src/core/resources";
import type { TokenPolicyInput } from "../../src/core/token-policy";
import { createZone } from "../../src/core/zones";
import { makeKey, signRequest } from "../../src/dns/tsig";
import { createPlatform } from "../../src/platform";
import { type RunningServer, startServer } from "../../src/server";
import { cleanup, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
const DIGEST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
let dir: string;
let server: RunningServer;
let owner: UserRow;
let http: number;
let dnsPort: number;
const platform = createPlatform();
const deps = () => ({ store: server.store, platform, changes: server.live });
const admin = () => new LocalResources(deps(), { userId: null, admin: true, name: "cli", address: null });
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  dir = tempDir("ipkeep-policy-");
  server = await startServer(resolveConfig({ data: join(dir, "data"), http: ["127.0.0.1:0"], dns: ["127.0.0.1:0"], updateBurst: "0" }, {}, () => false));
  http = server.http[0]!.port;
  dnsPort = server.dns[0]!.port;
  createZone(deps(), { name: ZONE, nameservers: [{ name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null }] });
  owner = server.store.users.create({ email: "me@example.com", role: "user", passwordHash: null }, 0);
});
afterAll(async () => {
  await server?.stop();
  cleanup(dir);
});

async function tokenWith(label: string, policy: TokenPolicyInput) {
  const name = `${label}.${ZONE}`;
  const old = server.store.hosts.byName(name);
  if (old) removeHost(deps(), old);
  const { host } = createHost(deps(), { name, ownerId: owner.id });
  const t = await admin().createToken({ hostnameId: host.id, tsig: true, policy });
  return { host, token: t.tokenValue, key: makeKey(t.tsig!.name, t.tsig!.secret, t.tsig!.algorithm), id: t.id };
}

/** An HTTP request from a chosen local address. */
function call(method: string, path: string, headers: Record<string, string>, body?: string, from = "127.0.0.1"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: http, method, path, headers, localAddress: from }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
const dyndns = (host: string, token: string, query: string, from?: string) =>
  call("GET", `/nic/update?hostname=${host}&${query}`, { authorization: `Basic ${Buffer.from(`token:${token}`).toString("base64")}` }, undefined, from);
const ipdock = (host: string, token: string, from?: string) =>
  call("GET", `/api/update?hostname=${host}&myip=198.51.100.1`, { authorization: `Bearer ${token}` }, undefined, from);
const acmeDns = (host: string, token: string, from?: string) =>
  call(
    "POST",
    "/acme-dns/update",
    { "x-api-user": host, "x-api-key": token, "content-type": "application/json" },
    JSON.stringify({ subdomain: host, txt: DIGEST }),
    from,
  );
const httpreq = (host: string, token: string, from?: string) =>
  call(
    "POST",
    "/httpreq/present",
    { authorization: `Basic ${Buffer.from(`${host}:${token}`).toString("base64")}`, "content-type": "application/json" },
    JSON.stringify({ fqdn: `_acme-challenge.${host}.`, value: DIGEST }),
    from,
  );

/** A signed DNS UPDATE adding one RR (type A, AAAA or TXT), from a chosen address: its rcode. */
function dnsUpdate(key: ReturnType<typeof makeKey>, name: string, type: "A" | "AAAA" | "TXT", from = "127.0.0.1"): Promise<number | null> {
  const enc = (n: string) => [...n.split(".").flatMap((l) => [l.length, ...Buffer.from(l)]), 0];
  const rdata =
    type === "A" ? [192, 0, 2, 77] : type === "AAAA" ? [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 0x77] : [DIGEST.length, ...Buffer.from(DIGEST)];
  const code = { A: 1, AAAA: 28, TXT: 16 }[type];
  const msg = new Uint8Array([
    0x12,
    0x34,
    0x28,
    0,
    0,
    1,
    0,
    0,
    0,
    1,
    0,
    0,
    ...enc(ZONE),
    0,
    6,
    0,
    1,
    ...enc(name),
    0,
    code,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    rdata.length,
    ...rdata,
  ]);
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, 2000);
    s.on("message", (m) => {
      clearTimeout(t);
      s.close();
      resolve(m[3]! & 0x0f);
    });
    s.bind(0, from, () => s.send(signRequest(msg, key, now()).message, dnsPort, "127.0.0.1"));
  });
}

describe("token policies in every dialect", () => {
  it("names and types: a token for the challenge TXT only cannot move the host's address", async () => {
    const { host, token, key } = await tokenWith("certs", { names: [`_acme-challenge.certs.${ZONE}`], types: ["TXT"] });
    expect((await dyndns(host.name, token, "myip=198.51.100.1")).body).toBe("badauth");
    expect((await ipdock(host.name, token)).status).toBe(403);
    expect(await dnsUpdate(key, host.name, "A")).toBe(5);
    expect(server.store.hosts.byName(host.name)!.ipv4).toBeNull();
    // What it is for works in each dialect.
    expect((await acmeDns(host.name, token)).status).toBe(200);
    expect((await httpreq(host.name, token)).status).toBe(200);
    expect(await dnsUpdate(key, `_acme-challenge.${host.name}`, "TXT")).toBe(0);
  });

  it("types: an A-only token updates IPv4, and IPv6 is refused", async () => {
    const { host, token, key } = await tokenWith("v4only", { types: ["A"] });
    expect((await dyndns(host.name, token, "myip=198.51.100.2")).body).toBe("good 198.51.100.2");
    expect((await dyndns(host.name, token, "myipv6=2001:db8::2")).body).toBe("badauth");
    expect(await dnsUpdate(key, host.name, "AAAA")).toBe(5);
    expect(await dnsUpdate(key, host.name, "A")).toBe(0);
    expect((await acmeDns(host.name, token)).status).toBe(403);
    expect(server.store.hosts.byName(host.name)!.ipv6).toBeNull();
  });

  it("networks (allowfrom): refused from elsewhere, accepted from the network named", async () => {
    const { host, token, key } = await tokenWith("lan", { networks: ["127.0.0.2/32"] });
    expect((await dyndns(host.name, token, "myip=198.51.100.3")).body).toBe("badauth");
    expect((await ipdock(host.name, token)).status).toBe(403);
    expect((await acmeDns(host.name, token)).status).toBe(403);
    expect((await httpreq(host.name, token)).status).toBe(403);
    expect(await dnsUpdate(key, host.name, "A")).toBe(5);
    expect(server.store.hosts.byName(host.name)!.ipv4).toBeNull();
    // IPv64's updater path takes the same token the same way.
    expect((await call("GET", `/update.php?key=${token}&host=${host.name}&ip=198.51.100.3`, {})).body).toBe("badauth");
    expect((await dyndns(host.name, token, "myip=198.51.100.3", "127.0.0.2")).body).toBe("good 198.51.100.3");
    expect((await call("GET", `/update.php?key=${token}&host=${host.name}&ip=198.51.100.6`, {}, undefined, "127.0.0.2")).body).toBe("good 198.51.100.6");
    expect((await acmeDns(host.name, token, "127.0.0.2")).status).toBe(200);
    expect(await dnsUpdate(key, host.name, "A", "127.0.0.2")).toBe(0);
  });

  it("expiry and time unused: the token stops working in every dialect", async () => {
    const expired = await tokenWith("expired", {});
    server.store.tokens.setPolicy(expired.id, { names: null, types: null, networks: null, expiresAt: now() - 1, maxUnusedSeconds: null });
    const idle = await tokenWith("idle", { maxUnusedSeconds: 3600 });
    server.store.db.prepare("UPDATE update_tokens SET created_at = ?, last_used_at = ? WHERE id = ?").run(now() - 90_000, now() - 7200, idle.id);
    for (const t of [expired, idle]) {
      expect((await dyndns(t.host.name, t.token, "myip=198.51.100.4")).body).toBe("badauth");
      expect((await ipdock(t.host.name, t.token)).status).toBe(403);
      expect((await acmeDns(t.host.name, t.token)).status).toBe(403);
      expect((await httpreq(t.host.name, t.token)).status).toBe(403);
      expect(await dnsUpdate(t.key, t.host.name, "A")).toBe(5);
      expect(server.store.hosts.byName(t.host.name)!.ipv4).toBeNull();
    }
    // Used within its window, the idle-limited token works.
    const fresh = await tokenWith("fresh", { maxUnusedSeconds: 3600 });
    expect((await dyndns(fresh.host.name, fresh.token, "myip=198.51.100.5")).body).toBe("good 198.51.100.5");
  });

  it("the API sets, shows and changes a policy; a name outside the token's hostnames is 400", async () => {
    const { host, id } = await tokenWith("api", {});
    const r = admin();
    const t = await r.setTokenPolicy(id, { names: [host.name], types: ["a", "TXT"], networks: ["192.0.2.0/24"], maxUnusedSeconds: 86_400 });
    expect(t.policy).toEqual({ names: [host.name], types: ["A", "TXT"], networks: ["192.0.2.0/24"], expiresAt: null, maxUnusedSeconds: 86_400 });
    const cleared = await r.setTokenPolicy(id, { networks: null });
    expect(cleared.policy?.networks).toBeNull();
    await expect(r.setTokenPolicy(id, { names: [`other.${ZONE}`] })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(r.setTokenPolicy(id, { types: ["NS"] })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(r.setTokenPolicy(id, { networks: ["not-a-net"] })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(r.setTokenPolicy(id, { expiresAt: now() - 10 })).rejects.toMatchObject({ code: "invalid_input" });
    const none = await r.setTokenPolicy(id, { names: null, types: null, maxUnusedSeconds: null });
    expect(none.policy).toBeNull();
  });
});
