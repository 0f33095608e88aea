/**
 * Load driver for scripts/bench/update.sh (run by Bun). For one zone size it prints:
 * - nochg and real changes per second at 8 and 64 keep-alive connections;
 * - update response -> new DNS answer, p50/p99;
 * - the server's RSS at rest and after the storms (at least 10,000 real changes);
 * - UDP queries during a steady 500 changes a second and during a storm of real changes
 *   against idle: p50/p99/max and queries per second of a closed-loop probe (16 queries
 *   outstanding, random hosts of the zone);
 * - IXFR bytes per change (the differences since 100 changes ago, over TCP).
 * Usage: bun update-load.ts BASE DNS_PORT TOKEN SECONDS SERVER_PID ZONE ZONE_SIZE UPDATER...
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import net from "node:net";
import packet from "dns-packet";

const [base, dnsPortArg, token, secondsArg, pidArg, zone, sizeArg, ...updaters] = process.argv.slice(2);
if (!base || !dnsPortArg || !token || !secondsArg || !pidArg || !zone || !sizeArg || updaters.length < 64) {
  console.error("usage: update-load.ts BASE DNS_PORT TOKEN SECONDS SERVER_PID ZONE ZONE_SIZE UPDATER... (64 updaters)");
  process.exit(2);
}
const dnsPort = Number(dnsPortArg);
const seconds = Number(secondsArg);
const zoneSize = Number(sizeArg);
const auth = { authorization: `Basic ${Buffer.from(`bench:${token}`).toString("base64")}` };
let counter = 1;
const addr = (n: number) => `10.${200 + ((n >> 16) & 31)}.${(n >> 8) & 255}.${n & 255}`;

const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pidArg}/status`, "utf8"))?.[1] ?? 0) / 1024;

async function update(host: string, ip: string): Promise<string> {
  const res = await fetch(`${base}/nic/update?hostname=${host}&myip=${ip}`, { headers: auth });
  return res.text();
}

/** `concurrency` workers for `seconds`; worker i updates updaters[i]. */
async function storm(expect: "nochg" | "good", concurrency: number, secs = seconds): Promise<{ rate: number; count: number }> {
  let count = 0;
  const end = performance.now() + secs * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      const host = updaters[i]!;
      while (performance.now() < end) {
        const ip = expect === "nochg" ? "192.0.2.1" : addr(counter++);
        const body = await update(host, ip);
        if (!body.startsWith(`${expect} `)) throw new Error(`expected ${expect}, got "${body}"`);
        count++;
      }
    }),
  );
  return { rate: count / ((performance.now() - start) / 1000), count };
}

// ---- DNS over UDP: one socket, answers matched by id ----

const sock = dgram.createSocket("udp4");
const waiting = new Map<number, (msg: Buffer) => void>();
sock.on("message", (msg) => waiting.get(msg.readUInt16BE(0))?.(msg));
let qid = 1;
function ask(name: string, type: "A" | "SOA" = "A"): Promise<packet.Packet> {
  let id = (qid = (qid + 1) & 0xffff);
  while (waiting.has(id)) id = qid = (qid + 1) & 0xffff;
  const q = packet.encode({ id, type: "query", flags: 0, questions: [{ type, name, class: "IN" }] });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      waiting.delete(id);
      reject(new Error("DNS timeout"));
    }, 2000);
    waiting.set(id, (msg) => {
      clearTimeout(t);
      waiting.delete(id);
      resolve(packet.decode(msg));
    });
    sock.send(q, dnsPort, "127.0.0.1");
  });
}
const addressesOf = (r: packet.Packet) => (r.answers ?? []).filter((a) => a.type === "A").map((a) => (a as { data: string }).data);

