/**
 * DNS transports: UDP (node:dgram, which under Bun honours recvBufferSize) and TCP with
 * 2-byte length framing (node:net). Both hand bytes to a handler and send what it returns.
 * Nothing a client does (garbage, vanishing, stalling, flooding) may stop or stall the other
 * clients: every handler call and every send is guarded, and TCP is bounded in connections,
 * buffered bytes and idle time.
 */
import dgram from "node:dgram";
import net from "node:net";
import { sourcePrefix } from "../core/addresses";
import type { PackedZone } from "../core/packed-zone";
import type { ZoneData } from "../core/ports";
import { DnsCounters } from "./counters";
import { peerBytes, RRL_DROP, RRL_SEND, type RrlConfig, ResponseRateLimiter, slipped } from "./rrl";
import type { UdpThread, ZoneMessage } from "./udp-thread";

/**
 * A reply now, or later (a Promise): DNS UPDATE answers once its batch is durable
 * (dns-update.ts). Every other answer is synchronous, and takes no detour.
 */
export type DnsReply = Uint8Array | null | Promise<Uint8Array | null>;
export type DnsHandler = (query: Uint8Array, transport: "udp" | "tcp", peer: string) => DnsReply;

/**
 * TCP only: a query answered by several messages (AXFR). Returns null when the query is not
 * for it (the ordinary handler answers then).
 */
export type StreamHandler = (query: Uint8Array, peer: string) => Uint8Array[] | null;

export interface Listen {
  host: string;
  port: number;
}

export interface DnsServer {
  /** Actual bound addresses (port 0 resolved). */
  addresses: Listen[];
  /** Open TCP connections right now (for tests and metrics). */
  tcpConnections(): number;
  /** UDP is answered by the DNS thread (options.thread), not by the handler on this thread. */
  threaded: boolean;
  /** What the DNS thread has answered (null without one). */
  threadCounters: DnsCounters | null;
  /** Hands a zone change to the DNS thread (a no-op without one). */
  zoneChanged(m: ZoneMessage): void;
  close(): Promise<void>;
}

/** What a server admits per client; the rest of DnsServerOptions is how it is wired. */
export type DnsLimits = Pick<DnsServerOptions, "tcpMaxConnections" | "tcpMaxPerSource" | "rrl">;

/** The limits as configured (flags, environment, config file). */
export function dnsLimits(c: {
  dnsTcpMax: number;
  dnsTcpPerSource: number;
  rrlRate: number;
  rrlSlip: number;
  rrlIpv4Prefix: number;
  rrlIpv6Prefix: number;
}): DnsLimits {
  return {
    tcpMaxConnections: c.dnsTcpMax,
    tcpMaxPerSource: c.dnsTcpPerSource,
    rrl: c.rrlRate > 0 ? { rate: c.rrlRate, slip: c.rrlSlip, ipv4Prefix: c.rrlIpv4Prefix, ipv6Prefix: c.rrlIpv6Prefix } : undefined,
  };
}

export interface DnsServerOptions {
  stream?: StreamHandler;
  /** Close a TCP connection after this long without a complete query. */
  tcpIdleMs?: number;
  /** Open connections in all (UDP is unaffected); see TcpSlots for who gives way when full. */
  tcpMaxConnections?: number;
  /** Open connections per source (an IPv4 address, an IPv6 /64). */
  tcpMaxPerSource?: number;
  /**
   * Response rate limiting of UDP answers (rrl.ts), on every path: the DNS thread, the main
   * thread's sockets, and what the thread hands back. Absent or rate 0: off. Never TCP.
   */
  rrl?: RrlConfig;
  /** Where this thread counts what rate limiting drops and slips (the thread has its own). */
  counters?: DnsCounters;
  /** Use node:dgram's own events even under Bun (tests of the Node path). */
  plainDgram?: boolean;
  /**
   * Answer UDP in a thread of its own (udp-worker.ts) from its own copy of the zones, where
   * Bun and Linux allow it; the handler still answers what the thread hands back (signed
   * queries, transfers) and all of TCP. Without it, or where it cannot run, the handler
   * answers UDP on this thread.
   */
  thread?: {
    snapshot: () => (ZoneData | PackedZone)[];
    /** The signed zones: the thread hands their DO queries to the handler. */
    signed?: () => number[];
    onError?: (message: string) => void;
    /** NOTIFY messages go to the handler too (a secondary acts on them). */
    notify?: boolean;
  };
}

