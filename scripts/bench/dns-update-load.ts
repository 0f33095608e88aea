/**
 * DNS UPDATE load (scripts/bench/dns-update.sh): CONCURRENCY clients, each changing its own
 * name's A record in one TSIG-signed UPDATE per message (delete the A RRset, add a new A), over
 * UDP, one message in flight per client, for SECONDS. Prints messages answered NOERROR per
 * second and how many failed. Loopback only; bounded in time.
 *
 * Usage: bun scripts/bench/dns-update-load.ts PORT ZONE KEYNAME ALGORITHM SECRET SECONDS NAME...
 */
import { createSocket } from "node:dgram";
import { makeKey, signRequest } from "../../src/dns/tsig";

const [port, zone, keyName, algorithm, secret, seconds, ...names] = process.argv.slice(2);
if (!port || !zone || !keyName || !algorithm || !secret || !seconds || names.length === 0) {
  console.error("usage: dns-update-load.ts PORT ZONE KEYNAME ALGORITHM SECRET SECONDS NAME...");
  process.exit(2);
}
const key = makeKey(keyName, secret, algorithm);
const enc = (n: string) => [...n.split(".").flatMap((l) => [l.length, ...Buffer.from(l)]), 0];
const u16 = (v: number) => [v >> 8, v & 0xff];

function message(id: number, name: string, n: number): Uint8Array {
  const owner = enc(name);
  return new Uint8Array([
    ...u16(id),
    0x28,
    0,
    0,
    1,
    0,
    0,
    0,
    2,
    0,
    0,
    ...enc(zone!),
    0,
    6,
    0,
    1,
    // delete the A RRset (class ANY), then add the new address (class IN)
    ...owner,
    0,
    1,
    0,
    255,
    0,
    0,
    0,
    0,
    0,
    0,
    ...owner,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    4,
    10,
    (n >> 16) & 0xff,
    (n >> 8) & 0xff,
    n & 0xff,
  ]);
}

const deadline = Date.now() + Number(seconds) * 1000;
let ok = 0;
let failed = 0;
let timeouts = 0;

async function client(name: string, index: number): Promise<void> {
  const s = createSocket({ type: "udp4" });
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  let n = index * 1_000_000;
  let waiting: ((m: Buffer) => void) | null = null;
  s.on("message", (m) => waiting?.(m));
  while (Date.now() < deadline) {
    n++;
    const id = n & 0xffff;
    const signed = signRequest(message(id, name, n), key, Math.floor(Date.now() / 1000)).message;
    const reply = await new Promise<Buffer | null>((resolve) => {
      const t = setTimeout(() => resolve(null), 2000);
      waiting = (m) => {
        if (((m[0]! << 8) | m[1]!) !== id) return;
        clearTimeout(t);
        resolve(m);
      };
      s.send(signed, Number(port), "127.0.0.1");
    });
    waiting = null;
    if (!reply) timeouts++;
    else if ((reply[3]! & 0x0f) === 0) ok++;
    else failed++;
  }
  s.close();
}

const start = Date.now();
await Promise.all(names.map((n, i) => client(n, i)));
const elapsed = (Date.now() - start) / 1000;
console.log(
  `${Math.round(ok / elapsed)} msgs/s (${ok} NOERROR, ${failed} other rcodes, ${timeouts} timeouts, ${names.length} clients, ${elapsed.toFixed(1)} s)`,
);
