/**
 * Fuzzing the compiled server: over 100,000 hostile packets over UDP and TCP (see
 * test/helpers/fuzz-packets.ts); it must stay up and answer a valid query afterwards.
 * The seed is printed; FUZZ_SEED replays a run. A longer run: scripts/fuzz-dns.ts.
 */
import { createSocket } from "node:dgram";
import * as packet from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { frame, query, tcpAsk, tcpConnect, udpAsk } from "../helpers/dns-client";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { fuzzPacket, rng } from "../helpers/fuzz-packets";

const ZONE = "fuzz.example.com";
const UDP_PACKETS = 90_000;
const TCP_PACKETS = 12_000;
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

let data: string;
let server: ServerProcess;

beforeAll(async () => {
  data = tempDir();
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  expect(run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com"]).code).toBe(0);
  server = await startServe(data, ["--xfr-allow", "127.0.0.1/32", "--tsig-key", `key:${Buffer.alloc(32, 5).toString("base64")}`]);
});

afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

/**
 * The server answers. It runs with response rate limiting on (the default), and the fuzz
 * batch before may have used up the zone's negative-answer budget from 127.0.0.1: a dropped
 * answer is retried after a pause in which the budget refills (200 a second).
 */
async function alive(): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const r = packet.decode(await udpAsk(server.dnsPort, query(`home.${ZONE}`, "SOA"), 1500));
      if (r.type === "response") return true;
    } catch {
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return false;
}

describe(`fuzzing (seed ${SEED})`, () => {
  it(`stays up through ${UDP_PACKETS} UDP and ${TCP_PACKETS} TCP hostile packets`, async () => {
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const r = rng(SEED);
    const sock = createSocket("udp4");
    sock.on("error", () => {});
    sock.on("message", () => {});
    await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
    // Batches with a liveness check between them: the server keeps up and never dies.
    const BATCH = 2000;
    for (let sent = 0; sent < UDP_PACKETS; sent += BATCH) {
      for (let i = 0; i < BATCH; i++) sock.send(fuzzPacket(r, ZONE), server.dnsPort, "127.0.0.1");
      expect(await alive(), `server stopped answering after ${sent + BATCH} UDP packets (seed ${SEED})`).toBe(true);
    }
    sock.close();

    const PER_CONNECTION = 40;
    for (let sent = 0; sent < TCP_PACKETS; sent += PER_CONNECTION) {
      const c = await tcpConnect(server.dnsPort);
      const frames = Array.from({ length: PER_CONNECTION }, () => frame(fuzzPacket(r, ZONE)));
      // Sometimes the framing itself lies: a length longer than what follows, then close.
      if (r() < 0.1) frames.push(Buffer.from([0xff, 0xff, 1, 2, 3]));
      c.sock.write(Buffer.concat(frames));
      c.sock.end();
      await c.waitClosed(3000);
      c.sock.destroy();
      if (sent % 2000 === 0) expect(await alive(), `server stopped answering during TCP fuzzing (seed ${SEED})`).toBe(true);
    }

    expect(server.proc.exitCode).toBeNull();
    expect(await alive()).toBe(true);
    const [tcp] = await tcpAsk(server.dnsPort, [query(ZONE, "SOA")]);
    expect(packet.decode(tcp!).answers?.[0]?.type).toBe("SOA");
    expect(server.logs()).not.toMatch(/level=error/);
    // The executable answered UDP from its DNS thread (the worker entry is in the build).
    expect(server.logs()).toMatch(/dns listening" .*udp=thread/);
  }, 60_000);
});
