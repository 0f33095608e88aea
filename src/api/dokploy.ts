/**
 * Dokploy's account routes, /api/auth.<name>, with the document's field names: a thin dialect
 * over the same core as /api/auth/* (core/auth.ts), which keeps every rule. Where Dokploy's
 * document lets a request do more than ipkeep's rules allow, the request is refused, never
 * widened: auth.update changes only the e-mail address and the password (with the current
 * password), every other field it lists answers 400 naming it; verifyLogin2FA's id is the
 * ticket auth.login answered, never a user id; disable2FA needs a pin.
 */
import { Elysia, t } from "elysia";
import {
  acceptInvite,
  confirmEmail,
  confirmPasswordReset,
  createApiKey,
  login,
  loginSecondFactor,
  logout,
  requestPasswordReset,
  setupAdmin,
  totpDisable,
  totpEnable,
  totpSetup,
  updateProfile,
  userView,
} from "../core/auth";
import { fail } from "../core/errors";
import { authenticate } from "./auth";
import { clientOf, type HttpContext, requestMeta } from "./context";
import { parseBearer } from "./credentials";
import { jsonBody, passwordField, STRICT, strictBody, tokenField } from "./http";

const text = (max = 254) => t.String({ minLength: 1, maxLength: max });
const pin = t.String({ minLength: 1, maxLength: 32 });

/** The fields auth.update may carry; Dokploy lists more, each refused by name. */
const UPDATABLE = new Set(["email", "password", "currentPassword"]);

export function dokployRoutes(ctx: HttpContext) {
  const d = ctx.auth;
  const meta = (request: Request) => requestMeta(ctx, request);
  const me = async (request: Request) => authenticate(ctx, request);

  return (
    new Elysia(STRICT)
      // The setup code from `ipkeep init` is the Bearer token of createAdmin.
      .post(
        "/api/auth.createAdmin",
        async ({ request, body }) => {
          const code = parseBearer(request.headers.get("authorization"));
          if (!code) fail("unauthorized", "The setup code from `ipkeep init` goes in Authorization: Bearer");
          return setupAdmin(d, { code, email: body.email, password: body.password }, meta(request));
        },
        jsonBody(strictBody({ email: text(), password: passwordField })),
      )
      // Accepting an invitation: token is the invitation's; id (Dokploy's user id) is not needed.
      .post(
        "/api/auth.createUser",
        async ({ request, body }) => acceptInvite(d, { token: body.token, password: body.password }, meta(request)),
        jsonBody(strictBody({ password: passwordField, id: t.String({ maxLength: 64 }), token: tokenField })),
      )
      .post("/api/auth.login", async ({ request, body }) => login(d, body, meta(request)), jsonBody(strictBody({ email: text(), password: passwordField })))
      .get("/api/auth.get", async ({ request }) => {
        const p = await me(request);
        return userView(ctx.store.accounts.byId(p.user.id) ?? fail("unauthorized"));
      })
      .post("/api/auth.logout", async ({ request }) => {
        const p = await me(request);
        if (!p.sessionId) fail("invalid_input", "Not a session: revoke API keys with DELETE /api/keys/{id}");
        logout(d, p.sessionId);
        return { success: true };
      })
      .post(
        "/api/auth.update",
        async ({ request, body }) => {
          const p = await me(request);
          for (const field of Object.keys(body)) {
            if (!UPDATABLE.has(field))
              fail("invalid_input", `${field.slice(0, 40)} cannot be changed here: auth.update changes email and password (with currentPassword)`);
          }
          const b = body as { email?: string | null; password?: string | null; currentPassword?: string | null };
          const input = { email: b.email ?? undefined, password: b.password ?? undefined, currentPassword: b.currentPassword ?? undefined };
          for (const [k, v] of Object.entries(input)) if (v !== undefined && typeof v !== "string") fail("invalid_input", `${k} must be a string`);
          return updateProfile(d, p, input, meta(request));
        },
        jsonBody(t.Record(t.String(), t.Unknown())),
      )
      .post("/api/auth.generateToken", async ({ request }) => {
        const p = await me(request);
        const k = createApiKey(ctx, p.user, { label: "auth.generateToken" }, clientOf(ctx, request));
        return { ...k, token: k.key };
      })
      .get(
        "/api/auth.one",
        async ({ request, query }) => {
          const p = await me(request);
          const id = /^[1-9][0-9]{0,14}$/.test(query.id) ? Number(query.id) : 0;
          // Yourself, or anyone for an admin; another user's id is answered as if it did not exist.
          if (id !== p.user.id && p.user.role !== "admin") fail("not_found", "User not found");
          return userView(ctx.store.accounts.byId(id) ?? fail("not_found", "User not found"));
        },
        { query: t.Object({ id: t.String({ maxLength: 32 }) }) },
      )
      .get("/api/auth.generate2FASecret", async ({ request }) => {
        const p = await me(request);
        const s = totpSetup(d, p.user);
        return { secret: s.secret, qrCodeUrl: s.otpauthUrl, otpauthUrl: s.otpauthUrl };
      })
      .post(
        "/api/auth.verify2FASetup",
        async ({ request, body }) => {
          const p = await me(request);
          const pending = ctx.store.accounts.credentials(p.user.id)?.totpSecret;
          if (!pending || pending !== body.secret.trim()) fail("invalid_input", "secret is not the one auth.generate2FASecret answered: ask for a new one");
          return totpEnable(d, p.user, body.pin, meta(request));
        },
        jsonBody(strictBody({ pin, secret: t.String({ minLength: 1, maxLength: 128 }) })),
      )
      // id is the ticket auth.login answered ({"twoFactorRequired": true, "ticket"}), never a user id.
      .post(
        "/api/auth.verifyLogin2FA",
        async ({ request, body }) => loginSecondFactor(d, { ticket: body.id, pin: body.pin }, meta(request)),
        jsonBody(strictBody({ pin, id: tokenField })),
      )
      .post(
        "/api/auth.disable2FA",
        async ({ request, body }) => {
          const p = await me(request);
          if (!body || typeof body.pin !== "string") fail("invalid_input", "pin: a pin from the authenticator app or a recovery code is required");
          totpDisable(d, p.user, body.pin, meta(request));
          return { success: true };
        },
        jsonBody(t.Union([t.Undefined(), strictBody({ pin: t.Optional(pin) })])),
      )
      .post(
        "/api/auth.sendResetPasswordEmail",
        ({ request, body }) => {
          requestPasswordReset(d, body.email, meta(request));
          return { success: true };
        },
        jsonBody(strictBody({ email: text() })),
      )
      .post(
        "/api/auth.resetPassword",
        async ({ request, body }) => {
          await confirmPasswordReset(d, { token: body.resetPasswordToken, password: body.password }, meta(request));
          return { success: true };
        },
        jsonBody(strictBody({ resetPasswordToken: tokenField, password: passwordField })),
      )
      .post(
        "/api/auth.confirmEmail",
        ({ body }) => {
          confirmEmail(d, body.confirmationToken);
          return { success: true };
        },
        jsonBody(strictBody({ confirmationToken: tokenField })),
      )
  );
}
