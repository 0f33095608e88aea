/**
 * Secrets ipkeep must read back in clear (the JWT signing secret, TOTP secrets, the SMTP
 * password) are sealed with the data directory's key file, on the compiled executable:
 * - the database files alone (ipkeep.db, -wal, -shm) contain none of them in clear;
 * - sessions, password + TOTP login and mail (an SMTP server that checks the password)
 *   still work after a restart, and after backup + restore into a fresh directory;
 * - a restore without the key file says what is lost, and recovery codes still work;
 * - an install from before sealing has its clear secrets sealed on first start, and they
 *   keep working (an old session stays valid: the same JWT secret, not a new one).
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionSigner } from "../../src/api/session";
import { nowSeconds, systemClock } from "../../src/core/platform";
import { mintToken } from "../../src/core/tokens";
import { hotp, totpStep } from "../../src/core/totp";
import { createPlatform } from "../../src/platform";
import { Store } from "../../src/store";
import { openDriver } from "../../src/store/driver";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.sealed.test";
const EMAIL = "admin@example.com";
const PASSWORD = "admin password 1";
const SMTP_USER = "mailer";
const SMTP_PASSWORD = `smtp-pw-${mintToken(createPlatform(), "oneTime").value.slice(5, 29)}`;
const platform = createPlatform();

const dirs: string[] = [];
const servers: ServerProcess[] = [];
let sink: SMTPServer;
let smtpPort: number;
/** Mails the sink accepted, each after an AUTH with the right password. */
const inbox: string[] = [];

let data: string;
let setupCode: string;
let jwt: string;
let totpSecret: string;
let recoveryCodes: string[];
/** The last TOTP step used (a step is accepted once); pins take the next one within the window. */
let lastStep = -1;

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

async function serve(d: string): Promise<ServerProcess> {
  const s = await startServe(d);
  servers.push(s);
  return s;
}

