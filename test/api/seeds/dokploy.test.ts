/**
 * Dokploy's Auth document (shared/seeds 003), replayed: every example request of the document
 * against /api/auth.<name>, with real values for its "string" placeholders. An example that
 * ipkeep answers differently has a row in the README's "Differences from the documents we follow".
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issueConfirmLink, issueInvite, issueResetLink } from "../../../src/core/auth";
import { issueSetupCode } from "../../../src/core/setup";
import { totpAt } from "../../../src/core/totp";
import { type ApiHarness, apiHarness, type TestUser } from "../../helpers/api";

let h: ApiHarness;
let u: TestUser;
beforeEach(async () => {
  h = await apiHarness();
  u = await h.user("user@example.test");
});
afterEach(() => h.close());

const PASSWORD = "correct horse battery";

describe("Dokploy examples", () => {
  it("auth.createAdmin: Bearer <setup code>, {email, password}", async () => {
    const { setupCode } = issueSetupCode(h.deps);
    const r = await h.call("POST", "/api/auth.createAdmin", { token: setupCode, body: { email: "admin@example.test", password: "stringst-long" } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.user).toMatchObject({ email: "admin@example.test", role: "admin" });
    // Once: an admin exists now (403, as /api/auth/setup); without a code, 401.
    expect((await h.call("POST", "/api/auth.createAdmin", { token: setupCode, body: { email: "b@example.test", password: "stringst-long" } })).status).toBe(
      403,
    );
    expect((await h.call("POST", "/api/auth.createAdmin", { body: { email: "b@example.test", password: "stringst-long" } })).status).toBe(401);
  });

  it("auth.createUser: {password, id, token} accepts an invitation (token: the invitation's)", async () => {
    const inv = issueInvite(h.deps, "new@example.test", "https://ddns.example.test", { id: null, name: "test", address: null });
    const r = await h.call("POST", "/api/auth.createUser", { body: { password: "stringst-long", id: "string", token: inv.token } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.user.email).toBe("new@example.test");
    expect((await h.call("POST", "/api/auth.createUser", { body: { password: "stringst-long", id: "string", token: inv.token } })).status).toBe(401);
  });

  it("auth.login: {email, password} (the document's Bearer header is ignored)", async () => {
    const r = await h.call("POST", "/api/auth.login", { token: "whatever", body: { email: u.email, password: PASSWORD } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token: expect.any(String), user: { email: u.email, plan: "free" } });
    expect((await h.call("POST", "/api/auth.login", { body: { email: u.email, password: "wrong password" } })).status).toBe(401);
  });

  it("auth.get: the current user", async () => {
    const r = await h.call("GET", "/api/auth.get", { token: u.jwt });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: u.id, email: u.email });
    expect((await h.call("GET", "/api/auth.get")).status).toBe(401);
  });

  it("auth.logout: the session is revoked for real", async () => {
    expect((await h.call("POST", "/api/auth.logout", { token: u.jwt })).status).toBe(200);
    expect((await h.call("GET", "/api/auth.get", { token: u.jwt })).status).toBe(401);
  });

  it("auth.update with the document's body: 400 naming the first field it may not change (README: differences)", async () => {
    const body = {
      id: "string",
      email: "string",
      password: "string",
      rol: "admin",
      image: "string",
      secret: "string",
      token: "string",
      is2FAEnabled: true,
      createdAt: "string",
      resetPasswordToken: "string",
      resetPasswordExpiresAt: "string",
      confirmationToken: "string",
      confirmationExpiresAt: "string",
    };
    const r = await h.call("POST", "/api/auth.update", { token: u.jwt, body });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: "invalid_input", error: expect.stringContaining("id cannot be changed") });
    for (const field of ["rol", "secret", "is2FAEnabled", "token", "resetPasswordToken", "confirmationToken", "image", "createdAt"]) {
      const one = await h.call("POST", "/api/auth.update", {
        token: u.jwt,
        body: { email: "x@example.test", [field]: (body as Record<string, unknown>)[field] },
      });
      expect(one.status, field).toBe(400);
      expect(one.body.error, field).toContain(field);
    }
    expect(h.store.users.byId(u.id)!.role).toBe("user");
  });

  it("auth.update: email and password, with the current password", async () => {
    // Without the current password: refused as PATCH /api/auth/me refuses it.
    expect((await h.call("POST", "/api/auth.update", { token: u.jwt, body: { email: "moved@example.test", password: null } })).status).toBe(403);
    const r = await h.call("POST", "/api/auth.update", { token: u.jwt, body: { email: "moved@example.test", password: null, currentPassword: PASSWORD } });
    expect(r.status, r.text).toBe(200);
    expect(h.store.users.byId(u.id)!.email).toBe("moved@example.test");
  });

  it("auth.generateToken: an API key, shown once, that acts as the user", async () => {
    const r = await h.call("POST", "/api/auth.generateToken", { token: u.jwt });
    expect(r.status).toBe(200);
    expect(r.body.token).toMatch(/^ipka_/);
    expect((await h.call("GET", "/api/auth.get", { token: r.body.token })).body.email).toBe(u.email);
  });

  it("auth.one?id=…: yourself; another user's id is 404 unless you are an admin", async () => {
    const other = await h.user("other@example.test");
    expect((await h.call("GET", `/api/auth.one?id=${u.id}`, { token: u.jwt })).body.email).toBe(u.email);
    expect((await h.call("GET", `/api/auth.one?id=${other.id}`, { token: u.jwt })).status).toBe(404);
    expect((await h.call("GET", "/api/auth.one?id=string", { token: u.jwt })).status).toBe(404);
    const admin = await h.user("admin@example.test", { role: "admin" });
    expect((await h.call("GET", `/api/auth.one?id=${other.id}`, { token: admin.jwt })).body.email).toBe("other@example.test");
  });

  it("auth.generate2FASecret, auth.verify2FASetup {pin, secret}, auth.login -> ticket, auth.verifyLogin2FA {pin, id: the ticket}, auth.disable2FA", async () => {
    const s = await h.call("GET", "/api/auth.generate2FASecret", { token: u.jwt });
    expect(s.status).toBe(200);
    const secret = s.body.secret as string;
    expect(
      (await h.call("POST", "/api/auth.verify2FASetup", { token: u.jwt, body: { pin: totpAt(h.platform, secret, h.clock.now()), secret: "string" } })).status,
    ).toBe(400);
    const on = await h.call("POST", "/api/auth.verify2FASetup", { token: u.jwt, body: { pin: totpAt(h.platform, secret, h.clock.now()), secret } });
    expect(on.status, on.text).toBe(200);
    expect(on.body.recoveryCodes).toHaveLength(10);
    h.clock.advance(60);
    const t = await h.call("POST", "/api/auth.login", { body: { email: u.email, password: PASSWORD } });
    expect(t.body).toMatchObject({ twoFactorRequired: true, ticket: expect.any(String) });
    // id is the ticket, never a user id.
    expect((await h.call("POST", "/api/auth.verifyLogin2FA", { body: { pin: totpAt(h.platform, secret, h.clock.now()), id: String(u.id) } })).status).toBe(401);
    const t2 = await h.call("POST", "/api/auth.login", { body: { email: u.email, password: PASSWORD } });
    const done = await h.call("POST", "/api/auth.verifyLogin2FA", { body: { pin: totpAt(h.platform, secret, h.clock.now()), id: t2.body.ticket } });
    expect(done.status, done.text).toBe(200);
    // The document's disable2FA has no body; ipkeep needs a pin (README: differences).
    expect((await h.call("POST", "/api/auth.disable2FA", { token: done.body.token })).status).toBe(400);
    h.clock.advance(60);
    expect((await h.call("POST", "/api/auth.disable2FA", { token: done.body.token, body: { pin: totpAt(h.platform, secret, h.clock.now()) } })).status).toBe(
      200,
    );
  });

  it("auth.sendResetPasswordEmail {email}, auth.resetPassword {resetPasswordToken, password}", async () => {
    expect((await h.call("POST", "/api/auth.sendResetPasswordEmail", { body: { email: u.email } })).status).toBe(200);
    expect((await h.call("POST", "/api/auth.sendResetPasswordEmail", { body: { email: "nobody@example.test" } })).status).toBe(200);
    const link = issueResetLink(h.deps, u.id, "https://ddns.example.test");
    expect((await h.call("POST", "/api/auth.resetPassword", { body: { resetPasswordToken: link.token, password: "a brand new passphrase" } })).status).toBe(
      200,
    );
    expect((await h.call("POST", "/api/auth.login", { body: { email: u.email, password: "a brand new passphrase" } })).status).toBe(200);
    expect((await h.call("POST", "/api/auth.resetPassword", { body: { resetPasswordToken: "string", password: "string-long" } })).status).toBe(401);
  });

  it("auth.confirmEmail {confirmationToken}", async () => {
    const link = issueConfirmLink(h.deps, u.id, "https://ddns.example.test");
    expect((await h.call("POST", "/api/auth.confirmEmail", { body: { confirmationToken: link.token } })).status).toBe(200);
    expect(h.store.accounts.byId(u.id)!.emailConfirmed).toBe(true);
    expect((await h.call("POST", "/api/auth.confirmEmail", { body: { confirmationToken: link.token } })).status).toBe(401);
  });

  it("every route carries a password, a secret or a session: HTTPS from other machines", async () => {
    for (const [m, p] of [
      ["POST", "/api/auth.login"],
      ["GET", "/api/auth.get"],
      ["POST", "/api/auth.update"],
      ["GET", "/api/auth.nothing"],
    ] as const) {
      const r = await h.app.handle(new Request(`http://localhost${p}`, { method: m }), { peer: "203.0.113.5", transport: "http" });
      expect(r.status, p).toBe(403);
      expect(((await r.json()) as { code: string }).code).toBe("https_required");
    }
  });
});