// Like NSD's socket buffers: a burst of queries waits in the kernel instead of dropping.
const UDP_RECV_BUFFER = 2 * 1024 * 1024;
// RFC 7766 suggests idle timeouts of seconds; a client that sends nothing for this long is
// gone or hostile, and its slot is worth more to the next one.
const TCP_IDLE_MS = 10_000;
// NSD's tcp-count default is 100; twice that is still far below file-descriptor limits.
export const TCP_MAX_CONNECTIONS = 200;
// A tenth of all: one address (or one IPv6 /64) can never hold more, so at least ten sources
// share the slots, and a resolver's few parallel connections fit with room to spare.
export const TCP_MAX_PER_SOURCE = 20;
// A client that does not read its answers: stop reading its queries until it catches up,
// so one connection cannot make us buffer without limit (an AXFR may exceed this once).
const TCP_WRITE_HIGH_WATER = 1024 * 1024;

/**
 * An IPv6 address listens for IPv6 alone (IPV6_V6ONLY, as NSD binds): "0.0.0.0:53" and
 * "[::]:53" side by side is how both families are served, and neither takes the other's port.
 * For every listener: DNS over UDP (both paths) and TCP, HTTP and HTTPS.
 */
export function ipv6Only(l: Listen): boolean {
  return l.host.includes(":");
}

export function parseListen(spec: string, defaultPort: number): Listen {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(spec) ?? /^([^:]+):(\d+)$/.exec(spec);
  if (m) return { host: m[1]!, port: Number(m[2]) };
  if (/^\d+$/.test(spec)) return { host: "127.0.0.1", port: Number(spec) };
  return { host: spec.replace(/^\[|\]$/g, ""), port: defaultPort };
}

export function formatListen(l: Listen): string {
  return l.host.includes(":") ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

function safeCall(handler: DnsHandler, msg: Uint8Array, transport: "udp" | "tcp", peer: string): DnsReply {
  try {
    const r = handler(msg, transport, peer);
    return r instanceof Promise ? r.catch(() => null) : r;
  } catch {
    return null;
  }
}

/** The native socket under Bun's node:dgram (send, sendMany, reload), when there is one. */
interface NativeUdp {
  send(data: Uint8Array, port: number, address: string): boolean;
  sendMany(packets: (Uint8Array | number | string)[]): number;
  reload(handlers: { socket: Record<string, (...args: never[]) => void> }): void;
}

/**
 * Under Bun, node:dgram wraps a Bun.udpSocket: we keep node:dgram for what only it can do
 * (the receive buffer size) and then take the native socket's receive callback and send in
 * batches (sendMany, one syscall per poll round instead of one per answer). That halves the
 * CPU per query. Under Node, or if Bun's internals ever change shape, plain node:dgram.
 */
function nativeOf(sock: dgram.Socket): NativeUdp | null {
  for (const sym of Object.getOwnPropertySymbols(sock)) {
    const state = (sock as unknown as Record<symbol, { handle?: { socket?: Partial<NativeUdp> } }>)[sym];
    const native = state?.handle?.socket;
    if (native && typeof native.sendMany === "function" && typeof native.reload === "function" && typeof native.send === "function") {
      return native as NativeUdp;
    }
  }
  return null;
}

function serveNative(native: NativeUdp, handler: DnsHandler): void {
  let batch: (Uint8Array | number | string)[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const out = batch;
    batch = [];
    // sendMany stops at the first answer the kernel refuses (a client whose port has closed,
    // reported through ICMP) and returns how many went out, or throws when it was the first:
    // skip that one and go on, so one vanished client never costs the others their answers.
    let i = 0;
    const count = out.length / 3;
    for (let guard = 0; i < count && guard <= count; guard++) {
      try {
        const sent = native.sendMany(i === 0 ? out : out.slice(i * 3));
        i += sent > 0 ? sent : 1;
      } catch {
        i += 1;
      }
    }
  };
  native.reload({
    socket: {
      data: (_s: never, buf: Uint8Array, port: number, address: string) => {
        const queue = (out: Uint8Array | null) => {
          if (!out) return;
          batch.push(out, port, address);
          // After the current poll round: every query read in it is answered by one sendMany.
          if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        };
        const out = safeCall(handler, buf, "udp", address);
        if (out instanceof Promise) void out.then(queue);
        else queue(out);
      },
      // ICMP errors for clients that went away, and the like: never fatal.
      error: () => {},
      drain: () => {},
    },
  });
}

function bindUdp(l: Listen, handler: DnsHandler, plain: boolean): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const v6 = ipv6Only(l);
    const sock = dgram.createSocket({ type: v6 ? "udp6" : "udp4", ipv6Only: v6, reuseAddr: false, recvBufferSize: UDP_RECV_BUFFER });
    let bound = false;
    // After binding, socket errors (ICMP port unreachable surfacing as ECONNREFUSED, ...) are
    // about one client: never fatal.
    sock.on("error", (e) => {
      if (!bound) reject(e);
    });
    const sent = () => {};
    const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      const send = (out: Uint8Array | null) => {
        if (!out) return;
        try {
          sock.send(out, rinfo.port, rinfo.address, sent);
        } catch {
          /* a client whose port has closed (or closed socket): nothing to tell it */
        }
      };
      const out = safeCall(handler, msg, "udp", rinfo.address);
      if (out instanceof Promise) void out.then(send);
      else send(out);
    };
    sock.bind(l.port, l.host, () => {
      bound = true;
      const native = plain ? null : nativeOf(sock);
      if (native) serveNative(native, handler);
      else sock.on("message", onMessage);
      resolve(sock);
    });
  });
}

