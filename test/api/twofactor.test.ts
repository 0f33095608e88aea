/**
 * TOTP two-factor through the routes (Dokploy's generate2FASecret, verify2FASetup,
 * verifyLogin2FA, disable2FA), with real pins computed from the secret at the test clock.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { totpAt } from "../../src/core/totp";
import { type ApiHarness, apiHarness, type TestUser } from "../helpers/api";

let h: ApiHarness;
let u: TestUser;
const PASSWORD = "a long enough password";

beforeEach(async () => {
  h = await apiHarness();
  u = await h.user("user@example.test", { password: PASSWORD });
});
afterEach(() => h.close());

const pin = (secret: string) => totpAt(h.platform, secret, h.clock.now());
const login = () => h.call("POST", "/api/auth/login", { body: { email: u.email, password: PASSWORD } });

async function enable(): Promise<{ secret: string; recoveryCodes: string[] }> {
  const setup = await h.call("POST", "/api/auth/2fa/setup", { token: u.jwt });
  expect(setup.status).toBe(200);
  const en = await h.call("POST", "/api/auth/2fa/enable", { token: u.jwt, body: { pin: pin(setup.body.secret) } });
  expect(en.status).toBe(200);
  return { secret: setup.body.secret, recoveryCodes: en.body.recoveryCodes };
}

describe("two-factor", () => {
  it("set-up answers a base32 secret and its otpauth URL; enabling needs a right pin", async () => {
    const setup = await h.call("POST", "/api/auth/2fa/setup", { token: u.jwt });
    expect(setup.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.body.otpauthUrl).toBe(`otpauth://totp/ipkeep:user%40example.test?secret=${setup.body.secret}&issuer=ipkeep&algorithm=SHA1&digits=6&period=30`);
    const wrong = String((Number(pin(setup.body.secret)) + 1) % 1_000_000).padStart(6, "0");
    expect((await h.call("POST", "/api/auth/2fa/enable", { token: u.jwt, body: { pin: wrong } })).status).toBe(400);
    expect((await h.call("GET", "/api/auth/me", { token: u.jwt })).body.twoFactorEnabled).toBe(false);
    const en = await h.call("POST", "/api/auth/2fa/enable", { token: u.jwt, body: { pin: pin(setup.body.secret) } });
    expect(en.status).toBe(200);
    expect(en.body.recoveryCodes).toHaveLength(10);
    expect(new Set(en.body.recoveryCodes).size).toBe(10);
    for (const c of en.body.recoveryCodes) expect(c).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
    // Recovery codes and the pin are stored hashed / not at all.
    expect(JSON.stringify(h.store.db.prepare("SELECT * FROM recovery_codes").all())).not.toContain(en.body.recoveryCodes[0]);
    expect((await h.call("GET", "/api/auth/me", { token: u.jwt })).body.twoFactorEnabled).toBe(true);
    expect((await h.call("POST", "/api/auth/2fa/setup", { token: u.jwt })).status).toBe(409);
  });

  it("login then needs the pin: a ticket first, a session after the pin", async () => {
    const { secret } = await enable();
    h.clock.advance(30);
    const first = await login();
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(["ticket", "twoFactorRequired"]);
    expect(first.body.twoFactorRequired).toBe(true);
    const second = await h.call("POST", "/api/auth/login/2fa", { body: { ticket: first.body.ticket, pin: pin(secret) } });
    expect(second.status).toBe(200);
    expect(second.body.user.email).toBe(u.email);
    expect((await h.call("GET", "/api/auth/me", { token: second.body.token })).status).toBe(200);
    // The ticket is single use.
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: first.body.ticket, pin: pin(secret) } })).status).toBe(401);
  });

  it("refuses a replayed pin, even within its time window", async () => {
    const { secret } = await enable();
    // The pin used to enable is already spent.
    const t1 = await login();
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: t1.body.ticket, pin: pin(secret) } })).status).toBe(401);
    h.clock.advance(30);
    const used = pin(secret);
    const t2 = await login();
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: t2.body.ticket, pin: used } })).status).toBe(200);
    const t3 = await login();
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: t3.body.ticket, pin: used } })).status).toBe(401);
  });

  it("accepts a pin from one step before or after, not two", async () => {
    const { secret } = await enable();
    h.clock.advance(300);
    const t = await login();
    const early = totpAt(h.platform, secret, h.clock.now() + 60_000);
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: t.body.ticket, pin: early } })).status).toBe(401);
    const t2 = await login();
    const late = totpAt(h.platform, secret, h.clock.now() - 30_000);
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: t2.body.ticket, pin: late } })).status).toBe(200);
  });

  it("takes a recovery code instead of a pin, once", async () => {
    const { recoveryCodes } = await enable();
    const t = await login();
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: t.body.ticket, pin: recoveryCodes[3] } })).status).toBe(200);
    const t2 = await login();
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: t2.body.ticket, pin: recoveryCodes[3] } })).status).toBe(401);
  });

  it("expires the login ticket", async () => {
    const { secret } = await enable();
    const t = await login();
    h.clock.advance(301);
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: t.body.ticket, pin: pin(secret) } })).status).toBe(401);
  });

  it("disable needs a pin; afterwards login is one step again", async () => {
    const { secret } = await enable();
    h.clock.advance(30);
    expect((await h.call("POST", "/api/auth/2fa/disable", { token: u.jwt, body: { pin: "000000" } })).status).toBe(400);
    expect((await h.call("POST", "/api/auth/2fa/disable", { token: u.jwt, body: { pin: pin(secret) } })).status).toBe(204);
    expect((await h.call("GET", "/api/auth/me", { token: u.jwt })).body.twoFactorEnabled).toBe(false);
    const r = await login();
    expect(r.body.token).toBeTruthy();
    expect((await h.call("POST", "/api/auth/2fa/disable", { token: u.jwt, body: { pin: pin(secret) } })).status).toBe(400);
  });

  it("a wrong pin counts as a failed sign-in of the account: past five, that address waits (429 locked_out)", async () => {
    const { secret } = await enable();
    h.clock.advance(30);
    const from = (peer: string, password: string) => h.call("POST", "/api/auth/login", { body: { email: u.email, password }, peer });
    for (let i = 0; i < 5; i++) expect((await from(`198.51.100.${i}`, "wrong password")).status).toBe(401);
    const first = await from("198.51.100.9", PASSWORD);
    expect(first.body.twoFactorRequired).toBe(true);
    const wrong = String((Number(pin(secret)) + 1) % 1_000_000).padStart(6, "0");
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: first.body.ticket, pin: wrong }, peer: "198.51.100.9" })).status).toBe(401);
    const delayed = await from("198.51.100.9", PASSWORD);
    expect(delayed.status).toBe(429);
    expect(delayed.body.code).toBe("locked_out");
    // Another address signs in with the right pin.
    const other = await from("203.0.113.7", PASSWORD);
    expect((await h.call("POST", "/api/auth/login/2fa", { body: { ticket: other.body.ticket, pin: pin(secret) }, peer: "203.0.113.7" })).status).toBe(200);
  });
});
