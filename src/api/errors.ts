/**
 * The JSON API's error shape: {"error": message, "code": lower_snake_case}. One function, so
 * every route answers failures alike; the status comes from core's error table.
 */
import { asIpkeepError, type ErrorCode, IpkeepError } from "../core/errors";

export function errorBody(e: unknown): { error: string; code: ErrorCode; upgrade?: false } {
  const err = asIpkeepError(e);
  // ipdock's quota answer carries "upgrade"; there are no plans to upgrade to here.
  return err.code === "PLAN_LIMIT" ? { error: err.message, code: err.code, upgrade: false } : { error: err.message, code: err.code };
}

export function jsonError(e: unknown, headers: Record<string, string> = {}): Response {
  const err = asIpkeepError(e);
  return Response.json(errorBody(err), { status: err.status, headers });
}

export function isIpkeepError(e: unknown): e is IpkeepError {
  return e instanceof IpkeepError;
}
