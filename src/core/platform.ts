/**
 * What core needs from the platform, declared here and implemented by the outer layers
 * (src/platform.ts for Bun/Node). Core itself touches only web-standard globals.
 */

export interface Clock {
  /** Milliseconds since the epoch. Tests inject a fixed or stepping clock. */
  now(): number;
}

export interface Platform {
  clock: Clock;
  /** Cryptographically secure random bytes. */
  randomBytes(n: number): Uint8Array;
  /** SHA-256 of the UTF-8 text, lower-case hex. Synchronous so store transactions stay synchronous. */
  sha256Hex(text: string): string;
  /** argon2id hash of a password (slow on purpose). */
  hashPassword(password: string): Promise<string>;
  verifyPassword(password: string, hash: string): Promise<boolean>;
  /** HMAC of data under key (TOTP needs SHA-1, RFC 6238's default that authenticator apps use). */
  hmac(algorithm: "SHA-1" | "SHA-256", key: Uint8Array, data: Uint8Array): Uint8Array;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Seconds since the epoch, the unit stored in the database. */
export function nowSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
