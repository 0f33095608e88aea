/**
 * DNS UPDATE (RFC 2136 + TSIG) with real clients against a real server on loopback: Debian's
 * nsupdate (bind9-dnsutils) and knsupdate (knot-dnsutils) add and delete A, AAAA and TXT, with
 * and without prerequisites, signed with SHA-256 and MD5 keys of update tokens; every refusal
 * path, checked on the wire and in the database. Every change is checked with a real DNS query.
 */
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { createHost, removeHost } from "../../src/core/hosts";
import type { HostRow, UserRow } from "../../src/core/ports";
import { LocalResources } from "../../src/core/resources";
import type { TokenSecretView } from "../../src/core/views";
import { createZone } from "../../src/core/zones";
import { findTsig, makeKey, signRequest, type TsigKey } from "../../src/dns/tsig";
import { createPlatform } from "../../src/platform";
import { type RunningServer, startServer } from "../../src/server";
import { cleanup, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
let dir: string;
let server: RunningServer;
let owner: UserRow;
let dnsPort: number;
const platform = createPlatform();
const deps = () => ({ store: server.store, platform, changes: server.live });

beforeAll(async () => {
  dir = tempDir("ipkeep-dnsupdate-");
  const config = resolveConfig({ data: join(dir, "data"), http: ["127.0.0.1:0"], dns: ["127.0.0.1:0"], updateBurst: "0" }, {}, () => false);
  server = await startServer(config);
  dnsPort = server.dns[0]!.port;
  createZone(deps(), { name: ZONE, nameservers: [{ name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null }] });
  createZone(deps(), { name: "other.example.net", nameservers: [{ name: "ns1.other.example.net", ipv4: "192.0.2.54", ipv6: null }] });
  owner = server.store.users.create({ email: "me@example.com", role: "user", passwordHash: null }, 0);
});
afterAll(async () => {
  await server?.stop();
  cleanup(dir);
});

function exec(cmd: string, args: string[], input?: string, timeout = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: "utf8", timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: stdout ?? "", stderr: stderr ?? "" });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}
const dig = async (name: string, type: string) =>
  (await exec("dig", ["@127.0.0.1", "-p", String(dnsPort), name, type, "+short", "+time=2", "+tries=1"])).stdout.split("\n").filter(Boolean);

/** A fresh host with a token that has a TSIG key (of the given algorithm). */
async function keyedHost(name: string, algorithm?: string): Promise<{ host: HostRow; token: TokenSecretView; key: NonNullable<TokenSecretView["tsig"]> }> {
  const old = server.store.hosts.byName(name);
  if (old) removeHost(deps(), old);
  const { host } = createHost(deps(), { name, ownerId: owner.id });
  const res = new LocalResources({ ...deps() }, { userId: null, admin: true, name: "cli", address: null });
  const token = await res.createToken({ hostnameId: host.id, tsig: true, tsigAlgorithm: algorithm });
  return { host, token, key: token.tsig! };
}

function keyFile(k: { name: string; algorithm: string; secret: string }): string {
  const f = join(dir, `${k.name}.key`);
  writeFileSync(f, `key "${k.name}" {\n  algorithm ${k.algorithm};\n  secret "${k.secret}";\n};\n`);
  return f;
}

/** nsupdate with a script (server and zone lines added); exit code and output. */
function nsupdate(k: { name: string; algorithm: string; secret: string }, lines: string[], tcp = false) {
  const script = [`server 127.0.0.1 ${dnsPort}`, `zone ${ZONE}`, ...lines, "send", ""].join("\n");
  return exec("nsupdate", [...(tcp ? ["-v"] : []), "-k", keyFile(k)], script);
}
function knsupdate(k: { name: string; algorithm: string; secret: string }, lines: string[]) {
  const script = [`server 127.0.0.1 ${dnsPort}`, `zone ${ZONE}.`, ...lines, "send", "quit", ""].join("\n");
  return exec("knsupdate", ["-y", `${k.algorithm}:${k.name}:${k.secret}`], script);
}

const DIGEST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"; // 43 characters of base64url, as DNS-01 values are
const DIGEST2 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

