/**
 * The one schema-helper dialect of the JSON routes: strict bodies (a wrong type or an unknown
 * field is a 400 naming it, never coerced or dropped), ids in paths, whole numbers, and the one
 * JSON body reader for routes that read their body themselves.
 */
import type { TProperties, TSchema } from "@sinclair/typebox";
import { Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { t } from "elysia";
import { fail } from "../core/errors";
import { rulesFor } from "./routes";

/** A request body object: exactly these fields (Dokploy-style extra fields answer 400). */
export const strictBody = <P extends TProperties>(props: P, description?: string) =>
  t.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });

// Ids are positive integers; 15 digits stay below 2^53 so Number() is exact.
const ID_PATTERN = "^[1-9][0-9]{0,14}$";
/** Path parameters: a numeric id. */
export const IdParams = t.Object({ id: t.String({ pattern: ID_PATTERN }) });
// The router needs one parameter name per path position: ":id" is the domain under /api/domains.
export const RecordParams = t.Object({ id: t.String({ pattern: ID_PATTERN }), recordId: t.String({ pattern: ID_PATTERN }) });

/** An id from a path or body (checked by the schema); anything else is not_found. */
export function toId(raw: number | string): number {
  const n = typeof raw === "number" ? raw : new RegExp(ID_PATTERN).test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) fail("not_found");
  return n;
}

/**
 * JSON integers only. Elysia's own t.Integer also accepts "60" (a numeric string) for
 * query-string convenience; in a JSON body that is a wrong type and is refused.
 */
export const Int = (o: { minimum?: number; maximum?: number; description?: string } = {}) => Type.Integer(o);
export const Bool = () => Type.Boolean();
/** An id in a body: a JSON integer, or its decimal text (ipdock's ids are strings). */
export const BodyId = () => t.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), t.String({ pattern: ID_PATTERN })]);

/** An e-mail address: only its shape here; whether it is one is core/auth.ts's normalizeEmail, the one rule. */
export const emailField = t.String({ minLength: 1, maxLength: 254 });
export const passwordField = t.String({ minLength: 1, maxLength: 1024 });
export const tokenField = t.String({ minLength: 1, maxLength: 512 });

/** Options every route group uses: Elysia's normalisation off, so unknown fields are refused, not dropped. */
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

/**
 * The one JSON body reader for routes that read their body themselves (the v2 install API):
 * a JSON object, or invalid_input. The route table's limit (routes.ts) bounds it: a declared
 * length before anything is read (app.ts), the text as read here.
 */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const limit = rulesFor(request.method, new URL(request.url).pathname).body;
  const text = await request.text();
  if (new TextEncoder().encode(text).length > limit) fail("too_large", `Request body larger than ${limit} bytes`);
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail("invalid_input", "Request body is not valid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail("invalid_input", "Request body must be a JSON object");
  return v as Record<string, unknown>;
}

export const created = (body: unknown) => new Response(JSON.stringify(body), { status: 201, headers: { "content-type": "application/json" } });
/** A deletion's answer, as the account routes give it: 204, no body. */
export const noContent = () => new Response(null, { status: 204 });
