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
import { fail, IpkeepError } from "./errors";
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

// ---- password hashing: fair slots, per-account failure delay ----

/** Who a password hash is for: the source (sourceKey) and the account (normalised e-mail). */
export interface HashFor {
  source: string;
  account: string;
}

/** What the scheduler tells its observer when a hash starts. */
export interface HashStart extends HashFor {
  /** Other hashes that started after this one queued and before it (0: it was next). */
  startedAhead: number;
  /** Hashes started since the process began, this one included. */
  total: number;
  queued: number;
}

interface Waiter extends HashFor {
  /** Hashes started when it queued. */
  startedAtArrival: number;
  admit?: () => void;
  go: () => void;
  refuse: (e: unknown) => void;
}

/**
 * Hash slots shared fairly. Each argon2id hash costs ~64 MiB and ~0.1 s of a core, so only
 * `slots` run at once; the rest wait here. The next turn goes to the source (then, within
 * it, the account) whose last turn is oldest: a source that has not hashed lately, such as
 * the owner signing in from a new address, is next whatever others have queued, and a
 * source with a long queue gets one turn per round like any other, so no source can starve
 * another. The queue is bounded in total (maxQueued) and per source (maxPerSource); when it
 * is full, a newcomer from a lighter source displaces the newest waiter of the heaviest one,
 * so a flood from some addresses never keeps the others out.
 */
export class FairHashQueue {
  private running = 0;
  private queuedCount = 0;
  private started = 0;
  private turn = 0;
  /** Backlogged sources: account -> waiters (FIFO), in the order they became backlogged. */
  private backlog = new Map<string, Map<string, Waiter[]>>();
  /** The turn each source, and each (source, account), was last served at (bounded). */
  private lastTurn: BoundedTable<number>;
  /** Per source with hashes queued or running: how many it asked for since it was last idle. */
  private active = new Map<string, { asked: number; inFlight: number }>();

  constructor(
    private slots = 2,
    private maxQueued = 64,
    private maxPerSource = 16,
    private onStart?: (s: HashStart) => void,
    maxKeys = DEFAULT_LIMITS.maxKeys,
  ) {
    this.lastTurn = new BoundedTable(maxKeys, () => false);
  }

  get stats(): { running: number; queued: number; started: number } {
    return { running: this.running, queued: this.queuedCount, started: this.started };
  }

  /**
   * Runs fn in a slot when it is this caller's turn. admit runs just before the hash starts
   * and may throw to refuse (the caller became locked out while waiting): no hash is spent.
   */
  async run<T>(who: HashFor, fn: () => Promise<T>, admit?: () => void): Promise<T> {
    const a = this.active.get(who.source) ?? { asked: 0, inFlight: 0 };
    a.asked++;
    a.inFlight++;
    this.active.set(who.source, a);
    try {
      await new Promise<void>((go, refuse) => this.enqueue({ ...who, startedAtArrival: this.started, admit, go, refuse }));
    } catch (e) {
      this.settled(who.source);
      throw e;
    }
    try {
      return await fn();
    } finally {
      this.running--;
      this.settled(who.source);
      this.pump();
    }
  }

  private settled(source: string): void {
    const a = this.active.get(source);
    if (a && --a.inFlight <= 0) this.active.delete(source);
  }

  private depth(accounts: Map<string, Waiter[]> | undefined): number {
    let n = 0;
    for (const list of accounts?.values() ?? []) n += list.length;
    return n;
  }

  private sourceCount(source: string): number {
    return this.depth(this.backlog.get(source));
  }

  private enqueue(w: Waiter): void {
    const mine = this.sourceCount(w.source);
    if (mine >= this.maxPerSource) {
      w.refuse(tooMany());
      return;
    }
    if (this.queuedCount >= this.maxQueued) {
      let heaviest: string | null = null;
      let most = 0;
      for (const s of this.backlog.keys()) {
        const n = this.sourceCount(s);
        if (n > most) [heaviest, most] = [s, n];
      }
      if (heaviest === null || most <= mine + 1) {
        w.refuse(tooMany());
        return;
      }
      this.dropNewest(heaviest);
    }
    let accounts = this.backlog.get(w.source);
    if (!accounts) this.backlog.set(w.source, (accounts = new Map()));
    let list = accounts.get(w.account);
    if (!list) accounts.set(w.account, (list = []));
    list.push(w);
    this.queuedCount++;
    this.pump();
  }

  private dropNewest(source: string): void {
    const accounts = this.backlog.get(source)!;
    // The longest account queue of that source gives up its newest waiter.
    let key: string | null = null;
    for (const [k, list] of accounts) if (key === null || list.length > accounts.get(key)!.length) key = k;
    const list = accounts.get(key!)!;
    const w = list.pop()!;
    if (list.length === 0) accounts.delete(key!);
    if (accounts.size === 0) this.backlog.delete(source);
    this.queuedCount--;
    w.refuse(tooMany());
  }