describe("nsupdate (bind9-dnsutils)", () => {
  it("adds and deletes A and AAAA at the token's hostname with a SHA-256 key, over UDP and TCP", async () => {
    const { host, key } = await keyedHost(`home.${ZONE}`);
    expect(key.algorithm).toBe("hmac-sha256");
    let r = await nsupdate(key, [`update add ${host.name} 60 A 198.51.100.7`, `update add ${host.name} 60 AAAA 2001:db8::7`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(await dig(host.name, "A")).toEqual(["198.51.100.7"]);
    expect(await dig(host.name, "AAAA")).toEqual(["2001:db8::7"]);
    // The same history as dyndns2: one line, by this token, "good".
    const log = server.store.updates.history(host.id, 100);
    expect(log[0]).toMatchObject({ result: "good", newIpv4: "198.51.100.7", newIpv6: "2001:db8::7" });
    // Over TCP: delete the AAAA RRset, and one A by value.
    r = await nsupdate(key, [`update delete ${host.name} AAAA`], true);
    expect(r.code).toBe(0);
    expect(await dig(host.name, "AAAA")).toEqual([]);
    r = await nsupdate(key, [`update delete ${host.name} A 198.51.100.7`]);
    expect(r.code).toBe(0);
    expect(await dig(host.name, "A")).toEqual([]);
  });

  it("honours prerequisites: a failing one answers its rcode and changes nothing", async () => {
    const { host, key } = await keyedHost(`pre.${ZONE}`);
    // nxrrset: only when there is no A yet.
    let r = await nsupdate(key, [`prereq nxrrset ${host.name} A`, `update add ${host.name} 60 A 198.51.100.10`]);
    expect(r.code).toBe(0);
    expect(await dig(host.name, "A")).toEqual(["198.51.100.10"]);
    // The same again fails with YXRRSET: the A stays as it was.
    r = await nsupdate(key, [`prereq nxrrset ${host.name} A`, `update add ${host.name} 60 A 198.51.100.11`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("YXRRSET");
    expect(await dig(host.name, "A")).toEqual(["198.51.100.10"]);
    // Value-dependent: replace only when the A is the one we know.
    r = await nsupdate(key, [`prereq yxrrset ${host.name} A 198.51.100.99`, `update delete ${host.name} A`, `update add ${host.name} 60 A 198.51.100.12`]);
    expect(r.stderr).toContain("NXRRSET");
    expect(await dig(host.name, "A")).toEqual(["198.51.100.10"]);
    r = await nsupdate(key, [`prereq yxrrset ${host.name} A 198.51.100.10`, `update delete ${host.name} A`, `update add ${host.name} 60 A 198.51.100.12`]);
    expect(r.code).toBe(0);
    expect(await dig(host.name, "A")).toEqual(["198.51.100.12"]);
    // Name in use / not in use.
    r = await nsupdate(key, [`prereq nxdomain ${host.name}`, `update add ${host.name} 60 A 198.51.100.13`]);
    expect(r.stderr).toContain("YXDOMAIN");
    r = await nsupdate(key, [`prereq yxdomain nothing-here.${ZONE}`, `update add ${host.name} 60 A 198.51.100.13`]);
    expect(r.stderr).toContain("NXDOMAIN");
    expect(await dig(host.name, "A")).toEqual(["198.51.100.12"]);
  });

  it("adds and deletes TXT at _acme-challenge.<hostname> with an MD5 key", async () => {
    const { host, key } = await keyedHost(`acme.${ZONE}`, "hmac-md5");
    expect(key.algorithm).toBe("hmac-md5");
    const name = `_acme-challenge.${host.name}`;
    let r = await nsupdate(key, [`update add ${name} 60 TXT "${DIGEST}"`, `update add ${name} 60 TXT "${DIGEST2}"`]);
    expect(r.stderr).toBe("");
    expect((await dig(name, "TXT")).sort()).toEqual([`"${DIGEST}"`, `"${DIGEST2}"`].sort());
    r = await nsupdate(key, [`update delete ${name} TXT "${DIGEST}"`]);
    expect(r.code).toBe(0);
    expect(await dig(name, "TXT")).toEqual([`"${DIGEST2}"`]);
    r = await nsupdate(key, [`update delete ${name} TXT`]);
    expect(r.code).toBe(0);
    expect(await dig(name, "TXT")).toEqual([]);
  });
});

describe("knsupdate (knot-dnsutils)", () => {
  it("adds A, AAAA and TXT with a SHA-256 key, with a prerequisite, and deletes them", async () => {
    const { host, key } = await keyedHost(`knot.${ZONE}`);
    const name = `_acme-challenge.${host.name}`;
    let r = await knsupdate(key, [
      `prereq nxrrset ${host.name}. A`,
      `add ${host.name}. 60 A 203.0.113.5`,
      `add ${host.name}. 60 AAAA 2001:db8::5`,
      `add ${name}. 60 TXT "${DIGEST}"`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(await dig(host.name, "A")).toEqual(["203.0.113.5"]);
    expect(await dig(host.name, "AAAA")).toEqual(["2001:db8::5"]);
    expect(await dig(name, "TXT")).toEqual([`"${DIGEST}"`]);
    r = await knsupdate(key, [`prereq yxrrset ${host.name}. A 203.0.113.99`, `del ${host.name}. A`]);
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain("NXRRSET");
    expect(await dig(host.name, "A")).toEqual(["203.0.113.5"]);
    r = await knsupdate(key, [`del ${host.name}. A`, `del ${host.name}. AAAA`, `del ${name}. TXT`]);
    expect(r.code).toBe(0);
    expect(await dig(host.name, "A")).toEqual([]);
    expect(await dig(host.name, "AAAA")).toEqual([]);
    expect(await dig(name, "TXT")).toEqual([]);
  });

  it("signs with an MD5 key", async () => {
    const { host, key } = await keyedHost(`knot-md5.${ZONE}`, "hmac-md5");
    const r = await knsupdate(key, [`add ${host.name}. 60 A 203.0.113.6`]);
    expect(r.code).toBe(0);
    expect(await dig(host.name, "A")).toEqual(["203.0.113.6"]);
  });
});

// ---------------------------------------------------------------------------------------
// Messages built byte by byte, for the refusal paths no client sends on purpose.

const name = (n: string) => {
  const out: number[] = [];
  for (const l of n.split(".").filter(Boolean)) out.push(l.length, ...Buffer.from(l));
  out.push(0);
  return out;
};
const u16b = (v: number) => [v >> 8, v & 0xff];
const u32b = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
interface RawRR {
  name: string;
  type: number;
  cls: number;
  ttl?: number;
  rdata?: number[];
}
const rrBytes = (r: RawRR) => [...name(r.name), ...u16b(r.type), ...u16b(r.cls), ...u32b(r.ttl ?? 0), ...u16b(r.rdata?.length ?? 0), ...(r.rdata ?? [])];
const A = (ip: string) => ip.split(".").map(Number);

function updateMessage(o: { id?: number; zone?: string; zocount?: number; ztype?: number; prereqs?: RawRR[]; updates?: RawRR[]; tail?: number[] }): Uint8Array {
  const pre = o.prereqs ?? [];
  const up = o.updates ?? [];
  const zocount = o.zocount ?? 1;
  const bytes = [
    ...u16b(o.id ?? 0x1234),
    ...u16b(5 << 11),
    ...u16b(zocount),
    ...u16b(pre.length),
    ...u16b(up.length),
    ...u16b(0),
    ...(zocount ? [...name(o.zone ?? ZONE), ...u16b(o.ztype ?? 6), ...u16b(1)] : []),
    ...pre.flatMap(rrBytes),
    ...up.flatMap(rrBytes),
    ...(o.tail ?? []),
  ];
  return new Uint8Array(bytes);
}

function tsigKeyOf(k: { name: string; algorithm: string; secret: string }): TsigKey {
  return makeKey(k.name, k.secret, k.algorithm);
}

function ask(msg: Uint8Array, local = "127.0.0.1", timeoutMs = 2000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.on("message", (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.bind(0, local, () => s.send(msg, dnsPort, "127.0.0.1"));
  });
}
const rcodeOf = (m: Buffer) => m[3]! & 0x0f;
/** The TSIG error field of a response's TSIG, or null when it has none. */
function tsigError(m: Buffer): number | null {
  const t = findTsig(new Uint8Array(m));
  return t && t !== "malformed" ? t.error : null;
}
const now = () => Math.floor(Date.now() / 1000);

describe("refusals", () => {
  it("answers an unsigned UPDATE REFUSED and writes nothing", async () => {
    const { host } = await keyedHost(`unsigned.${ZONE}`);
    const before = server.store.updates.history(host.id, 100).length;
    const r = await ask(updateMessage({ updates: [{ name: host.name, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.1") }] }));
    expect(r && rcodeOf(r)).toBe(5);
    expect(await dig(host.name, "A")).toEqual([]);
    expect(server.store.updates.history(host.id, 100).length).toBe(before);
  });

  it("a key nobody has: NOTAUTH with BADKEY; a bad signature: NOTAUTH with BADSIG; a skewed clock: NOTAUTH with BADTIME, signed", async () => {
    const { host, key } = await keyedHost(`badkey.${ZONE}`);
    const msg = updateMessage({ updates: [{ name: host.name, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.2") }] });
    const unknown = makeKey("nobody-has-this", Buffer.alloc(32, 7).toString("base64"));
    let r = await ask(signRequest(msg, unknown, now()).message, "127.0.0.5");
    expect(r && rcodeOf(r)).toBe(9);
    expect(tsigError(r!)).toBe(17);
    // Right name, wrong secret.
    const forged = makeKey(key.name, Buffer.alloc(32, 9).toString("base64"), key.algorithm);
    r = await ask(signRequest(msg, forged, now()).message, "127.0.0.5");
    expect(r && rcodeOf(r)).toBe(9);
    expect(tsigError(r!)).toBe(16);
    // A good signature, made 20 minutes ago (fudge 300 s).
    const good = tsigKeyOf(key);
    const old = signRequest(msg, good, now() - 1200);
    r = await ask(old.message, "127.0.0.5");
    expect(r && rcodeOf(r)).toBe(9);
    expect(tsigError(r!)).toBe(18);
    // The BADTIME answer is signed with the key (RFC 8945 §5.2.3): it verifies as a response.
    expect(r!.readUInt16BE(10)).toBe(1);
    // A good signature, but a tampered message (the address changed after signing).
    const signed = signRequest(msg, good, now()).message;
    const tampered = Uint8Array.from(signed);
    const at = Buffer.from(tampered).indexOf(Buffer.from(A("192.0.2.2")));
    tampered[at + 3] = 99;
    r = await ask(tampered, "127.0.0.5");
    expect(r && rcodeOf(r)).toBe(9);
    expect(tsigError(r!)).toBe(16);
    expect(await dig(host.name, "A")).toEqual([]);
  });

  it("the answer to a good UPDATE is signed with the same key and verifies", async () => {
    const { host, key } = await keyedHost(`signed.${ZONE}`);
    const k = tsigKeyOf(key);
    const req = signRequest(updateMessage({ updates: [{ name: host.name, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.3") }] }), k, now());
    const r = await ask(req.message);
    expect(r && rcodeOf(r)).toBe(0);
    // Verify it the way a client does: the response's MAC covers the request's MAC.
    const { ResponseVerifier } = await import("../../src/dns/tsig");
    const v = new ResponseVerifier(k, req.mac);
    expect(v.verify(new Uint8Array(r!), now())).toEqual({ ok: true, signed: true });
    expect(await dig(host.name, "A")).toEqual(["192.0.2.3"]);
  });

  it("names outside what the key may change are REFUSED, and nothing of the message is applied", async () => {
    const { host, key } = await keyedHost(`mine.${ZONE}`);
    const { host: other } = await keyedHost(`theirs.${ZONE}`);
    const k = tsigKeyOf(key);
    const send = async (updates: RawRR[], zone = ZONE) => {
      const r = await ask(signRequest(updateMessage({ zone, updates }), k, now()).message);
      return r && rcodeOf(r);
    };
    // Another token's hostname, in the same message as a change of our own: neither happens.
    expect(
      await send([
        { name: host.name, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.4") },
        { name: other.name, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.5") },
      ]),
    ).toBe(5);
    expect(await dig(host.name, "A")).toEqual([]);
    expect(await dig(other.name, "A")).toEqual([]);
    // Other types at our own hostname, a name below it, the apex, the zone's NS.
    expect(await send([{ name: host.name, type: 16, cls: 1, ttl: 60, rdata: [3, 0x61, 0x62, 0x63] }])).toBe(5);
    expect(await send([{ name: `www.${host.name}`, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.6") }])).toBe(5);
    expect(await send([{ name: ZONE, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.6") }])).toBe(5);
    expect(await send([{ name: ZONE, type: 2, cls: 255 }])).toBe(5);
    // A TXT at _acme-challenge that is no DNS-01 value.
    expect(await send([{ name: `_acme-challenge.${host.name}`, type: 16, cls: 1, ttl: 60, rdata: [3, 0x61, 0x62, 0x63] }])).toBe(5);
    // A zone we serve, but not the key's; one we do not serve; a name outside the zone named.
    expect(await send([{ name: "x.other.example.net", type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.7") }], "other.example.net")).toBe(5);
    expect(await send([{ name: host.name, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.7") }], "example.org")).toBe(9);
    expect(await send([{ name: "x.other.example.net", type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.7") }])).toBe(10);
    expect(await dig(host.name, "A")).toEqual([]);
  });

  it("malformed UPDATEs are FORMERR (signed, so the client can trust it)", async () => {
    const { host, key } = await keyedHost(`form.${ZONE}`);
    const k = tsigKeyOf(key);
    const send = async (m: Uint8Array) => {
      const r = await ask(signRequest(m, k, now()).message);
      return r && rcodeOf(r);
    };
    // Two zones; a zone of type A; a prerequisite with a TTL; a delete of class ANY with RDATA;
    // an add of type ANY; an RDATA that runs past the message.
    expect(await send(updateMessage({ zocount: 0 }))).toBe(1);
    expect(await send(updateMessage({ ztype: 1 }))).toBe(1);
    expect(await send(updateMessage({ prereqs: [{ name: host.name, type: 1, cls: 255, ttl: 5 }] }))).toBe(1);
    expect(await send(updateMessage({ updates: [{ name: host.name, type: 1, cls: 255, rdata: A("192.0.2.8") }] }))).toBe(1);
    expect(await send(updateMessage({ updates: [{ name: host.name, type: 255, cls: 1, ttl: 60, rdata: A("192.0.2.8") }] }))).toBe(1);
    // A CNAME whose RDATA points outside the message.
    expect(await send(updateMessage({ updates: [{ name: host.name, type: 5, cls: 1, ttl: 60, rdata: [0xcf, 0xff] }] }))).toBe(1);
    // An RR cut short: no TSIG can be found in it, so FORMERR unsigned.
    const m = updateMessage({ updates: [{ name: host.name, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.8") }] });
    const cut = await ask(m.slice(0, m.length - 2));
    expect(cut && rcodeOf(cut)).toBe(1);
    // A message too short to carry anything: FORMERR or nothing, and the server goes on.
    await ask(new Uint8Array([0x12, 0x34, 0x28, 0x00, 0, 1]), "127.0.0.1", 300);
    expect(await dig(host.name, "A")).toEqual([]);
  });
});

describe("floods (default limits)", () => {
  let dir2: string;
  let server2: RunningServer;
  let port2: number;
  beforeAll(async () => {
    dir2 = tempDir("ipkeep-dnsupdate-flood-");
    server2 = await startServer(resolveConfig({ data: join(dir2, "data"), http: ["127.0.0.1:0"], dns: ["127.0.0.1:0"] }, {}, () => false));
    port2 = server2.dns[0]!.port;
    createZone(
      { store: server2.store, platform, changes: server2.live },
      { name: ZONE, nameservers: [{ name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null }] },
    );
  });
  afterAll(async () => {
    await server2?.stop();
    cleanup(dir2);
  });

  it("unsigned UPDATEs from one source are answered up to its rate, then dropped; queries and other sources go on", async () => {
    const { udpFlood, udpAsk, query } = await import("../helpers/dns-client");
    const msg = updateMessage({ updates: [{ name: `x.${ZONE}`, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.9") }] });
    const logBefore = server2.store.db.prepare("SELECT COUNT(*) AS n FROM update_log").get<{ n: number }>()!.n;
    const r = await udpFlood(port2, msg, 300, "127.0.0.9", 100);
    // The per-source burst (60 in 10 s by default) is all that is answered.
    expect(r.full).toBeGreaterThan(0);
    expect(r.full).toBeLessThanOrEqual(60);
    expect(r.unanswered).toBeGreaterThanOrEqual(240);
    // Nothing was written for any of them.
    expect(server2.store.db.prepare("SELECT COUNT(*) AS n FROM update_log").get<{ n: number }>()!.n).toBe(logBefore);
    // The flooding source's ordinary queries are still answered, and so are others' updates.
    expect((await udpAsk(port2, query(ZONE, "SOA"), 2000, "127.0.0.9"))[3]! & 0x0f).toBe(0);
    const other = await udpAsk(port2, msg, 2000, "127.0.0.10");
    expect(other[3]! & 0x0f).toBe(5);
  });

  it("a source that keeps sending bad signatures is locked out: even its good ones are then dropped", async () => {
    const owner2 = server2.store.users.create({ email: "flood@example.com", role: "user", passwordHash: null }, 0);
    const d2 = { store: server2.store, platform, changes: server2.live };
    const { host } = createHost(d2, { name: `lock.${ZONE}`, ownerId: owner2.id });
    const res = new LocalResources(d2, { userId: null, admin: true, name: "cli", address: null });
    const t = await res.createToken({ hostnameId: host.id, tsig: true });
    const k = tsigKeyOf(t.tsig!);
    const forged = makeKey(k.name, Buffer.alloc(32, 1).toString("base64"));
    const msg = updateMessage({ updates: [{ name: host.name, type: 1, cls: 1, ttl: 60, rdata: A("192.0.2.11") }] });
    const askFrom = async (m: Uint8Array, local: string) => {
      const { udpAsk } = await import("../helpers/dns-client");
      return udpAsk(port2, m, 500, local).catch(() => null);
    };
    for (let i = 0; i < 10; i++) expect((await askFrom(signRequest(msg, forged, now()).message, "127.0.0.11"))?.[3]! & 0x0f).toBe(9);
    expect(await askFrom(signRequest(msg, k, now()).message, "127.0.0.11")).toBeNull();
    // Another source with the right key is served.
    expect((await askFrom(signRequest(msg, k, now()).message, "127.0.0.12"))?.[3]! & 0x0f).toBe(0);
  });
});

describe("signed queries with a token's key", () => {
  it("an ordinary query signed with it is answered and signed (certbot signs its SOA lookups); a transfer is BADKEY", async () => {
    const { key } = await keyedHost(`query.${ZONE}`);
    const k = tsigKeyOf(key);
    const { buildQuery } = await import("../helpers/wire-query");
    const soa = signRequest(buildQuery(ZONE, 6), k, now());
    const r = await ask(soa.message);
    expect(r && rcodeOf(r)).toBe(0);
    expect(r!.readUInt16BE(6)).toBe(1);
    const { ResponseVerifier } = await import("../../src/dns/tsig");
    expect(new ResponseVerifier(k, soa.mac).verify(new Uint8Array(r!), now())).toEqual({ ok: true, signed: true });
    // AXFR over TCP with the same key: the key does not open transfers.
    const { tcpAsk } = await import("../helpers/dns-client");
    const [x] = await tcpAsk(dnsPort, [signRequest(buildQuery(ZONE, 252), k, now()).message]);
    expect(x![3]! & 0x0f).toBe(9);
    expect(tsigError(x!)).toBe(17);
  });
});

describe("records a policy grants", () => {
  it("with names and types in its policy, a key may add and delete other records at and below its hostname (nsupdate)", async () => {
    const { host } = await keyedHost(`granted.${ZONE}`);
    const res = new LocalResources({ ...deps() }, { userId: null, admin: true, name: "cli", address: null });
    const t = await res.createToken({ hostnameId: host.id, tsig: true, policy: { names: [host.name], types: ["A", "AAAA", "TXT", "CNAME", "MX"] } });
    const key = t.tsig!;
    let r = await nsupdate(key, [
      `update add ${host.name} 300 TXT "hello world"`,
      `update add www.${host.name} 300 A 192.0.2.80`,
      `update add alias.${host.name} 300 CNAME www.${host.name}.`,
      `update add ${host.name} 300 MX 10 mail.${host.name}.`,
    ]);
    expect(r.stderr).toBe("");
    expect(await dig(host.name, "TXT")).toEqual(['"hello world"']);
    expect(await dig(`www.${host.name}`, "A")).toEqual(["192.0.2.80"]);
    expect(await dig(`alias.${host.name}`, "CNAME")).toEqual([`www.${host.name}.`]);
    expect(await dig(host.name, "MX")).toEqual([`10 mail.${host.name}.`]);
    // The same add again changes nothing (no duplicate); delete by value and by RRset.
    r = await nsupdate(key, [`update add ${host.name} 300 TXT "hello world"`]);
    expect(server.store.records.atName(host.domainId, host.name, now()).filter((x) => x.type === "TXT")).toHaveLength(1);
    r = await nsupdate(key, [`update delete ${host.name} TXT "hello world"`, `update delete www.${host.name} A`, `update delete alias.${host.name}`]);
    expect(r.stderr).toBe("");
    expect(await dig(host.name, "TXT")).toEqual([]);
    expect(await dig(`www.${host.name}`, "A")).toEqual([]);
    expect(await dig(`alias.${host.name}`, "CNAME")).toEqual([]);
    // What the policy does not name stays refused: a type, a name outside it; and the record
    // rules hold (a CNAME beside other data is refused), all or nothing.
    r = await nsupdate(key, [`update add ${host.name} 300 CAA 0 issue "letsencrypt.org"`]);
    expect(r.stderr).toContain("REFUSED");
    r = await nsupdate(key, [`update add www.home.${ZONE} 300 TXT "x"`]);
    expect(r.stderr).toContain("REFUSED");
    r = await nsupdate(key, [`update add www.${host.name} 300 A 192.0.2.81`, `update add ${host.name} 300 CNAME elsewhere.example.net.`]);
    expect(r.stderr).toContain("REFUSED");
    expect(await dig(`www.${host.name}`, "A")).toEqual([]);
    expect(await dig(host.name, "MX")).toEqual([`10 mail.${host.name}.`]);
  });

  it("in its owner's verified custom domain, with the domain in its policy", async () => {
    const mine = new LocalResources({ ...deps() }, { userId: owner.id, admin: false, name: `user:${owner.id}`, address: null });
    const d = await mine.createDomain({ name: "custom.example.org" });
    server.store.transaction(() => {
      server.store.domains.setVerified(d.id, true, now());
      server.store.domains.bumpSerial(d.id, now());
    });
    server.live.zoneChanged(d.id);
    const { host } = await keyedHost(`customer.${ZONE}`);
    const res = new LocalResources({ ...deps() }, { userId: null, admin: true, name: "cli", address: null });
    const t = await res.createToken({ hostnameId: host.id, tsig: true, policy: { names: [host.name, "custom.example.org"], types: ["A", "TXT"] } });
    const k = t.tsig!;
    const script = [
      `server 127.0.0.1 ${dnsPort}`,
      "zone custom.example.org",
      'update add custom.example.org 300 TXT "v=spf1 -all"',
      "update add www.custom.example.org 300 A 192.0.2.90",
      "send",
      "",
    ].join("\n");
    const r = await exec("nsupdate", ["-k", keyFile(k)], script);
    expect(r.stderr).toBe("");
    expect(await dig("custom.example.org", "TXT")).toEqual(['"v=spf1 -all"']);
    expect(await dig("www.custom.example.org", "A")).toEqual(["192.0.2.90"]);
  });
});

describe("messages that arrive together (one transaction, in order)", () => {
  it("each reads what the earlier ones wrote: of 8 concurrent 'add A unless there is one', exactly one lands", async () => {
    const { host, key } = await keyedHost(`race.${ZONE}`);
    const k = tsigKeyOf(key);
    const msgs = Array.from(
      { length: 8 },
      (_, i) =>
        signRequest(
          updateMessage({
            id: 100 + i,
            prereqs: [{ name: host.name, type: 1, cls: 254 }],
            updates: [{ name: host.name, type: 1, cls: 1, ttl: 60, rdata: A(`192.0.2.${100 + i}`) }],
          }),
          k,
          now(),
        ).message,
    );
    const replies = await Promise.all(msgs.map((m) => ask(m)));
    const rcodes = replies.map((r) => (r ? rcodeOf(r) : -1));
    expect(rcodes.filter((c) => c === 0)).toHaveLength(1);
    expect(rcodes.filter((c) => c === 7)).toHaveLength(7);
    const winner = rcodes.indexOf(0);
    expect(await dig(host.name, "A")).toEqual([`192.0.2.${100 + winner}`]);
  });
});
