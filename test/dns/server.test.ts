/**
 * The transports under hostile and sloppy clients: real sockets on 127.0.0.1, port 0.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import * as packet from "dns-packet";
import { afterEach, describe, expect, it } from "vitest";
import type { ZoneData } from "../../src/core/ports";
import { answer } from "../../src/dns/answer";
import { DnsCounters } from "../../src/dns/counters";
import { RRL_DEFAULTS } from "../../src/dns/rrl";
import { type DnsServer, type DnsServerOptions, startDns } from "../../src/dns/server";
import { makeKey, signRequest } from "../../src/dns/tsig";
import { buildZone, ZoneSet } from "../../src/dns/zone";
import { digAsync } from "../helpers/dig";
import { frame, query, tcpAsk, tcpConnect, type TcpReader, udpAsk, udpFlood } from "../helpers/dns-client";

const zoneData: ZoneData = {
  id: 1,
  name: "dyn.example.com",
  serial: 7,
  soa: { mname: "ns1.dyn.example.com", rname: "hostmaster.dyn.example.com", refresh: 3600, retry: 600, expire: 1209600, minimum: 60, ttl: 3600 },
  nsTtl: 3600,
  nameservers: [{ name: "ns1.dyn.example.com", ipv4: "192.0.2.53", ipv6: null }],
  hosts: [{ name: "home.dyn.example.com", ipv4: "203.0.113.10", ipv6: "2001:db8::10", ttl: 60 }],
  records: [],
};
const zones = new ZoneSet();
zones.set(buildZone(zoneData));

let server: DnsServer | null = null;
const readers: TcpReader[] = [];

type Handler = (q: Uint8Array, t: "udp" | "tcp") => Uint8Array | null;
async function startServer(opts: DnsServerOptions = {}, handler: Handler = (q, t) => answer(q, zones, { transport: t })): Promise<number> {
  server = await startDns([{ host: "127.0.0.1", port: 0 }], handler, opts);
  return server.addresses[0]!.port;
}

afterEach(async () => {
  for (const r of readers.splice(0)) r.sock.destroy();
  await server?.close();
  server = null;
});

const addressOf = (m: Buffer) => (packet.decode(m).answers ?? []).map((a) => (a as { data: unknown }).data);

describe.each([
  ["Bun's native socket, batched sends", "native"],
  ["plain node:dgram", "plain"],
  ["the DNS thread, recvmmsg/sendmmsg through bun:ffi", "thread"],
])("UDP (%s)", (_name, mode) => {
  // The thread answers from its own zones; the handler only gets what it hands back.
  const thread = mode === "thread" ? { snapshot: () => [zoneData] } : undefined;
  const start = (opts: DnsServerOptions = {}, handler?: Handler) => startServer({ ...opts, plainDgram: mode === "plain", thread }, handler);

  it("answers a query", async () => {
    const port = await start();
    const r = packet.decode(await udpAsk(port, query("home.dyn.example.com")));
    expect(r.id).toBe(4242);
    expect(r.answers?.map((a) => (a as { data: unknown }).data)).toEqual(["203.0.113.10"]);
  });

  it("survives clients whose port closed before the answer (ECONNREFUSED on send)", async () => {
    const port = await start();
    for (let i = 0; i < 200; i++) {
      const s = createSocket("udp4");
      await new Promise<void>((r) => s.send(query("home.dyn.example.com", "A", { id: i }), port, "127.0.0.1", () => r()));
      s.close();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(addressOf(await udpAsk(port, query("home.dyn.example.com")))).toEqual(["203.0.113.10"]);
  });

  it("answers live clients whose answers share a batch with answers to closed ports", async () => {
    const port = await start();
    const live = createSocket("udp4");
    await new Promise<void>((r) => live.bind(0, "127.0.0.1", () => r()));
    const got = new Set<number>();
    live.on("message", (m) => got.add(packet.decode(m).id!));
    for (let round = 0; round < 5; round++) {
      const dead = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const s = createSocket("udp4");
          await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
          return s;
        }),
      );
      // Dead clients send first, then vanish; the live one asks in between.
      for (let i = 0; i < 20; i++) {
        dead[i]!.send(query("home.dyn.example.com", "A", { id: i }), port, "127.0.0.1");
        dead[i]!.close();
        live.send(query("home.dyn.example.com", "A", { id: round * 100 + i }), port, "127.0.0.1");
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    const deadline = Date.now() + 3000;
    while (got.size < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    live.close();
    expect(got.size).toBe(100);
  });

  it("keeps serving after malformed packets and a handler that throws", async () => {
    let calls = 0;
    const port = await start({}, (q, t) => {
      if (++calls % 2 === 0) throw new Error("boom");
      return answer(q, zones, { transport: t });
    });
    const bad = [new Uint8Array(0), new Uint8Array([1]), new Uint8Array(11), Buffer.from("garbage garbage garbage"), new Uint8Array(3000).fill(0xc0)];
    for (const b of bad) {
      const s = createSocket("udp4");
      await new Promise<void>((r) => s.send(b, port, "127.0.0.1", () => r()));
      s.close();
    }
    let ok = 0;
    for (let i = 0; i < 4; i++)
      ok += await udpAsk(port, query("home.dyn.example.com"), 500).then(
        () => 1,
        () => 0,
      );
    expect(ok).toBeGreaterThan(0);
  });

  // The attacker is 127.0.0.2; 127.1.0.3 is another /24, so another source.
  it("rate limits one source's flood of identical queries: most dropped, some slipped with TC; others answered", async () => {
    const counters = new DnsCounters();
    const port = await start({ rrl: { ...RRL_DEFAULTS, rate: 100 }, counters });
    const flood = await udpFlood(port, query("home.dyn.example.com"), 5000, "127.0.0.2");
    // A second's budget at once, then 100 a second: never much more than that.
    expect(flood.full).toBeGreaterThanOrEqual(100);
    expect(flood.full).toBeLessThanOrEqual(100 + (flood.elapsedMs / 1000) * 100 + 10);
    // Every 2nd answer over the limit slipped out truncated, the others dropped.
    const over = 5000 - flood.full;
    expect(flood.truncated).toBeGreaterThanOrEqual(Math.floor(over / 2) - 5);
    expect(flood.unanswered).toBeGreaterThanOrEqual(Math.floor(over / 2) - 5);
    // A slipped answer: the query's own size, TC set, no records, so a resolver asks over TCP.
    const q = query("home.dyn.example.com");
    const slip = flood.truncatedReply!;
    expect(slip.length).toBe(q.length);
    expect([...slip.subarray(0, 2), ...slip.subarray(4, 12)]).toEqual([...q.subarray(0, 2), 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(slip[2]! & 0x82).toBe(0x82); // QR and TC
    expect([...slip.subarray(12)]).toEqual([...q.subarray(12)]);
    const counted = server!.threadCounters ?? counters;
    expect(counted.rrlSlipped).toBe(flood.truncated);
    expect(counted.rrlDropped).toBe(over - counted.rrlSlipped);
    // Another source, and the same source's other questions and TCP, are answered.
    expect(addressOf(await udpAsk(port, query("home.dyn.example.com"), 2000, "127.1.0.3"))).toEqual(["203.0.113.10"]);
    expect(addressOf(await udpAsk(port, query("home.dyn.example.com", "AAAA"), 2000, "127.0.0.2"))).toEqual(["2001:db8::10"]);
    const [viaTcp] = await tcpAsk(port, [query("home.dyn.example.com")], "127.0.0.2");
    expect(addressOf(viaTcp!)).toEqual(["203.0.113.10"]);
  });

  it("answers every query without rate limiting (rate 0)", async () => {
    const port = await start({ rrl: { ...RRL_DEFAULTS, rate: 0 } });
    const flood = await udpFlood(port, query("home.dyn.example.com"), 2000, "127.0.0.2");
    expect(flood).toMatchObject({ full: 2000, truncated: 0, unanswered: 0 });
  });

  it("answers a burst from many clients, each exactly once at least", async () => {
    const port = await start();
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => udpAsk(port, query("home.dyn.example.com", "A", { id: i }))));
    expect(answers.map((m) => packet.decode(m).id)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});

describe("TCP", () => {
  const start = startServer;
  it("answers several queries on one connection, in order", async () => {
    const port = await start();
    const names = ["home.dyn.example.com", "nope.dyn.example.com", "dyn.example.com", "home.dyn.example.com"];
    const out = await tcpAsk(
      port,
      names.map((n, i) => query(n, i === 2 ? "SOA" : "A", { id: 100 + i })),
    );
    expect(out.map((m) => packet.decode(m).id)).toEqual([100, 101, 102, 103]);
    expect(out.map((m) => (packet.decode(m) as { rcode?: string }).rcode)).toEqual(["NOERROR", "NXDOMAIN", "NOERROR", "NOERROR"]);
  });

  it("reassembles a query sent one byte at a time", async () => {
    const port = await start();
    const r = await tcpConnect(port);
    readers.push(r);
    const bytes = frame(query("home.dyn.example.com", "AAAA", { id: 9 }));
    for (const b of bytes) {
      r.sock.write(Buffer.from([b]));
      await new Promise((res) => setTimeout(res, 1));
    }
    const [m] = await r.waitFor(1);
    expect(addressOf(m!)).toEqual(["2001:db8::10"]);
  });

  it("closes a connection that stays idle", async () => {
    const port = await start({ tcpIdleMs: 200 });
    const r = await tcpConnect(port);
    readers.push(r);
    expect(await r.waitClosed(5000)).toBe(true);
  });

  it("closes a connection whose query never completes (half-sent frame)", async () => {
    const port = await start({ tcpIdleMs: 200 });
    const r = await tcpConnect(port);
    readers.push(r);
    r.sock.write(frame(query("home.dyn.example.com")).subarray(0, 10));
    expect(await r.waitClosed(5000)).toBe(true);
  });

  it("closes a connection that trickles a query byte by byte for longer than the idle time", async () => {
    const port = await start({ tcpIdleMs: 300 });
    const r = await tcpConnect(port);
    readers.push(r);
    const bytes = frame(query("home.dyn.example.com"));
    let i = 0;
    const t = setInterval(() => {
      if (!r.closed && i < bytes.length - 1) r.sock.write(bytes.subarray(i, ++i));
    }, 25);
    const closed = await r.waitClosed(5000);
    clearInterval(t);
    expect(closed).toBe(true);
    expect(r.messages).toEqual([]);
  });

  it("refuses connections beyond the limit while UDP keeps answering", async () => {
    const port = await start({ tcpMaxConnections: 5 });
    for (let i = 0; i < 5; i++) readers.push(await tcpConnect(port));
    await new Promise((r) => setTimeout(r, 50));
    expect(server!.tcpConnections()).toBe(5);
    const extra = await tcpConnect(port);
    readers.push(extra);
    expect(await extra.waitClosed(5000)).toBe(true);
    expect(addressOf(await udpAsk(port, query("home.dyn.example.com")))).toEqual(["203.0.113.10"]);
    // Slots come back when the hogs go.
    for (const r of readers.splice(0)) r.sock.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const out = await tcpAsk(port, [query("home.dyn.example.com")]);
    expect(addressOf(out[0]!)).toEqual(["203.0.113.10"]);
  });

  // The attacker is 127.0.0.2, the user 127.0.0.3 (both reach the server on 127.0.0.1).
  it("one source cannot take every slot: 210 idle connections from 127.0.0.2, and 127.0.0.3's query is answered", async () => {
    const port = await start();
    const flood = await Promise.all(Array.from({ length: 210 }, () => tcpConnect(port, "127.0.0.2").catch(() => null)));
    for (const r of flood) if (r) readers.push(r);
    await new Promise((r) => setTimeout(r, 100));
    // At most a tenth of the slots for one source: the rest were closed.
    expect(server!.tcpConnections()).toBe(20);
    expect(flood.filter((r) => r && !r.closed).length).toBe(20);
    const out = await tcpAsk(port, [query("home.dyn.example.com")], "127.0.0.3");
    expect(addressOf(out[0]!)).toEqual(["203.0.113.10"]);
    // And a real resolver's TCP retry from its own address.
    const dig = await digAsync(port, "home.dyn.example.com", "A", ["+tcp", "-b", "127.0.0.3"]);
    expect(dig.answer).toEqual(["home.dyn.example.com. 60 IN A 203.0.113.10"]);
  });

  it("a source at its limit that connects again gives up its own idlest connection", async () => {
    const port = await start({ tcpMaxConnections: 10, tcpMaxPerSource: 3 });
    const mine: TcpReader[] = [];
    for (let i = 0; i < 3; i++) mine.push(await tcpConnect(port, "127.0.0.2"));
    readers.push(...mine);
    await new Promise((r) => setTimeout(r, 20));
    // The first is busy (half a query), the second answered a query last.
    mine[0]!.sock.write(frame(query("home.dyn.example.com")).subarray(0, 7));
    mine[1]!.sock.write(frame(query("home.dyn.example.com")));
    await mine[1]!.waitFor(1);
    const fourth = await tcpConnect(port, "127.0.0.2");
    readers.push(fourth);
    expect(await mine[2]!.waitClosed(2000)).toBe(true);
    expect(mine[0]!.closed || mine[1]!.closed).toBe(false);
    fourth.sock.write(frame(query("home.dyn.example.com")));
    expect(addressOf((await fourth.waitFor(1))[0]!)).toEqual(["203.0.113.10"]);
    expect(server!.tcpConnections()).toBe(3);
  });

  it("when every slot is taken, the heaviest source's idle connections give way to a new source", async () => {
    const port = await start({ tcpMaxConnections: 6, tcpMaxPerSource: 3 });
    const heavy: TcpReader[] = [];
    const middle: TcpReader[] = [];
    for (let i = 0; i < 3; i++) heavy.push(await tcpConnect(port, "127.0.0.2"));
    for (let i = 0; i < 2; i++) middle.push(await tcpConnect(port, "127.0.0.4"));
    const light = await tcpConnect(port, "127.0.0.5");
    readers.push(...heavy, ...middle, light);
    await new Promise((r) => setTimeout(r, 50));
    expect(server!.tcpConnections()).toBe(6);
    // A new source: the heaviest (127.0.0.2) loses its oldest idle connection.
    const newcomer = await tcpConnect(port, "127.0.0.3");
    readers.push(newcomer);
    newcomer.sock.write(frame(query("home.dyn.example.com")));
    expect(addressOf((await newcomer.waitFor(1))[0]!)).toEqual(["203.0.113.10"]);
    expect(await heavy[0]!.waitClosed(2000)).toBe(true);
    expect([...heavy.slice(1), ...middle, light].some((r) => r.closed)).toBe(false);
    // Connections in the middle of a query are never closed for another: with the heaviest
    // source's two left both mid-query, the next heaviest (127.0.0.4) gives way.
    for (const r of heavy.slice(1)) r.sock.write(frame(query("home.dyn.example.com")).subarray(0, 7));
    await new Promise((r) => setTimeout(r, 50));
    const user = await tcpConnect(port, "127.0.0.6");
    readers.push(user);
    user.sock.write(frame(query("home.dyn.example.com")));
    expect(addressOf((await user.waitFor(1))[0]!)).toEqual(["203.0.113.10"]);
    expect(await middle[0]!.waitClosed(2000)).toBe(true);
    expect(heavy[1]!.closed || heavy[2]!.closed || light.closed || newcomer.closed).toBe(false);
    expect(server!.tcpConnections()).toBe(6);
  });

  it("a flood of stalled and slow connections does not block UDP service", async () => {
    const port = await start();
    const flood = await Promise.all(Array.from({ length: 300 }, () => tcpConnect(port).catch(() => null)));
    for (const r of flood) if (r) readers.push(r);
    // Some trickle half a query, some send a length of 65535 and nothing else.
    for (const [i, r] of readers.entries()) r.sock.write(i % 2 ? frame(query("home.dyn.example.com")).subarray(0, 7) : Buffer.from([0xff, 0xff, 1]));
    for (let i = 0; i < 20; i++) {
      expect(addressOf(await udpAsk(port, query("home.dyn.example.com", "A", { id: i })))).toEqual(["203.0.113.10"]);
    }
    expect(server!.tcpConnections()).toBeLessThanOrEqual(200);
  });
});

describe("the DNS thread", () => {
  const withAddress = (ip: string, serial: number): ZoneData => ({ ...zoneData, serial, hosts: [{ ...zoneData.hosts[0]!, ipv4: ip }] });
  const handed: { query: Uint8Array; transport: string; peer: string }[] = [];
  const mainThread = (q: Uint8Array, t: "udp" | "tcp", peer: string) => {
    handed.push({ query: q, transport: t, peer });
    return answer(q, zones, { transport: t });
  };
  const startThreaded = async (host = "127.0.0.1") => {
    handed.length = 0;
    server = await startDns([{ host, port: 0 }], mainThread, { thread: { snapshot: () => [zoneData] } });
    expect(server.threaded).toBe(true);
    return server.addresses[0]!.port;
  };

  it("answers every query after a zone change from the changed zone", async () => {
    const port = await startThreaded();
    expect(addressOf(await udpAsk(port, query("home.dyn.example.com")))).toEqual(["203.0.113.10"]);
    for (let i = 1; i <= 50; i++) {
      server!.zoneChanged({ id: 1, data: withAddress(`198.51.100.${i}`, 7 + i) });
      expect(addressOf(await udpAsk(port, query("home.dyn.example.com")))).toEqual([`198.51.100.${i}`]);
    }
    server!.zoneChanged({ id: 1, data: null });
    expect((await udpAsk(port, query("home.dyn.example.com")))[3]! & 0x0f).toBe(5); // REFUSED
    expect(handed).toEqual([]);
  });

  it("hands signed queries and transfers to the main thread, which answers on the same socket", async () => {
    const port = await startThreaded();
    const key = makeKey("k.example.", Buffer.alloc(32, 1).toString("base64"));
    const signed = signRequest(query("dyn.example.com", "SOA"), key, Math.floor(Date.now() / 1000)).message;
    const reply = await udpAsk(port, signed);
    expect(reply.readUInt16BE(0)).toBe(4242);
    await udpAsk(port, query("dyn.example.com", "AXFR"));
    expect(handed.map((h) => [h.transport, h.peer])).toEqual([
      ["udp", "127.0.0.1"],
      ["udp", "127.0.0.1"],
    ]);
    expect(Buffer.from(handed[0]!.query)).toEqual(Buffer.from(signed));
  });

  it("hands NOTIFY over only when asked to (a secondary acts on it; a primary answers it as NSD)", async () => {
    const notify = Buffer.from(query("dyn.example.com", "SOA"));
    notify[2] = 4 << 3; // opcode NOTIFY
    const port = await startThreaded();
    await udpAsk(port, notify);
    expect(handed).toEqual([]);
    await server!.close();
    server = await startDns([{ host: "127.0.0.1", port: 0 }], mainThread, { thread: { snapshot: () => [zoneData], notify: true } });
    await udpAsk(server.addresses[0]!.port, notify);
    expect(handed.map((h) => h.query[2]! >> 3)).toEqual([4]);
  });

  it("serves IPv6 and gives the main thread the client's address", async () => {
    server = await startDns([{ host: "::1", port: 0 }], mainThread, { thread: { snapshot: () => [zoneData] } });
    expect(server.threaded).toBe(true);
    const port = server.addresses[0]!.port;
    const ask = (msg: Uint8Array) =>
      new Promise<Buffer>((resolve, reject) => {
        const s = createSocket("udp6");
        const t = setTimeout(() => (s.close(), reject(new Error("udp6 timeout"))), 2000);
        s.on("message", (m) => (clearTimeout(t), s.close(), resolve(m)));
        s.send(msg, port, "::1");
      });
    expect(addressOf(await ask(query("home.dyn.example.com")))).toEqual(["203.0.113.10"]);
    handed.length = 0;
    await ask(query("dyn.example.com", "AXFR"));
    expect(handed.map((h) => h.peer)).toEqual(["::1"]);
  });

  it("counts what it answers, and survives garbage and datagrams of every size", async () => {
    const port = await startThreaded();
    const junk = [new Uint8Array(0), new Uint8Array(5), new Uint8Array(12), new Uint8Array(4000).fill(0xc0), new Uint8Array(60_000).fill(7)];
    for (const b of junk) {
      const s = createSocket("udp4");
      await new Promise<void>((r) => s.send(b, port, "127.0.0.1", () => r()));
      s.close();
    }
    const big = Buffer.concat([query("home.dyn.example.com"), Buffer.alloc(30_000)]);
    await udpAsk(port, big).catch(() => null);
    for (let i = 0; i < 3; i++) await udpAsk(port, query("home.dyn.example.com"));
    expect(server!.threadCounters!.get("NOERROR", "A")).toBeGreaterThanOrEqual(3);
    expect(server!.threadCounters!.dropped).toBeGreaterThanOrEqual(3);
  });

  it("is started again when it stops on its own, from the zones as they are then", async () => {
    const { bindUdpSocket, loadLibc, sockaddr } = await import("../../src/dns/ffi");
    const { UdpThread } = await import("../../src/dns/udp-thread");
    const libc = loadLibc()!;
    const { fd, port } = bindUdpSocket(libc, sockaddr("127.0.0.1", 0)!, 1 << 20);
    let current = zoneData;
    const errors: string[] = [];
    const thread = (await UdpThread.start({ libc, fds: [fd], snapshot: () => [current], forward: () => null, onError: (m) => errors.push(m) }))!;
    try {
      expect(addressOf(await udpAsk(port, query("home.dyn.example.com")))).toEqual(["203.0.113.10"]);
      current = withAddress("198.51.100.99", 99); // what the database says while the thread is down
      await (thread as unknown as { run: { worker: { terminate(): Promise<number> } } }).run.worker.terminate();
      // Asked while it is down: the query waits in the socket and is answered after the restart.
      expect(addressOf(await udpAsk(port, query("home.dyn.example.com"), 5000))).toEqual(["198.51.100.99"]);
      expect(errors.join("\n")).toMatch(/stopped; starting it again/);
    } finally {
      await thread.close();
      libc.close(fd);
    }
  });

  it("answers while the main thread is busy (a commit and its fsync, say)", async () => {
    const port = await startThreaded();
    const dig = spawn("dig", ["@127.0.0.1", "-p", String(port), "home.dyn.example.com", "A", "+short", "+time=1", "+tries=1"]);
    let out = "";
    dig.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => dig.once("exit", r));
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      /* the main thread does nothing else for 1.5 s; dig gives up after 1 s */
    }
    await exited;
    expect(out.trim()).toBe("203.0.113.10");
  });

  it("drops what it would hand over beyond a bound while the main thread is behind", async () => {
    const port = await startThreaded();
    const key = makeKey("k.example.", Buffer.alloc(32, 1).toString("base64"));
    const signed = signRequest(query("dyn.example.com", "SOA"), key, Math.floor(Date.now() / 1000)).message;
    // A separate process floods while this thread is blocked and cannot take what is handed over.
    const flood = spawn(process.execPath, [
      "-e",
      `const s=require("dgram").createSocket("udp4");const m=Buffer.from("${Buffer.from(signed).toString("hex")}","hex");let n=0;const go=()=>{for(let i=0;i<100;i++)s.send(m,${port},"127.0.0.1");if(++n<20)setTimeout(go,5);else setTimeout(()=>s.close(),50)};go();`,
    ]);
    const exited = new Promise((r) => flood.once("exit", r));
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      /* behind: 2,000 signed queries arrive meanwhile */
    }
    await exited;
    await new Promise((r) => setTimeout(r, 200));
    expect(handed.length).toBeGreaterThan(0);
    expect(handed.length).toBeLessThanOrEqual(256);
    expect(server!.threadCounters!.dropped).toBeGreaterThanOrEqual(2000 - 256 - 200);
    // Once caught up, signed queries are handed over again.
    handed.length = 0;
    await udpAsk(port, signed);
    expect(handed).toHaveLength(1);
  });

  it("lets its port go when closed", async () => {
    const port = await startThreaded();
    await server!.close();
    server = null;
    const s = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(port, "127.0.0.1", () => resolve());
    });
    s.close();
  });
});

