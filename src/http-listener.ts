/**
 * HTTP and HTTPS listeners over the Elysia app. The listener supplies the facts the app
 * cannot know from a Request (socket peer, which listener), and counts response statuses.
 *
 * HTTPS certificates are re-read on SIGHUP. Bun's server.reload() keeps the old TLS context,
 * so a new listener is bound beside the old one with SO_REUSEPORT and the old one then stops
 * accepting and drains: the port never stops answering. A certificate that does not load
 * leaves the running listener as it was. The first bind is checked with a plain bind of the
 * same address, so no other process shares the port through SO_REUSEPORT.
 */
import { readFileSync } from "node:fs";
import type { RequestFacts } from "./api/context";
import { ipv6Only, type Listen } from "./dns/server";
import { bindCode, bindError } from "./bind-error";
import { log, redact } from "./log";
import { metrics } from "./metrics";

/**
 * One line per request. The URL is redacted (routers put tokens in query strings); headers and
 * bodies are never logged. Health checks are left out: they would drown everything else.
 */
function accessLog(req: Request, res: Response, peer: string | undefined): void {
  const url = new URL(req.url);
  if (url.pathname === "/api/v2/healthz" || url.pathname === "/acme-dns/health") return;
  log("info", "http", {
    method: req.method,
    url: redact(url.pathname + url.search),
    status: res.status,
    peer,
    ua: redact(req.headers.get("user-agent") ?? "").slice(0, 200) || undefined,
  });
}

// Bodies of the update and account APIs are small; anything larger is refused early.
const MAX_BODY = 64 * 1024;

export interface AppLike {
  handle(req: Request, facts: Partial<RequestFacts>): Response | Promise<Response>;
}

type BunServer = ReturnType<typeof Bun.serve>;

/** "127.0.0.1:8080", "[::1]:8080": the listener's own address, as a URL authority. */
const authorityOf = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;

// Elysia finds the path at the first "/" from index 11 ("http://" plus a host of four or more
// characters): behind a Host of "dns" or "x" every route was a 404.
const ELYSIA_PATH_FROM = 11;

