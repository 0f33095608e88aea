/**
 * The JSON API's error shape: {"error": message, "code": lower_snake_case}. One function, so
 * every route answers failures alike; the status comes from core's error table.
 */
import { asIpkeepError, type ErrorCode, IpkeepError } from "../core/errors";
import { log, logLimited, redact } from "../log";

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

/** One line a minute at most while the disk stays full, however many requests meet it. */
const STORAGE_FULL_LOG_MS = 60_000;

/**
 * The log line for a request that could not be stored or failed inside: a full disk is
 * rate-limited (it repeats for every request until someone frees space), anything else is
 * logged as it comes, redacted.
 */
export function logFailure(where: string, e: unknown): void {
  if (e instanceof IpkeepError && e.code === "storage_full") {
    logLimited("storage_full", STORAGE_FULL_LOG_MS, "error", "storage full: a change could not be stored and was refused", { where, fix: "free disk space where the data directory is" });
  } else {
    log("error", "request failed", { where, error: redact(String((e as Error)?.message ?? e)).slice(0, 200) });
  }
}
