/**
 * /api/tokens: update tokens. One hostname ({"hostnameId","label"}, ipdock's form), a chosen
 * set ({"hostnameIds"}) or all of the owner's ({"allHostnames": true}). Values are answered
 * once, at creation and regeneration, and never listed.
 */
import { Elysia, t } from "elysia";
import type { HttpContext } from "./context";
import { resourcesFor } from "./acting";
import { BodyId, Bool, created, IdParams, jsonBody, noContent, STRICT, toId } from "./http";

const NewToken = t.Object(
  {
    hostnameId: t.Optional(BodyId()),
    // A token is for a few machines' hostnames; more than this is a mistake, or "allHostnames".
    hostnameIds: t.Optional(t.Array(BodyId(), { minItems: 1, maxItems: 100 })),
    allHostnames: t.Optional(Bool()),
    label: t.Optional(t.String({ maxLength: 100 })),
    // A DNS UPDATE (TSIG) key with the token; the algorithm is checked by core (tsig-keys.ts).
    tsig: t.Optional(Bool()),
    tsigAlgorithm: t.Optional(t.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);

export function tokenRoutes(deps: HttpContext) {
  return new Elysia(STRICT)
    // Credentials before the body is looked at: an unauthenticated caller learns nothing, not even a schema error.
    .derive(async ({ request }) => ({ r: await resourcesFor(deps, request) }))
    .get("/api/tokens", async ({ r }) => ({ tokens: await r.listTokens() }))
    .post(
      "/api/tokens",
      async ({ r, body }) => {
        const token = await r.createToken({
          hostnameId: body.hostnameId === undefined ? undefined : toId(body.hostnameId),
          hostnameIds: body.hostnameIds?.map(toId),
          allHostnames: body.allHostnames,
          label: body.label,
          tsig: body.tsig,
          tsigAlgorithm: body.tsigAlgorithm,
        });
        return created({ token });
      },
      jsonBody(NewToken),
    )
    .post("/api/tokens/:id/regenerate", async ({ r, params }) => ({ token: await r.regenerateToken(toId(params.id)) }), {
      params: IdParams,
    })
    .delete(
      "/api/tokens/:id",
      async ({ r, params }) => {
        await r.removeToken(toId(params.id));
        return noContent();
      },
      { params: IdParams },
    );
}