async function api(s: ServerProcess, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${s.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function nextPin(secret: string): string {
  const now = totpStep(Date.now());
  const step = Math.max(lastStep + 1, now - 1);
  expect(step, "a TOTP step within the ±1 window").toBeLessThanOrEqual(now + 1);
  lastStep = step;
  return hotp(platform, base32(secret), step);
}

function base32(s: string): Uint8Array {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of s.replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | A.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

/** Password then pin (or recovery code): the second step's answer. */
async function login2fa(s: ServerProcess, second: string) {
  const first = await api(s, "POST", "/api/auth/login", { email: EMAIL, password: PASSWORD });
  expect(first.status).toBe(200);
  expect(first.body.twoFactorRequired).toBe(true);
  return api(s, "POST", "/api/auth/login/2fa", { ticket: first.body.ticket, pin: second });
}

/** A password-reset mail reaches the sink, which demands SMTP_USER / SMTP_PASSWORD. */
async function mailWorks(s: ServerProcess): Promise<void> {
  const before = inbox.length;
  expect((await api(s, "POST", "/api/auth/password-reset", { email: EMAIL })).status).toBe(202);
  for (let i = 0; i < 200 && inbox.length === before; i++) await new Promise((r) => setTimeout(r, 25));
  expect(inbox.length, `no mail arrived:\n${s.logs()}`).toBe(before + 1);
  expect(inbox.at(-1)).toMatch(/Reset your ipkeep password/);
}

/** Every byte of the database files (main file, WAL, shared memory), as one latin1 string. */
function dbBytes(d: string): string {
  return readdirSync(d)
    .filter((n) => n.startsWith("ipkeep.db"))
    .map((n) => readFileSync(join(d, n)).toString("latin1"))
    .join("\n");
}

async function opened(d: string): Promise<{ jwtSecret: string | null; rawJwt: string | null; rawSmtp: string | null; rawTotp: string | null }> {
  const store = await Store.open(join(d, "ipkeep.db"));
  try {
    const raw = (k: string) => store.db.prepare("SELECT value FROM settings WHERE key = ?").get<{ value: string }>(k)?.value ?? null;
    const totp = store.db.prepare("SELECT totp_secret AS s FROM users WHERE email = ?").get<{ s: string | null }>(EMAIL)?.s ?? null;
    return { jwtSecret: store.settings.get("jwt_secret"), rawJwt: raw("jwt_secret"), rawSmtp: raw("smtp"), rawTotp: totp };
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  sink = new SMTPServer({
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) cb(null, { user: SMTP_USER });
      else cb(new Error("bad credentials"));
    },
    onData(stream, _session, cb) {
      let text = "";
      stream.on("data", (c: Buffer) => (text += c.toString("utf8")));
      stream.on("end", () => {
        inbox.push(text);
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  smtpPort = (sink.server.address() as AddressInfo).port;
  data = dir("ipkeep-sealed-");
  const init = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  setupCode = JSON.parse(init.stdout).setupCode;
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  await new Promise<void>((resolve) => sink.close(() => resolve()));
  for (const d of dirs) cleanup(d);
});

describe("sealed secrets", () => {
  it("init writes secret.key (mode 0600) and stores the JWT secret sealed, 256 random bits in base64url", async () => {
    const key = join(data, "secret.key");
    expect(existsSync(key)).toBe(true);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const v = await opened(data);
    expect(v.jwtSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(v.rawJwt).toMatch(/^sealed:v1:[0-9a-f]{8}:/);
  });

  it("the database files hold none of the JWT secret, TOTP secret and SMTP password in clear", async () => {
    const s = await serve(data);
    const setup = await api(s, "POST", "/api/auth/setup", { code: setupCode, email: EMAIL, password: PASSWORD });
    expect(setup.status).toBe(201);
    jwt = setup.body.token;
    const t = await api(s, "POST", "/api/auth/2fa/setup", undefined, jwt);
    expect(t.status).toBe(200);
    totpSecret = t.body.secret;
    const on = await api(s, "POST", "/api/auth/2fa/enable", { pin: nextPin(totpSecret) }, jwt);
    expect(on.status).toBe(200);
    recoveryCodes = on.body.recoveryCodes;
    const smtp = { host: "127.0.0.1", port: smtpPort, secure: false, user: SMTP_USER, password: SMTP_PASSWORD, from: "ipkeep@example.test" };
    expect((await api(s, "PATCH", "/api/settings", { smtp }, jwt)).status).toBe(200);
    await mailWorks(s);
    await s.stop();

    const v = await opened(data);
    expect(v.rawSmtp).toMatch(/^sealed:v1:/);
    expect(v.rawTotp).toMatch(/^sealed:v1:/);
    const bytes = dbBytes(data);
    expect(bytes.length).toBeGreaterThan(0);
    for (const secret of [v.jwtSecret!, totpSecret, SMTP_PASSWORD]) expect(bytes.includes(secret), `${secret} in clear in the database`).toBe(false);
  });

  it("after a restart the session, password + TOTP login and mail still work", async () => {
    const s = await serve(data);
    expect((await api(s, "GET", "/api/auth/me", undefined, jwt)).status).toBe(200);
    const l = await login2fa(s, nextPin(totpSecret));
    expect(l.status).toBe(200);
    expect(l.body.token).toMatch(/^eyJ/);
    await mailWorks(s);
    await s.stop();
  });

  it("backup writes FILE and FILE.key; restore into a fresh directory keeps sessions, two-factor and mail", async () => {
    const out = dir("ipkeep-sealed-backups-");
    const file = join(out, "b.db");
    const b = run(["--data", data, "backup", file]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toContain(`${file}.key`);
    expect(statSync(`${file}.key`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${file}.key`)).toEqual(readFileSync(join(data, "secret.key")));

    const fresh = dir("ipkeep-sealed-fresh-");
    const r = run(["--data", fresh, "restore", file, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ keyRestored: true, lost: [] });
    expect(readFileSync(join(fresh, "secret.key"))).toEqual(readFileSync(join(data, "secret.key")));
    expect(statSync(join(fresh, "secret.key")).mode & 0o777).toBe(0o600);

    const s = await serve(fresh);
    expect((await api(s, "GET", "/api/auth/me", undefined, jwt)).status).toBe(200);
    expect((await login2fa(s, nextPin(totpSecret))).status).toBe(200);
    await mailWorks(s);
    await s.stop();

    // The database alone, restored without its key: the loss is said in words.
    const alone = join(out, "alone.db");
    copyFileSync(file, alone);
    const bare = dir("ipkeep-sealed-bare-");
    const r2 = run(["--data", bare, "restore", alone]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/these secrets of the backup are lost/);
    expect(r2.stdout).toMatch(/JWT signing secret: a new one is made at start, so everyone signs in again/);
    expect(r2.stdout).toContain(`two-factor (TOTP) secrets of 1 user(s) (${EMAIL})`);
    expect(r2.stdout).toMatch(/SMTP settings/);
    const s2 = await serve(bare);
    expect(s2.logs()).toMatch(/does not open with this data directory's key file/);
    expect((await api(s2, "GET", "/api/auth/me", undefined, jwt)).status).toBe(401);
    // Pins no longer work; a recovery code (stored as a hash) still does.
    const first = await api(s2, "POST", "/api/auth/login", { email: EMAIL, password: PASSWORD });
    expect(
      (await api(s2, "POST", "/api/auth/login/2fa", { ticket: first.body.ticket, pin: hotp(platform, base32(totpSecret), totpStep(Date.now())) })).status,
    ).toBe(401);
    const viaCode = await login2fa(s2, recoveryCodes[0]!);
    expect(viaCode.status).toBe(200);
    expect((await api(s2, "GET", "/api/settings", undefined, viaCode.body.token)).body.smtp).toBeNull();
    await s2.stop();
  });

  it("an install from before sealing: its clear secrets are sealed on first start and keep working", async () => {
    const old = dir("ipkeep-sealed-old-");
    expect(run(["--data", old, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
    // Written the way an older ipkeep stored them: in clear, and no key file.
    const jwtSecret = mintToken(platform, "oneTime").value;
    const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const db = await openDriver(join(old, "ipkeep.db"));
    const now = nowSeconds(systemClock);
    let uid1 = 0;
    try {
      db.prepare("UPDATE settings SET value = ? WHERE key = 'jwt_secret'").run(jwtSecret);
      const hash = await platform.hashPassword(PASSWORD);
      const uid = db
        .prepare("INSERT INTO users (email, role, password_hash, totp_secret, totp_enabled, created_at, updated_at) VALUES (?, 'admin', ?, ?, 1, ?, ?)")
        .run(EMAIL, hash, secret, now, now).lastInsertRowid;
      uid1 = uid;
      db.prepare("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('old-session', ?, ?, ?)").run(uid, now, now + 3000);
      const smtp = { host: "127.0.0.1", port: smtpPort, secure: false, user: SMTP_USER, password: SMTP_PASSWORD, from: "ipkeep@example.test" };
      db.prepare("INSERT INTO settings (key, value) VALUES ('smtp', ?)").run(JSON.stringify(smtp));
    } finally {
      db.close();
    }
    rmSync(join(old, "secret.key"));
    const oldJwt = await createSessionSigner(jwtSecret, systemClock).sign({ sub: String(uid1), jti: "old-session", exp: now + 3000 });

    const s = await serve(old);
    expect(s.logs()).toMatch(/key file created/);
    expect(s.logs()).toMatch(/secrets sealed with the key file.*count=3/);
    expect(statSync(join(old, "secret.key")).mode & 0o777).toBe(0o600);
    expect((await api(s, "GET", "/api/auth/me", undefined, oldJwt)).status).toBe(200);
    lastStep = -1;
    expect((await login2fa(s, nextPin(secret))).status).toBe(200);
    await mailWorks(s);
    await s.stop();
    const bytes = dbBytes(old);
    for (const v of [jwtSecret, secret, SMTP_PASSWORD]) expect(bytes.includes(v), `${v} left in clear`).toBe(false);
  });
});