describe("IPv4 and IPv6 wildcards side by side (as the README's config has them)", () => {
  it.each([
    ["the DNS thread", { thread: { snapshot: () => [zoneData] } }],
    ["the main thread", {}],
  ])("0.0.0.0:P and [::]:P both bind and both answer (%s)", async (_name, opts: DnsServerOptions) => {
    const handler = (q: Uint8Array, t: "udp" | "tcp") => answer(q, zones, { transport: t });
    const v4 = await startDns([{ host: "0.0.0.0", port: 0 }], handler, opts);
    const port = v4.addresses[0]!.port;
    let v6: DnsServer | null = null;
    try {
      v6 = await startDns([{ host: "::", port }], handler, opts);
      expect(addressOf(await udpAsk(port, query("home.dyn.example.com")))).toEqual(["203.0.113.10"]);
      const six = await new Promise<Buffer>((resolve, reject) => {
        const s = createSocket("udp6");
        const t = setTimeout(() => (s.close(), reject(new Error("udp6 timeout"))), 2000);
        s.on("message", (m) => (clearTimeout(t), s.close(), resolve(m)));
        s.send(query("home.dyn.example.com"), port, "::1");
      });
      expect(addressOf(six)).toEqual(["203.0.113.10"]);
    } finally {
      await v6?.close();
      await v4.close();
    }
  });
});

