/**
 * Load driver for scripts/bench/update.sh (run by Bun): dyndns2 updates over keep-alive HTTP,
 * nochg and real changes, then the time from an update's response to the new DNS answer.
 * Usage: bun update-load.ts BASE DNS_PORT TOKEN SECONDS CONCURRENCY HOST...
 */
import dgram from "node:dgram";
import packet from "dns-packet";

const [base, dnsPortArg, token, secondsArg, concurrencyArg, ...hosts] = process.argv.slice(2);
if (!base || !dnsPortArg || !token || !secondsArg || !concurrencyArg || hosts.length === 0) {
  console.error("usage: update-load.ts BASE DNS_PORT TOKEN SECONDS CONCURRENCY HOST...");
  process.exit(2);
}
const dnsPort = Number(dnsPortArg);
const seconds = Number(secondsArg);
const concurrency = Number(concurrencyArg);
const auth = { authorization: `Basic ${Buffer.from(`bench:${token}`).toString("base64")}` };
const addr = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

async function update(host: string, ip: string): Promise<string> {
  const res = await fetch(`${base}/nic/update?hostname=${host}&myip=${ip}`, { headers: auth });
  return res.text();
}

/** `concurrency` workers for `seconds`; each worker i uses hosts[i % hosts.length]. */
async function storm(expect: "nochg" | "good"): Promise<{ rate: number; count: number }> {
  let counter = 1;
  let count = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      const host = hosts[i % hosts.length]!;
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

const sock = dgram.createSocket("udp4");
let waiting: ((msg: Buffer) => void) | null = null;
sock.on("message", (msg) => waiting?.(msg));
let qid = 1;
function queryA(name: string): Promise<string[]> {
  const id = (qid = (qid + 1) & 0xffff);
  const q = packet.encode({ id, type: "query", flags: 0, questions: [{ type: "A", name, class: "IN" }] });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("DNS timeout")), 2000);
    waiting = (msg) => {
      const r = packet.decode(msg);
      if (r.id !== id) return;
      clearTimeout(t);
      waiting = null;
      resolve((r.answers ?? []).filter((a) => a.type === "A").map((a) => (a as { data: string }).data));
    };
    sock.send(q, dnsPort, "127.0.0.1");
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(3)} ms`;

// Warm-up, and a known address for the nochg phase.
for (const h of hosts) await update(h, "192.0.2.1");
for (let i = 0; i < 200; i++) await update(hosts[0]!, "192.0.2.1");

const nochg = await storm("nochg");
console.log(`nochg:   ${nochg.rate.toFixed(0)} updates/s (${nochg.count} in ${seconds} s, ${concurrency} keep-alive connections)`);
const good = await storm("good");
console.log(`changes: ${good.rate.toFixed(0)} updates/s (${good.count} in ${seconds} s, ${concurrency} keep-alive connections, each committed with synchronous=FULL before its answer)`);

// Update -> DNS: one host, sequential. Timed from the moment the "good" response is read to
// the first DNS answer carrying the new address (re-asked at once if an old one comes back).
const host = hosts[0]!;
const samples: number[] = [];
const plain: number[] = [];
let stale = 0;
for (let i = 0; i < 500; i++) {
  const ip = addr(100_000 + i);
  const body = await update(host, ip);
  if (!body.startsWith("good ")) throw new Error(`expected good, got "${body}"`);
  const t0 = performance.now();
  for (;;) {
    const got = await queryA(host);
    if (got.includes(ip)) break;
    stale++;
  }
  samples.push(performance.now() - t0);
  const t1 = performance.now();
  await queryA(host);
  plain.push(performance.now() - t1);
}
sock.close();
console.log(`update response -> new DNS answer: p50 ${ms(pct(samples, 50))}, p99 ${ms(pct(samples, 99))} (${samples.length} samples, ${stale} stale answers)`);
console.log(`for scale, a plain DNS query:      p50 ${ms(pct(plain, 50))}, p99 ${ms(pct(plain, 99))}`);
