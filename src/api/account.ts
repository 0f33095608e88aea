/**
 * /api/auth/*: sessions, the first admin, registration, invitations, profile, two-factor,
 * password reset and e-mail confirmation (Dokploy's account lifecycle on ipdock's paths).
 */
import { Elysia, t } from "elysia";
import {
  acceptInvite,
  confirmEmail,
  confirmPasswordReset,
  login,
  loginSecondFactor,
  logout,
  register,
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
import { type HttpContext, requestMeta } from "./context";
import { emailField, passwordField, strictBody, tokenField } from "./http";

const pinField = t.String({ minLength: 1, maxLength: 32, description: "6-digit TOTP pin, or a recovery code (xxxxx-xxxxx)" });
const secured = (summary: string) => ({ tags: ["auth"], summary, security: [{ bearer: [] }] });
const open = (summary: string) => ({ tags: ["auth"], summary });

export function accountRoutes(deps: HttpContext) {
  const d = () => deps.auth;
  const meta = (request: Request) => requestMeta(deps, request);
  const me = (id: number) => {
    const a = deps.store.accounts.byId(id);
    if (!a) fail("unauthorized");
    return userView(a);
  };

  return new Elysia()
    .post(
      "/api/auth/setup",
      async ({ body, request, set }) => {
        const r = await setupAdmin(d(), body, meta(request));
        set.status = 201;
        return r;
      },
      { body: strictBody({ code: tokenField, email: emailField, password: passwordField }), detail: open("Create the first admin with the setup code from `ipkeep init`") },
    )
    .post("/api/auth/login", ({ body, request }) => login(d(), body, meta(request)), {
      body: strictBody({ email: t.String({ minLength: 1, maxLength: 254 }), password: passwordField }),
      detail: open("Log in: a session JWT and the user, or a two-factor ticket"),
    })
    .post("/api/auth/login/2fa", ({ body, request }) => loginSecondFactor(d(), body, meta(request)), {
      body: strictBody({ ticket: tokenField, pin: pinField }),
      detail: open("Second login step: the ticket and a TOTP pin or recovery code"),
    })
    .post(
      "/api/auth/register",
      async ({ body, request, set }) => {
        const r = await register(d(), body, meta(request));
        set.status = 201;
        return r;
      },
      { body: strictBody({ email: emailField, password: passwordField }), detail: open("Create an account (when the admin has opened registration)") },
    )
    .post(
      "/api/auth/accept-invite",
      async ({ body, request, set }) => {
        const r = await acceptInvite(d(), body, meta(request));
        set.status = 201;
        return r;
      },
      { body: strictBody({ token: tokenField, password: passwordField }), detail: open("Accept an invitation by choosing a password") },
    )
    .post(
      "/api/auth/logout",
      async ({ request, set }) => {
        const p = await authenticate(deps, request);
        if (!p.sessionId) fail("invalid_input", "Not a session: revoke API keys with DELETE /api/keys/{id}");
        logout(d(), p.sessionId);
        set.status = 204;
      },
      { detail: secured("Revoke the current session") },
    )
    .get(
      "/api/auth/me",
      async ({ request }) => {
        const p = await authenticate(deps, request);
        return me(p.user.id);
      },
      { detail: secured("The current user") },
    )
    .patch(
      "/api/auth/me",
      async ({ request, body }) => {
        const p = await authenticate(deps, request);
        return updateProfile(d(), p, body, meta(request));
      },
      {
        body: strictBody({ email: t.Optional(emailField), password: t.Optional(passwordField), currentPassword: t.Optional(passwordField) }),
        detail: secured("Change e-mail and/or password (needs currentPassword)"),
      },
    )
    .post(
      "/api/auth/2fa/setup",
      async ({ request }) => {
        const p = await authenticate(deps, request);
        return totpSetup(d(), p.user);
      },
      { detail: secured("Start two-factor set-up: a new TOTP secret and its otpauth:// URL") },
    )
    .post(
      "/api/auth/2fa/enable",
      async ({ request, body }) => {
        const p = await authenticate(deps, request);
        return totpEnable(d(), p.user, body.pin, meta(request));
      },
      { body: strictBody({ pin: pinField }), detail: secured("Enable two-factor with a pin from the app; answers recovery codes (shown once)") },
    )
    .post(
      "/api/auth/2fa/disable",
      async ({ request, body, set }) => {
        const p = await authenticate(deps, request);
        totpDisable(d(), p.user, body.pin, meta(request));
        set.status = 204;
      },
      { body: strictBody({ pin: pinField }), detail: secured("Disable two-factor (needs a pin or a recovery code)") },
    )
    .post(
      "/api/auth/password-reset",
      ({ body, request, set }) => {
        requestPasswordReset(d(), body.email, meta(request));
        set.status = 202;
        return { message: "If this address belongs to an account, a reset link is on its way" };
      },
      { body: strictBody({ email: t.String({ minLength: 1, maxLength: 254 }) }), detail: open("Ask for a password reset link by e-mail") },
    )
    .post(
      "/api/auth/password-reset/confirm",
      async ({ body, request, set }) => {
        await confirmPasswordReset(d(), body, meta(request));
        set.status = 204;
      },
      { body: strictBody({ token: tokenField, password: passwordField }), detail: open("Set a new password with a reset link's token") },
    )
    .post(
      "/api/auth/confirm-email",
      ({ body, set }) => {
        confirmEmail(d(), body.token);
        set.status = 204;
      },
      { body: strictBody({ token: tokenField }), detail: open("Confirm an e-mail address with a confirmation link's token") },
    );
}
