/**
 * TSIG (RFC 8945): our signer against our verifier, tampering and clocks, and interop with
 * dig (BIND's TSIG implementation) over real sockets.
 */
import { execFile } from "node:child_process";
import * as packet from "dns-packet";
import { afterEach, describe, expect, it } from "vitest";
import type { ZoneData } from "../../src/core/ports";
import { answer } from "../../src/dns/answer";
import { type DnsServer, startDns } from "../../src/dns/server";
import {
  errorResponse,
  findTsig,
  keyLookup,
  makeKey,
  parseKeySpec,
  ResponseSigner,
  ResponseVerifier,
  RCODE_NOTAUTH,
  signRequest,
  TSIG_ERROR,
  verifyRequest,
} from "../../src/dns/tsig";
import { buildZone, ZoneSet } from "../../src/dns/zone";
import { query } from "../helpers/dns-client";

const SECRET = Buffer.alloc(32, 7).toString("base64");
const key = makeKey("xfr-key.example.", SECRET);
const other = makeKey("other-key", Buffer.alloc(32, 9).toString("base64"));
const keys = keyLookup([key]);
const NOW = 1_780_000_000;

describe("TSIG keys", () => {
  it("parses NAME:SECRET and dig's ALGORITHM:NAME:SECRET", () => {
    expect(parseKeySpec(`xfr-key.example:${SECRET}`)).toEqual(key);
    expect(parseKeySpec(`hmac-sha256:XFR-KEY.example.:${SECRET}`)).toEqual(key);
  });

  it.each([
    ["no secret", "name"],
    ["empty name", `:${SECRET}`],
    ["not base64", "name:!!!notbase64!!!"],
    ["too short", `name:${Buffer.alloc(8).toString("base64")}`],
    ["unknown algorithm", `hmac-md4:name:${SECRET}`],
    ["too many fields", `a:b:c:${SECRET}`],
  ])("refuses a bad key spec (%s)", (_why, spec) => {
    expect(() => parseKeySpec(spec)).toThrow(/TSIG/);
  });
});

