/**
 * Fixed-window request counting per key (client address, route class), with bounded memory:
 * when the table is full, expired windows go first, then the oldest. Time comes from the
 * injected clock.
 */
import type { Clock } from "./platform";

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetIn: number;
}

/** Enough for many thousand distinct clients; each entry is a few dozen bytes. */
export const DEFAULT_MAX_KEYS = 10_000;

export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();

  constructor(
    private clock: Clock,
    private windowMs = 60_000,
    private maxKeys = DEFAULT_MAX_KEYS,
  ) {}

  hit(key: string, limit: number): RateDecision {
    const now = this.clock.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (w) this.windows.delete(key);
      this.evict(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    const resetIn = Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
    return { allowed: w.count <= limit, limit, remaining: Math.max(0, limit - w.count), resetIn };
  }

  get size(): number {
    return this.windows.size;
  }

  private evict(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
    // Map iterates in insertion order: the first keys are the oldest windows.
    for (const k of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(k);
    }
  }
}
