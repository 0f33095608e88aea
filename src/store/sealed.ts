/**
 * Which stored values are sealed (store/secret-box.ts), in one place: the settings below,
 * users.totp_secret and nodes.tsig_secret (enrolled secondaries' transfer keys). The table classes seal on write and open on read; this module seals
 * what an older ipkeep left in clear, and says what a key cannot open (a database restored
 * without its key file).
 */
import type { Driver } from "./driver";
import { isSealed, type SecretBox } from "./secret-box";

/** Settings whose whole value is sealed: the JWT signing secret; SMTP (it holds the password); the ACME account key and this server's certificate with its key (src/tls/acme.ts). */
export const SEALED_SETTINGS: ReadonlySet<string> = new Set(["jwt_secret", "smtp", "acme_account", "acme_certificate"]);

export const settingContext = (key: string) => `setting:${key}`;
export const totpContext = (userId: number) => `users.totp_secret:${userId}`;
export const TSIG_CONTEXT = "nodes.tsig_secret";
/** Update tokens' DNS UPDATE keys: written sealed from the start (there is no clear form to seal later). */
export const tokenTsigContext = (tokenId: number) => `update_tokens.tsig_secret:${tokenId}`;
/** A zone's DNSSEC private key (dnssec_keys.private_key), sealed for its own row. */
export const dnssecKeyContext = (keyId: number) => `dnssec_keys.private_key:${keyId}`;

/**
 * Seals every value an older ipkeep stored in clear; returns how many it sealed. The clear
 * bytes would otherwise linger in freed page space and in the WAL: when anything was sealed,
 * the file is rebuilt (VACUUM) and the WAL emptied, so the clear values are gone from disk.
 */
