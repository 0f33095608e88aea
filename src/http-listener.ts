/**
 * HTTP and HTTPS listeners over the Elysia app. The listener supplies the facts the app
 * cannot know from a Request (socket peer, which listener), and counts response statuses.
 *
 * HTTPS certificates are re-read on SIGHUP. Bun's server.reload() keeps the old TLS context,
 * so a new listener is bound beside the old one with SO_REUSEPORT and the old one then stops
 * accepting and drains: the port never stops answering. A certificate that does not load
 * leaves the running listener as it was.
 */
import { readFileSync } from "node:fs";
import { rememberPeer, rememberTransport } from "./api/context";
import { ipv6Only, type Listen } from "./dns/server";
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
  handle(req: Request): Response | Promise<Response>;
}

type BunServer = ReturnType<typeof Bun.serve>;

function fetchFor(app: AppLike, transport: "http" | "https") {
  return async (req: Request, srv: BunServer): Promise<Response> => {
    const peer = srv.requestIP(req)?.address;
    rememberPeer(req, peer);
    rememberTransport(req, transport);
    const res = await app.handle(req);
    metrics.http.inc(String(res.status));
    accessLog(req, res, peer);
    return res;
  };
}

export interface Listener {
  address: Listen;
  stop(): void;
}

export function listenHttp(l: Listen, app: AppLike): Listener {
  const server = Bun.serve({ hostname: l.host, port: l.port, ipv6Only: ipv6Only(l), maxRequestBodySize: MAX_BODY, fetch: fetchFor(app, "http") });
  return { address: { host: l.host, port: server.port ?? l.port }, stop: () => server.stop(true) };
}

export interface TlsFiles {
  cert: string;
  key: string;
}

export interface HttpsListener extends Listener {
  /** Re-reads the certificate and key; throws (and keeps serving the old ones) when they do not load. */
  reload(): void;
}

function readTls(files: TlsFiles): { cert: string; key: string } {
  return { cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") };
}

export function listenHttps(l: Listen, app: AppLike, files: TlsFiles): HttpsListener {
  const fetch = fetchFor(app, "https");
  const bind = (port: number) =>
    Bun.serve({ hostname: l.host, port, ipv6Only: ipv6Only(l), reusePort: true, maxRequestBodySize: MAX_BODY, tls: readTls(files), fetch });
  let server = bind(l.port);
  const address = { host: l.host, port: server.port ?? l.port };
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
