/**
 * The delegation check's DNS side (core/domains.ts judges the result): asks a resolver for a
 * domain's NS set over UDP, falling back to TCP when the answer is truncated. The resolver is
 * the `resolver` option (host:port), else the first nameserver of /etc/resolv.conf.
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import net from "node:net";
import * as packet from "dns-packet";
import type { DelegationLookup } from "../core/domains";
import { type Listen, parseListen } from "./server";

// A resolver that has not answered in 3 s will not; the API request should not hang on it.
const TIMEOUT_MS = 3000;

export function systemResolver(readFile: (p: string) => string = (p) => readFileSync(p, "utf8")): Listen {
  try {
    const m = /^\s*nameserver\s+(\S+)/m.exec(readFile("/etc/resolv.conf"));
    if (m) return { host: m[1]!, port: 53 };
  } catch {
    /* no resolv.conf: fall through */
  }
  return { host: "127.0.0.1", port: 53 };
}

function query(domain: string, id: number): Uint8Array {
  return packet.encode({
    type: "query",
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: "NS", name: domain, class: "IN" }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] } as never],
  });
}

function askUdp(server: Listen, msg: Uint8Array, id: number): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(server.host.includes(":") ? "udp6" : "udp4");
    const done = (err: Error | null, p?: packet.Packet) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(p!);
    };
    const timer = setTimeout(() => done(new Error(`no answer from ${server.host}:${server.port}`)), TIMEOUT_MS);
    sock.on("error", (e) => done(e));
    sock.on("message", (buf) => {
      let p: packet.Packet;
      try {
        p = packet.decode(buf);
      } catch {
        return; // not a DNS answer: keep waiting for the real one
      }
      if (p.id === id) done(null, p);
    });
    sock.send(msg, server.port, server.host, (e) => e && done(e));
  });
}

function askTcp(server: Listen, msg: Uint8Array): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(server.port, server.host);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => conn.destroy(new Error(`no answer from ${server.host}:${server.port} over TCP`)), TIMEOUT_MS);
    conn.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    conn.on("connect", () => {
      const frame = Buffer.alloc(2 + msg.length);
      frame.writeUInt16BE(msg.length, 0);
      frame.set(msg, 2);
      conn.write(frame);
    });
    conn.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        conn.destroy();
        try {
          resolve(packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}

export class ResolverDelegationLookup implements DelegationLookup {
  private server: Listen;
  constructor(resolver: string | null) {
    this.server = resolver ? parseListen(resolver, 53) : systemResolver();
  }

  async nameservers(domain: string): Promise<string[]> {
    const id = Math.floor(Math.random() * 65536);
    const msg = query(domain, id);
    let p = await askUdp(this.server, msg, id);
    if ((p.flags ?? 0) & packet.TRUNCATED_RESPONSE) p = await askTcp(this.server, msg);
    const rcode = (p as { rcode?: string }).rcode ?? "NOERROR";
    if (rcode === "NXDOMAIN") return [];
    if (rcode !== "NOERROR") throw new Error(`the resolver answered ${rcode}`);
    // A recursive resolver answers with the NS set; a parent's server refers (authority section).
    const want = domain.toLowerCase();
    return [...(p.answers ?? []), ...(p.authorities ?? [])]
      .filter((r) => r.type === "NS" && r.name.toLowerCase().replace(/\.$/, "") === want)
      .map((r) => String((r as { data: unknown }).data).toLowerCase().replace(/\.$/, ""));
  }
}
