/**
 * UDP sockets driven through bun:ffi on Linux: recvmmsg/sendmmsg move up to BATCH datagrams
 * per system call with no JavaScript object per packet, which is what lets the DNS thread
 * (udp-thread.ts) keep pace with NSD. Bun's own UDP socket reads at most 8 datagrams per call
 * and makes a Buffer and an address string for each.
 *
 * The struct layouts are those of Linux on 64-bit targets (x86-64 and arm64 alike):
 *   struct mmsghdr { struct msghdr msg_hdr (56 bytes); unsigned msg_len; }  64 bytes, padded
 *   struct msghdr  { name ptr @0; namelen u32 @8; iov ptr @16; iovlen @24; control @32;
 *                    controllen @40; flags i32 @48 }
 *   struct iovec   { base ptr; len }  16 bytes
 *   struct pollfd  { fd i32; events i16; revents i16 }  8 bytes
 * Anything else (another OS, a 32-bit target, a libc we cannot open) makes `loadLibc` return
 * null and the caller keeps Bun's socket.
 */
import { dlopen, FFIType, type Pointer, ptr, read } from "bun:ffi";
import { bytesToIPv6, ipv4ToBytes, ipv6ToBytes, parseIPv4 } from "../core/addresses";
import { markSlipped } from "./rrl";

export const AF_INET = 2;
export const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const POLLIN = 1;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
/** sockaddr_in6 is the larger of the two address structs (MmsgRing.names has one per slot). */
export const NAME_SIZE = 28;

const libcSymbols = {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  recvmmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  sendmmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

export type Libc = ReturnType<typeof dlopen<typeof libcSymbols>>["symbols"];

let cached: Libc | null | undefined;

/** libc's socket calls, or null where this layer does not apply. */
export function loadLibc(): Libc | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) return null;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      cached = dlopen(name, libcSymbols).symbols;
      break;
    } catch {
      /* try the next name */
    }
  }
  return cached;
}

/** The sockaddr for host:port (host an IPv4 or IPv6 literal), or null. */
export function sockaddr(host: string, port: number): Uint8Array | null {
  const v4 = parseIPv4(host);
  const addr = v4 ? ipv4ToBytes(v4) : ipv6ToBytes(host);
  if (!addr) return null;
  const b = new Uint8Array(v4 ? 16 : NAME_SIZE);
  b[0] = v4 ? AF_INET : AF_INET6;
  b[2] = port >> 8;
  b[3] = port & 0xff;
  b.set(addr, v4 ? 4 : 8);
  return b;
}

/** The address text of a sockaddr as node:dgram would give it ("1.2.3.4", "::ffff:1.2.3.4"). */
export function peerOf(name: Uint8Array): string {
  if (name[0] === AF_INET) return `${name[4]}.${name[5]}.${name[6]}.${name[7]}`;
  if (name[0] === AF_INET6 && name.length >= 24) return bytesToIPv6(name.subarray(8, 24));
  return "";
}

interface BoundSocket {
  fd: number;
  port: number;
}

/** The errno values a bind reports to users (Linux numbering, the same on x86-64 and arm64). */
const ERRNO_CODES: Record<number, string> = { 1: "EPERM", 13: "EACCES", 22: "EINVAL", 97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL" };

/** This thread's errno right after a failed call. */
function errnoCode(libc: Libc): string {
  const at = libc.__errno_location();
  const n = at ? read.i32(at, 0) : 0;
  return ERRNO_CODES[n] ?? `errno ${n}`;
}

/**
 * A UDP socket bound to the address in `name` (port 0: the kernel picks one), with the given
 * receive buffer. A failed bind throws as node:dgram's would: code EADDRINUSE, EACCES, ...
 * and the message "bind CODE HOST" (what `serve` prints and `doctor` explains).
 */
export function bindUdpSocket(libc: Libc, name: Uint8Array, recvBuffer: number, host = ""): BoundSocket {
  const fd = libc.socket(name[0]!, SOCK_DGRAM, 0);
  if (fd < 0) throw new Error("socket() failed");
  // As NSD does: past net.core.rmem_max where we may (CAP_NET_ADMIN), else up to it.
  const int = new Int32Array([recvBuffer]);
  if (libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, ptr(int), 4) !== 0) libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(int), 4);
  // IPv6 alone on an IPv6 address (ipv6Only in server.ts).
  if (name[0] === AF_INET6) libc.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ptr(new Int32Array([1])), 4);
  if (libc.bind(fd, ptr(name), name.length) !== 0) {
    const code = errnoCode(libc);
    libc.close(fd);
    throw Object.assign(new Error(`bind ${code} ${host}`.trim()), { code });
  }
  const got = new Uint8Array(NAME_SIZE);
  const len = new Uint32Array([NAME_SIZE]);
  libc.getsockname(fd, ptr(got), ptr(len));
  return { fd, port: (got[2]! << 8) | got[3]! };
}

