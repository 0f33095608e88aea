/**
 * /api/keys: long-lived API keys (Dokploy's generateToken), shown once, stored hashed,
 * accepted wherever a session JWT is.
 */
import { Elysia, t } from "elysia";
import { apiKeyView, createApiKey, revokeApiKey } from "../core/auth";
import { authenticate } from "./auth";
import type { HttpContext } from "./context";
import { clientOf } from "./context";
import { IdParams, Int, jsonBody, strictBody, toId } from "./http";

export function keyRoutes(deps: HttpContext) {
  return new Elysia()
    .get("/api/keys", async ({ request }) => {
      const p = await authenticate(deps, request);
      return deps.store.apiKeys.list(p.user.id).map(apiKeyView);
    })
    .post(
      "/api/keys",
      async ({ request, body, set }) => {
        const p = await authenticate(deps, request);
        const r = createApiKey(deps, p.user, body, clientOf(deps, request));
        set.status = 201;
        return r;
      },
      {
        ...jsonBody(
          strictBody({
            label: t.Optional(t.String({ maxLength: 100 })),
            expiresInDays: t.Optional(Int({ minimum: 1, maximum: 3650 })),
          }),
        ),
      },
    )
    .delete(
      "/api/keys/:id",
      async ({ request, params, set }) => {
        const p = await authenticate(deps, request);
        revokeApiKey(deps, p.user, toId(params.id), clientOf(deps, request));
        set.status = 204;
      },
      { params: IdParams },
    );
}