/** One TCP connection as TcpSlots sees it. */
interface TcpConn {
  sock: net.Socket;
  /** sourcePrefix of the peer: the IPv4 address, or the IPv6 /64. */
  source: string;
  /** When it was accepted or last had a query answered (ms). */
  lastActive: number;
  /** Part of a query has arrived: it is mid-query, not idle. */
  partial: boolean;
}

/**
 * Who holds the TCP slots. A source (an IPv4 address, an IPv6 /64) holds at most perSource;
 * a source at its limit that connects again gives up its own idlest connection for the new
 * one. When all max slots are taken, a newcomer gets one from the heaviest source holding
 * more than it does: that source's idlest connection (nothing half-read, nothing unsent, the
 * longest without a query) is closed. A connection in the middle of a query or an answer is
 * never closed for another; when no idle one can go, the newcomer is closed instead.
 */
export class TcpSlots {
  private readonly bySource = new Map<string, Set<TcpConn>>();
  private count = 0;

  constructor(
    private readonly max: number,
    private readonly perSource: number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** The new connection's record, or null: close it. */
  admit(sock: net.Socket, now: number): TcpConn | null {
    const source = sourcePrefix(sock.remoteAddress ?? "", 32, 64);
    const mine = this.bySource.get(source);
    const held = mine?.size ?? 0;
    if (held >= this.perSource) {
      if (!this.evictIdlest(mine!)) return null;
    } else if (this.count >= this.max) {
      const heavier = [...this.bySource.values()].filter((s) => s.size > held).sort((a, b) => b.size - a.size);
      if (!heavier.some((s) => this.evictIdlest(s))) return null;
    }
    const conn: TcpConn = { sock, source, lastActive: now, partial: false };
    let set = this.bySource.get(source);
    if (!set) this.bySource.set(source, (set = new Set()));
    set.add(conn);
    this.count++;
    return conn;
  }

  /** The connection closed (or was closed here): its slot is free. Safe to call twice. */
  release(conn: TcpConn): void {
    const set = this.bySource.get(conn.source);
    if (!set?.delete(conn)) return;
    this.count--;
    if (set.size === 0) this.bySource.delete(conn.source);
  }

  private evictIdlest(set: Set<TcpConn>): boolean {
    let idlest: TcpConn | null = null;
    for (const c of set) {
      if (c.partial || c.sock.writableLength > 0) continue;
      if (!idlest || c.lastActive < idlest.lastActive) idlest = c;
    }
    if (!idlest) return false;
    this.release(idlest);
    idlest.sock.destroy();
    return true;
  }
}

function serveConnection(conn: net.Socket, slot: TcpConn, handler: DnsHandler, opts: DnsServerOptions): void {
  let buf: Buffer = Buffer.alloc(0);
  const peer = conn.remoteAddress ?? "";
  const idleMs = opts.tcpIdleMs ?? TCP_IDLE_MS;
  conn.setNoDelay(true);
  conn.setTimeout(idleMs, () => conn.destroy());
  conn.on("error", () => conn.destroy());
  conn.on("drain", () => conn.resume());
  const send = (out: Uint8Array) => {
    const frame = Buffer.allocUnsafe(2 + out.length);
    frame.writeUInt16BE(out.length, 0);
    frame.set(out, 2);
    conn.write(frame);
  };
  // A query must arrive whole within the idle time from its first byte: a client trickling
  // a byte now and then is never idle, but must not hold its slot for ever (slowloris).
  let partial: ReturnType<typeof setTimeout> | null = null;
  conn.on("close", () => {
    if (partial) clearTimeout(partial);
  });
  conn.on("data", (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let answered = 0;
    // Answers to pipelined queries leave in as few segments as possible.
    conn.cork();
    // Queries are answered in the order they arrive (handlers are synchronous).
    while (buf.length >= 2 && !conn.destroyed) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) break;
      const msg = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      answered++;
      let stream: Uint8Array[] | null = null;
      if (opts.stream) {
        try {
          stream = opts.stream(msg, peer);
        } catch {
          stream = null;
        }
      }
      if (stream) {
        for (const m of stream) send(m);
        continue;
      }
      const out = safeCall(handler, msg, "tcp", peer);
      if (out instanceof Promise) {
        // Answered when ready (RFC 7766 §6.2.1.1: responses may go out of order).
        void out.then((r) => {
          if (conn.destroyed) return;
          if (r) send(r);
          else conn.destroy();
        });
        continue;
      }
      if (!out) {
        // Not even an id to answer: the stream cannot be trusted to stay in frame.
        conn.destroy();
        return;
      }
      send(out);
    }
    if (!conn.destroyed) conn.uncork();
    slot.partial = buf.length > 0;
    if (answered > 0) slot.lastActive = Date.now();
    // The clock for a partial query starts at its first byte (a complete one restarts it).
    if (partial && (answered > 0 || buf.length === 0)) {
      clearTimeout(partial);
      partial = null;
    }
    if (buf.length > 0 && !partial && !conn.destroyed) partial = setTimeout(() => conn.destroy(), idleMs);
    if (conn.writableLength > TCP_WRITE_HIGH_WATER) conn.pause();
  });
}

