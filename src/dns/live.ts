/**
 * Keeps the in-memory zones in step with the database, at the cost of the change: every write
 * that changes what a zone serves leaves a row in the change log (store/migrations.ts, by
 * triggers, so commits of other processes are found the same way as our own). After a commit
 * here (ChangeSink) or a commit elsewhere (the data_version poll), the rows after the last one
 * applied are read, and only the names they list are read again and replaced in the zone
 * (applyDelta). A row for a whole zone (NS set, SOA fields, the zone added, verified or
 * removed), a zone not loaded yet, or a delta larger than a full load is worth, loads afresh.
 */
import type { Clock } from "../core/platform";
import { nowSeconds } from "../core/platform";
import type { PackedZone } from "../core/packed-zone";
import type { ChangeSink, ZoneData } from "../core/ports";
import { type AppliedDelta, buildPackedZone, type NodeContent, type ZoneDelta, ZoneSet } from "./zone";

export interface ZoneChange {
  seq: number;
  domainId: number;
  name: string | null;
}

export interface ZoneSource {
  /** Runs fn in one read transaction, so what it reads is one consistent state. */
  snapshot<T>(fn: () => T): T;
  serials(): { id: number; name: string; serial: number; served: boolean }[];
  packedZone(id: number, now: number): PackedZone | null;
  changesSince(seq: number, limit: number): ZoneChange[];
  lastChangeSeq(): number;
  pruneChanges(upTo: number): void;
  soaOf(id: number): { name: string; serial: number; served: boolean; soa: ZoneData["soa"] } | null;
  nodeRecords(id: number, names: string[], now: number): NodeContent[];
}

/** What happened to a zone, for the DNS thread (same data), NOTIFY and the journal. */
export type ZoneEvent =
  | { kind: "loaded"; id: number; packed: PackedZone }
  | { kind: "dropped"; id: number }
  | { kind: "delta"; id: number; delta: ZoneDelta; applied: AppliedDelta };

/** Rows read at a time; a longer backlog (a bulk import elsewhere) reloads what it touched. */
const BATCH = 20_000;
/** A delta of more names than this is a full load: it reads no less. */
const MAX_DELTA_NAMES = 5_000;
/** Applied rows are deleted from the log once this many have gathered (a write: not per commit). */
const PRUNE_EVERY = 1_000;

export class LiveZones implements ChangeSink {
  readonly zones = new ZoneSet();
  /** Every load, drop and delta, in order, after the zones were changed. */
  onEvent: (e: ZoneEvent) => void = () => {};
  /** Called after a zone was (re)loaded, changed or dropped, e.g. to send NOTIFY. */
  onChange: (zoneId: number) => void = () => {};
  private applied = 0;
  private pruned = 0;
  private started = false;

  constructor(
    private source: ZoneSource,
    private clock: Clock,
  ) {}

  private now(): number {
    return nowSeconds(this.clock);
  }

  private load(id: number): void {
    const packed = this.source.packedZone(id, this.now());
    if (!packed) {
      this.drop(id);
      return;
    }
    this.zones.set(buildPackedZone(packed));
    this.onEvent({ kind: "loaded", id, packed });
    this.onChange(id);
  }

  private drop(id: number): void {
    if (!this.zones.get(id)) return;
    this.zones.removeId(id);
    this.onEvent({ kind: "dropped", id });
    this.onChange(id);
  }

  /** A commit in this process: take what the change log says. */
  zoneChanged(_domainId: number): void {
    this.sync();
  }

  /** What the served zones are built from, read afresh (to restart the DNS thread with). */
  snapshot(): PackedZone[] {
    const now = this.now();
    return this.source.snapshot(() => this.zones.ids().flatMap((id) => this.source.packedZone(id, now) ?? []));
  }

  /**
   * Brings the zones up to the database: the first call loads every served zone; later ones
   * apply the change log. Returns the ids of the zones touched.
   */
  sync(): number[] {
    const touched = this.source.snapshot(() => (this.started ? this.catchUp() : this.loadAll()));
    if (this.applied - this.pruned >= PRUNE_EVERY) {
      this.source.pruneChanges(this.applied);
      this.pruned = this.applied;
    }
    return touched;
  }

  private loadAll(): number[] {
    this.started = true;
    this.applied = this.source.lastChangeSeq();
    const touched: number[] = [];
    for (const row of this.source.serials()) {
      if (!row.served) continue;
      this.load(row.id);
      touched.push(row.id);
    }
    // What happened before we loaded is in what we loaded.
    this.source.pruneChanges(this.applied);
    this.pruned = this.applied;
    return touched;
  }

  private catchUp(): number[] {
    const rows = this.source.changesSince(this.applied, BATCH);
    const byZone = new Map<number, Set<string> | null>();
    for (const r of rows) {
      const names = byZone.get(r.domainId);
      if (names === null) continue;
      if (r.name === null) byZone.set(r.domainId, null);
      else if (names) names.add(r.name);
      else byZone.set(r.domainId, new Set([r.name]));
    }
    if (rows.length > 0) this.applied = rows[rows.length - 1]!.seq;
    const backlog = rows.length === BATCH;
    const serials = new Map(this.source.serials().map((s) => [s.id, s]));
    const touched: number[] = [];
    // Zones whose serial moved without a row (a bare serial bump) get a delta of their SOA.
    for (const [id, z] of serials) {
      const loaded = this.zones.get(id);
      if (z.served && (!loaded || loaded.serial !== z.serial || loaded.name !== z.name) && !byZone.has(id)) byZone.set(id, new Set());
    }
    for (const id of this.zones.ids()) if (!serials.get(id)?.served) byZone.set(id, null);
    for (const [id, names] of byZone) {
      const row = serials.get(id);
      const loaded = this.zones.get(id);
      if (!row?.served) {
        if (loaded) {
          this.drop(id);
          touched.push(id);
        }
        continue;
      }
      if (!loaded || names === null || backlog || names.size > MAX_DELTA_NAMES || loaded.name !== row.name) {
        this.load(id);
        touched.push(id);
        continue;
      }
      this.applyNames(id, [...names]);
      touched.push(id);
    }
    if (backlog) {
      // Zones the unread rows touch are unknown: load every zone afresh and skip the rest.
      this.applied = this.source.lastChangeSeq();
      for (const id of this.zones.ids()) if (!byZone.has(id)) this.load(id);
    }
    return touched;
  }

  private applyNames(id: number, names: string[]): void {
    const soa = this.source.soaOf(id);
    if (!soa) {
      this.drop(id);
      return;
    }
    const delta: ZoneDelta = { id, serial: soa.serial, soa: soa.soa, nodes: this.source.nodeRecords(id, names, this.now()) };
    const applied = this.zones.apply(delta);
    if (!applied) {
      this.load(id);
      return;
    }
    this.onEvent({ kind: "delta", id, delta, applied });
    this.onChange(id);
  }
}
