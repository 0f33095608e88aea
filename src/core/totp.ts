/**
 * TOTP (RFC 6238 over RFC 4226 HOTP): 30-second steps, 6 digits, HMAC-SHA1, the parameters
 * every authenticator app assumes. The HMAC itself comes from the platform.
 */
import type { Platform } from "./platform";

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** ±1 step: tolerates a phone clock 30 s off and a pin typed just as it rolls over. */
export const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA1 block-friendly size RFC 4226 recommends. */
export const TOTP_SECRET_BYTES = 20;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case and padding tolerant); null when a character is outside the alphabet. */
export function base32Decode(text: string): Uint8Array | null {
  const clean = text.replace(/=+$/, "").replace(/\s+/g, "").toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

export function newTotpSecret(p: Platform): string {
  return base32Encode(p.randomBytes(TOTP_SECRET_BYTES));
}

/** RFC 4226 HOTP value for a counter, as a zero-padded string. */
export function hotp(p: Platform, key: Uint8Array, counter: number): string {
  const msg = new Uint8Array(8);
  // The counter is a 64-bit big-endian integer; time steps fit in 53 bits.
  let c = counter;
  for (let i = 7; i >= 0; i--) {
    msg[i] = c & 0xff;
    c = Math.floor(c / 256);
  }
  const mac = p.hmac("SHA-1", key, msg);
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | ((mac[offset + 1]! & 0xff) << 16) | ((mac[offset + 2]! & 0xff) << 8) | (mac[offset + 3]! & 0xff);
  return String(bin % 10 ** TOTP_DIGITS).padStart(TOTP_DIGITS, "0");
}

export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_STEP_SECONDS);
}

/** The pin for a given time (tests compute real codes with it). */
export function totpAt(p: Platform, secret: string, nowMs: number): string {
  const key = base32Decode(secret);
  if (!key) throw new Error("invalid TOTP secret");
  return hotp(p, key, totpStep(nowMs));
}

/**
 * The time step a pin matches within ±TOTP_WINDOW, or null. Steps at or before lastStep are
 * never accepted: a pin seen once (or an older one) cannot be replayed.
 */
export function matchTotp(p: Platform, secret: string, pin: string, nowMs: number, lastStep: number | null): number | null {
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(pin)) return null;
  const key = base32Decode(secret);
  if (!key) return null;
  const now = totpStep(nowMs);
  let found: number | null = null;
  // Check every candidate (no early exit) so timing does not tell which step matched.
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    if (step <= (lastStep ?? -1)) continue;
    const ok = constantTimeDigits(hotp(p, key, step), pin);
    if (ok && found === null) found = step;
  }
  return found;
}

function constantTimeDigits(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

export function otpauthUrl(issuer: string, account: string, secret: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const q = new URLSearchParams({ secret, issuer, algorithm: "SHA1", digits: String(TOTP_DIGITS), period: String(TOTP_STEP_SECONDS) });
  return `otpauth://totp/${label}?${q.toString()}`;
}
