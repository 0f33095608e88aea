/**
 * The JSON API's error shape: {"error": message, "code": lower_snake_case}. One function, so
 * every route answers failures alike; the status comes from core's error table.
 */
import { asIpkeepError, type ErrorCode, IpkeepError } from "../core/errors";
import { redact } from "../log";

// Messages may quote the caller's input (a hostname that was really a pasted token): redacted.
export function errorBody(e: unknown): { error: string; code: ErrorCode; upgrade?: false } {
  const err = asIpkeepError(e);
  const body = { error: redact(err.message), code: err.code };
  // ipdock's quota answer carries "upgrade"; there are no plans to upgrade to here.
  return err.code === "PLAN_LIMIT" ? { ...body, upgrade: false } : body;
}

export function jsonError(e: unknown, headers: Record<string, string> = {}): Response {
  const err = asIpkeepError(e);
  return Response.json(errorBody(err), { status: err.status, headers });
}

export function isIpkeepError(e: unknown): e is IpkeepError {
  return e instanceof IpkeepError;
}
