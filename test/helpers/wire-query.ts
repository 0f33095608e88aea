/**
 * Queries built byte by byte (so tests can send what dns-packet would refuse to encode:
 * odd classes, two OPTs, bad counts, escaped dots in labels, any case), and responses
 * rendered as comparable text.
 */
import { createSocket } from "node:dgram";
import net from "node:net";
import * as packet from "dns-packet";

export interface QueryOptions {
  id?: number;
  qclass?: number;
  opcode?: number;
  rd?: boolean;
  cd?: boolean;
  /** EDNS: absent means no OPT. */
  edns?: { payload?: number; version?: number; do?: boolean; count?: number };
}

/** Wire form of a presentation name keeping its case; "\." is a dot inside a label. */
export function nameBytes(name: string): number[] {
  const out: number[] = [];
  if (name === "." || name === "") return [0];
  const labels: number[][] = [];
  let cur: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === "\\") cur.push(name.charCodeAt(++i));
    else if (c === ".") {
      labels.push(cur);
      cur = [];
    } else cur.push(name.charCodeAt(i));
  }
  if (cur.length) labels.push(cur);
  for (const l of labels) out.push(l.length, ...l);
  out.push(0);
  return out;
}

export function buildQuery(name: string, qtype: number, o: QueryOptions = {}): Uint8Array {
  const id = o.id ?? 0x4242;
  const flags = ((o.opcode ?? 0) << 11) | (o.rd ? 0x0100 : 0) | (o.cd ? 0x0010 : 0);
  const optCount = o.edns ? (o.edns.count ?? 1) : 0;
  const b = [id >> 8, id & 0xff, flags >> 8, flags & 0xff, 0, 1, 0, 0, 0, 0, 0, optCount];
  b.push(...nameBytes(name), qtype >> 8, qtype & 0xff, (o.qclass ?? 1) >> 8, (o.qclass ?? 1) & 0xff);
  for (let i = 0; i < optCount; i++) {
    const p = o.edns!.payload ?? 1232;
    b.push(0, 0, 41, p >> 8, p & 0xff, 0, o.edns!.version ?? 0, o.edns!.do ? 0x80 : 0, 0, 0, 0);
  }
  return Uint8Array.from(b);
}

export function udpExchange(port: number, msg: Uint8Array, timeoutMs = 2000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.on("message", (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.on("error", () => {
      clearTimeout(t);
      s.close();
      resolve(null);
    });
    s.send(msg, port, "127.0.0.1");
  });
}

export function tcpExchange(port: number, msg: Uint8Array, timeoutMs = 3000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    const done = (v: Buffer | null) => {
      clearTimeout(t);
      sock.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    sock.on("error", () => done(null));
    sock.on("close", () => done(null));
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on("connect", () => {
      const f = Buffer.alloc(2 + msg.length);
      f.writeUInt16BE(msg.length, 0);
      f.set(msg, 2);
      sock.write(f);
    });
  });
}

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (x && typeof x === "object" && x.type === "Buffer" && Array.isArray(x.data)) return Buffer.from(x.data).toString("hex");
    return x;
  });
}

export interface Rendered {
  header: string;
  question: string;
  answer: string[];
  authority: string[];
  additional: string[];
  opt: string;
}

/**
 * A response as text: header flags and rcode (extended included), the question's bytes, each
 * section's records sorted (order is not significant), the OPT record without its options.
 */
export function render(msg: Buffer | null): Rendered | string {
  if (!msg) return "no response";
  let d: packet.DecodedPacket;
  try {
    d = packet.decode(msg);
  } catch (e) {
    return `undecodable ${msg.toString("hex")} (${(e as Error).message})`;
  }
  const flags = msg.readUInt16BE(2);
  const names: [number, string][] = [
    [0x8000, "qr"],
    [0x0400, "aa"],
    [0x0200, "tc"],
    [0x0100, "rd"],
    [0x0080, "ra"],
    [0x0020, "ad"],
    [0x0010, "cd"],
  ];
  const opt = (d.additionals ?? []).find((a) => a.type === "OPT") as
    | (packet.OptAnswer & { extendedRcode?: number; flags?: number; ednsVersion?: number })
    | undefined;
  const ext = ((opt?.extendedRcode ?? 0) << 4) | (flags & 0xf);
  const header = [
    `opcode=${(flags >> 11) & 0xf}`,
    `rcode=${RCODES[ext] ?? ext}`,
    names
      .filter(([bit]) => flags & bit)
      .map(([, n]) => n)
      .join(" "),
    `qd=${msg.readUInt16BE(4)}`,
  ].join(" ");
  // The question as bytes: case and all must come back exactly as sent.
  let qEnd = 12;
  if (msg.readUInt16BE(4) > 0) {
    while (qEnd < msg.length && msg[qEnd] !== 0) qEnd += 1 + msg[qEnd]!;
    qEnd += 5;
  }
  const rr = (r: packet.Answer) => {
    const a = r as packet.Answer & { ttl?: number; class?: string; data?: unknown };
    return `${a.name}. ${a.ttl} ${a.class} ${a.type} ${show(a.data)}`;
  };
  return {
    header,
    question: msg.subarray(12, qEnd).toString("hex"),
    answer: (d.answers ?? []).map(rr).sort(),
    authority: (d.authorities ?? []).map(rr).sort(),
    additional: (d.additionals ?? [])
      .filter((a) => a.type !== "OPT")
      .map(rr)
      .sort(),
    opt: opt ? `udp=${opt.udpPayloadSize} version=${opt.ednsVersion ?? 0} do=${((opt.flags ?? 0) & 0x8000) !== 0}` : "none",
  };
}
