/**
 * The HTTP surface in one table: per route its method, path, dialect, authentication, rate
 * class, TLS rule, body limit and summary. Everything that must agree about a route is derived
 * from here: the HTTPS rule (classifyPath), the rate class of the JSON API, the error envelope
 * of refusals and framework errors, the OpenAPI summaries, and the conventions test. createApp
 * refuses to start with a route that is not in the table (or a table row nobody serves), so a
 * route missing from it cannot be served.
 *
 * Paths not in the table (404s, a wrong method) take the rules of the area they fall in.
 */

/** How a route speaks: its body parser, success shape and error envelope (see app.ts, errors.ts). */
export type Dialect =
  /** ipkeep's JSON API (ipdock's REST shape): {"error", "code"}. */
  | "json"
  /** IPTunnel's /api/v2 envelope: {"data","meta"} / {"error":{"code","message"}}. */
  | "v2"
  /** dyndns2 text (good/nochg/badauth…), one line per host. */
  | "dyndns2"
  /** ipdock's update JSON (/api/update). */
  | "ipdock"
  /** acme-dns's API. */
  | "acme-dns"
  /** lego's httpreq. */
  | "httpreq"
  /** IPv64's account API: {"info", "status", <call>}. */
  | "ipv64"
  /** Plain text or files (metrics, install.sh, downloads). */
  | "text"
  /** HTML pages. */
  | "page";

/**
 * What a route takes to authenticate. "password", "secret" (one-time tokens, setup codes,
 * tickets), "session" (a session JWT or an API key) and "admin" (the same, of an admin) are
 * account credentials; "update" (update tokens, routers) and "node" (an enrolled machine's
 * token) are machine credentials; "install" is an install code or the tokens derived from it.
 */
export type RouteAuth = "none" | "password" | "secret" | "session" | "admin" | "update" | "node" | "install";

/** The JSON API's request rate classes (api/limits.ts); null: limited elsewhere (update limits) or not at all. */
export type RateClass = "login" | "register" | "standard";

/** account: HTTPS required from other machines; install: the same, for the installer; open: plain HTTP is fine. */
export type TlsRule = "account" | "install" | "open";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "ALL";

export interface RouteSpec {
  method: Method;
  path: string;
  dialect: Dialect;
  auth: RouteAuth;
  rate: RateClass | null;
  tls: TlsRule;
  /** Largest request body in bytes (Content-Length; Bun bounds chunked bodies at the same size). */
  body: number;
  summary: string;
  /** OpenAPI tag; hidden routes (pages, the document itself) are left out of it. */
  tag: string;
  hide?: boolean;
}

/** Bodies of the update and account APIs are small; anything larger is refused before parsing. */
export const MAX_JSON_BODY = 64 * 1024;
/** Install requests are a handful of short fields; anything bigger is a mistake or an attack. */
export const MAX_INSTALL_BODY = 8 * 1024;

/** Requests per minute per class, as ipdock documents them. */
export const RATE_LIMITS: Record<RateClass, number> = {
  login: 10,
  register: 20,
  // ipdock says "standard"; 300/min lets a dashboard page fan out without tripping it.
  standard: 300,
};

type Row = [Method, string, Dialect, RouteAuth, RateClass | null, TlsRule, string, string?];

const B = MAX_JSON_BODY;

