/**
 * ResponseVerifier against a real NSD as primary: a TSIG-signed AXFR of a zone large enough
 * for many messages, verified message by message as `ipkeep secondary` does.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as packet from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeKey, ResponseVerifier, signRequest } from "../../src/dns/tsig";
import { frame, query, tcpConnect } from "../helpers/dns-client";
import { cleanup, tempDir } from "../helpers/exe";
import { freePort, type NsdProcess, startNsd } from "../helpers/nsd";

const ZONE = "primary.example";
const SECRET = Buffer.alloc(32, 42).toString("base64");
const key = makeKey("nsd-key", SECRET);
const HOSTS = 3000;
let dir: string;
let nsd: NsdProcess;

beforeAll(async () => {
  dir = tempDir("ipkeep-nsd-primary-");
  const lines = [`$ORIGIN ${ZONE}.`, "$TTL 300", "@ IN SOA ns1 hostmaster 2026010101 3600 600 1209600 60", "@ IN NS ns1", "ns1 IN A 192.0.2.1"];
  for (let i = 0; i < HOSTS; i++)
    lines.push(`h${i} IN A 198.51.100.${i % 250}`, `h${i} IN TXT "host number ${i} with some padding to make the messages fill up"`);
  writeFileSync(join(dir, `${ZONE}.zone`), `${lines.join("\n")}\n`);
  nsd = await startNsd(
    dir,
    await freePort(),
    `key:
  name: nsd-key
  algorithm: hmac-sha256
  secret: "${SECRET}"
zone:
  name: ${ZONE}
  zonefile: "${ZONE}.zone"
  provide-xfr: 127.0.0.1 nsd-key
`,
  );
});

afterAll(async () => {
  await nsd?.stop();
  cleanup(dir);
});

async function axfr(signWith = key) {
  const now = Math.floor(Date.now() / 1000);
  const { message, mac } = signRequest(query(ZONE, "AXFR", { id: 4321 }), signWith, now);
  const c = await tcpConnect(nsd.port);
  c.sock.write(frame(message));
  // Read until the closing SOA (the second SOA record).
  let soas = 0;
  const deadline = Date.now() + 10_000;
  while (soas < 2 && !c.closed && Date.now() < deadline) {
    await c.waitFor(c.messages.length + 1, 1000);
    soas = c.messages.reduce((n, m) => n + (packet.decode(m).answers ?? []).filter((a) => a.type === "SOA").length, 0);
  }
  c.sock.destroy();
  return { msgs: c.messages, mac, now };
}

describe("TSIG-signed AXFR from NSD", () => {
  it("every message verifies in sequence and the stream ends signed", async () => {
    const { msgs, mac, now } = await axfr();
    expect(msgs.length).toBeGreaterThan(3);
    const v = new ResponseVerifier(key, mac);
    let signed = 0;
    for (const m of msgs) {
      const r = v.verify(m, now);
      expect(r).toMatchObject({ ok: true });
      if (r.ok && r.signed) signed++;
    }
    expect(v.complete()).toBe(true);
    expect(signed).toBeGreaterThan(0);
    const records = msgs.flatMap((m) => packet.decode(m).answers ?? []).filter((a) => a.type !== ("TSIG" as string));
    expect(records.filter((a) => a.type === "A").length).toBe(HOSTS + 1);
  });

  it("a tampered message is caught", async () => {
    const { msgs, mac, now } = await axfr();
    const v = new ResponseVerifier(key, mac);
    const bad = Buffer.from(msgs[1]!);
    bad[bad.length - 120]! ^= 0x20;
    expect(v.verify(msgs[0]!, now).ok).toBe(true);
    // The flipped message fails at once if it is signed, else at the next signed one.
    let failed = false;
    for (const m of [bad, ...msgs.slice(2)]) {
      if (!v.verify(m, now).ok) {
        failed = true;
        break;
      }
    }
    expect(failed).toBe(true);
  });
});
