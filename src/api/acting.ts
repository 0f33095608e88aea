/**
 * What the resource routes share: the caller as core's Actor, core's Resources for them, and
 * the strict schema pieces (ids in paths, integers that are not numeric strings).
 */
import { type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { t } from "elysia";
import { fail } from "../core/errors";
import { type Actor, LocalResources } from "../core/resources";
import { authenticate } from "./auth";
import { type HttpContext, clientOf } from "./context";

export async function actorFor(deps: HttpContext, request: Request): Promise<Actor> {
  const p = await authenticate(deps, request);
  return { userId: p.user.id, admin: p.user.role === "admin", name: `user:${p.user.id}`, address: clientOf(deps, request) };
}

export async function resourcesFor(deps: HttpContext, request: Request): Promise<LocalResources> {
  return new LocalResources(deps, await actorFor(deps, request));
}

// Ids are positive integers; 15 digits stay below 2^53 so Number() is exact.
const ID_PATTERN = "^[1-9][0-9]{0,14}$";
export const IdParams = t.Object({ id: t.String({ pattern: ID_PATTERN }) });
// The router needs one parameter name per path position: ":id" is the domain under /api/domains.
export const RecordParams = t.Object({ id: t.String({ pattern: ID_PATTERN }), recordId: t.String({ pattern: ID_PATTERN }) });

/**
 * JSON integers only. Elysia's own t.Integer also accepts "60" (a numeric string) for
 * query-string convenience; in a JSON body that is a wrong type and is refused.
 */
export const Int = (o: { minimum?: number; maximum?: number } = {}) => Type.Integer(o);
export const Bool = () => Type.Boolean();
/** An id in a body: a JSON integer, or its decimal text (ipdock's ids are strings). */
export const BodyId = () => t.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), t.String({ pattern: ID_PATTERN })]);
export const toId = (v: number | string) => Number(v);

/** Options every resource route group uses. */
export const STRICT = { normalize: false } as const;

/**
 * Route options for a JSON body: the schema (documentation and typing) plus a strict check of
 * the body as sent, before Elysia's own validation. Elysia coerces "60" into 60 and, with
 * some schemas, silently drops unknown fields; here a wrong type or an unknown field is a 400.
 */
export function jsonBody<S extends TSchema>(schema: S) {
  return {
    body: schema,
    parse: "json" as const,
    transform({ body }: { body: unknown }) {
      if (Value.Check(schema, body)) return;
      const e = Value.Errors(schema, body).First();
      const where = e?.path ? e.path.replace(/^\//, "").replace(/\//g, ".") : "body";
      fail("invalid_input", `Invalid request: ${where}: ${e?.message ?? "does not match the schema"}`);
    },
  };
}

/** OpenAPI metadata of a route. */
export const doc = (tag: string, summary: string) => ({ tags: [tag], summary, security: [{ bearer: [] }] });

export const created = (body: unknown) => new Response(JSON.stringify(body), { status: 201, headers: { "content-type": "application/json" } });
/** A deletion's answer, as the account routes give it: 204, no body. */
export const noContent = () => new Response(null, { status: 204 });
