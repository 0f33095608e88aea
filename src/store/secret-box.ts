/**
 * Sealing: the one module for secrets ipkeep must read back in clear (it cannot keep only a
 * hash of them): the JWT signing secret, TOTP seeds, the SMTP password, and later DNSSEC
 * private keys and TSIG secrets. They are stored sealed with AES-256-GCM under the data
 * directory's key file, `secret.key` (mode 0600), which is never inside the database: a copy
 * of the database file alone reveals none of them.
 *
 *   const { key } = loadOrCreateKey(join(dataDir, KEY_FILE)); // created when missing
 *   const box = new SecretBox(key);
 *   const s = box.seal("s3cret", "setting:jwt_secret");       // "sealed:v1:<key id>:<data>"
 *   box.open(s, "setting:jwt_secret");                        // "s3cret"
 *   box.open(s, "users.totp_secret:7");                       // throws SealError
 *
 * The context is authenticated with the value (GCM's additional data): a sealed value copied
 * to another row or setting does not open there. The key id (8 hex digits of the key's
 * SHA-256) says which key sealed a value, so "sealed with another key" is told apart from
 * "damaged". Key file: one line, base64url of 32 random bytes.
 *
 * node:crypto (synchronous, so store transactions stay synchronous): this is the outer layer;
 * core/ never sees the key, only the opened values the store hands it.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { IpkeepError } from "../core/errors";

/** The key file's name inside the data directory. */
export const KEY_FILE = "secret.key";
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = "sealed:v1:";

export class SealError extends Error {}

export class SecretBox {
  /** Short fingerprint of the key, written into every sealed value. */
  readonly keyId: string;

  constructor(private key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new Error(`a sealing key is ${KEY_BYTES} bytes`);
    this.keyId = keyId(key);
  }

  seal(plain: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const c = createCipheriv("aes-256-gcm", this.key, nonce);
    c.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return `${PREFIX}${this.keyId}:${Buffer.concat([nonce, body, c.getAuthTag()]).toString("base64url")}`;
  }

  /** The clear value; throws SealError when another key sealed it, or it is damaged or moved. */
  open(sealed: string, context: string): string {
    const id = sealedKeyId(sealed);
    if (id === null) throw new SealError("not a sealed value");
    if (id !== this.keyId) throw new SealError(`sealed with another key (${id}; this key is ${this.keyId})`);
    const raw = Buffer.from(sealed.slice(PREFIX.length + id.length + 1), "base64url");
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SealError("damaged sealed value");
    try {
      const d = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, NONCE_BYTES));
      d.setAAD(Buffer.from(context, "utf8"));
      d.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([d.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), d.final()]).toString("utf8");
    } catch {
      throw new SealError("damaged sealed value, or sealed for another place");
    }
  }

  /** The clear value, or null when it does not open here. */
  tryOpen(sealed: string, context: string): string | null {
    try {
      return this.open(sealed, context);
    } catch (e) {
      if (e instanceof SealError) return null;
      throw e;
    }
  }
}

export function isSealed(value: string | null | undefined): value is string {
  return typeof value === "string" && value.startsWith(PREFIX);
}

/** The id of the key that sealed a value, or null when it is not a sealed value. */
export function sealedKeyId(value: string): string | null {
  if (!isSealed(value)) return null;
  const m = /^([0-9a-f]{8}):/.exec(value.slice(PREFIX.length));
  return m ? m[1]! : null;
}

export function keyId(key: Uint8Array): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

function parseKey(text: string, path: string): Uint8Array {
  const t = text.trim();
  const key = /^[A-Za-z0-9_-]+$/.test(t) ? Buffer.from(t, "base64url") : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) {
    throw new IpkeepError("invalid_input", `${path} is not an ipkeep key file (one line: ${KEY_BYTES} bytes in base64url); restore it from your backup`);
  }
  return new Uint8Array(key);
}

/** The key in a key file, or null when there is no such file. */
export function readKeyFile(path: string): Uint8Array | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "EACCES") throw new IpkeepError("forbidden", `${path} cannot be read by this user: run ipkeep as the user that owns the data directory`);
    throw e;
  }
  // Owner only, whatever the umask or a careless copy left.
  try {
    if (statSync(path).mode & 0o077) chmodSync(path, 0o600);
  } catch {
    // not ours to change: still usable
  }
  return parseKey(text, path);
}

/** Writes a key file (mode 0600); refuses to replace one that exists. */
export function writeKeyFile(path: string, key: Uint8Array): void {
  writeFileSync(path, `${Buffer.from(key).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
}

/** The data directory's key, created (32 random bytes, mode 0600) when there is none. */
export function loadOrCreateKey(path: string): { key: Uint8Array; created: boolean } {
  const existing = readKeyFile(path);
  if (existing) return { key: existing, created: false };
  const key = new Uint8Array(randomBytes(KEY_BYTES));
  try {
    writeKeyFile(path, key);
  } catch (e) {
    // Another process (the CLI beside the server) made it first: use that one.
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return { key: readKeyFile(path)!, created: false };
    throw e;
  }
  return { key, created: true };
}
