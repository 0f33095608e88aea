/**
 * One DNS question over UDP to one nameserver, for checking that our own nameservers carry a
 * DNS-01 value (TXT) or a zone's serial (SOA) before the CA is told to look.
 */
import dgram from "node:dgram";
import { randomInt } from "node:crypto";
import { isIP } from "node:net";
import packet from "dns-packet";

export interface Probe {
  host: string;
  port: number;
}

async function ask(ns: Probe, name: string, type: "TXT" | "SOA", timeoutMs = 1500): Promise<packet.Packet | null> {
  const family = isIP(ns.host) === 6 ? "udp6" : "udp4";
  const sock = dgram.createSocket(family);
  const id = randomInt(0, 65536);
  const query = packet.encode({ type: "query", id, flags: 0, questions: [{ name, type, class: "IN" }] });
  try {
    return await new Promise<packet.Packet | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      sock.on("error", () => {
        clearTimeout(timer);
        resolve(null);
      });
      sock.on("message", (msg) => {
        try {
          const p = packet.decode(msg);
          if (p.id !== id) return;
          clearTimeout(timer);
          resolve(p);
        } catch {
          // not an answer to us
        }
      });
      sock.send(query, ns.port, ns.host);
    });
  } finally {
    sock.close();
  }
}

/** Whether the nameserver answers the TXT value at name. */
export async function carriesTxt(ns: Probe, name: string, value: string): Promise<boolean> {
  const p = await ask(ns, name, "TXT");
  return !!p?.answers?.some(
    (a) =>
      a.type === "TXT" &&
      [a.data]
        .flat()
        .map((d) => (typeof d === "string" ? d : Buffer.from(d as Uint8Array).toString()))
        .join("") === value,
  );
}

/** The zone's serial as the nameserver has it, or null when it does not answer. */
export async function soaSerial(ns: Probe, zone: string): Promise<number | null> {
  const p = await ask(ns, zone, "SOA");
  const soa = p?.answers?.find((a) => a.type === "SOA");
  return soa ? (soa.data as { serial: number }).serial : null;
}

/** Where to ask a listener of ours: a wildcard address is asked on loopback. */
export function probeOf(l: { host: string; port: number }): Probe {
  const host = l.host === "0.0.0.0" ? "127.0.0.1" : l.host === "::" ? "::1" : l.host;
  return { host, port: l.port };
}
