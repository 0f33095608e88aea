/**
 * Floors for the DNS benchmark: UDP servers that do no DNS work at all (each flips the QR bit
 * of a query and sends it back). Whatever CPU one costs per packet, a server on the same I/O
 * path cannot go below it.
 *   bun: Bun's UDP socket, replies batched with sendMany as src/dns/server.ts does.
 *   ffi: ipkeep's DNS thread's I/O (src/dns/ffi.ts): poll, then recvmmsg/sendmmsg through
 *        bun:ffi, 64 datagrams per call, one JavaScript view per packet.
 * Usage: node_modules/.bin/bun scripts/bench/udp-floor.ts PORT [bun|ffi]   (ffi: Linux on x86-64 or arm64)
 */
import { bindUdpSocket, loadLibc, MmsgRing, serveSockets, sockaddr } from "../../src/dns/ffi";

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
  // ipkeep's own UDP layer (src/dns/ffi.ts), as the DNS thread runs it, minus the DNS work.
  const libc = loadLibc();
  if (!libc) throw new Error("bun:ffi socket layer not available here");
  const { fd } = bindUdpSocket(libc, sockaddr("127.0.0.1", port)!, 2 * 1024 * 1024);
  console.log(`listening on 127.0.0.1:${port}`);
  serveSockets(
    libc,
    [fd],
    () => false,
    (ring, n) => {
      for (let i = 0; i < n; i++) {
        const len = ring.length(i);
        if (len < 0) continue;
        const q = ring.recvData.subarray(i * MmsgRing.RECV_SLOT, i * MmsgRing.RECV_SLOT + len);
        q[2] = q[2]! | 0x80;
        ring.queue(i, q);
      }
    },
  );
}
