/**
 * Zone transfers out and NOTIFY, in process over real sockets, checked with dig (BIND's
 * transfer client and TSIG implementation).
 */
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import * as packet from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCidr } from "../../src/core/addresses";
import type { ZoneData } from "../../src/core/ports";
import { answer } from "../../src/dns/answer";
import { AnswerCache } from "../../src/dns/cache";
import { Notifier } from "../../src/dns/notify";
import { type DnsServer, startDns } from "../../src/dns/server";
import { keyLookup, makeKey, ResponseSigner, verifyRequest } from "../../src/dns/tsig";
import { createTransfers } from "../../src/dns/xfr";
import { buildZone, ZoneSet } from "../../src/dns/zone";
import { query, udpAsk } from "../helpers/dns-client";

const ZONE = "xfr.example.com";
const SECRET = Buffer.alloc(32, 3).toString("base64");
const key = makeKey("xfr-key", SECRET);
const HOSTS = 1500; // enough records for several transfer messages

const zoneData = (serial: number, first: string): ZoneData => ({
  id: 1,
  name: ZONE,
  serial,
  soa: { mname: `ns1.${ZONE}`, rname: `hostmaster.${ZONE}`, refresh: 3600, retry: 600, expire: 1209600, minimum: 60, ttl: 3600 },
  nsTtl: 3600,
  nameservers: [{ name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null }],
  hosts: Array.from({ length: HOSTS }, (_, i) => ({
    name: `h${i}.${ZONE}`,
    ipv4: i === 0 ? first : `198.51.100.${i % 250}`,
    ipv6: i % 2 ? `2001:db8::${i.toString(16)}` : null,
    ttl: 60,
  })),
  records: [
    { name: `txt.${ZONE}`, type: "TXT", ttl: 300, content: '"hello" "world"' },
    { name: `${ZONE}`, type: "MX", ttl: 300, content: `10 mail.${ZONE}.` },
  ],
});

const zones = new ZoneSet();
zones.set(buildZone(zoneData(100, "203.0.113.1")));
let server: DnsServer;
let port: number;

async function startWith(allow: string[]): Promise<DnsServer> {
  const transfers = createTransfers(() => zones, {
    allow: allow.map((c) => parseCidr(c)!),
    keys: () => keyLookup([key]),
    now: () => Math.floor(Date.now() / 1000),
  });
  const cache = new AnswerCache(zones);
  const handler = cache.wrap(transfers.wrap((q, t) => answer(q, zones, { transport: t })));
  return startDns([{ host: "127.0.0.1", port: 0 }], handler, { stream: transfers.stream });
}

function dig(args: string[]): Promise<string> {
  return new Promise((resolve) =>
    execFile("dig", ["@127.0.0.1", "-p", String(port), "+time=3", "+tries=1", ...args], { encoding: "utf8", maxBuffer: 64 << 20 }, (_e, out, err) =>
      resolve(out + err),
    ),
  );
}

const records = (out: string) =>
  out
    .split("\n")
    .filter((l) => l && !l.startsWith(";"))
    .map((l) => l.split(/\s+/));

beforeAll(async () => {
  server = await startWith(["127.0.0.1/32"]);
  port = server.addresses[0]!.port;
});
afterAll(async () => {
  await server.close();
});

