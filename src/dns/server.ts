/**
 * DNS transports: UDP (node:dgram, which under Bun honours recvBufferSize) and TCP with
 * 2-byte length framing (node:net). Both hand bytes to a handler and send what it returns.
 */
import dgram from "node:dgram";
import net from "node:net";

export type DnsHandler = (query: Uint8Array, transport: "udp" | "tcp", peer: string) => Uint8Array | null;

export interface Listen {
  host: string;
  port: number;
}

export interface DnsServer {
  /** Actual bound addresses (port 0 resolved). */
  addresses: Listen[];
  close(): Promise<void>;
}

// Like NSD's default socket buffers: a burst of queries waits in the kernel instead of dropping.
const UDP_RECV_BUFFER = 2 * 1024 * 1024;
// A TCP client gets this long between queries before we close (RFC 7766 suggests seconds).
const TCP_IDLE_MS = 10_000;
const TCP_MAX_CONNECTIONS = 200;

export function parseListen(spec: string, defaultPort: number): Listen {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(spec) ?? /^([^:]+):(\d+)$/.exec(spec);
  if (m) return { host: m[1]!, port: Number(m[2]) };
  if (/^\d+$/.test(spec)) return { host: "127.0.0.1", port: Number(spec) };
  return { host: spec.replace(/^\[|\]$/g, ""), port: defaultPort };
}

export function formatListen(l: Listen): string {
  return l.host.includes(":") ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

function bindUdp(l: Listen, handler: DnsHandler): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket({ type: l.host.includes(":") ? "udp6" : "udp4", reuseAddr: false, recvBufferSize: UDP_RECV_BUFFER });
    sock.once("error", reject);
    sock.on("message", (msg, rinfo) => {
      let out: Uint8Array | null = null;
      try {
        out = handler(msg, "udp", rinfo.address);
      } catch {
        return;
      }
      if (!out) return;
      try {
        // A client whose port has closed makes send() fail (ECONNREFUSED): ignore it.
        sock.send(out, rinfo.port, rinfo.address, () => {});
      } catch {
        /* ignored on purpose */
      }
    });
    sock.bind(l.port, l.host, () => {
      sock.removeListener("error", reject);
      sock.on("error", () => {});
      resolve(sock);
    });
  });
}

function bindTcp(l: Listen, handler: DnsHandler, open: Set<net.Socket>): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ pauseOnConnect: false }, (conn) => {
      open.add(conn);
      conn.on("close", () => open.delete(conn));
      let buf: Buffer = Buffer.alloc(0);
      conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
      conn.on("error", () => conn.destroy());
      conn.on("data", (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        while (buf.length >= 2) {
          const len = buf.readUInt16BE(0);
          if (buf.length < 2 + len) break;
          const msg = buf.subarray(2, 2 + len);
          buf = buf.subarray(2 + len);
          let out: Uint8Array | null = null;
          try {
            out = handler(msg, "tcp", conn.remoteAddress ?? "");
          } catch {
            out = null;
          }
          if (!out) {
            conn.destroy();
            return;
          }
          const frame = Buffer.allocUnsafe(2 + out.length);
          frame.writeUInt16BE(out.length, 0);
          frame.set(out, 2);
          conn.write(frame);
        }
      });
    });
    server.maxConnections = TCP_MAX_CONNECTIONS;
    server.once("error", reject);
    server.listen(l.port, l.host, () => {
      server.removeListener("error", reject);
      server.on("error", () => {});
      resolve(server);
    });
  });
}

/** Binds UDP and TCP on the same port for each listen address (port 0: one free port for both). */
export async function startDns(listens: Listen[], handler: DnsHandler): Promise<DnsServer> {
  const udp: dgram.Socket[] = [];
  const tcp: net.Server[] = [];
  const addresses: Listen[] = [];
  const open = new Set<net.Socket>();
  for (const l of listens) {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      const u = await bindUdp(l, handler);
      const port = u.address().port;
      try {
        const t = await bindTcp({ host: l.host, port }, handler, open);
        udp.push(u);
        tcp.push(t);
        addresses.push({ host: l.host, port });
        lastErr = undefined;
        break;
      } catch (e) {
        u.close();
        lastErr = e;
        if (l.port !== 0) break; // a fixed port taken by TCP: report it
      }
    }
    if (lastErr) throw lastErr;
  }
  return {
    addresses,
    close: async () => {
      for (const c of open) c.destroy();
      await Promise.all([
        ...udp.map((s) => new Promise<void>((r) => s.close(() => r()))),
        ...tcp.map((s) => new Promise<void>((r) => s.close(() => r()))),
      ]);
    },
  };
}