// method, path, dialect, auth, rate, tls, summary, tag (default: the path's second segment)
const ROWS: Row[] = [
  ["GET", "/api/openapi.json", "json", "none", "standard", "open", "This document", "meta"],
  ["GET", "/api/docs", "page", "none", "standard", "open", "The API reference page", "pages"],
  ["GET", "/api/v2/healthz", "v2", "none", null, "open", "Health", "health"],
  // Update protocol (docs/update-protocol.md); its own per-token and per-source limits.
  ["ALL", "/nic/update", "dyndns2", "update", null, "open", "dyndns2 update", "update"],
  ["ALL", "/v3/update", "dyndns2", "update", null, "open", "dyndns2 update (Dyn v3 path)", "update"],
  ["ALL", "/v2/update", "dyndns2", "update", null, "open", "dyndns2 update (v2 path)", "update"],
  ["ALL", "/update", "dyndns2", "update", null, "open", "dyndns2 update (IPv64, deSEC path)", "update"],
  ["ALL", "/update.php", "dyndns2", "update", null, "open", "dyndns2 update (IPv64 path)", "update"],
  ["ALL", "/nic/dyndns", "dyndns2", "update", null, "open", "dyndns2 update (dyndns path)", "update"],
  ["ALL", "/nic/statdns", "dyndns2", "update", null, "open", "dyndns2 update (statdns path)", "update"],
  ["GET", "/api/update", "ipdock", "update", null, "open", "ipdock JSON update", "update"],
  ["POST", "/api/update", "ipdock", "update", null, "open", "ipdock JSON update", "update"],
  ["GET", "/api/myip", "text", "none", null, "open", "The caller's address as this server sees it", "update"],
  ["GET", "/nic/checkip.html", "text", "none", null, "open", "The caller's address (checkip page)", "update"],
  // ACME DNS-01 for clients that cannot be changed.
  ["GET", "/acme-dns/health", "acme-dns", "none", null, "open", "acme-dns health", "acme"],
  ["POST", "/acme-dns/register", "acme-dns", "session", null, "account", "Register an acme-dns account for a hostname (API key)", "acme"],
  ["POST", "/acme-dns/update", "acme-dns", "update", null, "open", "Set an _acme-challenge TXT value (update token)", "acme"],
  ["POST", "/httpreq/present", "httpreq", "update", null, "open", "lego httpreq: present a DNS-01 value", "acme"],
  ["POST", "/httpreq/cleanup", "httpreq", "update", null, "open", "lego httpreq: remove a DNS-01 value", "acme"],
  // Accounts (ipdock's paths, Dokploy's lifecycle).
  ["POST", "/api/auth/setup", "json", "secret", "login", "account", "Create the first admin with the setup code from `ipkeep init`"],
  ["POST", "/api/auth/login", "json", "password", "login", "account", "Log in: a session JWT and the user, or a two-factor ticket"],
  ["POST", "/api/auth/login/2fa", "json", "secret", "login", "account", "Second login step: the ticket and a TOTP pin or recovery code"],
  ["POST", "/api/auth/register", "json", "password", "register", "account", "Create an account (when the admin has opened registration)"],
  ["POST", "/api/auth/accept-invite", "json", "secret", "login", "account", "Accept an invitation by choosing a password"],
  ["POST", "/api/auth/logout", "json", "session", "standard", "account", "Revoke the current session"],
  ["GET", "/api/auth/me", "json", "session", "standard", "account", "The current user"],
  ["PATCH", "/api/auth/me", "json", "session", "standard", "account", "Change e-mail and/or password (needs currentPassword)"],
  ["POST", "/api/auth/2fa/setup", "json", "session", "standard", "account", "Start two-factor set-up: a new TOTP secret and its otpauth:// URL"],
  ["POST", "/api/auth/2fa/enable", "json", "session", "standard", "account", "Enable two-factor with a pin from the app; answers recovery codes (shown once)"],
  ["POST", "/api/auth/2fa/disable", "json", "session", "standard", "account", "Disable two-factor (needs a pin or a recovery code)"],
  ["POST", "/api/auth/password-reset", "json", "none", "login", "account", "Ask for a password reset link by e-mail"],
  ["POST", "/api/auth/password-reset/confirm", "json", "secret", "login", "account", "Set a new password with a reset link's token"],
  ["POST", "/api/auth/confirm-email", "json", "secret", "login", "account", "Confirm an e-mail address with a confirmation link's token"],
  // Dokploy's account routes, with its field names, over the same core.
  ["POST", "/api/auth.createAdmin", "json", "secret", "login", "account", "Dokploy: create the first admin (the setup code as Bearer)", "dokploy"],
  ["POST", "/api/auth.createUser", "json", "secret", "login", "account", "Dokploy: accept an invitation ({token, password, id})", "dokploy"],
  ["POST", "/api/auth.login", "json", "password", "login", "account", "Dokploy: log in", "dokploy"],
  ["GET", "/api/auth.get", "json", "session", "standard", "account", "Dokploy: the current user", "dokploy"],
  ["POST", "/api/auth.logout", "json", "session", "standard", "account", "Dokploy: revoke the current session", "dokploy"],
  [
    "POST",
    "/api/auth.update",
    "json",
    "session",
    "standard",
    "account",
    "Dokploy: change e-mail and/or password (currentPassword); other fields are refused",
    "dokploy",
  ],
  ["POST", "/api/auth.generateToken", "json", "session", "standard", "account", "Dokploy: a new API key, shown once", "dokploy"],
  ["GET", "/api/auth.one", "json", "session", "standard", "account", "Dokploy: one user (yourself; an admin: anyone)", "dokploy"],
  ["GET", "/api/auth.generate2FASecret", "json", "session", "standard", "account", "Dokploy: start two-factor set-up", "dokploy"],
  ["POST", "/api/auth.verify2FASetup", "json", "session", "standard", "account", "Dokploy: enable two-factor with a pin and the secret", "dokploy"],
  ["POST", "/api/auth.verifyLogin2FA", "json", "secret", "login", "account", "Dokploy: second login step (id is the login ticket)", "dokploy"],
  ["POST", "/api/auth.disable2FA", "json", "session", "standard", "account", "Dokploy: disable two-factor (needs a pin)", "dokploy"],
  ["POST", "/api/auth.sendResetPasswordEmail", "json", "none", "login", "account", "Dokploy: ask for a password reset link", "dokploy"],
  ["POST", "/api/auth.resetPassword", "json", "secret", "login", "account", "Dokploy: set a new password with a reset token", "dokploy"],
  ["POST", "/api/auth.confirmEmail", "json", "secret", "login", "account", "Dokploy: confirm an e-mail address", "dokploy"],
  ["GET", "/api/users", "json", "admin", "standard", "account", "List users (admin)"],
  ["POST", "/api/users/invitations", "json", "admin", "standard", "account", "Invite a user by e-mail (admin): a one-time token and its link"],
  ["GET", "/api/users/:id", "json", "admin", "standard", "account", "One user (admin)"],
  ["PATCH", "/api/users/:id", "json", "admin", "standard", "account", "Disable/enable a user, set their quotas (admin)"],
  ["GET", "/api/keys", "json", "session", "standard", "account", "List your API keys (hints only)"],
  ["POST", "/api/keys", "json", "session", "standard", "account", "Create an API key; its value is shown only in this answer"],
  ["DELETE", "/api/keys/:id", "json", "session", "standard", "account", "Revoke an API key"],
  ["GET", "/api/settings", "json", "admin", "standard", "account", "Instance settings (admin)"],
  ["PATCH", "/api/settings", "json", "admin", "standard", "account", "Change instance settings (admin); the SMTP password is write-only"],
  ["GET", "/setup", "page", "none", "standard", "open", "First-admin setup page (the code travels in the link's fragment)", "pages"],
  ["GET", "/invite/:token", "page", "none", "standard", "open", "Invitation page", "pages"],
  ["GET", "/reset/:token", "page", "none", "standard", "open", "Password reset page", "pages"],
  ["GET", "/confirm/:token", "page", "none", "standard", "open", "E-mail confirmation page", "pages"],
  // Resources.
  ["GET", "/api/hostnames", "json", "session", "standard", "account", "Your hostnames (an admin: all)"],
  ["POST", "/api/hostnames", "json", "session", "standard", "account", "Create a hostname; answers it and a fresh update token (shown once)"],
  ["GET", "/api/hostnames/:id", "json", "session", "standard", "account", "One hostname"],
  ["PATCH", "/api/hostnames/:id", "json", "session", "standard", "account", "Change ttl, description or the IPv6 interface id"],
  ["DELETE", "/api/hostnames/:id", "json", "session", "standard", "account", "Delete a hostname with its tokens and records"],
  ["GET", "/api/hostnames/:id/log", "json", "session", "standard", "account", "Update history, newest first"],
  ["GET", "/api/tokens", "json", "session", "standard", "account", "Your update tokens (hints only, never values)"],
  ["POST", "/api/tokens", "json", "session", "standard", "account", "Create an update token for one hostname, a set, or all of yours"],
  ["POST", "/api/tokens/:id/regenerate", "json", "session", "standard", "account", "New secret for a token; the old value stops working at once"],
  ["PATCH", "/api/tokens/:id", "json", "session", "standard", "account", "Change a token's policy (names, types, networks, expiry, time unused)"],
  ["DELETE", "/api/tokens/:id", "json", "session", "standard", "account", "Revoke a token"],
  ["GET", "/api/domains", "json", "session", "standard", "account", "Built-in zones and your custom domains"],
  ["POST", "/api/domains", "json", "session", "standard", "account", "Add a custom domain ({name}); with nameservers (admin) a built-in zone"],
  ["GET", "/api/domains/:id", "json", "session", "standard", "account", "One domain"],
  ["DELETE", "/api/domains/:id", "json", "session", "standard", "account", "Remove a custom domain (or, admin, a zone) with its hostnames and records"],
  ["PUT", "/api/domains/:id/nameservers", "json", "admin", "standard", "account", "Replace a built-in zone's NS set, glue included (admin)"],
  ["POST", "/api/domains/:id/verify", "json", "session", "standard", "account", "Check the NS delegation and start serving the domain"],
  ["GET", "/api/domains/:id/delegation-status", "json", "session", "standard", "account", "What the parent zone lists as the domain's nameservers"],
  [
    "PUT",
    "/api/domains/:id/dnssec",
    "json",
    "session",
    "standard",
    "account",
    "Sign a zone or serve it unsigned ({enabled, algorithm?, now?}: off withdraws through CDS delete unless now); a built-in zone's is the admin's",
  ],
  ["GET", "/api/domains/:id/ds", "json", "session", "standard", "account", "The DS (SHA-256) and DNSKEY to give the parent zone"],
  ["GET", "/api/domains/:id/records", "json", "session", "standard", "account", "A domain's records (in a shared zone: those under your hostnames)", "records"],
  ["POST", "/api/domains/:id/records", "json", "session", "standard", "account", "Create a record (A, AAAA, CNAME, TXT, MX, SRV, CAA, NS)", "records"],
  ["PATCH", "/api/domains/:id/records/:recordId", "json", "session", "standard", "account", "Change a record's content, priority, name or TTL", "records"],
  ["DELETE", "/api/domains/:id/records/:recordId", "json", "session", "standard", "account", "Delete a record", "records"],
  // IPv64's account API (an API key): what Home Assistant's IPv64 integration and scripts call.
  ...["/api.php", "/api"].flatMap((p): Row[] => [
    ["GET", p, "ipv64", "session", "standard", "account", "IPv64 account API: get_account_info, get_logs, get_domains", "ipv64"],
    ["POST", p, "ipv64", "session", "standard", "account", "IPv64 account API: add_domain, add_record", "ipv64"],
    ["DELETE", p, "ipv64", "session", "standard", "account", "IPv64 account API: del_domain, del_record", "ipv64"],
  ]),
  ["GET", "/metrics", "text", "none", "standard", "open", "Prometheus metrics (loopback and --metrics-allow)", "meta"],
  // Install lifecycle and enrolled machines (IPTunnel's v2 envelope).
  ["POST", "/api/v2/install/codes", "v2", "admin", null, "install", "Issue an install code (admin)", "install"],
  ["GET", "/api/v2/install/codes", "v2", "admin", null, "install", "List install codes (admin)", "install"],
  ["DELETE", "/api/v2/install/codes/:id", "v2", "admin", null, "install", "Revoke an install code (admin)", "install"],
  ["GET", "/api/v2/nodes", "v2", "admin", "standard", "account", "Enrolled machines (admin)", "install"],
  ["DELETE", "/api/v2/nodes/:id", "v2", "admin", "standard", "account", "Revoke an enrolled machine (admin)", "install"],
  ["POST", "/api/v2/install/precheck", "v2", "install", null, "install", "Install code + machine binding -> precheck token", "install"],
  [
    "POST",
    "/api/v2/install/activate",
    "v2",
    "install",
    null,
    "install",
    "Precheck token + confirmed hostname and IP -> install token and credentials",
    "install",
  ],
  ["POST", "/api/v2/install/confirm", "v2", "install", null, "install", "The services are up: consumes the code", "install"],
  ["POST", "/api/v2/install/release", "v2", "install", null, "install", "The install failed: restores the code if unused", "install"],
  ["POST", "/register", "v2", "node", "standard", "open", "Agent: register (node token)", "install"],
  ["POST", "/checkin", "v2", "node", "standard", "open", "Agent: check in (node token)", "install"],
  ["POST", "/revoke", "v2", "node", "standard", "open", "Agent: revoke itself (node token)", "install"],
  ["GET", "/status", "v2", "node", "standard", "open", "Agent: status (node token)", "install"],
  ["GET", "/install.sh", "text", "none", "standard", "install", "The installer, with this primary's URL", "install"],
  ["GET", "/download/ipkeep", "text", "none", "standard", "open", "An ipkeep executable for ?arch=", "install"],
];

