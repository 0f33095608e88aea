/**
 * Conventions every JSON route shares: strict body schemas (unknown fields rejected), ids in
 * paths, the body size bound, and the one mapping of failures to {"error","code"}.
 */
import type { TProperties } from "@sinclair/typebox";
import { t } from "elysia";
import { fail } from "../core/errors";

/** JSON bodies of the management API are small; anything larger is refused before parsing. */
export const MAX_JSON_BODY = 64 * 1024;

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