export function sealInClear(db: Driver, box: SecretBox): number {
  const n = sealAll(db, box);
  if (n > 0) {
    db.exec("VACUUM");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  return n;
}

function sealAll(db: Driver, box: SecretBox): number {
  return db.transaction(() => {
    let n = 0;
    for (const key of SEALED_SETTINGS) {
      const v = db.prepare("SELECT value FROM settings WHERE key = ?").get<{ value: string }>(key)?.value;
      if (!v || isSealed(v)) continue;
      db.prepare("UPDATE settings SET value = ? WHERE key = ?").run(box.seal(v, settingContext(key)), key);
      n++;
    }
    const users = db.prepare("SELECT id, totp_secret AS s FROM users WHERE totp_secret IS NOT NULL").all<{ id: number; s: string }>();
    for (const u of users) {
      if (isSealed(u.s)) continue;
      db.prepare("UPDATE users SET totp_secret = ? WHERE id = ?").run(box.seal(u.s, totpContext(u.id)), u.id);
      n++;
    }
    const nodes = db.prepare("SELECT id, tsig_secret AS s FROM nodes WHERE tsig_secret IS NOT NULL").all<{ id: number; s: string }>();
    for (const node of nodes) {
      if (isSealed(node.s)) continue;
      db.prepare("UPDATE nodes SET tsig_secret = ? WHERE id = ?").run(box.seal(node.s, TSIG_CONTEXT), node.id);
      n++;
    }
    return n;
  });
}

export interface Unopenable {
  jwtSecret: boolean;
  smtp: boolean;
  /** E-mail addresses of users whose TOTP secret does not open (two-factor on or being set up). */
  totpUsers: string[];
  /** Names of enrolled secondaries whose TSIG key does not open. */
  tsigNodes: string[];
  /** Ids of update tokens whose DNS UPDATE key does not open. */
  tsigTokens?: number[];
  /** Zones whose DNSSEC signing key does not open. */
  dnssecZones?: string[];
  /** The ACME account key or this server's certificate (src/tls/acme.ts) does not open. */
  acme?: boolean;
}

/**
 * What the key cannot open (box null: no key at all). Values in clear open with any key
 * (they are sealed on the next start).
 */
export function unopenable(db: Driver, box: SecretBox | null): Unopenable {
  const opens = (v: string | null | undefined, context: string) => !v || !isSealed(v) || (box !== null && box.tryOpen(v, context) !== null);
  const setting = (key: string) => db.prepare("SELECT value FROM settings WHERE key = ?").get<{ value: string }>(key)?.value;
  const users = db
    .prepare("SELECT id, email, totp_secret AS s FROM users WHERE totp_secret IS NOT NULL ORDER BY id")
    .all<{ id: number; email: string; s: string }>();
  return {
    jwtSecret: !opens(setting("jwt_secret"), settingContext("jwt_secret")),
    smtp: !opens(setting("smtp"), settingContext("smtp")),
    totpUsers: users.filter((u) => !opens(u.s, totpContext(u.id))).map((u) => u.email),
    tsigNodes: db
      .prepare("SELECT name, tsig_secret AS s FROM nodes WHERE tsig_secret IS NOT NULL AND status != 'revoked' ORDER BY id")
      .all<{ name: string; s: string }>()
      .filter((n) => !opens(n.s, TSIG_CONTEXT))
      .map((n) => n.name),
    tsigTokens: db
      .prepare("SELECT id, tsig_secret AS s FROM update_tokens WHERE tsig_secret IS NOT NULL AND revoked_at IS NULL ORDER BY id")
      .all<{ id: number; s: string }>()
      .filter((t) => !opens(t.s, tokenTsigContext(t.id)))
      .map((t) => t.id),
    dnssecZones: db
      .prepare("SELECT k.id, k.private_key AS s, d.name FROM dnssec_keys k JOIN domains d ON d.id = k.domain_id WHERE k.state != 'retired' ORDER BY k.id")
      .all<{ id: number; s: string; name: string }>()
      .filter((k) => !opens(k.s, dnssecKeyContext(k.id)))
      .map((k) => k.name),
    acme: !opens(setting("acme_account"), settingContext("acme_account")) || !opens(setting("acme_certificate"), settingContext("acme_certificate")),
  };
}

/** Plain words for what is lost, one line each (empty: nothing). */
export function describeLost(u: Unopenable): string[] {
  const lines: string[] = [];
  if (u.acme) lines.push("the ACME account and this server's certificate: a new account and certificate are ordered at start (HTTP serves meanwhile)");
  if (u.jwtSecret) lines.push("the JWT signing secret: a new one is made at start, so everyone signs in again (nothing else is lost)");
  if (u.totpUsers.length) {
    lines.push(
      `the two-factor (TOTP) secrets of ${u.totpUsers.length} user(s) (${u.totpUsers.join(", ")}): their authenticator pins no longer work; they sign in with a recovery code, or an admin turns their two-factor off (ipkeep user reset-2fa EMAIL), and they set it up again`,
    );
  }
  if (u.smtp) lines.push("the SMTP settings (server and password): mail is off until an admin enters them again (PATCH /api/settings)");
  if (u.tsigNodes.length) {
    lines.push(
      `the TSIG keys of ${u.tsigNodes.length} enrolled secondary nameserver(s) (${u.tsigNodes.join(", ")}): their zone transfers are refused until they are enrolled again (ipkeep node revoke ID, then a new install code)`,
    );
  }
  if (u.tsigTokens?.length) {
    lines.push(
      `the DNS UPDATE (TSIG) keys of ${u.tsigTokens.length} update token(s) (${u.tsigTokens.join(", ")}): their signed updates are refused until the tokens are regenerated (ipkeep token regenerate ID)`,
    );
  }
  if (u.dnssecZones?.length) {
    lines.push(
      `the DNSSEC signing keys of ${u.dnssecZones.length} zone(s) (${u.dnssecZones.join(", ")}): new keys are made, and until the parent's DS is replaced (ipkeep domain ds ZONE) validating resolvers cannot resolve the zone`,
    );
  }
  return lines;
}
