/**
 * A tiny DNS server on 127.0.0.1 (port 0) that plays a parent zone for delegation checks:
 * it refers each configured domain to its NS set (authority section, as a TLD server does)
 * and answers NXDOMAIN for anything else. Stopped by close().
 */
import dgram from "node:dgram";
import * as packet from "dns-packet";

export interface ParentZone {
  port: number;
  /** domain -> NS names the parent lists; change it between requests. */
  delegations: Map<string, string[]>;
  /** domain -> the DS records the parent has ("TAG ALG DIGESTTYPE HEX"), answered to DS queries. */
  ds: Map<string, string[]>;
  /** When set, answers every query with this rcode (a broken resolver). */
  failWith: string | null;
  close(): Promise<void>;
}

export function startParentZone(): Promise<ParentZone> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    // A client that gave up makes the answer bounce (ECONNREFUSED): not the parent's problem.
    sock.on("error", () => {});
    const state = { delegations: new Map<string, string[]>(), ds: new Map<string, string[]>(), failWith: null as string | null };
    sock.on("message", (msg, rinfo) => {
      let q: packet.Packet;
      try {
        q = packet.decode(msg);
      } catch {
        return;
      }
      const name = (q.questions?.[0]?.name ?? "").toLowerCase().replace(/\.$/, "");
      const ns = state.delegations.get(name);
      const rcode = state.failWith ?? (ns ? "NOERROR" : "NXDOMAIN");
      const out = packet.encode({
        type: "response",
        id: q.id,
        flags: packet.RECURSION_DESIRED | ({ NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as Record<string, number>)[rcode]!,
        questions: q.questions,
        authorities: state.failWith || q.questions?.[0]?.type === "DS" ? [] : (ns ?? []).map((n) => ({ type: "NS", name, ttl: 172800, class: "IN", data: n })),
        answers:
          !state.failWith && q.questions?.[0]?.type === "DS"
            ? (state.ds.get(name) ?? []).map((d) => {
                const [keyTag, algorithm, digestType, hex] = d.split(" ");
                return {
                  type: "DS",
                  name,
                  ttl: 3600,
                  class: "IN",
                  data: { keyTag: Number(keyTag), algorithm: Number(algorithm), digestType: Number(digestType), digest: Buffer.from(hex!, "hex") },
                };
              })
            : [],
      } as packet.Packet);
      try {
        sock.send(out, rinfo.port, rinfo.address, () => {});
      } catch {
        /* client gone */
      }
    });
    sock.bind(0, "127.0.0.1", () => {
      const zone: ParentZone = {
        port: sock.address().port,
        delegations: state.delegations,
        ds: state.ds,
        get failWith() {
          return state.failWith;
        },
        set failWith(v) {
          state.failWith = v;
        },
        close: () => new Promise<void>((r) => sock.close(() => r())),
      };
      resolve(zone);
    });
  });
}