describe("binding errors (DNS thread's socket) read as node:dgram's", () => {
  const opts: DnsServerOptions = { thread: { snapshot: () => [zoneData] } };
  const handler = (q: Uint8Array, t: "udp" | "tcp") => answer(q, zones, { transport: t });

  it("a port already taken: EADDRINUSE", async () => {
    const first = await startDns([{ host: "127.0.0.1", port: 0 }], handler, opts);
    try {
      const port = first.addresses[0]!.port;
      await expect(startDns([{ host: "127.0.0.1", port }], handler, opts)).rejects.toMatchObject({ code: "EADDRINUSE", message: "bind EADDRINUSE 127.0.0.1" });
    } finally {
      await first.close();
    }
  });

  it("an address not on this machine: EADDRNOTAVAIL", async () => {
    await expect(startDns([{ host: "192.0.2.1", port: 0 }], handler, opts)).rejects.toMatchObject({ code: "EADDRNOTAVAIL" });
  });

  // Only where port 53 really is privileged for us (not root, and not opened up by the sysctl).
  const unprivilegedFrom = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
  it.skipIf(process.getuid?.() === 0 || unprivilegedFrom <= 53)("a privileged port without the privilege: EACCES", async () => {
    await expect(startDns([{ host: "127.0.0.1", port: 53 }], handler, opts)).rejects.toMatchObject({ code: "EACCES" });
  });
});

describe("sockaddr for the DNS thread's socket", () => {
  it("is written for IPv4 and IPv6 literals, and refused for anything else", async () => {
    const { sockaddr } = await import("../../src/dns/ffi");
    expect([...sockaddr("127.0.0.1", 5300)!]).toEqual([2, 0, 0x14, 0xb4, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const six = sockaddr("::1", 53)!;
    expect(six.length).toBe(28);
    expect([six[0], six[2], six[3], six[23]]).toEqual([10, 0, 53, 1]);
    // Not an address: no socket through ffi (node:dgram then reports the error as it would).
    for (const bad of ["999.0.0.1", "1.2.3", "01.2.3.4", "localhost", "::1%lo", ""]) expect(sockaddr(bad, 53)).toBeNull();
  });
});
