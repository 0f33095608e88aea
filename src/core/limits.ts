/**
 * Rate limits and lockouts for the update endpoints. Pure: the clock is injected, state lives
 * in memory, and every table is bounded so that an attacker choosing keys (source addresses,
 * guessed tokens) cannot grow memory without limit.
 *
 * Burst and daily limits are token buckets (capacity COUNT, refilled COUNT per SECONDS): one
 * number and one timestamp per key, and a full bucket carries no information, so it is the
 * first thing evicted when a table is full.
 */
import { ipv6ToBytes, parseIP, unmapIPv4 } from "./addresses";
import { fail } from "./errors";
import type { Clock } from "./platform";

export interface Rate {
  /** 0 turns the limit off. */
  count: number;
  seconds: number;
}

export interface UpdateLimitConfig {
  /** Requests per token (nochg included). */
  tokenBurst: Rate;
  /** Changes (good) per token per day; 0 turns it off. */
  dailyChanges: number;
  /** Requests per source address (IPv6 per /64). */
  sourceBurst: Rate;
  /** Bad credentials from one source within failureWindowSeconds that lock it out. */
  maxFailures: number;
  failureWindowSeconds: number;
  lockoutSeconds: number;
  /** Upper bound on keys per table. */
  maxKeys: number;
}

// Routers update every few minutes at most; five requests in ten seconds is a loop, not a
// router. 1,440 changes a day is one a minute, more than any real line changes address.
// Sixty requests per source in ten seconds leaves room for a NAT full of clients.
export const DEFAULT_LIMITS: UpdateLimitConfig = {
  tokenBurst: { count: 5, seconds: 10 },
  dailyChanges: 1440,
  sourceBurst: { count: 60, seconds: 10 },
  maxFailures: 10,
  failureWindowSeconds: 600,
  lockoutSeconds: 600,
  // 10k keys of a few dozen bytes each: well under a few MiB whatever arrives.
  maxKeys: 10_000,
};

/** "5/10" -> { count: 5, seconds: 10 }; "0" turns the limit off. Null when malformed. */
export function parseRate(text: string): Rate | null {
  const s = text.trim();
  if (s === "0") return { count: 0, seconds: 1 };
  const m = /^(\d{1,6})\s*\/\s*(\d{1,6})$/.exec(s);
  if (!m) return null;
  const count = Number(m[1]);
  const seconds = Number(m[2]);
  if (seconds <= 0) return null;
  return { count, seconds };
}

/**
 * The limits `serve` runs with: --update-burst COUNT/SECONDS and --update-daily COUNT, where 0
 * turns that limit off. The burst value also scales the per-source limit (12 times the
 * token's: a source may hold many tokens); lockouts after bad credentials always stay on.
 */
export function updateLimitConfig(burst: string, daily: number): UpdateLimitConfig {
  const rate = parseRate(burst);
  if (!rate) fail("invalid_input", `update-burst must be COUNT/SECONDS (e.g. 5/10) or 0, not "${burst}"`);
  if (!Number.isInteger(daily) || daily < 0) fail("invalid_input", `update-daily must be a whole number >= 0, not ${daily}`);
  const sourceBurst = rate.count === 0 ? { count: 0, seconds: 1 } : { count: rate.count * 12, seconds: rate.seconds };
  return { ...DEFAULT_LIMITS, tokenBurst: rate, dailyChanges: daily, sourceBurst };
}

/** What a limit says about one request; the numbers feed X-RateLimit-* and Retry-After. */
export interface Verdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Whole seconds until the next request would be allowed (0 when it would be now). */
  retryAfter: number;
}