/** Closed loop, `outstanding` queries in flight, for `secs`: latencies and rate. */
async function probe(secs: number, outstanding = 16): Promise<{ lat: number[]; qps: number }> {
  const lat: number[] = [];
  const end = performance.now() + secs * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: outstanding }, async () => {
      while (performance.now() < end) {
        const name = zoneSize > 0 && Math.random() < 0.9 ? `h${Math.floor(Math.random() * zoneSize)}.${zone}` : updaters[Math.floor(Math.random() * 64)]!;
        const t0 = performance.now();
        await ask(name);
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { lat, qps: lat.length / ((performance.now() - start) / 1000) };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(3)} ms`;

/** Bytes of an IXFR over TCP from serial `from` (all messages, until the closing SOA). */
function ixfrBytes(from: number): Promise<number> {
  const q = packet.encode({
    id: 7,
    type: "query",
    flags: 0,
    questions: [{ type: "IXFR", name: zone!, class: "IN" }],
    authorities: [{ type: "SOA", name: zone!, ttl: 0, data: { mname: ".", rname: ".", serial: from, refresh: 0, retry: 0, expire: 0, minimum: 0 } }],
  });
  return new Promise((resolve, reject) => {
    const s = net.connect(dnsPort, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let total = 0;
    let soas = 0;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("IXFR timeout"));
    }, 10_000);
    s.on("connect", () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      s.write(Buffer.concat([len, q]));
    });
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const n = buf.readUInt16BE(0);
        const msg = packet.decode(buf.subarray(2, 2 + n));
        total += n;
        buf = buf.subarray(2 + n);
        for (const a of msg.answers ?? []) if (a.type === "SOA" && (a.data as { serial: number }).serial === current) soas++;
        // The transfer ends with the second copy of the current SOA.
        if (soas >= 2) {
          clearTimeout(timer);
          s.end();
          resolve(total);
          return;
        }
      }
    });
    s.on("error", reject);
  });
}
let current = 0;
const serialNow = async () => ((await ask(zone!, "SOA")).answers![0] as { data: { serial: number } }).data.serial;

// ---- the run ----

for (const h of updaters) await update(h, "192.0.2.1");
const rest = rssMb();
console.log(`RSS at rest: ${rest.toFixed(0)} MB`);
let changes = 0;
for (const c of [8, 64]) {
  // nochg: every updater first holds the address the storm sends.
  await Promise.all(updaters.map((h) => update(h, "192.0.2.1")));
  const nochg = await storm("nochg", c);
  console.log(`nochg at ${c} connections:   ${nochg.rate.toFixed(0)} updates/s (${nochg.count} in ${seconds} s)`);
  const good = await storm("good", c);
  changes += good.count;
  console.log(`changes at ${c} connections: ${good.rate.toFixed(0)} updates/s (${good.count} in ${seconds} s, each durable before its answer)`);
}
while (changes < 10_000) changes += (await storm("good", 64, 1)).count;
const after = rssMb();
await new Promise((r) => setTimeout(r, 10_000));
console.log(`RSS after ${changes} changes: ${after.toFixed(0)} MB (${((after / rest - 1) * 100).toFixed(0)}% over rest), 10 s later ${rssMb().toFixed(0)} MB`);

// Update -> DNS: one host, sequential. Timed from the moment the "good" response is read to
// the first DNS answer carrying the new address (re-asked at once if an old one comes back).
const samples: number[] = [];
let stale = 0;
for (let i = 0; i < 500; i++) {
  const ip = addr(counter++);
  const body = await update(updaters[0]!, ip);
  if (!body.startsWith("good ")) throw new Error(`expected good, got "${body}"`);
  const t0 = performance.now();
  for (;;) {
    if (addressesOf(await ask(updaters[0]!)).includes(ip)) break;
    stale++;
  }
  samples.push(performance.now() - t0);
}
console.log(`update response -> new DNS answer: p50 ${ms(pct(samples, 50))}, p99 ${ms(pct(samples, 99))} (${samples.length} samples, ${stale} stale answers)`);

/** Real changes at a steady rate (issue 12: 500 a second), from 8 connections, for `secs`. */
async function paced(rate: number, secs: number): Promise<{ rate: number }> {
  const start = performance.now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      for (let n = i; ; n += 8) {
        const due = start + (n * 1000) / rate;
        if (due > start + secs * 1000) return;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const body = await update(updaters[i]!, addr(counter++));
        if (!body.startsWith("good ")) throw new Error(`expected good, got "${body}"`);
        sent++;
      }
    }),
  );
  return { rate: sent / ((performance.now() - start) / 1000) };
}

const line = (what: string, r: { lat: number[]; qps: number }, idleQps?: number) =>
  console.log(
    `UDP queries ${what}: p50 ${ms(pct(r.lat, 50))}, p99 ${ms(pct(r.lat, 99))}, max ${ms(Math.max(...r.lat))}, ${r.qps.toFixed(0)} q/s${idleQps ? ` (${(r.qps / idleQps).toFixed(2)} of idle)` : ""}`,
  );
const idle = await probe(3);
line("idle", idle);
const [steady, pace] = await Promise.all([probe(3), paced(500, 3)]);
line(`during a steady ${pace.rate.toFixed(0)} changes/s`, steady, idle.qps);
const [during, stormed] = await Promise.all([probe(3), storm("good", 64, 3)]);
line(`during a storm of ${stormed.rate.toFixed(0)} changes/s`, during, idle.qps);

// IXFR: the differences since 100 changes ago.
const from = await serialNow();
for (let i = 0; i < 100; i++) await update(updaters[i % 64]!, addr(counter++));
current = await serialNow();
const bytes = await ixfrBytes(from);
console.log(`IXFR of 100 changes: ${bytes} bytes, ${(bytes / 100).toFixed(0)} bytes per change (${current - from} serials)`);
sock.close();
