/**
 * /api/users: the admin's view of accounts (list, one, disable, quotas) and invitations.
 */
import { Elysia, t } from "elysia";
import { adminUpdateUser, invite, userView } from "../core/auth";
import { fail } from "../core/errors";
import { authenticate, requireAdmin } from "./auth";
import { type HttpContext, requestMeta } from "./context";
import { emailField, IdParams, Int, jsonBody, strictBody, toId } from "./http";

const quotaValue = t.Union([Int({ minimum: 0, maximum: 1_000_000 }), t.Null()]);

export function userRoutes(deps: HttpContext) {
  const admin = async (request: Request) => {
    const p = await authenticate(deps, request);
    requireAdmin(p);
    return p;
  };
  return new Elysia()
    .get("/api/users", async ({ request }) => {
      await admin(request);
      return deps.store.accounts.list().map(userView);
    })
    .post(
      "/api/users/invitations",
      async ({ request, body, set }) => {
        const p = await admin(request);
        const r = invite(deps.auth, p.user, body.email, requestMeta(deps, request));
        set.status = 201;
        return r;
      },
      jsonBody(strictBody({ email: emailField })),
    )
    .get(
      "/api/users/:id",
      async ({ request, params }) => {
        await admin(request);
        const a = deps.store.accounts.byId(toId(params.id));
        if (!a) fail("not_found", "User not found");
        return userView(a);
      },
      { params: IdParams },
    )
    .patch(
      "/api/users/:id",
      async ({ request, params, body }) => {
        const p = await admin(request);
        return adminUpdateUser(deps, p.user, toId(params.id), body, requestMeta(deps, request).address);
      },
      {
        params: IdParams,
        ...jsonBody(
          strictBody({
            disabled: t.Optional(t.Boolean()),
            quota: t.Optional(
              t.Object(
                { hostnames: t.Optional(quotaValue), domains: t.Optional(quotaValue), records: t.Optional(quotaValue) },
                { additionalProperties: false, description: "null: the instance default" },
              ),
            ),
          }),
        ),
      },
    );
}
