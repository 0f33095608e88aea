/**
 * Structured logs: one logfmt line per event on stdout. Values that look like secrets are
 * never passed in; redact() is for text that might carry one (URLs, headers).
 */

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

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < threshold) return;
  const parts = [`time=${new Date().toISOString()}`, `level=${level}`, `msg=${fmt(msg)}`];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) parts.push(`${k}=${fmt(v)}`);
  sink(parts.join(" "));
}

const SECRET_PARAMS = /([?&](?:token|key|password|pass|pwd|user|username|apikey|api_key)=)[^&#\s]*/gi;
const TOKEN_LIKE = /\bipk[a-z]?_[A-Za-z0-9_-]{8,}/g;

/** Replaces secrets in free text (URLs with token parameters, our token format) by ***. */
export function redact(text: string): string {
  return text.replace(SECRET_PARAMS, "$1***").replace(TOKEN_LIKE, "***");
}
