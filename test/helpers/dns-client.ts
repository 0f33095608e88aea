/**
 * A minimal DNS client over loopback for tests: raw bytes in, raw bytes out, UDP or TCP.
 */
import { createSocket } from "node:dgram";
import net from "node:net";
import * as packet from "dns-packet";

export function query(name: string, type = "A", opts: { id?: number; edns?: boolean; flags?: number } = {}): Buffer {
  return packet.encode({
    id: opts.id ?? 4242,
    type: "query",
    flags: opts.flags ?? 0,
    questions: [{ name, type: type as packet.RecordType, class: "IN" }],
    additionals: opts.edns ? [{ type: "OPT", name: ".", udpPayloadSize: 1232 } as packet.Answer] : [],
  });
}

/** localAddress: the client's own address (127.0.0.2, 127.1.0.3 ... act as other machines). */
export function udpAsk(port: number, msg: Uint8Array, timeoutMs = 2000, localAddress?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    const t = setTimeout(() => {
      s.close();
      reject(new Error("udp timeout"));
    }, timeoutMs);
    s.on("message", (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.on("error", (e) => {
      clearTimeout(t);
      s.close();
      reject(e);
    });
    if (localAddress) s.bind(0, localAddress, () => s.send(msg, port, "127.0.0.1"));
    else s.send(msg, port, "127.0.0.1");
  });
}

export function frame(msg: Uint8Array): Buffer {
  const b = Buffer.alloc(2 + msg.length);
  b.writeUInt16BE(msg.length, 0);
  b.set(msg, 2);
  return b;
}

/** Reads framed messages from a TCP connection. */
export class TcpReader {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly messages: Buffer[] = [];
  closed = false;
  constructor(readonly sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        const len = this.buf.readUInt16BE(0);
        this.messages.push(this.buf.subarray(2, 2 + len));
        this.buf = this.buf.subarray(2 + len);
      }
      this.wake();
    });
    sock.on("close", () => {
      this.closed = true;
      this.wake();
    });
    sock.on("error", () => {});
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  /** Resolves when n messages arrived or the connection closed. */
  async waitFor(n: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n && !this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.messages;
  }
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }
}

/** localAddress: the client's own address (127.0.0.2, 127.0.0.3 ... act as other machines). */
export function tcpConnect(port: number, localAddress?: string): Promise<TcpReader> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1", localAddress }, () => resolve(new TcpReader(s)));
    s.once("error", reject);
  });
}

export async function tcpAsk(port: number, msgs: Uint8Array[], localAddress?: string): Promise<Buffer[]> {
  const r = await tcpConnect(port, localAddress);
  r.sock.write(Buffer.concat(msgs.map(frame)));
  const out = await r.waitFor(msgs.length);
  r.sock.destroy();
  return out;
}

export interface FloodResult {
  /** Replies without TC, with TC, and queries never answered. */
  full: number;
  truncated: number;
  unanswered: number;
  /** From the first query sent to the last reply (ms). */
  elapsedMs: number;
  /** One of the truncated replies, if any came. */
  truncatedReply: Buffer | null;
}

/**
 * Sends `count` copies of msg over UDP from localAddress in bursts, each burst's replies
 * awaited before the next (so the client's own buffer never overflows), and sorts the replies.
 */
export async function udpFlood(port: number, msg: Uint8Array, count: number, localAddress = "127.0.0.1", burst = 250): Promise<FloodResult> {
  const s = createSocket({ type: "udp4", recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((r) => s.bind(0, localAddress, () => r()));
  let full = 0;
  let truncated = 0;
  let last = Date.now();
  let truncatedReply: Buffer | null = null;
  s.on("message", (m) => {
    last = Date.now();
    if (m[2]! & 0x02) {
      truncated++;
      truncatedReply ??= m;
    } else full++;
  });
  const start = Date.now();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (let sent = 0; sent < count; sent += burst) {
    const n = Math.min(burst, count - sent);
    await Promise.all(Array.from({ length: n }, () => new Promise<void>((r) => s.send(msg, port, "127.0.0.1", () => r()))));
    // Until replies stop coming (they may all be dropped: then after a short wait).
    await sleep(15);
    while (Date.now() - last < 40 && full + truncated < sent + n) await sleep(5);
  }
  await sleep(100);
  s.close();
  return { full, truncated, unanswered: count - full - truncated, elapsedMs: last - start, truncatedReply };
}