export const ROUTES: readonly RouteSpec[] = ROWS.map(([method, path, dialect, auth, rate, tls, summary, tag]) => ({
  method,
  path,
  dialect,
  auth,
  rate,
  tls,
  body: dialect === "v2" && path.startsWith("/api/v2/install") ? MAX_INSTALL_BODY : B,
  summary,
  tag: tag ?? path.split("/")[2] ?? "api",
  hide: tag === "pages" || path === "/api/openapi.json",
}));

/** Where a path not in the table belongs: the first area whose prefix it is under. */
export interface Area {
  prefix: string;
  dialect: Dialect;
  rate: RateClass | null;
  tls: TlsRule;
}

export const AREAS: readonly Area[] = [
  { prefix: "/api/v2/install", dialect: "v2", rate: null, tls: "install" },
  { prefix: "/api/v2/nodes", dialect: "v2", rate: "standard", tls: "account" },
  { prefix: "/api/v2", dialect: "v2", rate: null, tls: "open" },
  { prefix: "/api/auth.", dialect: "json", rate: "standard", tls: "account" },
  ...["/api/auth", "/api/users", "/api/keys", "/api/settings", "/api/hostnames", "/api/domains", "/api/tokens"].map(
    (prefix): Area => ({ prefix, dialect: "json", rate: "standard", tls: "account" }),
  ),
  { prefix: "/api/update", dialect: "ipdock", rate: null, tls: "open" },
  { prefix: "/api.php", dialect: "ipv64", rate: "standard", tls: "account" },
  { prefix: "/api/myip", dialect: "text", rate: null, tls: "open" },
  { prefix: "/api", dialect: "json", rate: "standard", tls: "open" },
  { prefix: "/acme-dns", dialect: "acme-dns", rate: null, tls: "open" },
  { prefix: "/httpreq", dialect: "httpreq", rate: null, tls: "open" },
  { prefix: "/nic", dialect: "dyndns2", rate: null, tls: "open" },
  { prefix: "", dialect: "json", rate: "standard", tls: "open" },
];

