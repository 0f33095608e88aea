/**
 * Keeps the in-memory zones in step with the database: rebuilt at once for changes made in
 * this process (ChangeSink), and by comparing serials when another process (the CLI)
 * committed something.
 */
import type { Clock } from "../core/platform";
import { nowSeconds } from "../core/platform";
import type { ChangeSink, ZoneData } from "../core/ports";
import { buildZone, ZoneSet } from "./zone";

export interface ZoneSource {
  serials(): { id: number; name: string; serial: number; served: boolean }[];
  zoneData(id: number, now: number): ZoneData | null;
}

export class LiveZones implements ChangeSink {
  readonly zones = new ZoneSet();
  /** Called after a zone was (re)loaded or dropped, e.g. to send NOTIFY. */
  onChange: (zoneId: number) => void = () => {};
  /** Called with what was loaded (null: dropped) before onChange, e.g. for the DNS thread. */
  onData: (zoneId: number, data: ZoneData | null) => void = () => {};

  constructor(
    private source: ZoneSource,
    private clock: Clock,
  ) {}

  private load(id: number): void {
    const data = this.source.zoneData(id, nowSeconds(this.clock));
    // First to the DNS thread, so that it builds its copy while this thread builds ours.
    this.onData(id, data);
    if (data) this.zones.set(buildZone(data));
    else this.zones.removeId(id);
    this.onChange(id);
  }

  private drop(id: number): void {
    this.zones.removeId(id);
    this.onData(id, null);
    this.onChange(id);
  }

  zoneChanged(domainId: number): void {
    const row = this.source.serials().find((z) => z.id === domainId);
    if (row && row.served) this.load(domainId);
    else if (this.zones.get(domainId)) this.drop(domainId);
  }

  /** What the served zones are built from, read afresh (to restart the DNS thread with). */
  snapshot(): ZoneData[] {
    const now = nowSeconds(this.clock);
    return this.zones.ids().flatMap((id) => this.source.zoneData(id, now) ?? []);
  }

  /** Loads what is new or changed and drops what is gone; returns the ids touched. */
  sync(): number[] {
    const touched: number[] = [];
    const seen = new Set<number>();
    for (const row of this.source.serials()) {
      if (!row.served) continue;
      seen.add(row.id);
      const z = this.zones.get(row.id);
      if (!z || z.serial !== row.serial || z.name !== row.name) {
        this.load(row.id);
        touched.push(row.id);
      }
    }
    for (const id of this.zones.ids()) {
      if (!seen.has(id)) {
        this.drop(id);
        touched.push(id);
      }
    }
    return touched;
  }
}
