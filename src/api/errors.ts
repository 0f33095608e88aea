/**
 * Error envelopes, one per dialect (api/routes.ts): the JSON API's {"error": message, "code":
 * lower_snake_case}, IPTunnel's {"error": {"code", "message"}} under /api/v2, and plain text for
 * the rest. The status comes from core's error table. Every refusal the app makes before a
 * handler runs (HTTPS, rate, size, parse, unknown path) is spoken through here, in the envelope
 * of the route (or area) that was asked.
 */
import { asIpkeepError, type ErrorCode, IpkeepError } from "../core/errors";
import { log, logLimited, redact } from "../log";
import type { Dialect } from "./routes";

// Messages may quote the caller's input (a hostname that was really a pasted token): redacted.
export function errorBody(e: unknown): { error: string; code: ErrorCode; upgrade?: false } {
  const err = asIpkeepError(e);
  const body = { error: redact(err.message), code: err.code };
  // ipdock's quota answer carries "upgrade"; there are no plans to upgrade to here.
  return err.code === "PLAN_LIMIT" ? { ...body, upgrade: false } : body;
}

/** The JSON API's envelope. */
export function jsonError(e: unknown, headers: Record<string, string> = {}): Response {
  const err = asIpkeepError(e);
  return Response.json(errorBody(err), { status: err.status, headers });
}

/** IPTunnel's v2 envelope; an unexpected failure is logged (its message is not shown). */
export function envelopeError(e: unknown, headers: Record<string, string> = {}): Response {
  const err = asIpkeepError(e);
  if (!(e instanceof IpkeepError)) log("error", "v2 api failure", { error: redact((e as Error)?.message ?? String(e)) });
  return Response.json({ error: { code: err.code, message: redact(err.message) } }, { status: err.status, headers });
}

/** One line of text. */
export function textError(e: unknown, headers: Record<string, string> = {}): Response {
  const err = asIpkeepError(e);
  return new Response(`${redact(err.message)}\n`, { status: err.status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

const STATUS_TEXT: Record<number, string> = {
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  409: "409 Conflict",
  413: "413 Payload Too Large",
  429: "429 Too Many Requests",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};

/** IPv64's account API envelope: {"info": "error", "status": "403 Forbidden", <call>: message}. */
export function ipv64Error(e: unknown, call = "error", headers: Record<string, string> = {}): Response {
  const err = asIpkeepError(e);
  if (!(e instanceof IpkeepError)) logFailure("ipv64", e);
  const status = STATUS_TEXT[err.status] ?? String(err.status);
  return Response.json({ info: "error", status, [call]: redact(err.message), code: err.code }, { status: err.status, headers });
}

/** A refusal in the envelope of a dialect. */
export function dialectError(dialect: Dialect, e: unknown, headers: Record<string, string> = {}): Response {
  switch (dialect) {
    case "v2":
      return envelopeError(e, headers);
    case "ipv64":
      return ipv64Error(e, "error", headers);
    case "text":
    case "page":
    case "dyndns2":
      return textError(e, headers);
    default:
      return jsonError(e, headers);
  }
}

export function httpsRequired(): IpkeepError {
  return new IpkeepError("https_required", `${new IpkeepError("https_required").message}: connect with https:// (or through a proxy that terminates TLS)`);
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
    logLimited("storage_full", STORAGE_FULL_LOG_MS, "error", "storage full: a change could not be stored and was refused", {
      where,
      fix: "free disk space where the data directory is",
    });
  } else {
    log("error", "request failed", { where, error: redact(String((e as Error)?.message ?? e)).slice(0, 200) });
  }
}
