/**
 * The one error table. Every refusal in ipkeep is an IpkeepError carrying a code from
 * this table; each transport picks the column it speaks (HTTP status, dyndns2 word,
 * CLI exit code) instead of deciding on its own.
 */

export interface ErrorSpec {
  /** HTTP status for the JSON APIs. */
  status: number;
  /** The dyndns2 answer word for the update protocol. */
  dyndns: DyndnsWord;
  /** Process exit code for the CLI. */
  exit: number;
  /** Default human message. */
  message: string;
}

export type DyndnsWord = "badauth" | "notfqdn" | "nohost" | "numhost" | "abuse" | "badagent" | "dnserr" | "911";

// Exit codes: 1 generic failure, 2 bad usage/input, 3 schema newer than this binary,
// 4 not found, 5 conflict, 6 auth. Kept small so scripts can branch on them.
export const ERRORS = {
  invalid_input: { status: 400, dyndns: "notfqdn", exit: 2, message: "Invalid input" },
  invalid_hostname: { status: 400, dyndns: "notfqdn", exit: 2, message: "Invalid hostname" },
  invalid_address: { status: 400, dyndns: "dnserr", exit: 2, message: "Invalid IP address" },
  unauthorized: { status: 401, dyndns: "badauth", exit: 6, message: "Invalid credentials" },
  forbidden: { status: 403, dyndns: "badauth", exit: 6, message: "Not allowed" },
  https_required: { status: 403, dyndns: "badauth", exit: 6, message: "This request must be made over HTTPS" },
  not_found: { status: 404, dyndns: "nohost", exit: 4, message: "Not found" },
  unknown_host: { status: 404, dyndns: "nohost", exit: 4, message: "Hostname not found" },
  unknown_zone: { status: 404, dyndns: "nohost", exit: 4, message: "Domain not found" },
  outside_zone: { status: 400, dyndns: "notfqdn", exit: 2, message: "Name is not inside a served zone" },
  too_many_hosts: { status: 400, dyndns: "numhost", exit: 2, message: "Too many hostnames" },
  conflict: { status: 409, dyndns: "dnserr", exit: 5, message: "Already exists" },
  // ipdock's code, kept in its own spelling so its clients recognise it; quotas replace plans.
  PLAN_LIMIT: { status: 403, dyndns: "numhost", exit: 5, message: "Quota reached" },
  not_delegated: { status: 409, dyndns: "dnserr", exit: 5, message: "Domain is not delegated to this server" },
  resolver_failed: { status: 502, dyndns: "dnserr", exit: 1, message: "The delegation check could not reach the resolver" },
  too_large: { status: 413, dyndns: "dnserr", exit: 2, message: "Request body too large" },
  rate_limited: { status: 429, dyndns: "abuse", exit: 1, message: "Too many requests" },
  locked_out: { status: 429, dyndns: "abuse", exit: 1, message: "Too many failed attempts" },
  bad_agent: { status: 400, dyndns: "badagent", exit: 2, message: "User agent refused" },
  schema_too_new: { status: 500, dyndns: "911", exit: 3, message: "Database schema is newer than this ipkeep" },
  internal: { status: 500, dyndns: "911", exit: 1, message: "Internal error" },
  // The database (or a secondary's zone cache) is damaged: refused at start, never served empty.
  // SQLite found no room to write (SQLITE_FULL, ENOSPC): the change was rolled back.
  storage_full: { status: 503, dyndns: "911", exit: 1, message: "The server's storage is full" },
  database_damaged: { status: 500, dyndns: "911", exit: 1, message: "The database is damaged" },
  // Install-code lifecycle (core/install.ts); codes and statuses follow IPTunnel's v2 API.
  install_code_not_found: { status: 404, dyndns: "nohost", exit: 4, message: "Install code not found." },
  install_code_expired: { status: 410, dyndns: "badauth", exit: 4, message: "Install code has expired." },
  install_code_revoked: { status: 410, dyndns: "badauth", exit: 4, message: "Install code has been revoked." },
  install_code_consumed: { status: 409, dyndns: "badauth", exit: 5, message: "Install code has already been used." },
  install_code_in_use: { status: 409, dyndns: "badauth", exit: 5, message: "Install code is in use by an activation; confirm or release it first." },
  code_bound_elsewhere: { status: 409, dyndns: "badauth", exit: 5, message: "Install code is bound to another machine." },
  precheck_token_invalid: { status: 401, dyndns: "badauth", exit: 6, message: "Precheck token is invalid or expired; run the precheck again." },
  install_token_invalid: { status: 401, dyndns: "badauth", exit: 6, message: "Install token is invalid." },
  install_token_used: { status: 409, dyndns: "badauth", exit: 5, message: "Install token has already been used." },
  install_token_expired: { status: 410, dyndns: "badauth", exit: 4, message: "Install token has expired." },
  activation_not_found: { status: 404, dyndns: "nohost", exit: 4, message: "Activation not found." },
  activation_confirmed: { status: 409, dyndns: "badauth", exit: 5, message: "Activation is already confirmed." },
  activation_released: { status: 409, dyndns: "badauth", exit: 5, message: "Activation was released; run the installer again." },
  hostname_mismatch: { status: 422, dyndns: "notfqdn", exit: 2, message: "Hostname does not match the one this install code was issued for." },
  rate_limit_exceeded: { status: 429, dyndns: "abuse", exit: 1, message: "Too many requests. Please wait before trying again." },
  unsupported_arch: { status: 404, dyndns: "911", exit: 4, message: "No ipkeep executable for this architecture." },
  node_revoked: { status: 403, dyndns: "badauth", exit: 6, message: "This node has been revoked." },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class IpkeepError extends Error {
  readonly code: ErrorCode;
  readonly spec: ErrorSpec;
  /** Seconds until trying again makes sense (a delay or lockout): HTTP answers send Retry-After. */
  retryAfter?: number;
  constructor(code: ErrorCode, message?: string) {
    super(message ?? ERRORS[code].message);
    this.name = "IpkeepError";
    this.code = code;
    this.spec = ERRORS[code];
  }
  get status(): number {
    return this.spec.status;
  }
  get dyndns(): DyndnsWord {
    return this.spec.dyndns;
  }
  get exitCode(): number {
    return this.spec.exit;
  }
}

export function fail(code: ErrorCode, message?: string): never {
  throw new IpkeepError(code, message);
}

/** Any thrown value as an IpkeepError; unknown faults become `internal` without leaking detail. */
export function asIpkeepError(e: unknown): IpkeepError {
  return e instanceof IpkeepError ? e : new IpkeepError("internal");
}
