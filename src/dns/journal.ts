/**
 * The IXFR journal (RFC 1995): every delta applied to a served zone, as the records it took
 * out and put in between two SOAs, kept in memory and bounded by count and bytes per zone. A
 * secondary whose serial is in the journal gets the differences since; one older than the
 * journal (or after a restart, or a full reload, which empty it) gets the whole zone.
 */
import { type RR, rrWire } from "./zone";

/**
 * One delta as IXFR sends it: the old SOA, the records removed, the new SOA, the records
 * added, in wire form, one block of bytes (a few objects per delta, not a few per record).
 */
export interface JournalEntry {
  from: number;
  to: number;
  wire: Uint8Array;
  /** End offset of each record in wire. */
  ends: Uint32Array;
}

export interface JournalLimits {
  /** Deltas kept per zone. */
  maxEntries: number;
  /** Bytes of records kept per zone. */
  maxBytes: number;
}

const serialOf = (soa: RR) => {
  const r = soa.rdata;
  const at = r.length - 20;
  return ((r[at]! << 24) | (r[at + 1]! << 16) | (r[at + 2]! << 8) | r[at + 3]!) >>> 0;
};

/** The records of an entry, in order. */
export function entryRecords(e: JournalEntry): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const end of e.ends) {
    out.push(e.wire.subarray(start, end));
    start = end;
  }
  return out;
}

export class Journal {
  private zones = new Map<number, { entries: JournalEntry[]; bytes: number }>();

  constructor(private limits: JournalLimits) {}

  /** A delta was applied: the zone went from oldSoa to newSoa by removing and adding records. */
  record(zoneId: number, d: { oldSoa: RR; newSoa: RR; removed: RR[]; added: RR[] }): void {
    if (this.limits.maxEntries === 0) return;
    let z = this.zones.get(zoneId);
    if (!z) this.zones.set(zoneId, (z = { entries: [], bytes: 0 }));
    const records = [d.oldSoa, ...d.removed, d.newSoa, ...d.added].map(rrWire);
    const wire = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
    const ends = new Uint32Array(records.length);
    let off = 0;
    records.forEach((r, i) => {
      wire.set(r, off);
      ends[i] = off += r.length;
    });
    z.entries.push({ from: serialOf(d.oldSoa), to: serialOf(d.newSoa), wire, ends });
    z.bytes += wire.length;
    while (z.entries.length > this.limits.maxEntries || (z.bytes > this.limits.maxBytes && z.entries.length > 0)) {
      z.bytes -= z.entries.shift()!.wire.length;
    }
  }

  /** The zone was loaded afresh or dropped: what came before cannot be told as differences. */
  reset(zoneId: number): void {
    this.zones.delete(zoneId);
  }

  /**
   * The deltas from the client's serial to the current one, oldest first; null when the
   * journal does not reach back to that serial (the client gets the whole zone).
   */
  since(zoneId: number, serial: number): JournalEntry[] | null {
    const z = this.zones.get(zoneId);
    if (!z) return null;
    const start = z.entries.findIndex((e) => e.from === serial);
    if (start < 0) return null;
    return z.entries.slice(start);
  }

  /** Entries and bytes kept, for /metrics. */
  size(): { entries: number; bytes: number } {
    let entries = 0;
    let bytes = 0;
    for (const z of this.zones.values()) {
      entries += z.entries.length;
      bytes += z.bytes;
    }
    return { entries, bytes };
  }
}
