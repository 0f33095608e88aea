/**
 * Floors for the DNS benchmark: UDP servers that do no DNS work at all (each flips the QR bit
 * of a query and sends it back). Whatever CPU one costs per packet, a server on the same I/O
 * path cannot go below it.
 *   bun: Bun's UDP socket, replies batched with sendMany as src/dns/server.ts does.
 *   ffi: the socket driven through bun:ffi, 64 datagrams per recvmmsg and per sendmmsg, no
 *        JavaScript object per packet; it blocks in recvmmsg (no event loop), so it shows what
 *        a DNS worker thread on this path could reach, not something ipkeep does today.
 * Usage: node_modules/.bin/bun scripts/bench/udp-floor.ts PORT [bun|ffi]   (ffi: Linux x86-64)
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const port = Number(process.argv[2]);
const mode = process.argv[3] ?? "bun";

if (mode === "bun") {
  let batch: (Uint8Array | number | string)[] = [];
  let scheduled = false;
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(s, buf, p, addr) {
        const out = buf.slice();
        out[2] = out[2]! | 0x80;
        batch.push(out, p, addr);
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            const b = batch;
            batch = [];
            s.sendMany(b);
          });
        }
      },
    },
  });
  console.log(`listening on 127.0.0.1:${socket.port}`);
} else {
  const { symbols: libc } = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    recvmmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    sendmmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  });
  const N = 64;
  const SIZE = 1232;
  const MSG_WAITFORONE = 0x10000;
  const fd = libc.socket(2, 2, 0); // AF_INET, SOCK_DGRAM
  const sin = new Uint8Array(16); // sockaddr_in 127.0.0.1:port
  sin.set([2, 0, port >> 8, port & 0xff, 127, 0, 0, 1]);
  if (fd < 0 || libc.bind(fd, ptr(sin), 16) !== 0) throw new Error(`cannot bind 127.0.0.1:${port}`);
  // struct mmsghdr[N] (64 bytes each: msghdr + msg_len), one iovec and one sockaddr each.
  const data = new Uint8Array(N * SIZE);
  const names = new Uint8Array(N * 16);
  const iov = new BigUint64Array(N * 2);
  const hdr = new BigUint64Array(N * 8);
  const hdr32 = new Uint32Array(hdr.buffer);
  const dataAt = BigInt(ptr(data));
  const namesAt = BigInt(ptr(names));
  const iovAt = BigInt(ptr(iov));
  for (let i = 0; i < N; i++) {
    iov[2 * i] = dataAt + BigInt(i * SIZE);
    iov[2 * i + 1] = BigInt(SIZE);
    hdr[8 * i] = namesAt + BigInt(i * 16); // msg_name
    hdr32[16 * i + 2] = 16; // msg_namelen
    hdr[8 * i + 2] = iovAt + BigInt(i * 16); // msg_iov
    hdr[8 * i + 3] = 1n; // msg_iovlen
  }
  const hdrAt = ptr(hdr);
  console.log(`listening on 127.0.0.1:${port}`);
  for (;;) {
    const n = libc.recvmmsg(fd, hdrAt, N, MSG_WAITFORONE, null);
    if (n <= 0) continue;
    for (let i = 0; i < n; i++) {
      data[i * SIZE + 2] = data[i * SIZE + 2]! | 0x80;
      iov[2 * i + 1] = BigInt(hdr32[16 * i + 14]!); // reply length = msg_len
    }
    libc.sendmmsg(fd, hdrAt, n, 0);
    for (let i = 0; i < n; i++) {
      iov[2 * i + 1] = BigInt(SIZE);
      hdr32[16 * i + 2] = 16;
    }
  }
}