// A prefix ending in "." (Dokploy's /api/auth.<name>) covers every path that starts with it.
const under = (path: string, prefix: string) => prefix === "" || path === prefix || path.startsWith(prefix.endsWith(".") ? prefix : `${prefix}/`);

interface Compiled {
  spec: RouteSpec;
  re: RegExp;
}

const compile = (spec: RouteSpec): Compiled => ({
  spec,
  re: new RegExp(`^${spec.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z]+/g, "[^/]+")}$`, "i"),
});

const COMPILED = ROUTES.map(compile);
// Looked up on every request: paths without parameters by a map, the rest by their patterns.
const STATIC = new Map<string, number[]>();
const DYNAMIC: number[] = [];
for (const [i, r] of ROUTES.entries()) {
  if (r.path.includes(":")) DYNAMIC.push(i);
  else STATIC.set(r.path.toLowerCase(), [...(STATIC.get(r.path.toLowerCase()) ?? []), i]);
}

/** The rows whose path matches (any method), in table order; p is a comparablePath. */
function matching(p: string): RouteSpec[] {
  const hits = [...(STATIC.get(p) ?? []), ...DYNAMIC.filter((i) => COMPILED[i]!.re.test(p))].sort((x, y) => x - y);
  return hits.map((i) => ROUTES[i]!);
}