function badHost(): Response {
  const body = "Bad Request: the Host header is not a valid host name\n";
  return new Response(body, { status: 400, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", connection: "close" } });
}

/**
 * The request as the app must see it: an absolute URL whose path Elysia finds. A request
 * without a Host, or with an empty one (HTTP/1.0 allows it; the README supports such routers),
 * gets the listener's own address as its origin; a Host that is present but not a host name
 * answers 400. The origin the client asked for is remembered for links (api/context.ts).
 */
function canonical(req: Request, transport: "http" | "https", self: () => string): { req: Request; origin: string | null } | Response {
  let url: URL | null = null;
  try {
    url = new URL(req.url);
  } catch {
    // Bun leaves req.url relative ("/nic/update?…") when the Host is missing or unusable.
  }
  let origin: string;
  if (url) origin = url.origin;
  else {
    const host = req.headers.get("host");
    if (host !== null && host.trim() !== "") return badHost();
    origin = `${transport}://${self()}`;
    try {
      url = new URL(req.url, origin);
    } catch {
      return badHost();
    }
  }
  const pathAt = req.url.indexOf("/", req.url.indexOf("//") + 2);
  if (req.url.startsWith(`${transport}://`) && pathAt >= ELYSIA_PATH_FROM) return { req, origin: null };
  return { req: new Request(`${transport}://${self()}${url.pathname}${url.search}`, req), origin };
}

function fetchFor(app: AppLike, transport: "http" | "https", self: () => string) {
  return async (raw: Request, srv: BunServer): Promise<Response> => {
    const peer = srv.requestIP(raw)?.address;
    const c = canonical(raw, transport, self);
    if (c instanceof Response) {
      metrics.http.inc(String(c.status));
      log("info", "http", { method: raw.method, status: c.status, peer, error: "invalid Host header" });
      return c;
    }
    const req = c.req;
    const res = await app.handle(req, { peer: peer ?? null, transport, origin: c.origin });
    metrics.http.inc(String(res.status));
    accessLog(req, res, peer);
    return res;
  };
}

/**
 * Bun.serve's own last resort: whatever escapes the app is answered with a plain 500 and one
 * redacted log line. Without it (and with development mode, Bun's default outside
 * NODE_ENV=production) Bun serves an HTML debug page with the working directory, the stack,
 * the bundle's source and the request URL (tokens included), and prints the same to stderr.
 */
function lastResort(error: Error): Response {
  metrics.http.inc("500");
  log("error", "request failed", { error: redact(String(error?.message ?? error)).slice(0, 200) });
  return new Response("Internal error\n", { status: 500, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
}

// reusePort false, said out loud: with development false, Bun's default sets SO_REUSEPORT, and
// a second process on the same port would then take a share of its connections.
const SERVE_DEFAULTS = { development: false, reusePort: false, maxRequestBodySize: MAX_BODY, error: lastResort } as const;

export interface Listener {
  address: Listen;
  stop(): void;
}

export function listenHttp(l: Listen, app: AppLike): Listener {
  let port = l.port;
  let server: BunServer;
  try {
    server = Bun.serve({
      ...SERVE_DEFAULTS,
      hostname: l.host,
      port: l.port,
      ipv6Only: ipv6Only(l),
      fetch: fetchFor(app, "http", () => authorityOf(l.host, port)),
    });
  } catch (e) {
    throw bindError("HTTP", l, e);
  }
  port = server.port ?? l.port;
  return { address: { host: l.host, port }, stop: () => server.stop(true) };
}

export interface TlsFiles {
  cert: string;
  key: string;
}

export interface HttpsListener extends Listener {
  /** Re-reads the certificate and key; throws (and keeps serving the old ones) when they do not load. */
  reload(): void;
}

/** Certificate and key as PEM text, read anew on every (re)load. */
export type TlsSource = TlsFiles | (() => { cert: string; key: string });

function readTls(source: TlsSource): { cert: string; key: string } {
  if (typeof source === "function") return source();
  return { cert: readFileSync(source.cert, "utf8"), key: readFileSync(source.key, "utf8") };
}

/**
 * The plain bind listenHttps starts with, alone: for a listener that opens later (its
 * certificate is still being obtained), a port another process holds is reported at start.
 */
export function probeHttps(l: Listen): void {
  try {
    Bun.serve({ ...SERVE_DEFAULTS, hostname: l.host, port: l.port, ipv6Only: ipv6Only(l), fetch: () => new Response(null, { status: 503 }) }).stop(true);
  } catch (e) {
    throw bindError("HTTPS", l, e);
  }
}

export function listenHttps(l: Listen, app: AppLike, files: TlsSource): HttpsListener {
  let bound = l.port;
  const fetch = fetchFor(app, "https", () => authorityOf(l.host, bound));
  const bind = (port: number) => Bun.serve({ ...SERVE_DEFAULTS, hostname: l.host, port, ipv6Only: ipv6Only(l), reusePort: true, tls: readTls(files), fetch });
  // SO_REUSEPORT would let any other process that sets it (a second ipkeep) share the port and
  // take half its connections. A plain bind first proves that nobody holds it; only reload()
  // below binds beside a listener, and only beside this one.
  try {
    const probe = Bun.serve({ ...SERVE_DEFAULTS, hostname: l.host, port: l.port, ipv6Only: ipv6Only(l), fetch: () => new Response(null, { status: 503 }) });
    bound = probe.port ?? l.port;
    probe.stop(true);
  } catch (e) {
    throw bindError("HTTPS", l, e);
  }
  let server: BunServer;
  try {
    server = bind(bound);
  } catch (e) {
    // A certificate that does not load says so itself; a port lost since the probe is a bind error.
    if (bindCode(e) === "EADDRINUSE") throw bindError("HTTPS", { host: l.host, port: bound }, e);
    throw e;
  }
  bound = server.port ?? bound;
  const address = { host: l.host, port: bound };
  return {
    address,
    stop: () => server.stop(true),
    reload() {
      const next = bind(address.port);
      const old = server;
      server = next;
      // Not forced: requests in flight on the old context finish.
      void old.stop(false);
    },
  };
}
