/**
 * Hostile DNS packets from a seeded generator (the same seed gives the same packets, so a
 * failure can be replayed): random bytes, bit flips and truncations of valid queries, bad
 * compression pointers and pointer loops, huge section counts, bad label lengths, broken
 * EDNS and TSIG records.
 */
import * as packet from "dns-packet";

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ["A", "AAAA", "TXT", "MX", "NS", "SOA", "CNAME", "SRV", "CAA", "PTR", "ANY", "AXFR", "IXFR", "DS", "HTTPS"];

export function validQuery(r: () => number, zone: string): Uint8Array {
  const labels = ["", "home.", "www.", "nope.", "a.b.c.", "*.", "_acme-challenge.home.", `x${Math.floor(r() * 1e6)}.`];
  const name = labels[Math.floor(r() * labels.length)]! + (r() < 0.9 ? zone : "example.org");
  const type = TYPES[Math.floor(r() * TYPES.length)]!;
  const additionals: packet.Answer[] = [];
  if (r() < 0.5) additionals.push({ type: "OPT", name: ".", udpPayloadSize: Math.floor(r() * 70000) % 65536, flags: r() < 0.5 ? 0x8000 : 0 } as packet.Answer);
  const q = packet.encode({
    id: Math.floor(r() * 65536),
    type: "query",
    flags: Math.floor(r() * 65536) & 0x7fff & ~0x8000,
    questions: [{ name, type: type as packet.RecordType, class: r() < 0.9 ? "IN" : "CH" }],
    additionals,
  });
  return new Uint8Array(q);
}

function randomBytes(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** One hostile packet. */
export function fuzzPacket(r: () => number, zone: string): Uint8Array {
  const base = validQuery(r, zone);
  const kind = Math.floor(r() * 10);
  switch (kind) {
    case 0: // pure noise, any length (including 0 and under a header)
      return randomBytes(r, Math.floor(r() * (r() < 0.2 ? 12 : 700)));
    case 1: {
      // bit flips
      const b = base.slice();
      for (let i = 1 + Math.floor(r() * 8); i > 0; i--) b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8);
      return b;
    }
    case 2: // truncation
      return base.slice(0, Math.floor(r() * base.length));
    case 3: {
      // compression pointer in the question: past the end, to itself, or a two-pointer loop
      const b = new Uint8Array(base.length + 4);
      b.set(base.subarray(0, 12));
      const mode = Math.floor(r() * 3);
      if (mode === 0) b.set([0xc0 | 0x3f, 0xff], 12);
      else if (mode === 1) b.set([0xc0, 12], 12);
      else b.set([0xc0, 14, 0xc0, 12], 12);
      b.set([0, 1, 0, 1], mode === 2 ? 16 : 14);
      return b;
    }
    case 4: {
      // huge counts
      const b = base.slice();
      const at = 4 + 2 * Math.floor(r() * 4);
      b[at] = 0xff;
      b[at + 1] = Math.floor(r() * 256);
      return b;
    }
    case 5: {
      // bad label lengths: reserved label types (0x40, 0x80) or lengths past the end
      const b = base.slice();
      b[12] = r() < 0.5 ? 0x40 | Math.floor(r() * 0x40) : 0x3f;
      return b;
    }
    case 6: {
      // a long chain of labels (name longer than 255 bytes)
      const labels: number[] = [];
      for (let i = 0; i < 100; i++) labels.push(3, 0x61, 0x62, 0x63);
      return new Uint8Array([...base.subarray(0, 12), ...labels, 0, 0, 1, 0, 1]);
    }
    case 7: {
      // trailing garbage / records that do not parse after a valid question
      const extra = randomBytes(r, Math.floor(r() * 200));
      const b = new Uint8Array(base.length + extra.length);
      b.set(base);
      b.set(extra, base.length);
      b[11] = (b[11]! + 1 + Math.floor(r() * 3)) & 0xff;
      return b;
    }
    case 8: {
      // a fake TSIG record (type 250, class ANY) with random RDATA
      const rdata = randomBytes(r, Math.floor(r() * 80));
      const rr = new Uint8Array([3, 0x6b, 0x65, 0x79, 0, 0, 250, 0, 255, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 0xff, ...rdata]);
      const b = new Uint8Array(base.length + rr.length);
      b.set(base);
      b.set(rr, base.length);
      b[11] = (b[11]! + 1) & 0xff;
      return b;
    }
    default: {
      // opcode, QR and rcode bits at random on an otherwise valid query
      const b = base.slice();
      b[2] = Math.floor(r() * 256);
      b[3] = Math.floor(r() * 256);
      return b;
    }
  }
}
