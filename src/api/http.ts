/**
 * Conventions every JSON route shares: strict body schemas (unknown fields rejected), ids in
 * paths, the body size bound, and the one mapping of failures to {"error","code"}.
 */
import type { TProperties } from "@sinclair/typebox";
import { t } from "elysia";
import { fail } from "../core/errors";
import { rulesFor } from "./routes";


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

/** A request body schema: exactly these fields (Dokploy-style extra fields answer 400). */
export const strictBody = <P extends TProperties>(props: P, description?: string) =>
  t.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });

/** Path parameter schema for numeric ids. */
export const idParams = t.Object({ id: t.String({ pattern: "^[0-9]{1,15}$" }) });

export function parseId(raw: string): number {
  const n = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) fail("not_found");
  return n;
}

export const emailField = t.String({ minLength: 3, maxLength: 254, format: "email" });
export const passwordField = t.String({ minLength: 1, maxLength: 1024 });
export const tokenField = t.String({ minLength: 1, maxLength: 512 });

/**
 * A whole number. Not t.Integer: Elysia coerces "3" to 3 for it, and a string where a number
 * belongs is a client bug to report, not to guess at.
 */
export const wholeNumber = (opts: { minimum?: number; maximum?: number; description?: string } = {}) => t.Number({ multipleOf: 1, ...opts });
