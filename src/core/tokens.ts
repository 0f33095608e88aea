/**
 * Secrets handed to users: update tokens, API keys, setup and install codes. Each is a
 * recognisable prefix plus 256 random bits; only its SHA-256 is stored, the value is shown
 * once. A stolen database therefore holds nothing that authenticates.
 */
import type { Platform } from "./platform";

export const TOKEN_KINDS = {
  /** Update token for /nic/update and friends. */
  update: "ipk_",
  /** Long-lived API key for the management API. */
  apiKey: "ipka_",
  /** One-time links: setup, invitation, password reset, e-mail confirmation. */
  oneTime: "ipko_",
  /** Node credentials of enrolled agents and secondaries. */
  node: "ipkn_",
  /** Install lifecycle: precheck token (binds a code to a machine) and install token (confirms). */
  precheck: "ipkp_",
  install: "ipki_",
} as const;

export type TokenKind = keyof typeof TOKEN_KINDS;

/** 256 bits: far beyond guessing, and the reason a plain SHA-256 (no salt, no KDF) is enough. */
export const TOKEN_BYTES = 32;

export interface MintedToken {
  /** The secret, shown to the user once. */
  value: string;
  /** What the database keeps. */
  hash: string;
  /** A non-secret reminder such as "ipk_Ab3x…", safe to list. */
  hint: string;
}

export function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function mintToken(p: Platform, kind: TokenKind): MintedToken {
  const value = TOKEN_KINDS[kind] + base64url(p.randomBytes(TOKEN_BYTES));
  return { value, hash: hashToken(p, value), hint: tokenHint(value) };
}

export function hashToken(p: Platform, value: string): string {
  return p.sha256Hex(value);
}

export function tokenHint(value: string): string {
  const cut = value.indexOf("_") + 1;
  return `${value.slice(0, cut + 4)}…`;
}

/** A token of our own format (cheap pre-check before any lookup; never a substitute for one). */
export function looksLikeToken(value: string, kind?: TokenKind): boolean {
  if (value.length > 128) return false;
  const prefixes = kind ? [TOKEN_KINDS[kind]] : Object.values(TOKEN_KINDS);
  return prefixes.some((pre) => value.startsWith(pre) && /^[A-Za-z0-9_-]+$/.test(value.slice(pre.length)));
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  let diff = ea.length ^ eb.length;
  const n = Math.max(ea.length, eb.length);
  for (let i = 0; i < n; i++) diff |= (ea[i] ?? 0) ^ (eb[i] ?? 0);
  return diff === 0;
}

/** Anything shaped like one of our secrets, wherever it stands in a text. */
const TOKEN_LIKE = /\bipk[a-z]?_[A-Za-z0-9_-]{8,}/g;

/** Replaces every token-shaped part of a text by "***": for logs and stored history. */
export function maskTokens(text: string): string {
  return text.replace(TOKEN_LIKE, "***");
}