/**
 * The path as the rules compare it: decoded, runs of slashes folded, without a trailing slash,
 * so that no spelling of a protected path (/API/Auth, /api/%61uth, //api/auth) slips past
 * while the router still matches it.
 */
export function comparablePath(path: string): string {
  let p = path;
  try {
    p = decodeURIComponent(path);
  } catch {
    /* undecodable: compare the raw text */
  }
  p = p.toLowerCase().replace(/\/{2,}/g, "/");
  return p.length > 1 ? p.replace(/\/$/, "") : p;
}

/** The table row that serves (method, path), or null. */
export function routeFor(method: string, path: string): RouteSpec | null {
  const p = comparablePath(path);
  const m = method.toUpperCase();
  return matching(p).find((r) => r.method === m || r.method === "ALL" || (m === "HEAD" && r.method === "GET")) ?? null;
}

export function areaOf(path: string): Area {
  const p = comparablePath(path);
  return AREAS.find((a) => under(p, a.prefix))!;
}

/** The rules a request falls under: its route's, or (no route for it) its area's. */
export function rulesFor(method: string, path: string): { dialect: Dialect; rate: RateClass | null; tls: TlsRule; body: number; route: RouteSpec | null } {
  const route = routeFor(method, path);
  if (route) return { dialect: route.dialect, rate: route.rate, tls: route.tls, body: route.body, route };
  // A wrong method on a known path keeps that path's TLS rule: a probe learns nothing in clear.
  const p = comparablePath(path);
  const any = matching(p)[0];
  const area = areaOf(path);
  return { dialect: any?.dialect ?? area.dialect, rate: area.rate, tls: any ? strictest(any.tls, area.tls) : area.tls, body: MAX_JSON_BODY, route: null };
}

const STRENGTH: Record<TlsRule, number> = { open: 0, install: 1, account: 2 };
const strictest = (a: TlsRule, b: TlsRule): TlsRule => (STRENGTH[a] >= STRENGTH[b] ? a : b);

/**
 * deSEC's free update path: any path the table does not serve, outside the APIs' areas, not
 * ending in .ico or .png (browsers ask for icons with whatever credentials they hold).
 */
export function isFreeUpdatePath(path: string): boolean {
  const p = comparablePath(path);
  if (p === "/") return true;
  if (/\.(ico|png)$/.test(p) || matching(p).length > 0) return false;
  return areaOf(p).prefix === "" || areaOf(p).prefix === "/nic";
}

/** Which part of the HTTP surface a path belongs to, for core/transport-policy.ts (any method). */
export function classifyPath(path: string): "account" | "install" | "other" {
  const p = comparablePath(path);
  let tls = areaOf(path).tls;
  for (const r of matching(p)) tls = strictest(tls, r.tls);
  return tls === "open" ? "other" : tls;
}

/** Account credentials: a route taking one must not be served over plain HTTP to other machines. */
export const ACCOUNT_AUTH: readonly RouteAuth[] = ["password", "secret", "session", "admin"];

export const routeKey = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
