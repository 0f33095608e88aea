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
import { emailField, jsonBody, passwordField, strictBody, tokenField } from "./http";

const pinField = t.String({ minLength: 1, maxLength: 32, description: "6-digit TOTP pin, or a recovery code (xxxxx-xxxxx)" });

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
      jsonBody(strictBody({ code: tokenField, email: emailField, password: passwordField })),
    )
    .post("/api/auth/login", ({ body, request }) => login(d(), body, meta(request)), {
      ...jsonBody(strictBody({ email: t.String({ minLength: 1, maxLength: 254 }), password: passwordField })),
    })
    .post("/api/auth/login/2fa", ({ body, request }) => loginSecondFactor(d(), body, meta(request)), {
      ...jsonBody(strictBody({ ticket: tokenField, pin: pinField })),
    })
    .post(
      "/api/auth/register",
      async ({ body, request, set }) => {
        const r = await register(d(), body, meta(request));
        set.status = 201;
        return r;
      },
      jsonBody(strictBody({ email: emailField, password: passwordField })),
    )
    .post(
      "/api/auth/accept-invite",
      async ({ body, request, set }) => {
        const r = await acceptInvite(d(), body, meta(request));
        set.status = 201;
        return r;
      },
      jsonBody(strictBody({ token: tokenField, password: passwordField })),
    )
    .post("/api/auth/logout", async ({ request, set }) => {
      const p = await authenticate(deps, request);
      if (!p.sessionId) fail("invalid_input", "Not a session: revoke API keys with DELETE /api/keys/{id}");
      logout(d(), p.sessionId);
      set.status = 204;
    })
    .get("/api/auth/me", async ({ request }) => {
      const p = await authenticate(deps, request);
      return me(p.user.id);
    })
    .patch(
      "/api/auth/me",
      async ({ request, body }) => {
        const p = await authenticate(deps, request);
        return updateProfile(d(), p, body, meta(request));
      },
      {
        ...jsonBody(strictBody({ email: t.Optional(emailField), password: t.Optional(passwordField), currentPassword: t.Optional(passwordField) })),
      },
    )
    .post("/api/auth/2fa/setup", async ({ request }) => {
      const p = await authenticate(deps, request);
      return totpSetup(d(), p.user);
    })
    .post(
      "/api/auth/2fa/enable",
      async ({ request, body }) => {
        const p = await authenticate(deps, request);
        return totpEnable(d(), p.user, body.pin, meta(request));
      },
      jsonBody(strictBody({ pin: pinField })),
    )
    .post(
      "/api/auth/2fa/disable",
      async ({ request, body, set }) => {
        const p = await authenticate(deps, request);
        totpDisable(d(), p.user, body.pin, meta(request));
        set.status = 204;
      },
      jsonBody(strictBody({ pin: pinField })),
    )
    .post(
      "/api/auth/password-reset",
      ({ body, request, set }) => {
        requestPasswordReset(d(), body.email, meta(request));
        set.status = 202;
        return { message: "If this address belongs to an account, a reset link is on its way" };
      },
      jsonBody(strictBody({ email: t.String({ minLength: 1, maxLength: 254 }) })),
    )
    .post(
      "/api/auth/password-reset/confirm",
      async ({ body, request, set }) => {
        await confirmPasswordReset(d(), body, meta(request));
        set.status = 204;
      },
      jsonBody(strictBody({ token: tokenField, password: passwordField })),
    )
    .post(
      "/api/auth/confirm-email",
      ({ body, set }) => {
        confirmEmail(d(), body.token);
        set.status = 204;
      },
      jsonBody(strictBody({ token: tokenField })),
    );
}
