/**
 * DNS response counters: a flat number array indexed by (rcode, type), so counting a query is
 * two array reads and one increment, no allocation. Label sets are fixed in advance (an
 * unknown query type is "other"), so what a client sends never grows the metrics page. The
 * DNS thread counts into shared memory the main thread reads (src/metrics.ts sums them).
 */

/** Query types we name in the metrics; anything else is counted as "other". */
export const DNS_TYPES = [
  "A",
  "NS",
  "CNAME",
  "SOA",
  "PTR",
  "MX",
  "TXT",
  "AAAA",
  "SRV",
  "DS",
  "DNSKEY",
  "HTTPS",
  "SVCB",
  "CAA",
  "IXFR",
  "AXFR",
  "ANY",
  "other",
] as const;
const TYPE_CODES: Record<number, number> = {
  1: 0,
  2: 1,
  5: 2,
  6: 3,
  12: 4,
  15: 5,
  16: 6,
  28: 7,
  33: 8,
  43: 9,
  48: 10,
  65: 11,
  64: 12,
  257: 13,
  251: 14,
  252: 15,
  255: 16,
};
const OTHER_TYPE = DNS_TYPES.length - 1;
/** Index by numeric rcode (0-15) -> name; reserved values are still bounded (16 entries). */
export const RCODES = [
  "NOERROR",
  "FORMERR",
  "SERVFAIL",
  "NXDOMAIN",
  "NOTIMP",
  "REFUSED",
  "YXDOMAIN",
  "YXRRSET",
  "NXRRSET",
  "NOTAUTH",
  "NOTZONE",
  "RCODE11",
  "RCODE12",
  "RCODE13",
  "RCODE14",
  "RCODE15",
] as const;
const DNS_CELLS = RCODES.length * DNS_TYPES.length;

export class DnsCounters {
  /** Bytes of the shared memory a counter set for another thread needs. */
  static readonly BYTES = (DNS_CELLS + 3) * 8;
  /** [rcode * DNS_TYPES.length + typeIndex] */
  readonly responses: Float64Array;
  private readonly cells: Float64Array;

  /** `shared`: memory another thread counts into (the DNS thread's counters, read here). */
  constructor(shared?: SharedArrayBuffer) {
    this.cells = new Float64Array(shared ?? new ArrayBuffer(DnsCounters.BYTES));
    this.responses = this.cells.subarray(0, DNS_CELLS);
  }

  /** Packets we did not answer at all (too short to reply to, responses, handler dropped). */
  get dropped(): number {
    return this.cells[DNS_CELLS]!;
  }
  set dropped(v: number) {
    this.cells[DNS_CELLS] = v;
  }

  /** Answers that response rate limiting dropped (src/dns/rrl.ts). */
  get rrlDropped(): number {
    return this.cells[DNS_CELLS + 1]!;
  }
  set rrlDropped(v: number) {
    this.cells[DNS_CELLS + 1] = v;
  }

  /** Answers that response rate limiting sent truncated instead (TC, question only). */
  get rrlSlipped(): number {
    return this.cells[DNS_CELLS + 2]!;
  }
  set rrlSlipped(v: number) {
    this.cells[DNS_CELLS + 2] = v;
  }

  /**
   * Counts one handled query from its wire bytes and our reply. Reads the question type by
   * skipping the QNAME labels; a malformed question counts as "other".
   */
  count(query: Uint8Array, reply: Uint8Array | null): void {
    if (!reply || reply.length < 4) {
      this.dropped++;
      return;
    }
    let type = OTHER_TYPE;
    let i = 12;
    const n = query.length;
    // Labels only: a compression pointer cannot appear in a well-formed question.
    while (i < n) {
      const len = query[i]!;
      if (len === 0 || len > 63) break;
      i += len + 1;
    }
    if (i + 2 < n && query[i] === 0) {
      const t = TYPE_CODES[(query[i + 1]! << 8) | query[i + 2]!];
      if (t !== undefined) type = t;
    }
    this.responses[(reply[3]! & 0x0f) * DNS_TYPES.length + type]!++;
  }

  get(rcode: string, type: string): number {
    const r = RCODES.indexOf(rcode as never);
    const t = DNS_TYPES.indexOf(type as never);
    return r < 0 || t < 0 ? 0 : this.responses[r * DNS_TYPES.length + t]!;
  }
}