describe("TSIG requests", () => {
  it("a signed request verifies and strips back to the original bytes", () => {
    const q = query("dyn.example.com", "AXFR", { id: 321 });
    const { message, mac } = signRequest(q, key, NOW);
    expect(message.length).toBeGreaterThan(q.length);
    const check = verifyRequest(message, keys, NOW + 10);
    expect(check.kind).toBe("ok");
    if (check.kind !== "ok") return;
    expect(Buffer.from(check.message)).toEqual(Buffer.from(q));
    expect(Buffer.from(check.mac)).toEqual(Buffer.from(mac));
    // dns-packet still decodes the signed message (TSIG as an unknown record).
    expect(packet.decode(Buffer.from(message)).questions![0]!.name).toBe("dyn.example.com");
  });

  it("leaves the message it is given untouched, a Node Buffer (whose slice is a view) included", () => {
    const { message } = signRequest(query("dyn.example.com", "AXFR", { id: 321 }), key, NOW);
    const received = Buffer.from(message);
    const before = Buffer.from(received);
    expect(verifyRequest(received, keys, NOW).kind).toBe("ok");
    expect(verifyRequest(received, keys, NOW + 100_000).kind).toBe("error");
    expect(received).toEqual(before);
  });

  it("an unsigned request is reported as such", () => {
    expect(verifyRequest(query("dyn.example.com", "AXFR"), keys, NOW).kind).toBe("unsigned");
  });

  it("a flipped bit anywhere before the MAC fails with BADSIG", () => {
    const { message } = signRequest(query("dyn.example.com", "AXFR"), key, NOW);
    const t = findTsig(message);
    if (!t || t === "malformed") throw new Error("no tsig");
    for (const at of [2, 13, t.start - 1]) {
      const bad = message.slice();
      bad[at]! ^= 0x01;
      const check = verifyRequest(bad, keys, NOW);
      expect(check.kind, `byte ${at}`).toBe("error");
      if (check.kind === "error") expect([TSIG_ERROR.BADSIG, -1]).toContain(check.error);
    }
  });

  it("an unknown key gives BADKEY, a wrong secret BADSIG", () => {
    const q = query("dyn.example.com", "AXFR");
    const byOther = verifyRequest(signRequest(q, other, NOW).message, keys, NOW);
    expect(byOther.kind === "error" && byOther.error).toBe(TSIG_ERROR.BADKEY);
    const impostor = makeKey(key.name, Buffer.alloc(32, 1).toString("base64"));
    const bySecret = verifyRequest(signRequest(q, impostor, NOW).message, keys, NOW);
    expect(bySecret.kind === "error" && bySecret.error).toBe(TSIG_ERROR.BADSIG);
  });

  it("a request signed outside the fudge window gives BADTIME, answered signed with our time", () => {
    const q = query("dyn.example.com", "AXFR", { id: 5 });
    const { message, mac } = signRequest(q, key, NOW);
    const check = verifyRequest(message, keys, NOW + 301);
    expect(check.kind === "error" && check.error).toBe(TSIG_ERROR.BADTIME);
    if (check.kind !== "error") return;
    const resp = errorResponse(message, check, NOW + 301)!;
    expect(resp[3]! & 0x0f).toBe(RCODE_NOTAUTH);
    const v = new ResponseVerifier(key, mac);
    // The BADTIME answer is signed: the MAC checks out, the error field says BADTIME.
    expect(v.verify(resp, NOW + 301)).toEqual({ ok: false, reason: "TSIG error 18" });
    const t = findTsig(resp);
    expect(t && t !== "malformed" && t.error).toBe(TSIG_ERROR.BADTIME);
  });

  it("a TSIG that is not the last record is malformed", () => {
    const { message } = signRequest(query("dyn.example.com", "AXFR"), key, NOW);
    const t = findTsig(message) as { start: number };
    const rr = message.slice(t.start);
    const moved = Buffer.concat([message.subarray(0, t.start), rr, Buffer.from([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0])]);
    moved.writeUInt16BE(2, 10);
    expect(findTsig(moved)).toBe("malformed");
    expect(verifyRequest(moved, keys, NOW)).toMatchObject({ kind: "error", error: -1 });
  });

  it("truncated signed requests never throw", () => {
    const { message } = signRequest(query("dyn.example.com", "AXFR"), key, NOW);
    for (let n = 0; n <= message.length; n++) {
      const check = verifyRequest(message.subarray(0, n), keys, NOW);
      if (check.kind === "error") expect(() => errorResponse(message.subarray(0, n), check, NOW)).not.toThrow();
    }
  });
});

describe("TSIG response streams", () => {
  it("every message of a multi-message response verifies in order, and only in order", () => {
    const { mac } = signRequest(query("dyn.example.com", "AXFR", { id: 9 }), key, NOW);
    const signer = new ResponseSigner(key, mac);
    const msgs = [1, 2, 3].map((i) => signer.sign(query(`m${i}.dyn.example.com`, "A", { id: 9 }), NOW + i));
    const v = new ResponseVerifier(key, mac);
    for (const m of msgs) expect(v.verify(m, NOW + 3)).toEqual({ ok: true, signed: true });
    expect(v.complete()).toBe(true);
    const outOfOrder = new ResponseVerifier(key, mac);
    expect(outOfOrder.verify(msgs[0]!, NOW).ok).toBe(true);
    expect(outOfOrder.verify(msgs[2]!, NOW).ok).toBe(false);
  });

  it("unsigned messages between signed ones are digested into the next signature", () => {
    const { mac } = signRequest(query("dyn.example.com", "AXFR", { id: 9 }), key, NOW);
    const signer = new ResponseSigner(key, mac);
    const stream = [
      signer.sign(query("m1.dyn.example.com"), NOW),
      signer.unsigned(query("m2.dyn.example.com")),
      signer.unsigned(query("m3.dyn.example.com")),
      signer.sign(query("m4.dyn.example.com"), NOW),
    ];
    const v = new ResponseVerifier(key, mac);
    expect(stream.map((m) => v.verify(m, NOW))).toEqual([
      { ok: true, signed: true },
      { ok: true, signed: false },
      { ok: true, signed: false },
      { ok: true, signed: true },
    ]);
    expect(v.complete()).toBe(true);
    // An unsigned message altered in flight breaks the next signature.
    const tampered = new ResponseVerifier(key, mac);
    const m2 = Buffer.from(stream[1]!);
    m2[m2.length - 1]! ^= 1;
    expect([stream[0]!, m2, stream[2]!, stream[3]!].map((m) => tampered.verify(m, NOW).ok)).toEqual([true, true, true, false]);
    expect(() => new ResponseSigner(key, mac).unsigned(query("x.dyn.example.com"))).toThrow();
  });

  it("an unsigned first message or a stream ending unsigned is refused", () => {
    const { mac } = signRequest(query("dyn.example.com", "AXFR"), key, NOW);
    expect(new ResponseVerifier(key, mac).verify(query("a.dyn.example.com"), NOW).ok).toBe(false);
    const signer = new ResponseSigner(key, mac);
    const v = new ResponseVerifier(key, mac);
    expect(v.verify(signer.sign(query("a.dyn.example.com"), NOW), NOW).ok).toBe(true);
    expect(v.verify(query("b.dyn.example.com"), NOW)).toEqual({ ok: true, signed: false });
    expect(v.complete()).toBe(false);
  });
});

