/**
 * The served zones' signatures, kept beside LiveZones (main thread): a zone loaded is signed
 * whole (reusing what the store kept: a restart signs only what changed or fell due), a delta
 * re-signs its names, a timer renews what falls due and bumps the serial so secondaries take
 * the new signatures. Everything made is written to the store in the same step.
 */
import type { RR, Zone } from "../zone";
import { ensureKey, type DnssecStore } from "./manage";
import { nextRefresh, refreshSignatures, resignNames, type SignChanges, type SignedZone, signZone } from "./sign";

/** How long made signatures wait to be written (many updates share one write). */
const FLUSH_MS = 1000;

export interface SigningLog {
  (level: "info" | "error", msg: string, fields: Record<string, unknown>): void;
}

export class ZoneSigning {
  private signed = new Map<number, SignedZone>();
  /** Refreshed signatures not yet in a journal entry: they ride with the zone's next delta (the serial bump). */
  private pending = new Map<number, { added: RR[]; removed: RR[] }>();
  /**
   * Signatures not yet written. They are written a moment later, outside the change's own
   * transaction: a lost one only costs signing it again, and the update path pays no fsync.
   */
  private unsaved: { zoneId: number; c: SignChanges }[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private store: DnssecStore,
    private now: () => number,
    private log: SigningLog,
  ) {}

  get(zoneId: number): SignedZone | undefined {
    return this.signed.get(zoneId);
  }

  /** A zone was loaded afresh: signed whole (or its signatures forgotten when signing is off). */
  loaded(zone: Zone): void {
    this.pending.delete(zone.id);
    if (this.store.enabled(zone.id) !== true) {
      this.signed.delete(zone.id);
      return;
    }
    try {
      const now = this.now();
      const key = ensureKey(this.store, zone.id, now);
      const t0 = performance.now();
      this.flush();
      const { signed, changes } = signZone(zone, key, { now, stored: this.store.signatures(zone.id), withdrawing: this.store.mode(zone.id) === "withdrawing" });
      this.save(zone.id, changes);
      this.signed.set(zone.id, signed);
      if (changes.signed > 0)
        this.log("info", "zone signed", {
          zone: zone.name,
          signatures: changes.signed,
          reused: signed.signatureCount - changes.signed,
          ms: Math.round(performance.now() - t0),
        });
    } catch (e) {
      // Served unsigned rather than not at all; said loudly.
      this.signed.delete(zone.id);
      this.log("error", "zone could not be signed", { zone: zone.name, error: (e as Error).message });
    }
  }

  /** A delta was applied: its names re-signed; what changed in signatures, for the journal (null: signed whole again, the journal must start over). */
  delta(zone: Zone, names: string[]): { added: RR[]; removed: RR[] } | null {
    const signed = this.signed.get(zone.id);
    if (!signed) return { added: [], removed: [] };
    let c: SignChanges;
    try {
      c = resignNames(zone, signed, names, this.now());
    } catch (e) {
      // Never serve a half re-signed zone: sign it whole again (the journal starts over).
      this.log("error", "re-signing a change failed; signing the zone again", { zone: zone.name, error: (e as Error).message });
      this.loaded(zone);
      return null;
    }
    this.save(zone.id, c);
    const p = this.pending.get(zone.id);
    this.pending.delete(zone.id);
    return p ? { added: [...p.added, ...c.added], removed: [...p.removed, ...c.removed] } : { added: c.added, removed: c.removed };
  }

  dropped(zoneId: number): void {
    this.signed.delete(zoneId);
    this.pending.delete(zoneId);
  }

  /**
   * Renews what falls due in the zones given; returns the ids of zones whose signatures
   * changed (their serial must move so secondaries transfer them).
   */
  refresh(zones: (id: number) => Zone | undefined): number[] {
    const out: number[] = [];
    const now = this.now();
    for (const [id, signed] of this.signed) {
      const zone = zones(id);
      if (!zone) continue;
      const due = nextRefresh(signed);
      if (due === null || due > now) continue;
      const c = refreshSignatures(zone, signed, now);
      if (c.signed === 0) continue;
      this.save(id, c);
      const p = this.pending.get(id) ?? { added: [], removed: [] };
      p.added.push(...c.added);
      p.removed.push(...c.removed);
      this.pending.set(id, p);
      this.log("info", "signatures renewed", { zone: zone.name, signatures: c.signed });
      out.push(id);
    }
    return out;
  }

  /** When the next refresh is due (epoch seconds), or null. */
  nextDue(): number | null {
    let min: number | null = null;
    for (const s of this.signed.values()) {
      const t = nextRefresh(s);
      if (t !== null && (min === null || t < min)) min = t;
    }
    return min;
  }

  private save(zoneId: number, c: SignChanges): void {
    if (c.put.length === 0 && c.drop.length === 0) return;
    this.unsaved.push({ zoneId, c });
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
      (this.flushTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Writes the signatures made since the last write (also at stop). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.unsaved;
    this.unsaved = [];
    for (const { zoneId, c } of batch) {
      try {
        this.store.saveSignatures(zoneId, c.put, c.drop);
      } catch (e) {
        // Kept in memory and served; only a restart would sign them again.
        this.log("error", "signatures could not be stored", { zone: zoneId, error: (e as Error).message });
      }
    }
  }
}