function bindTcp(l: Listen, handler: DnsHandler, open: Set<net.Socket>, slots: TcpSlots, opts: DnsServerOptions): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((conn) => {
      const slot = slots.admit(conn, Date.now());
      if (!slot) {
        conn.on("error", () => {});
        conn.destroy();
        return;
      }
      open.add(conn);
      conn.on("close", () => {
        open.delete(conn);
        slots.release(slot);
      });
      try {
        serveConnection(conn, slot, handler, opts);
      } catch {
        conn.destroy();
      }
    });
    server.once("error", reject);
    server.listen({ port: l.port, host: l.host, ipv6Only: ipv6Only(l) }, () => {
      server.removeListener("error", reject);
      server.on("error", () => {});
      resolve(server);
    });
  });
}

type FfiModule = typeof import("./ffi");

/** The bun:ffi socket layer, when this runtime and platform have it. */
async function loadFfi(): Promise<{ ffi: FfiModule; libc: NonNullable<ReturnType<FfiModule["loadLibc"]>> } | null> {
  if (!process.versions.bun) return null;
  try {
    const ffi: FfiModule = await import("./ffi");
    const libc = ffi.loadLibc();
    return libc ? { ffi, libc } : null;
  } catch {
    return null;
  }
}

/**
 * The UDP handler with response rate limiting on this thread: the answer is dropped (null),
 * sent truncated, or sent.
 */
function rateLimited(handler: DnsHandler, config: RrlConfig, counters: DnsCounters): DnsHandler {
  const rrl = new ResponseRateLimiter(config);
  const src = new Uint8Array(16);
  const limit = (reply: Uint8Array | null, peer: string): Uint8Array | null => {
    if (!reply) return null;
    const family = peerBytes(peer, src);
    if (family === 0) return reply;
    const verdict = rrl.check(reply, src, 0, family === 6, performance.now());
    if (verdict === RRL_SEND) return reply;
    if (verdict === RRL_DROP) {
      counters.rrlDropped++;
      return null;
    }
    counters.rrlSlipped++;
    return slipped(reply, rrl.questionEnd);
  };
  return (query, transport, peer) => {
    const reply = handler(query, transport, peer);
    return reply instanceof Promise ? reply.then((r) => limit(r, peer)) : limit(reply, peer);
  };
}

