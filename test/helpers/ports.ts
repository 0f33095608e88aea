/**
 * A port free for both UDP and TCP on 127.0.0.1, for a server whose address another must
 * know before it starts (a secondary the primary NOTIFYs).
 */
import dgram from "node:dgram";
import net from "node:net";

export async function freeDnsPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const udp = dgram.createSocket("udp4");
    const port = await new Promise<number>((r) => udp.bind(0, "127.0.0.1", () => r(udp.address().port)));
    const ok = await new Promise<boolean>((r) => {
      const s = net.createServer();
      s.once("error", () => r(false));
      s.listen(port, "127.0.0.1", () => s.close(() => r(true)));
    });
    await new Promise<void>((r) => udp.close(() => r()));
    if (ok) return port;
  }
  throw new Error("no free port");
}