/** Sends one datagram (answers the main thread computes for the DNS thread). */
export function sendTo(libc: Libc, fd: number, data: Uint8Array, name: Uint8Array): boolean {
  if (data.length === 0) return false;
  return Number(libc.sendto(fd, ptr(data), data.length, 0, ptr(name), name[0] === AF_INET ? 16 : NAME_SIZE)) === data.length;
}

/**
 * BATCH receive slots and BATCH send slots over one socket, as recvmmsg/sendmmsg want them.
 * The receive header i always points at slot i; the send headers are filled per batch.
 */
export class MmsgRing {
  static readonly BATCH = 64;
  /** A datagram can be 65,507 bytes; a longer query is read whole and answered, as by NSD. */
  static readonly RECV_SLOT = 65536;
  /** UDP answers never exceed 1,232 bytes (EDNS) save signed ones, which the main thread sends. */
  static readonly SEND_SLOT = 4096;

  readonly recvData = new Uint8Array(MmsgRing.BATCH * MmsgRing.RECV_SLOT);
  readonly sendData = new Uint8Array(MmsgRing.BATCH * MmsgRing.SEND_SLOT);
  readonly names = new Uint8Array(MmsgRing.BATCH * NAME_SIZE);
  private readonly recvHdr = new Uint32Array(MmsgRing.BATCH * 16);
  private readonly sendHdr = new Uint32Array(MmsgRing.BATCH * 16);
  private readonly recvIov = new Uint32Array(MmsgRing.BATCH * 4);
  private readonly sendIov = new Uint32Array(MmsgRing.BATCH * 4);
  /** Address of names slot i, as two 32-bit halves, so a batch allocates no BigInt. */
  private readonly nameLo = new Uint32Array(MmsgRing.BATCH);
  private readonly nameHi = new Uint32Array(MmsgRing.BATCH);
  private readonly recvHdrAt: Pointer;
  private readonly sendHdrAt: Pointer;
  /** Answers queued in the send headers. */
  pending = 0;

  constructor(private readonly libc: Libc) {
    const B = MmsgRing.BATCH;
    const set64 = (a: Uint32Array, i: number, v: number) => {
      a[i] = v % 0x1_0000_0000;
      a[i + 1] = Math.floor(v / 0x1_0000_0000);
    };
    const recvAt = ptr(this.recvData);
    const sendAt = ptr(this.sendData);
    const namesAt = ptr(this.names);
    const recvIovAt = ptr(this.recvIov);
    const sendIovAt = ptr(this.sendIov);
    for (let i = 0; i < B; i++) {
      set64(this.recvIov, 4 * i, recvAt + i * MmsgRing.RECV_SLOT);
      this.recvIov[4 * i + 2] = MmsgRing.RECV_SLOT;
      set64(this.sendIov, 4 * i, sendAt + i * MmsgRing.SEND_SLOT);
      const nameAt = namesAt + i * NAME_SIZE;
      this.nameLo[i] = nameAt % 0x1_0000_0000;
      this.nameHi[i] = Math.floor(nameAt / 0x1_0000_0000);
      set64(this.recvHdr, 16 * i, nameAt);
      this.recvHdr[16 * i + 2] = NAME_SIZE;
      set64(this.recvHdr, 16 * i + 4, recvIovAt + 16 * i);
      this.recvHdr[16 * i + 6] = 1;
      set64(this.sendHdr, 16 * i + 4, sendIovAt + 16 * i);
      this.sendHdr[16 * i + 6] = 1;
    }
    this.recvHdrAt = ptr(this.recvHdr);
    this.sendHdrAt = ptr(this.sendHdr);
  }

  /** Reads up to BATCH datagrams; how many (0 when none, or on a timeout or an error). */
  receive(fd: number, flags: number): number {
    for (let i = 0; i < MmsgRing.BATCH; i++) this.recvHdr[16 * i + 2] = NAME_SIZE;
    const n = this.libc.recvmmsg(fd, this.recvHdrAt, MmsgRing.BATCH, flags, null);
    return n > 0 ? n : 0;
  }

  /** Length of received datagram i; -1 when it did not fit its slot. */
  length(i: number): number {
    return this.recvHdr[16 * i + 12]! & MSG_TRUNC ? -1 : this.recvHdr[16 * i + 14]!;
  }

  /** The sender of received datagram i (a copy). */
  name(i: number): Uint8Array {
    return this.names.slice(i * NAME_SIZE, i * NAME_SIZE + this.recvHdr[16 * i + 2]!);
  }

