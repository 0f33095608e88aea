/**
 * /api/domains/{domainId}/records: static records (A, AAAA, CNAME, TXT, MX, SRV, CAA, NS).
 * Shape checks here; what a record may contain and where it may sit is core/records.ts.
 */
import { Elysia, t } from "elysia";
import type { HttpContext } from "./context";
import { resourcesFor } from "./acting";
import { created, IdParams, Int, jsonBody, noContent, RecordParams, STRICT, toId } from "./http";

// Room for a 2048-character TXT value in quoted zone-file form.
const MAX_CONTENT = 4096;

const NewRecord = t.Object(
  {
    type: t.String({ minLength: 1, maxLength: 10 }),
    name: t.String({ maxLength: 253 }),
    content: t.String({ maxLength: MAX_CONTENT }),
    ttl: t.Optional(Int()),
    priority: t.Optional(t.Union([Int(), t.Null()])),
  },
  { additionalProperties: false },
);

const RecordPatch = t.Object(
  {
    name: t.Optional(t.String({ maxLength: 253 })),
    content: t.Optional(t.String({ maxLength: MAX_CONTENT })),
    ttl: t.Optional(Int()),
    priority: t.Optional(t.Union([Int(), t.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);

export function recordRoutes(deps: HttpContext) {
  return (
    new Elysia(STRICT)
      // Credentials before the body is looked at: an unauthenticated caller learns nothing, not even a schema error.
      .derive(async ({ request }) => ({ r: await resourcesFor(deps, request) }))
      .get("/api/domains/:id/records", async ({ r, params }) => ({ records: await r.listRecords(toId(params.id)) }), {
        params: IdParams,
      })
      .post("/api/domains/:id/records", async ({ r, params, body }) => created({ record: await r.createRecord(toId(params.id), body) }), {
        params: IdParams,
        ...jsonBody(NewRecord),
      })
      .patch(
        "/api/domains/:id/records/:recordId",
        async ({ r, params, body }) => ({
          record: await r.updateRecord(toId(params.id), toId(params.recordId), body),
        }),
        { params: RecordParams, ...jsonBody(RecordPatch) },
      )
      .delete(
        "/api/domains/:id/records/:recordId",
        async ({ r, params }) => {
          await r.removeRecord(toId(params.id), toId(params.recordId));
          return noContent();
        },
        { params: RecordParams },
      )
  );
}
