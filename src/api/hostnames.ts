/**
 * /api/hostnames: ipdock's hostname routes. Create answers {"hostname", "token": {"tokenValue"}}.
 */
import { Elysia, t } from "elysia";
import type { HttpContext } from "./context";
import { HOST_LOG_DEFAULT, HOST_LOG_MAX } from "../core/resources";
import { resourcesFor } from "./acting";
import { BodyId, created, IdParams, Int, jsonBody, noContent, STRICT, toId } from "./http";

const NewHostname = t.Object(
  {
    // A label relative to domainId ("myserver"), or a full name when domainId is left out.
    name: t.String({ minLength: 1, maxLength: 253 }),
    domainId: t.Optional(BodyId()),
    ttl: t.Optional(Int()),
    description: t.Optional(t.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const HostnamePatch = t.Object(
  {
    ttl: t.Optional(Int()),
    description: t.Optional(t.String({ maxLength: 200 })),
    ipv6InterfaceId: t.Optional(t.Union([t.String({ minLength: 2, maxLength: 45 }), t.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);

export function hostnameRoutes(deps: HttpContext) {
  return (
    new Elysia(STRICT)
      // Credentials before the body is looked at: an unauthenticated caller learns nothing, not even a schema error.
      .derive(async ({ request }) => ({ r: await resourcesFor(deps, request) }))
      .get("/api/hostnames", async ({ r }) => ({ hostnames: await r.listHosts() }))
      .post(
        "/api/hostnames",
        async ({ r, body }) => {
          return created(
            await r.createHost({
              name: body.name,
              domainId: body.domainId === undefined ? undefined : toId(body.domainId),
              ttl: body.ttl,
              description: body.description,
            }),
          );
        },
        jsonBody(NewHostname),
      )
      .get("/api/hostnames/:id", async ({ r, params }) => ({ hostname: await r.getHost(toId(params.id)) }), {
        params: IdParams,
      })
      .patch("/api/hostnames/:id", async ({ r, params, body }) => ({ hostname: await r.updateHost(toId(params.id), body) }), {
        params: IdParams,
        ...jsonBody(HostnamePatch),
      })
      .delete(
        "/api/hostnames/:id",
        async ({ r, params }) => {
          await r.removeHost(toId(params.id));
          return noContent();
        },
        { params: IdParams },
      )
      .get(
        "/api/hostnames/:id/log",
        async ({ r, params, query }) => ({ log: await r.hostLog(toId(params.id), query.limit === undefined ? undefined : Number(query.limit)) }),
        {
          params: IdParams,
          query: t.Object({
            limit: t.Optional(
              t.String({ pattern: "^[1-9][0-9]{0,4}$", description: `Entries, newest first (default ${HOST_LOG_DEFAULT}, at most ${HOST_LOG_MAX})` }),
            ),
          }),
        },
      )
  );
}