  /** Queues `reply` to the sender of received datagram i; false when it does not fit a slot. */
  queue(i: number, reply: Uint8Array): boolean {
    if (reply.length > MmsgRing.SEND_SLOT) return false;
    this.sendData.set(reply, this.enqueue(i, reply.length) * MmsgRing.SEND_SLOT);
    return true;
  }

  /**
   * Queues the first `length` bytes of `reply` (header and question) to the sender of
   * received datagram i as a slipped answer: TC set, no records (rrl.ts). Copied byte by
   * byte: no view object per packet on the path a flood takes.
   */
  queueSlipped(i: number, reply: Uint8Array, length: number): boolean {
    if (length > MmsgRing.SEND_SLOT || length > reply.length) return false;
    const at = this.enqueue(i, length) * MmsgRing.SEND_SLOT;
    for (let k = 0; k < length; k++) this.sendData[at + k] = reply[k]!;
    markSlipped(this.sendData, at);
    return true;
  }

  /** Takes the next send slot for `length` bytes to the sender of datagram i; its index. */
  private enqueue(i: number, length: number): number {
    const j = this.pending++;
    this.sendIov[4 * j + 2] = length;
    this.sendHdr[16 * j] = this.nameLo[i]!;
    this.sendHdr[16 * j + 1] = this.nameHi[i]!;
    this.sendHdr[16 * j + 2] = this.recvHdr[16 * i + 2]!;
    return j;
  }

  /**
   * Sends what is queued. sendmmsg stops at an answer the kernel refuses; that one is skipped
   * and the rest still go, so one bad destination never costs the others their answers.
   */
  flush(fd: number): void {
    const total = this.pending;
    this.pending = 0;
    let i = 0;
    while (i < total) {
      const sent = this.libc.sendmmsg(fd, (this.sendHdrAt + 64 * i) as Pointer, total - i, 0);
      i += sent > 0 ? sent : 1;
    }
  }
}

/**
 * A pipe that wakes a thread sleeping in serveSockets: `wake()` from any thread makes its
 * poll() return at once. Non-blocking both ends: wakes while one is pending coalesce.
 */
export class Waker {
  readonly readFd: number;
  private readonly writeFd: number;
  private readonly one = new Uint8Array([1]);

  constructor(private readonly libc: Libc) {
    const fds = new Int32Array(2);
    if (libc.pipe2(ptr(fds), O_NONBLOCK | O_CLOEXEC) !== 0) throw new Error("pipe2() failed");
    this.readFd = fds[0]!;
    this.writeFd = fds[1]!;
  }

  wake(): void {
    this.libc.write(this.writeFd, ptr(this.one), 1);
  }

  close(): void {
    this.libc.close(this.readFd);
    this.libc.close(this.writeFd);
  }
}

/**
 * Serves bound sockets until `stop()` says so: sleeps in poll() while every socket is idle
 * (waking every pollMs to ask stop(), or at once when `wake.fd` becomes readable: then
 * `wake.run()` after draining it), reads them back to back while any is busy. For each
 * receive, `batch(ring, n, fd)` handles the n datagrams and queues answers on the ring, which
 * are then sent in one sendmmsg. Used by the DNS thread and by the benchmark's floor.
 */
export function serveSockets(
  libc: Libc,
  fds: number[],
  stop: () => boolean,
  batch: (ring: MmsgRing, n: number, fd: number) => void,
  pollMs = 200,
  wake?: { fd: number; run: () => void },
): void {
  const rings = fds.map(() => new MmsgRing(libc));
  const all = wake ? [...fds, wake.fd] : fds;
  // struct pollfd[]: fd, then events (low half) and revents (high half) of one 32-bit word.
  const pollfds = new Int32Array(all.length * 2);
  all.forEach((fd, i) => {
    pollfds[2 * i] = fd;
    pollfds[2 * i + 1] = POLLIN;
  });
  const pollAt = ptr(pollfds);
  const drain = new Uint8Array(64);
  const drainAt = ptr(drain);
  let busy = false;
  while (!stop()) {
    if (!busy) {
      libc.poll(pollAt, all.length, pollMs);
      if (wake && pollfds[2 * fds.length + 1]! >>> 16) {
        while (Number(libc.read(wake.fd, drainAt, drain.length)) > 0) {
          /* empty the pipe */
        }
        wake.run();
      }
    }
    busy = false;
    for (let s = 0; s < fds.length; s++) {
      const ring = rings[s]!;
      const n = ring.receive(fds[s]!, MSG_DONTWAIT);
      if (n === 0) continue;
      busy = true;
      batch(ring, n, fds[s]!);
      ring.flush(fds[s]!);
    }
  }
}