describe("AXFR", () => {
  it("an allowed address gets the whole zone, SOA first and last, in several messages", async () => {
    const out = await dig(["+tcp", ZONE, "AXFR", "+stats"]);
    const rrs = records(out);
    expect(rrs[0]![3]).toBe("SOA");
    expect(rrs.at(-1)![3]).toBe("SOA");
    expect(rrs[0]![6]).toBe("100");
    // SOA twice, NS, glue A, MX, TXT, HOSTS A records and HOSTS/2 AAAA records.
    expect(rrs.length).toBe(2 + 1 + 1 + 1 + 1 + HOSTS + HOSTS / 2);
    expect(out).toMatch(/txt\.xfr\.example\.com\.\s+300\s+IN\s+TXT\s+"hello" "world"/);
    const msgs = Number(/XFR size: \d+ records \(messages (\d+)/.exec(out)?.[1]);
    expect(msgs).toBeGreaterThan(2);
  });

  it("an address outside --xfr-allow without TSIG is refused", async () => {
    const other = await startWith(["192.0.2.0/24"]);
    const p = other.addresses[0]!.port;
    const out = await new Promise<string>((resolve) =>
      execFile("dig", ["@127.0.0.1", "-p", String(p), "+time=3", "+tries=1", ZONE, "AXFR"], { encoding: "utf8" }, (_e, o) => resolve(o)),
    );
    await other.close();
    expect(out).toMatch(/Transfer failed|REFUSED/);
    expect(records(out)).toEqual([]);
  });

  it("a TSIG-signed request is allowed from anywhere and every message is signed (dig verifies)", async () => {
    const other = await startWith([]);
    const p = other.addresses[0]!.port;
    const run = (secret: string) =>
      new Promise<string>((resolve) =>
        execFile(
          "dig",
          ["@127.0.0.1", "-p", String(p), "+time=3", "+tries=1", "-y", `hmac-sha256:xfr-key:${secret}`, ZONE, "AXFR", "+stats"],
          { encoding: "utf8", maxBuffer: 64 << 20 },
          (_e, o, e) => resolve(o + e),
        ),
      );
    const good = await run(SECRET);
    const bad = await run(Buffer.alloc(32, 4).toString("base64"));
    await other.close();
    expect(good).not.toMatch(/Couldn't verify|tsig verify failure|failed/i);
    // dig lists the TSIG record after each message of the transfer.
    const tsigs = records(good).filter((r) => r[3] === "TSIG");
    expect(Number(/messages (\d+)/.exec(good)?.[1])).toBe(tsigs.length);
    expect(records(good).filter((r) => r[3] === "A").length).toBe(HOSTS + 1);
    expect(bad).toMatch(/NOTAUTH|BADSIG|failed/i);
    expect(records(bad).filter((r) => r[3] === "A")).toEqual([]);
  });

  it("a zone we do not serve gets NOTAUTH", async () => {
    const out = await dig(["+tcp", "other.example", "AXFR"]);
    expect(out).toMatch(/NOTAUTH|Transfer failed/);
  });

  it("AXFR over UDP gets NOTIMP, as from NSD", async () => {
    const r = packet.decode(await udpAsk(port, query(ZONE, "AXFR")));
    expect((r as { rcode?: string }).rcode).toBe("NOTIMP");
    expect(r.answers).toEqual([]);
  });
});

describe("IXFR", () => {
  it("a secondary that is up to date gets the SOA alone", async () => {
    const rrs = records(await dig(["+tcp", ZONE, "IXFR=100"]));
    expect(rrs.length).toBe(1);
    expect(rrs[0]![3]).toBe("SOA");
  });

  it("an older serial gets the full zone (AXFR fallback)", async () => {
    const rrs = records(await dig(["+tcp", ZONE, "IXFR=99"]));
    expect(rrs.length).toBe(2 + 1 + 1 + 1 + 1 + HOSTS + HOSTS / 2);
    expect(rrs[0]![3]).toBe("SOA");
    expect(rrs.at(-1)![3]).toBe("SOA");
  });

  it("over UDP the current SOA alone is the answer", async () => {
    const q = packet.encode({
      id: 7,
      type: "query",
      questions: [{ name: ZONE, type: "IXFR", class: "IN" }],
      authorities: [{ name: ZONE, type: "SOA", ttl: 0, class: "IN", data: { mname: "a", rname: "b", serial: 5, refresh: 0, retry: 0, expire: 0, minimum: 0 } }],
    });
    const r = packet.decode(await udpAsk(port, q));
    expect(r.answers?.map((a) => a.type)).toEqual(["SOA"]);
    expect((r.answers![0] as { data: { serial: number } }).data.serial).toBe(100);
  });
});

describe("NOTIFY", () => {
  it("is sent on a change, retried until acknowledged, signed when the target has a key", async () => {
    const secondary = createSocket("udp4");
    await new Promise<void>((r) => secondary.bind(0, "127.0.0.1", () => r()));
    const got: Buffer[] = [];
    const now = () => Math.floor(Date.now() / 1000);
    const other = makeKey("xfr-key", Buffer.alloc(32, 9).toString("base64"));
    secondary.on("message", (msg, rinfo) => {
      got.push(msg);
      const check = verifyRequest(msg, keyLookup([key]), now());
      if (check.kind !== "ok") return;
      const r = packet.decode(Buffer.from(check.message));
      const reply = new Uint8Array(packet.encode({ id: r.id, type: "response", flags: packet.AUTHORITATIVE_ANSWER, questions: r.questions }));
      reply[2] = (reply[2]! & 0x87) | (4 << 3);
      // Ignore the first; answer the second unsigned, the third signed with another secret
      // (neither may end the retries); acknowledge the fourth as NSD does, signed.
      if (got.length === 2) secondary.send(reply, rinfo.port, rinfo.address);
      if (got.length === 3) secondary.send(new ResponseSigner(other, check.mac).sign(reply, now()), rinfo.port, rinfo.address);
      if (got.length === 4) secondary.send(new ResponseSigner(key, check.mac).sign(reply, now()), rinfo.port, rinfo.address);
    });
    const logs: string[] = [];
    const notifier = new Notifier({
      zones: () => zones,
      targets: () => [{ host: "127.0.0.1", port: secondary.address().port, key }],
      now,
      log: (_l, msg, fields) => logs.push(fields.reason ? `${msg}: ${fields.reason}` : msg),
      retryMs: [100],
    });
    zones.set(buildZone(zoneData(101, "203.0.113.2")));
    notifier.zoneChanged(1);
    const deadline = Date.now() + 5000;
    while (!logs.includes("notify acknowledged") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    notifier.close();
    secondary.close();
    expect(logs).toContain("notify answer failed its TSIG check: the first response is not signed");
    expect(logs).toContain("notify answer failed its TSIG check: bad TSIG signature");
    expect(logs).toContain("notify acknowledged");
    expect(got.length).toBe(4); // no more after the acknowledgement
    const check = verifyRequest(got[0]!, keyLookup([key]), now());
    expect(check.kind).toBe("ok");
    if (check.kind !== "ok") return;
    const n = packet.decode(Buffer.from(check.message));
    expect((n as { opcode?: string }).opcode).toBe("NOTIFY");
    expect(n.flag_aa).toBe(true);
    expect(n.questions).toEqual([{ name: ZONE, type: "SOA", class: "IN" }]);
    expect((n.answers![0] as { data: { serial: number } }).data.serial).toBe(101);
  });

  it("an unsigned NOTIFY is acknowledged by any answer from the target", async () => {
    const secondary = createSocket("udp4");
    await new Promise<void>((r) => secondary.bind(0, "127.0.0.1", () => r()));
    secondary.on("message", (msg, rinfo) => {
      const reply = Buffer.from(msg.subarray(0, 12));
      reply[2] = reply[2]! | 0x80;
      reply.writeUInt16BE(0, 4);
      reply.writeUInt16BE(0, 6);
      secondary.send(reply, rinfo.port, rinfo.address);
    });
    const logs: string[] = [];
    const notifier = new Notifier({
      zones: () => zones,
      targets: () => [{ host: "127.0.0.1", port: secondary.address().port }],
      now: () => Math.floor(Date.now() / 1000),
      log: (_l, msg) => logs.push(msg),
      retryMs: [100],
    });
    notifier.zoneChanged(1);
    const deadline = Date.now() + 5000;
    while (!logs.includes("notify acknowledged") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    notifier.close();
    secondary.close();
    expect(logs).toEqual(["notify acknowledged"]);
  });

  it("a newer change replaces a pending NOTIFY; close() stops the retries", async () => {
    const sink = createSocket("udp4");
    await new Promise<void>((r) => sink.bind(0, "127.0.0.1", () => r()));
    const serials: number[] = [];
    sink.on("message", (msg) => serials.push((packet.decode(msg).answers![0] as { data: { serial: number } }).data.serial));
    const notifier = new Notifier({
      zones: () => zones,
      targets: () => [{ host: "127.0.0.1", port: sink.address().port }],
      now: () => Math.floor(Date.now() / 1000),
      log: () => {},
      retryMs: [30],
    });
    zones.set(buildZone(zoneData(102, "203.0.113.3")));
    notifier.zoneChanged(1);
    zones.set(buildZone(zoneData(103, "203.0.113.4")));
    notifier.zoneChanged(1);
    expect(notifier.outstanding).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    notifier.close();
    const n = serials.length;
    await new Promise((r) => setTimeout(r, 100));
    sink.close();
    expect(serials.length).toBe(n);
    expect(serials.filter((s) => s === 102).length).toBeLessThanOrEqual(1);
    expect(serials.filter((s) => s === 103).length).toBeGreaterThan(1);
  });
});
