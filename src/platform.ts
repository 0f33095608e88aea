/**
 * The platform core asks for (src/core/platform.ts), implemented on Bun/Node.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import type { Platform } from "./core/platform";
import { systemClock } from "./core/platform";

type BunPassword = {
  hash(pw: string, opts: { algorithm: "argon2id" }): Promise<string>;
  verify(pw: string, hash: string): Promise<boolean>;
};
const bunPassword = (globalThis as { Bun?: { password: BunPassword } }).Bun?.password;

export function createPlatform(clock = systemClock): Platform {
  return {
    clock,
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    sha256Hex: (text) => createHash("sha256").update(text, "utf8").digest("hex"),
    hashPassword: async (pw) => {
      if (!bunPassword) throw new Error("password hashing needs the Bun runtime");
      return bunPassword.hash(pw, { algorithm: "argon2id" });
    },
    verifyPassword: async (pw, hash) => {
      if (!bunPassword) throw new Error("password hashing needs the Bun runtime");
      return bunPassword.verify(pw, hash);
    },
    hmac: (algorithm, key, data) =>
      new Uint8Array(
        createHmac(algorithm === "SHA-1" ? "sha1" : "sha256", key)
          .update(data)
          .digest(),
      ),
  };
}
