/**
 * Structured logs: one logfmt line per event on stdout. Values that look like secrets are
 * never passed in; redact() is for text that might carry one (URLs, headers).
 */
import { maskTokens } from "./core/tokens";

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold = ORDER.info;
let sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`);

export function setLogLevel(level: string): void {
  threshold = ORDER[level as Level] ?? ORDER.info;
}

export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

function fmt(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) || s === "" ? JSON.stringify(s) : s;
}

/** Every value passes through redact(): a caller that forgets cannot leak a token into the log. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < threshold) return;
  const parts = [`time=${new Date().toISOString()}`, `level=${level}`, `msg=${fmt(redact(msg))}`];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) parts.push(`${k}=${fmt(typeof v === "string" ? redact(v) : v)}`);
  sink(parts.join(" "));
}

// Query and form parameters that carry credentials in the update dialects (dyndns2, deSEC,
// IPv64, ipdock), plus the usual API-key spellings. Also matched percent-encoded ("%26token=").
const SECRET_PARAMS =
  /((?:[?&;]|%26|%3F)(?:token|key|password|pass|pwd|passwd|secret|user|username|apikey|api_key|api-key|access_token)(?:=|%3D))[^&#;\s"']*/gi;
// Header lines or JSON/logfmt fields naming a credential: "Authorization: Basic x", "x-api-key=…".
const SECRET_FIELDS =
  /\b(authorization|proxy-authorization|x-api-key|x-api-user|api[-_]?key|password)(["']?\s*[:=]\s*["']?)(?:(?:basic|bearer|token|digest)\s+)?[^\s"',;}&]+/gi;
// Our own secrets by their prefix (update tokens, API keys, one-time and node credentials).

/** Replaces secrets in free text (URLs with token parameters, credential headers, our token format) by ***. */
export function redact(text: string): string {
  return maskTokens(text.replace(SECRET_PARAMS, "$1***").replace(SECRET_FIELDS, "$1$2***"));
}

/**
 * A log line that a flood could repeat (every request failing the same way): the first is
 * written, then at most one per interval for the same key, carrying how many were left out.
 */
const lastLogged = new Map<string, { at: number; suppressed: number }>();

export function logLimited(key: string, intervalMs: number, level: Level, msg: string, fields: Record<string, unknown> = {}, now = Date.now()): void {
  const seen = lastLogged.get(key);
  if (seen && now - seen.at < intervalMs) {
    seen.suppressed++;
    return;
  }
  const suppressed = seen?.suppressed ?? 0;
  lastLogged.set(key, { at: now, suppressed: 0 });
  log(level, msg, suppressed ? { ...fields, suppressed } : fields);
}
