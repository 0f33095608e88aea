/**
 * A scripted DNS server on 127.0.0.1 (UDP): a fake parent zone or a fake secondary for
 * doctor's checks. The script maps (name, type) to an answer.
 */
import dgram from "node:dgram";
import * as packet from "dns-packet";

export type Script = (name: string, type: string) => { rcode?: number; answers?: packet.Answer[]; authorities?: packet.Answer[] } | null;

export interface FakeDns {
  port: number;
  queries: { name: string; type: string }[];
  close(): Promise<void>;
}

export async function fakeDns(script: Script): Promise<FakeDns> {
  const sock = dgram.createSocket("udp4");
  const queries: { name: string; type: string }[] = [];
  sock.on("message", (msg, rinfo) => {
    let q: packet.DecodedPacket;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    queries.push({ name: question.name, type: question.type });
    const r = script(question.name.toLowerCase(), question.type);
    if (!r) return; // silence: a timeout for the client
    const out = packet.encode({
      id: q.id,
      type: "response",
      flags: (r.rcode ?? 0) | packet.RECURSION_AVAILABLE | (q.flags ?? 0 & packet.RECURSION_DESIRED) | 0x0400,
      questions: q.questions,
      answers: r.answers ?? [],
      authorities: r.authorities ?? [],
    });
    sock.send(out, rinfo.port, rinfo.address);
  });
  const port = await new Promise<number>((resolve) => sock.bind(0, "127.0.0.1", () => resolve(sock.address().port)));
  return { port, queries, close: () => new Promise((r) => sock.close(() => r())) };
}

export const ns = (zone: string, target: string): packet.Answer => ({ name: zone, type: "NS", ttl: 3600, class: "IN", data: target });
export const soa = (zone: string, serial: number): packet.Answer => ({
  name: zone,
  type: "SOA",
  ttl: 3600,
  class: "IN",
  data: { mname: `ns1.${zone}`, rname: `hostmaster.${zone}`, serial, refresh: 3600, retry: 600, expire: 1209600, minimum: 60 },
});