/** dig without blocking the event loop (the server under test runs in this process). */
function digAsync(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile("dig", args, { encoding: "utf8" }, (_e, stdout, stderr) => resolve({ stdout, stderr })));
}

describe("TSIG interop with dig", () => {
  const zones = new ZoneSet();
  const zd: ZoneData = {
    id: 1,
    name: "dyn.example.com",
    serial: 1,
    soa: { mname: "ns1.dyn.example.com", rname: "hostmaster.dyn.example.com", refresh: 3600, retry: 600, expire: 1209600, minimum: 60, ttl: 3600 },
    nsTtl: 3600,
    nameservers: [{ name: "ns1.dyn.example.com", ipv4: "192.0.2.53", ipv6: null }],
    hosts: [{ name: "home.dyn.example.com", ipv4: "203.0.113.10", ipv6: null, ttl: 60 }],
    records: [],
  };
  zones.set(buildZone(zd));
  let server: DnsServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it("verifies dig's signed query and dig verifies our signed answer (UDP and TCP)", async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const seen: string[] = [];
    server = await startDns([{ host: "127.0.0.1", port: 0 }], (q, transport) => {
      const check = verifyRequest(q, keys, now());
      seen.push(check.kind);
      if (check.kind === "error") return errorResponse(q, check, now());
      if (check.kind === "unsigned") return answer(q, zones, { transport });
      const out = answer(check.message, zones, { transport });
      return out && new ResponseSigner(check.key, check.mac).sign(out, now());
    });
    const port = server.addresses[0]!.port;
    for (const extra of [[], ["+tcp"]]) {
      const r = await digAsync([
        "@127.0.0.1",
        "-p",
        String(port),
        "-y",
        `hmac-sha256:xfr-key.example:${SECRET}`,
        "home.dyn.example.com",
        "A",
        "+norec",
        "+time=2",
        "+tries=1",
        ...extra,
      ]);
      expect(r.stdout).toContain("status: NOERROR");
      expect(r.stdout).toContain("203.0.113.10");
      expect(r.stdout).toMatch(/TSIG PSEUDOSECTION:\n.*NOERROR/);
      expect(r.stdout + r.stderr).not.toMatch(/[Cc]ouldn't verify|tsig verify failure|expected a TSIG/);
    }
    const wrong = await digAsync([
      "@127.0.0.1",
      "-p",
      String(port),
      "-y",
      `hmac-sha256:xfr-key.example:${Buffer.alloc(32, 1).toString("base64")}`,
      "home.dyn.example.com",
      "A",
      "+norec",
      "+time=2",
      "+tries=1",
    ]);
    expect(wrong.stdout).toContain("status: NOTAUTH");
    expect(wrong.stdout).toContain("BADSIG");
    expect(seen).toEqual(["ok", "ok", "error"]);
  });
});