/** A Map that never holds more than max entries: it evicts what costs nothing first, then the least recently used. */
class BoundedTable<V> {
  private map = new Map<string, V>();
  constructor(
    private max: number,
    private idle: (v: V) => boolean,
  ) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      // Re-insert: Map order is then least recently used first.
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    if (this.map.size >= this.max) this.evict();
    this.map.set(key, v);
  }
  private evict(): void {
    let scanned = 0;
    for (const [k, v] of this.map) {
      if (this.idle(v)) this.map.delete(k);
      // Bounded work per insert: look at a few dozen of the oldest entries only.
      if (++scanned >= 64) break;
    }
    while (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }
  get size(): number {
    return this.map.size;
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per key. */
export class RateLimiter {
  private table: BoundedTable<Bucket>;
  constructor(
    readonly rate: Rate,
    private clock: Clock,
    maxKeys: number,
  ) {
    this.table = new BoundedTable(maxKeys, (b) => this.level(b) >= this.rate.count);
  }
  get enabled(): boolean {
    return this.rate.count > 0;
  }
  private perMs(): number {
    return this.rate.count / (this.rate.seconds * 1000);
  }
  private level(b: Bucket): number {
    return Math.min(this.rate.count, b.tokens + (this.clock.now() - b.at) * this.perMs());
  }
  private verdict(allowed: boolean, level: number): Verdict {
    const remaining = Math.max(0, Math.floor(level));
    // The epsilon keeps float noise (28800.0000001) from adding a whole second.
    const retryAfter = level >= 1 ? 0 : Math.ceil((1 - level) / this.perMs() / 1000 - 1e-6);
    return { allowed, limit: this.rate.count, remaining, retryAfter };
  }
  /** Looks without spending. */
  peek(key: string): Verdict {
    if (!this.enabled) return { allowed: true, limit: 0, remaining: 0, retryAfter: 0 };
    const b = this.table.get(key);
    return this.verdict(true, b ? this.level(b) : this.rate.count);
  }
  /** Spends one when there is one; the verdict says whether there was. */
  take(key: string): Verdict {
    if (!this.enabled) return { allowed: true, limit: 0, remaining: 0, retryAfter: 0 };
    const b = this.table.get(key);
    const level = b ? this.level(b) : this.rate.count;
    if (level < 1) {
      this.table.set(key, { tokens: level, at: this.clock.now() });
      return this.verdict(false, level);
    }
    this.table.set(key, { tokens: level - 1, at: this.clock.now() });
    return this.verdict(true, level - 1);
  }
  get size(): number {
    return this.table.size;
  }
}

/** What a fixed window says about one request. */
export interface WindowDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Whole seconds until the window resets. */
  resetIn: number;
}

/**
 * Fixed windows per key ("10 per minute", as ipdock documents its API limits): the count
 * starts again when the window ends. Same bounded table as the buckets above.
 */
export class WindowLimiter {
  private table: BoundedTable<{ start: number; count: number }>;
  constructor(
    private clock: Clock,
    private windowMs = 60_000,
    maxKeys = DEFAULT_LIMITS.maxKeys,
  ) {
    this.table = new BoundedTable(maxKeys, (w) => this.clock.now() - w.start >= this.windowMs);
  }
  hit(key: string, limit: number): WindowDecision {
    const now = this.clock.now();
    let w = this.table.get(key);
    if (!w || now - w.start >= this.windowMs) w = { start: now, count: 0 };
    w.count++;
    this.table.set(key, w);
    const resetIn = Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
    return { allowed: w.count <= limit, limit, remaining: Math.max(0, limit - w.count), resetIn };
  }
  get size(): number {
    return this.table.size;
  }
}

interface Failures {
  count: number;
  windowStart: number;
  lockedUntil: number;
}

/** Bad credentials per source: maxFailures within the window lock the source out for lockout seconds. */
export class Lockout {
  private table: BoundedTable<Failures>;
  constructor(
    private clock: Clock,
    private maxFailures: number,
    private windowMs: number,
    private lockMs: number,
    maxKeys: number,
  ) {
    this.table = new BoundedTable(maxKeys, (f) => this.clock.now() >= f.lockedUntil && this.clock.now() - f.windowStart >= this.windowMs);
  }
  /** Seconds the source is still locked out for; 0 when it is not. */
  lockedFor(key: string): number {
    const f = this.table.get(key);
    if (!f) return 0;
    const left = f.lockedUntil - this.clock.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }
  /** Records one failure; returns the seconds of lockout now in force (0: none). */
  fail(key: string): number {
    const now = this.clock.now();
    let f = this.table.get(key);
    if (!f || now - f.windowStart >= this.windowMs) f = { count: 0, windowStart: now, lockedUntil: f?.lockedUntil ?? 0 };
    f.count++;
    if (f.count >= this.maxFailures) {
      f.lockedUntil = now + this.lockMs;
      f.count = 0;
      f.windowStart = now;
    }
    this.table.set(key, f);
    return this.lockedFor(key);
  }
  get size(): number {
    return this.table.size;
  }
}

/**
 * The key a source address is counted under: the address itself for IPv4, its /64 for IPv6
 * (one customer usually holds a whole /64 and could otherwise rotate addresses freely).
 */
export function sourceKey(address: string | null): string {
  if (!address) return "unknown";
  const ip = parseIP(unmapIPv4(address));
  if (!ip) return "unknown";
  if (ip.family === 4) return ip.address;
  const b = ipv6ToBytes(ip.address)!;
  let hex = "";
  for (let i = 0; i < 8; i++) hex += b[i]!.toString(16).padStart(2, "0");
  return `${hex}/64`;
}

/** The limits of the update endpoints, one instance per server. */
export class UpdateLimits {
  readonly tokenBurst: RateLimiter;
  readonly daily: RateLimiter;
  readonly sourceBurst: RateLimiter;
  readonly lockout: Lockout;

  constructor(
    clock: Clock,
    readonly config: UpdateLimitConfig = DEFAULT_LIMITS,
  ) {
    this.tokenBurst = new RateLimiter(config.tokenBurst, clock, config.maxKeys);
    this.daily = new RateLimiter({ count: config.dailyChanges, seconds: 86_400 }, clock, config.maxKeys);
    this.sourceBurst = new RateLimiter(config.sourceBurst, clock, config.maxKeys);
    this.lockout = new Lockout(clock, config.maxFailures, config.failureWindowSeconds * 1000, config.lockoutSeconds * 1000, config.maxKeys);
  }

  /** Before credentials are looked at: is this source locked out or flooding? */
  admitSource(source: string | null): { verdict: Verdict; reason: "locked_out" | "rate_limited" | null } {
    const key = sourceKey(source);
    const locked = this.lockout.lockedFor(key);
    if (locked > 0) return { verdict: { allowed: false, limit: this.sourceBurst.rate.count, remaining: 0, retryAfter: locked }, reason: "locked_out" };
    const v = this.sourceBurst.take(key);
    return { verdict: v, reason: v.allowed ? null : "rate_limited" };
  }

  /** A request with credentials that matched nothing. Returns the lockout seconds now in force. */
  badCredentials(source: string | null): number {
    return this.lockout.fail(sourceKey(source));
  }

  /** One request by an authenticated token (nochg included). */
  admitToken(tokenId: number): Verdict {
    return this.tokenBurst.take(`t${tokenId}`);
  }

  /** One change (a host answered good) by a token: false when the daily cap is spent. */
  spendChange(tokenId: number): Verdict {
    return this.daily.take(`t${tokenId}`);
  }
}
