/**
 * The runtime's own floor for the DNS benchmark: a Bun UDP server that does no DNS work at
 * all (it flips the QR bit of each query and sends it back, batched with sendMany as
 * src/dns/server.ts does). Whatever CPU this costs per packet, ipkeep cannot go below it.
 * Usage: node_modules/.bin/bun scripts/bench/udp-floor.ts PORT
 */
export {};

const port = Number(process.argv[2]);
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
