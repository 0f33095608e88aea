/**
 * The account lifecycle through its routes, one block per Dokploy operation (seed 003), named
 * after it: createAdmin, login, get, logout, update, createUser (invitations), one/list
 * (admin), generateToken (API keys), sendResetPasswordEmail/resetPassword, confirmEmail.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issueConfirmLink, issueResetLink, SESSION_TTL } from "../../src/core/auth";
import { issueSetupCode, SETUP_CODE_TTL } from "../../src/core/setup";
import { type ApiHarness, apiHarness, type TestUser } from "../helpers/api";
import { dbSnapshot } from "./security-suite";

let h: ApiHarness;
beforeEach(async () => {
  h = await apiHarness();
});
afterEach(() => h.close());

const PASSWORD = "a long enough password";

describe("createAdmin: POST /api/auth/setup", () => {
  it("creates the first admin with the setup code and answers a session", async () => {
    const { setupCode } = issueSetupCode(h.deps);
    const r = await h.call("POST", "/api/auth/setup", { body: { code: setupCode, email: "Admin@Example.test", password: PASSWORD } });
    expect(r.status).toBe(201);
    expect(r.body.token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(r.body.user).toMatchObject({ email: "admin@example.test", role: "admin", disabled: false, twoFactorEnabled: false });
    const me = await h.call("GET", "/api/auth/me", { token: r.body.token });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe("admin@example.test");
  });

  it("answers 403 once an admin exists, even with an unused code", async () => {
    const { setupCode } = issueSetupCode(h.deps);
    const older = issueSetupCode(h.deps).setupCode;
    expect((await h.call("POST", "/api/auth/setup", { body: { code: older, email: "a@example.test", password: PASSWORD } })).status).toBe(201);
    const again = await h.call("POST", "/api/auth/setup", { body: { code: setupCode, email: "b@example.test", password: PASSWORD } });
    expect(again.status).toBe(403);
    expect(again.body.code).toBe("forbidden");
    expect(h.store.users.list().map((u) => u.email)).toEqual(["a@example.test"]);
  });

  it("refuses a wrong, replaced or expired code (401) and creates nobody", async () => {
    const first = issueSetupCode(h.deps).setupCode;
    const second = issueSetupCode(h.deps).setupCode;
    for (const code of ["ipko_wrongwrongwrong", first, "not a code"]) {
      const r = await h.call("POST", "/api/auth/setup", { body: { code, email: "a@example.test", password: PASSWORD } });
      expect(r.status, code).toBe(401);
    }
    h.clock.advance(SETUP_CODE_TTL + 1);
    expect((await h.call("POST", "/api/auth/setup", { body: { code: second, email: "a@example.test", password: PASSWORD } })).status).toBe(401);
    expect(h.store.users.list()).toEqual([]);
  });

  it("refuses a too short password without using the code", async () => {
    const { setupCode } = issueSetupCode(h.deps);
    const r = await h.call("POST", "/api/auth/setup", { body: { code: setupCode, email: "a@example.test", password: "short" } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/at least 8/);
    expect((await h.call("POST", "/api/auth/setup", { body: { code: setupCode, email: "a@example.test", password: PASSWORD } })).status).toBe(201);
  });
});

describe("createAdmin over a password-less user (host add --owner made it)", () => {
  it("makes that user the admin, keeping what it owns, instead of a 500", async () => {
    const pending = h.store.users.create({ email: "me@example.test", role: "user", passwordHash: null }, 0);
    const { setupCode } = issueSetupCode(h.deps);
    const r = await h.call("POST", "/api/auth/setup", { body: { code: setupCode, email: "Me@Example.test", password: PASSWORD } });
    expect(r.status, r.text).toBe(201);
    expect(r.body.user).toMatchObject({ id: pending.id, email: "me@example.test", role: "admin" });
    expect(h.store.users.list()).toHaveLength(1);
    expect((await h.call("POST", "/api/auth/login", { body: { email: "me@example.test", password: PASSWORD } })).status).toBe(200);
  });

  it("answers 409 (never 500) for an address that already has a password, and keeps the code", async () => {
    await h.user("taken@example.test");
    const { setupCode } = issueSetupCode(h.deps);
    const r = await h.call("POST", "/api/auth/setup", { body: { code: setupCode, email: "taken@example.test", password: PASSWORD } });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe("conflict");
    expect((await h.call("POST", "/api/auth/setup", { body: { code: setupCode, email: "other@example.test", password: PASSWORD } })).status).toBe(201);
  });

  it("an invitation to a password-less user sets that user's password (no duplicate, no 500)", async () => {
    const admin = await h.user("admin@example.test", { role: "admin" });
    const pending = h.store.users.create({ email: "later@example.test", role: "user", passwordHash: null }, 0);
    const inv = await h.call("POST", "/api/users/invitations", { token: admin.jwt, body: { email: "later@example.test" } });
    expect(inv.status, inv.text).toBe(201);
    const acc = await h.call("POST", "/api/auth/accept-invite", { body: { token: inv.body.token, password: PASSWORD } });
    expect(acc.status, acc.text).toBe(201);
    expect(acc.body.user).toMatchObject({ id: pending.id, email: "later@example.test", role: "user" });
    // Once it has a password, a second invitation (or accepting an older one) is a conflict.
    expect((await h.call("POST", "/api/users/invitations", { token: admin.jwt, body: { email: "later@example.test" } })).status).toBe(409);
  });

  it("an invitation accepted after the address got a password answers 409", async () => {
    const admin = await h.user("admin@example.test", { role: "admin" });
    const inv = await h.call("POST", "/api/users/invitations", { token: admin.jwt, body: { email: "race@example.test" } });
    await h.user("race@example.test");
    const acc = await h.call("POST", "/api/auth/accept-invite", { body: { token: inv.body.token, password: PASSWORD } });
    expect(acc.status).toBe(409);
  });
});

describe("login / get / logout", () => {
  let u: TestUser;
  beforeEach(async () => {
    u = await h.user("user@example.test", { password: PASSWORD });
  });

  it("POST /api/auth/login answers {token, user}; GET /api/auth/me answers the user", async () => {
    const r = await h.call("POST", "/api/auth/login", { body: { email: "USER@example.test", password: PASSWORD } });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["token", "user"]);
    expect(r.body.user).toMatchObject({ id: u.id, email: "user@example.test", role: "user" });
    expect(JSON.stringify(r.body)).not.toMatch(/argon2|password|secret/i);
    const me = await h.call("GET", "/api/auth/me", { token: r.body.token });
    expect(me.body).toEqual(r.body.user);
  });

  it("answers a wrong password and an unknown address alike (401, same body)", async () => {
    const wrong = await h.call("POST", "/api/auth/login", { body: { email: u.email, password: "wrong password" } });
    const unknown = await h.call("POST", "/api/auth/login", { body: { email: "nobody@example.test", password: PASSWORD } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it("checks an unknown address against a dummy hash, so it costs a password verification", async () => {
    let verifications = 0;
    const verify = h.platform.verifyPassword;
    h.platform.verifyPassword = async (pw, hash) => {
      verifications++;
      return verify(pw, hash);
    };
    await h.call("POST", "/api/auth/login", { body: { email: "nobody@example.test", password: PASSWORD } });
    await h.call("POST", "/api/auth/login", { body: { email: "not-an-address", password: PASSWORD } });
    expect(verifications).toBe(2);
  });

  it("refuses a disabled user's login", async () => {
    h.store.accounts.setDisabled(u.id, true, 0);
    expect((await h.call("POST", "/api/auth/login", { body: { email: u.email, password: PASSWORD } })).status).toBe(401);
  });

  it("POST /api/auth/logout revokes that session only", async () => {
    const a = (await h.call("POST", "/api/auth/login", { body: { email: u.email, password: PASSWORD } })).body.token;
    const b = (await h.call("POST", "/api/auth/login", { body: { email: u.email, password: PASSWORD } })).body.token;
    expect((await h.call("POST", "/api/auth/logout", { token: a })).status).toBe(204);
    expect((await h.call("GET", "/api/auth/me", { token: a })).status).toBe(401);
    expect((await h.call("POST", "/api/auth/logout", { token: a })).status).toBe(401);
    expect((await h.call("GET", "/api/auth/me", { token: b })).status).toBe(200);
  });

  it("lets a session expire after SESSION_TTL", async () => {
    const t = (await h.call("POST", "/api/auth/login", { body: { email: u.email, password: PASSWORD } })).body.token;
    h.clock.advance(SESSION_TTL - 5);
    expect((await h.call("GET", "/api/auth/me", { token: t })).status).toBe(200);
    h.clock.advance(10);
    expect((await h.call("GET", "/api/auth/me", { token: t })).status).toBe(401);
  });

  it("answers 401 with WWW-Authenticate when no credential is given", async () => {
    const r = await h.call("GET", "/api/auth/me");
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: "Authentication required", code: "unauthorized" });
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});

describe("update: PATCH /api/auth/me", () => {
  let u: TestUser;
  beforeEach(async () => {
    u = await h.user("user@example.test", { password: PASSWORD });
  });

  it("changes the password with the current one, and signs out other sessions", async () => {
    const other = (await h.call("POST", "/api/auth/login", { body: { email: u.email, password: PASSWORD } })).body.token;
    const r = await h.call("PATCH", "/api/auth/me", { token: u.jwt, body: { password: "the new password", currentPassword: PASSWORD } });
    expect(r.status).toBe(200);
    expect((await h.call("GET", "/api/auth/me", { token: u.jwt })).status).toBe(200);
    expect((await h.call("GET", "/api/auth/me", { token: other })).status).toBe(401);
    expect((await h.call("POST", "/api/auth/login", { body: { email: u.email, password: PASSWORD } })).status).toBe(401);
    expect((await h.call("POST", "/api/auth/login", { body: { email: u.email, password: "the new password" } })).status).toBe(200);
  });

  it("changes the e-mail address (unconfirmed again) with the current password", async () => {
    h.store.accounts.setEmailConfirmed(u.id, 0);
    const r = await h.call("PATCH", "/api/auth/me", { token: u.jwt, body: { email: "new@example.test", currentPassword: PASSWORD } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ email: "new@example.test", emailConfirmed: false });
  });

  it("refuses without or with a wrong current password (403) and changes nothing", async () => {
    const before = dbSnapshot(h);
    for (const body of [{ password: "the new password" }, { email: "x@example.test", currentPassword: "wrong one!" }]) {
      const r = await h.call("PATCH", "/api/auth/me", { token: u.jwt, body });
      expect(r.status).toBe(403);
    }
    expect(dbSnapshot(h)).toBe(before);
  });

  it("refuses an address another account has (409)", async () => {
    await h.user("taken@example.test");
    const r = await h.call("PATCH", "/api/auth/me", { token: u.jwt, body: { email: "taken@example.test", currentPassword: PASSWORD } });
    expect(r.status).toBe(409);
  });

  it.each([
    ["rol", { rol: "admin" }],
    ["role", { role: "admin" }],
    ["secret", { secret: "JBSWY3DPEHPK3PXP" }],
    ["is2FAEnabled", { is2FAEnabled: false }],
    ["token", { token: "x" }],
    ["resetPasswordToken", { resetPasswordToken: "x" }],
    ["resetPasswordExpiresAt", { resetPasswordExpiresAt: "2030-01-01" }],
    ["confirmationToken", { confirmationToken: "x" }],
    ["confirmationExpiresAt", { confirmationExpiresAt: "2030-01-01" }],
    ["id", { id: "1" }],
    ["createdAt", { createdAt: "2020-01-01" }],
  ])("answers 400 and changes nothing when the body carries %s (Dokploy's auth.update fields)", async (_f, extra) => {
    const before = dbSnapshot(h);
    const r = await h.call("PATCH", "/api/auth/me", { token: u.jwt, body: { email: "evil@example.test", currentPassword: PASSWORD, ...extra } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("invalid_input");
    expect(dbSnapshot(h)).toBe(before);
  });
});

describe("register: POST /api/auth/register", () => {
  it("is closed by default (403) and opens when the admin says so", async () => {
    const admin = await h.user("admin@example.test", { role: "admin" });
    const closed = await h.call("POST", "/api/auth/register", { body: { email: "new@example.test", password: PASSWORD } });
    expect(closed.status).toBe(403);
    const s = await h.call("PATCH", "/api/settings", { token: admin.jwt, body: { registrationOpen: true } });
    expect(s.status).toBe(200);
    expect(s.body.registrationOpen).toBe(true);
    const r = await h.call("POST", "/api/auth/register", { body: { email: "new@example.test", password: PASSWORD } });
    expect(r.status).toBe(201);
    expect(r.body.user).toMatchObject({ email: "new@example.test", role: "user", emailConfirmed: false });
    const dup = await h.call("POST", "/api/auth/register", { body: { email: "NEW@example.test", password: PASSWORD } });
    expect(dup.status).toBe(409);
  });
});

describe("createUser: invitations", () => {
  it("admin invites, the invitee sets a password once and is signed in", async () => {
    const admin = await h.user("admin@example.test", { role: "admin" });
    const inv = await h.call("POST", "/api/users/invitations", { token: admin.jwt, body: { email: "friend@example.test" } });
    expect(inv.status).toBe(201);
    expect(inv.body.token).toMatch(/^ipko_/);
    expect(inv.body.url).toBe(`https://ddns.example.test/invite/${inv.body.token}`);
    // The link opens a form that posts to accept-invite.
    const page = await h.call("GET", `/invite/${inv.body.token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.text).toContain("/api/auth/accept-invite");
    const acc = await h.call("POST", "/api/auth/accept-invite", { body: { token: inv.body.token, password: PASSWORD } });
    expect(acc.status).toBe(201);
    expect(acc.body.user).toMatchObject({ email: "friend@example.test", role: "user", emailConfirmed: true });
    expect((await h.call("POST", "/api/auth/accept-invite", { body: { token: inv.body.token, password: PASSWORD } })).status).toBe(401);
    expect((await h.call("POST", "/api/auth/login", { body: { email: "friend@example.test", password: PASSWORD } })).status).toBe(200);
  });

  it("refuses inviting an existing address (409), a non-admin (403), and an expired invitation (401)", async () => {
    const admin = await h.user("admin@example.test", { role: "admin" });
    const user = await h.user("user@example.test");
    expect((await h.call("POST", "/api/users/invitations", { token: admin.jwt, body: { email: "user@example.test" } })).status).toBe(409);
    expect((await h.call("POST", "/api/users/invitations", { token: user.jwt, body: { email: "x@example.test" } })).status).toBe(403);
    const inv = await h.call("POST", "/api/users/invitations", { token: admin.jwt, body: { email: "late@example.test" } });
    h.clock.advance(8 * 24 * 3600);
    expect((await h.call("POST", "/api/auth/accept-invite", { body: { token: inv.body.token, password: PASSWORD } })).status).toBe(401);
  });

  it("answers an invalid link with a 404 page", async () => {
    const page = await h.call("GET", "/invite/<script>");
    expect(page.status).toBe(404);
    expect(page.text).not.toContain("<script>");
  });
});

describe("one / list / disable / quotas (admin)", () => {
  it("lists users, shows one, disables and re-enables, sets quotas", async () => {
    const admin = await h.user("admin@example.test", { role: "admin" });
    const u = await h.user("user@example.test");
    const list = await h.call("GET", "/api/users", { token: admin.jwt });
    expect(list.status).toBe(200);
    expect(list.body.map((x: { email: string }) => x.email)).toEqual(["admin@example.test", "user@example.test"]);
    const one = await h.call("GET", `/api/users/${u.id}`, { token: admin.apiKey });
    expect(one.body).toMatchObject({ id: u.id, email: "user@example.test", quota: { hostnames: null, domains: null, records: null } });
    expect((await h.call("GET", "/api/users/9999", { token: admin.jwt })).status).toBe(404);
    expect((await h.call("GET", "/api/users/abc", { token: admin.jwt })).status).toBe(400);

    const off = await h.call("PATCH", `/api/users/${u.id}`, { token: admin.jwt, body: { disabled: true, quota: { hostnames: 2, records: null } } });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ disabled: true, quota: { hostnames: 2, domains: null, records: null } });
    expect((await h.call("GET", "/api/auth/me", { token: u.jwt })).status).toBe(401);
    expect((await h.call("GET", "/api/auth/me", { token: u.apiKey })).status).toBe(401);
    const on = await h.call("PATCH", `/api/users/${u.id}`, { token: admin.jwt, body: { disabled: false } });
    expect(on.body.disabled).toBe(false);
    // Disabling revoked the sessions; the API key works again.
    expect((await h.call("GET", "/api/auth/me", { token: u.jwt })).status).toBe(401);
    expect((await h.call("GET", "/api/auth/me", { token: u.apiKey })).status).toBe(200);
  });

  it("refuses an admin disabling themselves, and bad quota values", async () => {
    const admin = await h.user("admin@example.test", { role: "admin" });
    expect((await h.call("PATCH", `/api/users/${admin.id}`, { token: admin.jwt, body: { disabled: true } })).status).toBe(403);
    for (const quota of [{ hostnames: -1 }, { hostnames: 1.5 }, { hostnames: "3" }, { plan: 3 }]) {
      expect((await h.call("PATCH", `/api/users/${admin.id}`, { token: admin.jwt, body: { quota } })).status, JSON.stringify(quota)).toBe(400);
    }
  });
});

describe("generateToken: API keys", () => {
  it("creates a key shown once, lists it by hint, accepts it like a JWT, revokes it", async () => {
    const u = await h.user("user@example.test");
    const made = await h.call("POST", "/api/keys", { token: u.jwt, body: { label: "backup script" } });
    expect(made.status).toBe(201);
    expect(made.body.key).toMatch(/^ipka_[A-Za-z0-9_-]{43}$/);
    expect(made.body.apiKey).toMatchObject({ label: "backup script", hint: expect.stringMatching(/^ipka_.{4}…$/) });
    const list = await h.call("GET", "/api/keys", { token: u.jwt });
    expect(list.body.map((k: { label: string }) => k.label)).toEqual(["test", "backup script"]);
    expect(list.text).not.toContain(made.body.key);
    // Stored as a hash only.
    expect(JSON.stringify(h.store.db.prepare("SELECT * FROM api_keys").all())).not.toContain(made.body.key);
    expect((await h.call("GET", "/api/auth/me", { token: made.body.key })).body.email).toBe("user@example.test");
    expect((await h.call("DELETE", `/api/keys/${made.body.apiKey.id}`, { token: made.body.key })).status).toBe(204);
    expect((await h.call("GET", "/api/auth/me", { token: made.body.key })).status).toBe(401);
    expect((await h.call("DELETE", `/api/keys/${made.body.apiKey.id}`, { token: u.jwt })).status).toBe(404);
  });

  it("expires a key with expiresInDays", async () => {
    const u = await h.user("user@example.test");
    const made = await h.call("POST", "/api/keys", { token: u.jwt, body: { label: "short", expiresInDays: 1 } });
    expect((await h.call("GET", "/api/auth/me", { token: made.body.key })).status).toBe(200);
    h.clock.advance(86401);
    expect((await h.call("GET", "/api/auth/me", { token: made.body.key })).status).toBe(401);
  });

  it("answers another user's key id as not found", async () => {
    const a = await h.user("a@example.test");
    const b = await h.user("b@example.test");
    const bKey = h.store.apiKeys.list(b.id)[0]!.id;
    expect((await h.call("DELETE", `/api/keys/${bKey}`, { token: a.jwt })).status).toBe(404);
    expect((await h.call("GET", "/api/auth/me", { token: b.apiKey })).status).toBe(200);
  });
});

describe("sendResetPasswordEmail / resetPassword (no SMTP: the CLI's link)", () => {
  it("answers the same for known and unknown addresses", async () => {
    await h.user("user@example.test");
    const known = await h.call("POST", "/api/auth/password-reset", { body: { email: "user@example.test" } });
    const unknown = await h.call("POST", "/api/auth/password-reset", { body: { email: "nobody@example.test" } });
    const garbage = await h.call("POST", "/api/auth/password-reset", { body: { email: "garbage" } });
    expect(known.status).toBe(202);
    expect(unknown).toMatchObject({ status: 202, text: known.text });
    expect(garbage).toMatchObject({ status: 202, text: known.text });
  });

  it("a reset link sets a new password once, signs out every session, and expires", async () => {
    const u = await h.user("user@example.test", { password: PASSWORD });
    const link = issueResetLink(h.deps, u.id, "https://ddns.example.test");
    expect(link.url).toBe(`https://ddns.example.test/reset/${link.token}`);
    const page = await h.call("GET", `/reset/${link.token}`);
    expect(page.text).toContain("/api/auth/password-reset/confirm");
    const r = await h.call("POST", "/api/auth/password-reset/confirm", { body: { token: link.token, password: "brand new password" } });
    expect(r.status).toBe(204);
    expect((await h.call("GET", "/api/auth/me", { token: u.jwt })).status).toBe(401);
    expect((await h.call("POST", "/api/auth/login", { body: { email: u.email, password: "brand new password" } })).status).toBe(200);
    expect((await h.call("POST", "/api/auth/password-reset/confirm", { body: { token: link.token, password: "third password" } })).status).toBe(401);
    const late = issueResetLink(h.deps, u.id, "https://ddns.example.test");
    h.clock.advance(3601);
    expect((await h.call("POST", "/api/auth/password-reset/confirm", { body: { token: late.token, password: "third password" } })).status).toBe(401);
  });
});

describe("confirmEmail: POST /api/auth/confirm-email", () => {
  it("confirms once", async () => {
    const u = await h.user("user@example.test");
    const link = issueConfirmLink(h.deps, u.id, "https://ddns.example.test");
    expect((await h.call("GET", `/confirm/${link.token}`)).text).toContain("/api/auth/confirm-email");
    expect((await h.call("POST", "/api/auth/confirm-email", { body: { token: link.token } })).status).toBe(204);
    expect((await h.call("GET", "/api/auth/me", { token: u.jwt })).body.emailConfirmed).toBe(true);
    expect((await h.call("POST", "/api/auth/confirm-email", { body: { token: link.token } })).status).toBe(401);
  });
});

describe("settings: GET/PATCH /api/settings", () => {
  it("reads defaults and changes default quotas and SMTP; the SMTP password is write-only", async () => {
    const admin = await h.user("admin@example.test", { role: "admin" });
    const s0 = await h.call("GET", "/api/settings", { token: admin.jwt });
    expect(s0.body).toEqual({ registrationOpen: false, defaultQuota: { hostnames: 20, domains: 3, records: 200 }, smtp: null });
    const s1 = await h.call("PATCH", "/api/settings", {
      token: admin.jwt,
      body: {
        defaultQuota: { hostnames: 5, records: null },
        smtp: { host: "smtp.example.test", port: 587, user: "u", password: "hunter22", from: "ipkeep@example.test" },
      },
    });
    expect(s1.status).toBe(200);
    expect(s1.body.defaultQuota).toEqual({ hostnames: 5, domains: 3, records: null });
    expect(s1.body.smtp).toEqual({ host: "smtp.example.test", port: 587, secure: false, user: "u", from: "ipkeep@example.test", passwordSet: true });
    expect(s1.text).not.toContain("hunter22");
    const s2 = await h.call("PATCH", "/api/settings", { token: admin.jwt, body: { smtp: null } });
    expect(s2.body.smtp).toBeNull();
    expect((await h.call("PATCH", "/api/settings", { token: admin.jwt, body: { smtp: { host: "bad host!", from: "x@y.z" } } })).status).toBe(400);
  });
});

describe("link pages", () => {
  it.each(["invite", "reset", "confirm"])("/%s/{token} allows exactly its own inline script (CSP hash) and leaks no referrer", async (kind) => {
    const page = await h.call("GET", `/${kind}/ipko_${"A".repeat(43)}`);
    expect(page.status).toBe(200);
    const script = /<script>([\s\S]*?)<\/script>/.exec(page.text)![1]!;
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script)));
    const hash = btoa(String.fromCharCode(...digest));
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("cache-control")).toBe("no-store");
  });
});
