/**
 * Asking another nameserver: one query over UDP (falling back to TCP on truncation) or TCP,
 * optionally signed with TSIG, and a TCP exchange that reads a stream of messages (AXFR).
 * Shared by `ipkeep secondary` (SOA checks, transfers), `ipkeep doctor` (delegation and
 * secondary serials) and domain verification: one place that knows sockets and timeouts.
 */
import dgram from "node:dgram";
import net from "node:net";
import * as packet from "dns-packet";
import type { Listen } from "./server";
import { ResponseVerifier, signRequest, type TsigKey } from "./tsig";

/** A resolver gives up on a server after about this long; so do we. */
export const DEFAULT_TIMEOUT_MS = 3000;
const MAX_TCP_MESSAGE = 65535;

export interface QueryOptions {
  timeoutMs?: number;
  /** Straight to TCP (transfers, or when UDP is known to be filtered). */
  tcp?: boolean;
  /** Sign the query and require a signed answer. */
  key?: TsigKey;
  /** Epoch seconds, for TSIG. */
  now?: () => number;
  /** Set RD (asking a recursive resolver); off for authoritative servers. */
  recursion?: boolean;
}

export class DnsClientError extends Error {}

const epoch = () => Math.floor(Date.now() / 1000);

function randomId(): number {
  return (Math.random() * 0x10000) >>> 0;
}

export function buildQuery(id: number, name: string, type: string, opts: { recursion?: boolean; opcode?: number } = {}): Uint8Array {
  const msg = new Uint8Array(
    packet.encode({ id, type: "query", flags: opts.recursion ? packet.RECURSION_DESIRED : 0, questions: [{ name, type: type as "A", class: "IN" }] }),
  );
  if (opts.opcode) msg[2] = (msg[2]! & 0x87) | (opts.opcode << 3);
  return msg;
}

function udpExchange(server: Listen, msg: Uint8Array, id: number, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(server.host.includes(":") ? "udp6" : "udp4");
    const done = (err: Error | null, out?: Uint8Array) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(out!);
    };
    const timer = setTimeout(() => done(new DnsClientError(`no answer from ${server.host}:${server.port} within ${timeoutMs} ms`)), timeoutMs);
    sock.on("error", (e) => done(new DnsClientError(`${server.host}:${server.port}: ${e.message}`)));
    sock.on("message", (m, rinfo) => {
      // Only the server we asked, with our id: anything else is noise or spoofing.
      if (rinfo.port !== server.port || m.length < 12 || m.readUInt16BE(0) !== id) return;
      done(null, new Uint8Array(m));
    });
    sock.send(msg, server.port, server.host, (e) => e && done(new DnsClientError(`${server.host}:${server.port}: ${e.message}`)));
  });
}

/**
 * Sends one message over TCP and hands every framed message that comes back to onMessage,
 * until it returns true (done) or the server closes. The timeout is per message: a large
 * transfer may take long, a silent server may not.
 */
export function tcpExchange(server: Listen, msg: Uint8Array, onMessage: (m: Uint8Array) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = net.connect({ host: server.host, port: server.port });
    let buf: Buffer = Buffer.alloc(0);
    let finished = false;
    const finish = (err: Error | null) => {
      if (finished) return;
      finished = true;
      conn.destroy();
      if (err) reject(err);
      else resolve();
    };
    conn.setTimeout(timeoutMs, () => finish(new DnsClientError(`${server.host}:${server.port} stopped answering (TCP)`)));
    conn.on("error", (e) => finish(new DnsClientError(`${server.host}:${server.port}: ${e.message}`)));
    conn.on("close", () => finish(new DnsClientError(`${server.host}:${server.port} closed the connection early`)));
    conn.on("connect", () => {
      const frame = Buffer.allocUnsafe(2 + msg.length);
      frame.writeUInt16BE(msg.length, 0);
      frame.set(msg, 2);
      conn.write(frame);
    });
    conn.on("data", (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (len > MAX_TCP_MESSAGE) return finish(new DnsClientError("oversized TCP message"));
        if (buf.length < 2 + len) break;
        const m = new Uint8Array(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        let stop: boolean;
        try {
          stop = onMessage(m);
        } catch (e) {
          return finish(e as Error);
        }
        if (stop) return finish(null);
      }
    });
  });
}

export interface QueryResult {
  packet: packet.DecodedPacket;
  rcode: number;
  raw: Uint8Array;
  transport: "udp" | "tcp";
}

function decode(raw: Uint8Array): packet.DecodedPacket {
  try {
    return packet.decode(Buffer.from(raw.buffer, raw.byteOffset, raw.length));
  } catch (e) {
    throw new DnsClientError(`undecodable answer: ${(e as Error).message}`);
  }
}

/** One question to one server; throws DnsClientError on timeout, network error or a bad answer. */
export async function queryDns(server: Listen, name: string, type: string, opts: QueryOptions = {}): Promise<QueryResult> {
  const id = randomId();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = opts.now ?? epoch;
  let msg = buildQuery(id, name, type, { recursion: opts.recursion });
  let mac: Uint8Array | null = null;
  if (opts.key) {
    const s = signRequest(msg, opts.key, now());
    msg = s.message;
    mac = s.mac;
  }
  const check = (raw: Uint8Array) => {
    if (raw.length < 12 || ((raw[0]! << 8) | raw[1]!) !== id) throw new DnsClientError("answer with the wrong id");
    if (opts.key && mac) {
      const v = new ResponseVerifier(opts.key, mac).verify(raw, now());
      if (!v.ok) throw new DnsClientError(`TSIG: ${v.reason}`);
    }
  };
  let raw: Uint8Array | null = null;
  let transport: "udp" | "tcp" = "udp";
  if (!opts.tcp) {
    raw = await udpExchange(server, msg, id, timeoutMs);
    // TC: the answer did not fit; ask again over TCP (RFC 7766).
    if (raw[2]! & 0x02) raw = null;
  }
  if (!raw) {
    transport = "tcp";
    await tcpExchange(
      server,
      msg,
      (m) => {
        raw = m;
        return true;
      },
      timeoutMs,
    );
  }
  check(raw!);
  return { packet: decode(raw!), rcode: raw![3]! & 0x0f, raw: raw!, transport };
}

/** A "HOST", "HOST:PORT" or "[V6]:PORT" resolver address; port 53 by default. */
export function parseServer(spec: string): Listen {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec) ?? /^([^:]+)(?::(\d+))?$/.exec(spec);
  if (m) return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
  return { host: spec, port: 53 };
}
