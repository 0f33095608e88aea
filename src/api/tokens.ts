/**
 * /api/tokens: update tokens. One hostname ({"hostnameId","label"}, ipdock's form), a chosen
 * set ({"hostnameIds"}) or all of the owner's ({"allHostnames": true}). Values are answered
 * once, at creation and regeneration, and never listed.
 */
import { Elysia, t } from "elysia";
import type { HttpContext } from "./context";
import { fail } from "../core/errors";
import type { TokenPolicyInput } from "../core/token-policy";
import { resourcesFor } from "./acting";
import { BodyId, Bool, created, IdParams, jsonBody, noContent, STRICT, toId } from "./http";

const List = (item: ReturnType<typeof t.String>) => t.Optional(t.Union([t.Null(), t.Array(item, { maxItems: 50 })]));
/** A token's policy (core/token-policy.ts checks the meaning): absent keeps a field, null clears it. */
const Policy = t.Object(
  {
    names: List(t.String({ maxLength: 253 })),
    types: List(t.String({ maxLength: 10 })),
    networks: List(t.String({ maxLength: 64 })),
    expiresAt: t.Optional(t.Union([t.Null(), t.String({ maxLength: 40 })])),
    maxUnusedSeconds: t.Optional(t.Union([t.Null(), t.Integer()])),
  },
  { additionalProperties: false },
);

/** The API's policy (ISO 8601 times) in core's terms (epoch seconds). */
function policyInput(p: typeof Policy.static | undefined): TokenPolicyInput | undefined {
  if (!p) return undefined;
  const { expiresAt, ...rest } = p;
  if (expiresAt === undefined || expiresAt === null) return { ...rest, expiresAt };
  const ms = Date.parse(expiresAt);
  if (!Number.isFinite(ms)) fail("invalid_input", "policy.expiresAt must be a time in ISO 8601 (2027-01-31T00:00:00Z)");
  return { ...rest, expiresAt: Math.floor(ms / 1000) };
}

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
    policy: t.Optional(Policy),
  },
  { additionalProperties: false },
);

export function tokenRoutes(deps: HttpContext) {
  return (
    new Elysia(STRICT)
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
            policy: policyInput(body.policy),
          });
          return created({ token });
        },
        jsonBody(NewToken),
      )
      .post("/api/tokens/:id/regenerate", async ({ r, params }) => ({ token: await r.regenerateToken(toId(params.id)) }), {
        params: IdParams,
      })
      .patch("/api/tokens/:id", async ({ r, params, body }) => ({ token: await r.setTokenPolicy(toId(params.id), policyInput(body.policy) ?? {}) }), {
        params: IdParams,
        ...jsonBody(t.Object({ policy: Policy }, { additionalProperties: false })),
      })
      .delete(
        "/api/tokens/:id",
        async ({ r, params }) => {
          await r.removeToken(toId(params.id));
          return noContent();
        },
        { params: IdParams },
      )
  );
}
