/**
 * /api/settings: what the admin changes at run time (registration, default quotas, SMTP).
 */
import { Elysia, t } from "elysia";
import { readSettings, writeSettings } from "../core/settings";
import { nowSeconds } from "../core/platform";
import { authenticate, requireAdmin } from "./auth";
import type { HttpContext } from "./context";
import { clientOf } from "./context";
import { Int, jsonBody, strictBody } from "./http";

const quotaValue = t.Union([Int({ minimum: 0, maximum: 1_000_000 }), t.Null()]);

export function settingsRoutes(deps: HttpContext) {
  return new Elysia()
    .get("/api/settings", async ({ request }) => {
      requireAdmin(await authenticate(deps, request));
      return readSettings(deps.store.settings);
    })
    .patch(
      "/api/settings",
      async ({ request, body }) => {
        const p = await authenticate(deps, request);
        requireAdmin(p);
        const r = deps.store.transaction(() => writeSettings(deps.store.settings, body));
        deps.store.logs.audit(
          { actorId: p.user.id, actor: `user:${p.user.id}`, action: "settings.update", address: clientOf(deps, request), detail: Object.keys(body).join(",") },
          nowSeconds(deps.platform.clock),
        );
        return r;
      },
      {
        ...jsonBody(
          strictBody({
            registrationOpen: t.Optional(t.Boolean()),
            defaultQuota: t.Optional(
              t.Object(
                { hostnames: t.Optional(quotaValue), domains: t.Optional(quotaValue), records: t.Optional(quotaValue) },
                { additionalProperties: false },
              ),
            ),
            smtp: t.Optional(
              t.Union([
                t.Null(),
                t.Object(
                  {
                    host: t.String({ minLength: 1, maxLength: 253 }),
                    port: t.Optional(Int({ minimum: 1, maximum: 65535 })),
                    secure: t.Optional(t.Boolean()),
                    user: t.Optional(t.Union([t.String({ maxLength: 254 }), t.Null()])),
                    password: t.Optional(t.Union([t.String({ maxLength: 1024 }), t.Null()])),
                    from: t.String({ minLength: 3, maxLength: 254 }),
                  },
                  { additionalProperties: false },
                ),
              ]),
            ),
          }),
        ),
      },
    );
}