/** Binds UDP and TCP on the same port for each listen address (port 0: one free port for both). */
export async function startDns(listens: Listen[], handler: DnsHandler, opts: DnsServerOptions = {}): Promise<DnsServer> {
  const udp: dgram.Socket[] = [];
  const tcp: net.Server[] = [];
  const addresses: Listen[] = [];
  const open = new Set<net.Socket>();
  // One set of slots for every listen address: the limits are the server's, not a socket's.
  const slots = new TcpSlots(opts.tcpMaxConnections ?? TCP_MAX_CONNECTIONS, opts.tcpMaxPerSource ?? TCP_MAX_PER_SOURCE);
  const native = opts.thread ? await loadFfi() : null;
  const udpHandler = opts.rrl?.rate ? rateLimited(handler, opts.rrl, opts.counters ?? new DnsCounters()) : handler;
  /** Sockets bound through ffi, for the DNS thread: fd and listen address. */
  const raw: { fd: number; listen: Listen }[] = [];
  const bindRaw = (l: Listen): { fd: number; port: number } | null => {
    const name = native?.ffi.sockaddr(l.host, l.port);
    return native && name ? native.ffi.bindUdpSocket(native.libc, name, UDP_RECV_BUFFER, l.host) : null;
  };
  // A bind error keeps its code and message and says which socket it was (transport,
  // address and port), so that serve and secondary can name it: "cannot bind UDP ADDR:PORT".
  const which = (e: unknown, transport: "UDP" | "TCP", at: Listen) =>
    e && typeof e === "object" ? Object.assign(e, { transport, listen: { host: at.host, port: at.port } }) : e;
  for (const l of listens) {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      let r: { fd: number; port: number } | null;
      let u: dgram.Socket | null;
      try {
        r = bindRaw(l);
        u = r ? null : await bindUdp(l, udpHandler, !!opts.plainDgram);
      } catch (e) {
        throw which(e, "UDP", l);
      }
      const port = r ? r.port : u!.address().port;
      try {
        const t = await bindTcp({ host: l.host, port }, handler, open, slots, opts);
        if (r) raw.push({ fd: r.fd, listen: { host: l.host, port } });
        else udp.push(u!);
        tcp.push(t);
        addresses.push({ host: l.host, port });
        lastErr = undefined;
        break;
      } catch (e) {
        if (r) native!.libc.close(r.fd);
        else u!.close();
        lastErr = which(e, "TCP", { host: l.host, port });
        if (l.port !== 0) break; // a fixed port taken by TCP: report it
      }
    }
    if (lastErr) throw lastErr;
  }
  let thread: UdpThread | null = null;
  if (raw.length && native && opts.thread) {
    const { UdpThread } = await import("./udp-thread");
    thread = await UdpThread.start({
      libc: native.libc,
      fds: raw.map((r) => r.fd),
      snapshot: opts.thread.snapshot,
      signed: opts.thread.signed,
      notify: !!opts.thread.notify,
      forward: (q, peer) => safeCall(udpHandler, q, "udp", peer),
      onError: opts.thread.onError,
      rrl: opts.rrl,
    });
    if (!thread) {
      // Served here after all, on the same ports.
      for (const r of raw) {
        native.libc.close(r.fd);
        udp.push(await bindUdp(r.listen, udpHandler, !!opts.plainDgram));
      }
      raw.length = 0;
    }
  }
  return {
    addresses,
    tcpConnections: () => slots.size,
    threaded: thread !== null,
    threadCounters: thread?.counters ?? null,
    zoneChanged: (m) => thread?.zoneChanged(m),
    close: async () => {
      for (const c of open) c.destroy();
      await thread?.close();
      for (const r of raw) native!.libc.close(r.fd);
      await Promise.all([...udp.map((s) => new Promise<void>((r) => s.close(() => r()))), ...tcp.map((s) => new Promise<void>((r) => s.close(() => r())))]);
    },
  };
}
