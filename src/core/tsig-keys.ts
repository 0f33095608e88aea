/**
 * TSIG keys of update tokens (DNS UPDATE, RFC 2136 + RFC 8945): which algorithms a key may use,
 * how a key is named and minted. A key belongs to one token and may do what its token may do.
 * The secret is handed to the user once, like the token's value, and kept sealed with the data
 * directory's key (HMAC needs the secret itself, so a hash will not do).
 */
import { fail } from "./errors";
import type { Platform } from "./platform";

/**
 * RFC 8945 §6 names, as users type them. hmac-md5 goes on the wire as
 * "hmac-md5.sig-alg.reg.int" (the DNS layer spells it out). MD5 and SHA-1 are there because
 * certbot-dns-rfc2136 and cert-manager default to MD5; RFC 8945 says MUST NOT / NOT RECOMMENDED
 * for new use, so they are never the default and `token list` marks them.
 */
export const TSIG_ALGORITHMS = ["hmac-sha256", "hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha384", "hmac-sha512"] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];
export const DEFAULT_TSIG_ALGORITHM: TsigAlgorithm = "hmac-sha256";
export const WEAK_TSIG_ALGORITHMS: ReadonlySet<string> = new Set(["hmac-md5", "hmac-sha1"]);

/** A secret as long as the hash's output (RFC 2104 §3: longer adds nothing, shorter weakens). */
const SECRET_BYTES: Record<TsigAlgorithm, number> = {
  "hmac-md5": 16,
  "hmac-sha1": 20,
  "hmac-sha224": 28,
  "hmac-sha256": 32,
  "hmac-sha384": 48,
  "hmac-sha512": 64,
};

export interface TsigKeySecret {
  /** The key's name, as clients configure it (no trailing dot). */
  name: string;
  algorithm: TsigAlgorithm;
  /** base64, as nsupdate, knsupdate, lego and certbot take it. */
  secret: string;
}

/** The algorithm a user named ("HMAC-SHA256", "hmac-md5.sig-alg.reg.int."), or invalid_input. */
export function tsigAlgorithm(input: string | undefined): TsigAlgorithm {
  if (input === undefined) return DEFAULT_TSIG_ALGORITHM;
  const s = input.trim().toLowerCase().replace(/\.$/, "");
  const name = s === "hmac-md5.sig-alg.reg.int" ? "hmac-md5" : s;
  if (!(TSIG_ALGORITHMS as readonly string[]).includes(name)) {
    fail("invalid_input", `TSIG algorithm must be one of ${TSIG_ALGORITHMS.join(", ")} (got "${input}")`);
  }
  return name as TsigAlgorithm;
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * A new key for a token. The name carries the token's id (so a log line says whose it is) and
 * random hex (so a regenerated key has another name, and an old client configuration fails with
 * BADKEY rather than BADSIG).
 */
export function mintTsigKey(p: Platform, tokenId: number, algorithm: TsigAlgorithm): TsigKeySecret {
  const tag = [...p.randomBytes(4)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { name: `ipkeep-${tokenId}-${tag}`, algorithm, secret: base64(p.randomBytes(SECRET_BYTES[algorithm])) };
}
