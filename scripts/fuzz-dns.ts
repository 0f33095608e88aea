/**
 * The long fuzz run: starts dist/ipkeep on free loopback ports (stopped by PID at the end)
 * and sends hostile packets over UDP and TCP until COUNT, checking after every batch that it
 * still answers. Usage: bun scripts/fuzz-dns.ts [COUNT=2000000] [SEED]
 * Build first (npm run build). The CI test runs the same generator on ~100,000 packets.
 */
import { createSocket } from "node:dgram";
import * as packet from "dns-packet";
import { frame, query, tcpConnect, udpAsk } from "../test/helpers/dns-client";
import { cleanup, run, startServe, tempDir } from "../test/helpers/exe";
import { fuzzPacket, rng } from "../test/helpers/fuzz-packets";

const COUNT = Number(process.argv[2] ?? 2_000_000);
const SEED = Number(process.argv[3] ?? Math.floor(Math.random() * 2 ** 31));
const ZONE = "fuzz.example.com";

const data = tempDir();
run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]);
run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com"]);
const server = await startServe(data, ["--xfr-allow", "127.0.0.1/32", "--tsig-key", `key:${Buffer.alloc(32, 5).toString("base64")}`]);
console.log(`ipkeep pid ${server.proc.pid} on 127.0.0.1:${server.dnsPort}; seed ${SEED}; ${COUNT} packets`);

let failed = false;
// Response rate limiting is on (the default): an answer dropped after a batch is retried
// once the budget has refilled.
const alive = async () => {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (packet.decode(await udpAsk(server.dnsPort, query(ZONE, "SOA"), 1500)).type === "response") return true;
    } catch {
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return false;
};

try {
  const r = rng(SEED);
  const sock = createSocket("udp4");
  sock.on("error", () => {});
  sock.on("message", () => {});
  await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
  const started = Date.now();
  let sent = 0;
  while (sent < COUNT && !failed) {
    // Nine UDP batches, then one batch over TCP connections.
    if ((sent / 2000) % 10 === 9) {
      for (let i = 0; i < 50; i++) {
        const c = await tcpConnect(server.dnsPort);
        c.sock.write(Buffer.concat(Array.from({ length: 40 }, () => frame(fuzzPacket(r, ZONE)))));
        c.sock.end();
        await c.waitClosed(3000);
        c.sock.destroy();
      }
    } else {
      for (let i = 0; i < 2000; i++) sock.send(fuzzPacket(r, ZONE), server.dnsPort, "127.0.0.1");
    }
    sent += 2000;
    if (!(await alive())) {
      console.error(`FAIL: no answer after ${sent} packets (seed ${SEED})`);
      failed = true;
    }
    if (sent % 100_000 === 0) console.log(`${sent} packets, ${Math.round(sent / ((Date.now() - started) / 1000))}/s, alive`);
  }
  sock.close();
  if (server.proc.exitCode !== null) failed = true;
} finally {
  const code = await server.stop();
  if (/level=error/.test(server.logs())) {
    console.error(
      server
        .logs()
        .split("\n")
        .filter((l) => l.includes("level=error"))
        .slice(0, 20)
        .join("\n"),
    );
    failed = true;
  }
  cleanup(data);
  console.log(failed ? "fuzz FAILED" : `fuzz passed (server exit ${code})`);
  process.exit(failed ? 1 : 0);
}
