/**
 * /api/domains: built-in zones (admin, with nameservers) and users' custom domains
 * ({"name"}), their delegation check and verification, and their signing (DNSSEC on/off, the DS).
 */
import { Elysia, t } from "elysia";
import type { HttpContext } from "./context";
import { resourcesFor } from "./acting";
import { created, IdParams, jsonBody, noContent, STRICT, toId } from "./http";

const Nameserver = t.Union([
  t.String({ minLength: 1, maxLength: 400 }),
  t.Object(
    { name: t.String({ minLength: 1, maxLength: 253 }), ipv4: t.Optional(t.String({ maxLength: 15 })), ipv6: t.Optional(t.String({ maxLength: 45 })) },
    { additionalProperties: false },
  ),
]);

const NewDomain = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 253 }),
    nameservers: t.Optional(t.Array(Nameserver, { maxItems: 13 })),
  },
  { additionalProperties: false },
);

const NewNameservers = t.Object({ nameservers: t.Array(Nameserver, { minItems: 1, maxItems: 13 }) }, { additionalProperties: false });

const DnssecSwitch = t.Object(
  { enabled: t.Boolean(), algorithm: t.Optional(t.Union([t.Literal("ecdsap256sha256"), t.Literal("ed25519")])), now: t.Optional(t.Boolean()) },
  { additionalProperties: false },
);

export function domainRoutes(deps: HttpContext) {
  return (
    new Elysia(STRICT)
      // Credentials before the body is looked at: an unauthenticated caller learns nothing, not even a schema error.
      .derive(async ({ request }) => ({ r: await resourcesFor(deps, request) }))
      .get("/api/domains", async ({ r }) => ({ domains: await r.listDomains() }))
      .post("/api/domains", async ({ r, body }) => created({ domain: await r.createDomain(body) }), jsonBody(NewDomain))
      .get("/api/domains/:id", async ({ r, params }) => ({ domain: await r.getDomain(toId(params.id)) }), {
        params: IdParams,
      })
      .delete(
        "/api/domains/:id",
        async ({ r, params }) => {
          await r.removeDomain(toId(params.id));
          return noContent();
        },
        { params: IdParams },
      )
      .put("/api/domains/:id/nameservers", async ({ r, params, body }) => ({ domain: await r.setNameservers(toId(params.id), body.nameservers) }), {
        params: IdParams,
        ...jsonBody(NewNameservers),
      })
      .post("/api/domains/:id/verify", async ({ r, params }) => r.verifyDomain(toId(params.id)), { params: IdParams })
      .put(
        "/api/domains/:id/dnssec",
        async ({ r, params, body }) => ({ dnssec: await r.setDnssec(toId(params.id), body.enabled, body.algorithm, body.now === true) }),
        { params: IdParams, ...jsonBody(DnssecSwitch) },
      )
      .get("/api/domains/:id/ds", async ({ r, params }) => ({ ds: await r.dnssecDs(toId(params.id)) }), { params: IdParams })
      .get("/api/domains/:id/delegation-status", async ({ r, params }) => ({ delegation: await r.delegationStatus(toId(params.id)) }), { params: IdParams })
  );
}