  /**
   * Oldest last turn first (never served, or forgotten, counts as oldest); then the one
   * asking for fewer hashes (a person tries once, a flood asks for many); then arrival order.
   */
  private oldest<V>(m: Map<string, V>, key: (k: string) => string, depth: (v: V, k: string) => number): string {
    let best: string | null = null;
    let bestTurn = Infinity;
    let bestDepth = Infinity;
    for (const [k, v] of m) {
      const t = this.lastTurn.get(key(k)) ?? -1;
      const d = depth(v, k);
      if (t < bestTurn || (t === bestTurn && d < bestDepth)) [best, bestTurn, bestDepth] = [k, t, d];
    }
    return best!;
  }

  private pump(): void {
    while (this.running < this.slots && this.queuedCount > 0) {
      const source = this.oldest(
        this.backlog,
        (s) => `s|${s}`,
        (_, s) => this.active.get(s)?.asked ?? 0,
      );
      const accounts = this.backlog.get(source)!;
      const account = this.oldest(
        accounts,
        (a) => `a|${source}|${a}`,
        (list) => list.length,
      );
      const list = accounts.get(account)!;
      const w = list.shift()!;
      if (list.length === 0) accounts.delete(account);
      if (accounts.size === 0) this.backlog.delete(source);
      this.queuedCount--;
      this.turn++;
      this.lastTurn.set(`s|${source}`, this.turn);
      this.lastTurn.set(`a|${source}|${account}`, this.turn);
      try {
        w.admit?.();
      } catch (e) {
        w.refuse(e);
        continue;
      }
      this.running++;
      this.started++;
      this.onStart?.({
        source: w.source,
        account: w.account,
        startedAhead: this.started - 1 - w.startedAtArrival,
        total: this.started,
        queued: this.queuedCount,
      });
      w.go();
    }
  }
}

function tooMany(): IpkeepError {
  return new IpkeepError("rate_limited", "Too many sign-in attempts at once; try again shortly");
}

export interface LoginDelayConfig {
  /** Failures of one account (from anywhere) within windowSeconds before any delay applies. */
  accountFailures: number;
  windowSeconds: number;
  /** The first delay of a source that fails for an account past that point; it doubles per failure. */
  firstDelaySeconds: number;
  /** The longest delay: the owner is never locked out for longer than this. */
  maxDelaySeconds: number;
  maxKeys: number;
}

// Five typos in fifteen minutes are a person; past that the account is being guessed. Each
// guessing source then waits 10 s, 20 s, ... at most 10 minutes between tries of that account.
export const DEFAULT_LOGIN_DELAYS: LoginDelayConfig = {
  accountFailures: 5,
  windowSeconds: 900,
  firstDelaySeconds: 10,
  maxDelaySeconds: 600,
  maxKeys: 10_000,
};

/**
 * The per-account failure delay. Failures are counted per account; once an account has had
 * accountFailures within the window, each source that fails for it must wait before trying
 * that account again (doubling, capped at maxDelaySeconds). A source that has not failed for
 * the account is never delayed, so its owner can always sign in from another address, and
 * from the same one after at most maxDelaySeconds; a success clears that source's delay.
 */
export class LoginDelays {
  private accounts: BoundedTable<{ count: number; windowStart: number }>;
  private pairs: BoundedTable<{ failures: number; until: number }>;

  constructor(
    private clock: Clock,
    private config: LoginDelayConfig = DEFAULT_LOGIN_DELAYS,
  ) {
    const windowMs = config.windowSeconds * 1000;
    this.accounts = new BoundedTable(config.maxKeys, (a) => this.clock.now() - a.windowStart >= windowMs);
    this.pairs = new BoundedTable(config.maxKeys, (p) => this.clock.now() >= p.until + windowMs);
  }

  /** Seconds this source must still wait before trying this account (0: go ahead). */
  waitFor(who: HashFor): number {
    const p = this.pairs.get(`${who.account}|${who.source}`);
    const left = p ? p.until - this.clock.now() : 0;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Throws locked_out (with retryAfter) while the source must wait for this account. */
  check(who: HashFor): void {
    const wait = this.waitFor(who);
    if (wait > 0) {
      const e = new IpkeepError("locked_out", `Too many failed sign-ins for this account; try again in ${wait} s`);
      e.retryAfter = wait;
      throw e;
    }
  }

  failed(who: HashFor): void {
    const now = this.clock.now();
    let a = this.accounts.get(who.account);
    if (!a || now - a.windowStart >= this.config.windowSeconds * 1000) a = { count: 0, windowStart: now };
    a.count++;
    this.accounts.set(who.account, a);
    if (a.count <= this.config.accountFailures) return;
    const key = `${who.account}|${who.source}`;
    const p = this.pairs.get(key) ?? { failures: 0, until: 0 };
    p.failures++;
    const delay = Math.min(this.config.maxDelaySeconds, this.config.firstDelaySeconds * 2 ** Math.min(30, p.failures - 1));
    p.until = now + delay * 1000;
    this.pairs.set(key, p);
  }

  succeeded(who: HashFor): void {
    this.pairs.set(`${who.account}|${who.source}`, { failures: 0, until: 0 });
  }
}
