/**
 * What having a certificate of its own changes for every request, wrapped around the app:
 * - HTTP-01 answers at /.well-known/acme-challenge/TOKEN over plain HTTP while an order waits;
 * - HTTPS answers carry HSTS;
 * - over plain HTTP, browser pages (the route table's "page" routes: setup, invite, reset,
 *   confirm, the API reference) redirect to HTTPS once a certificate exists. Update paths
 *   never redirect: routers cannot follow.
 */
import type { RequestFacts } from "../api/context";
import { routeFor } from "../api/routes";
import type { AppLike } from "../http-listener";

/** One year; no includeSubDomains (the zone's other names are the users' hosts, not ours). */
export const HSTS = "max-age=31536000";

/** Pages a person opens in a browser: the route table's "page" routes (api/routes.ts). */
const isBrowserPage = (method: string, path: string) => routeFor(method, path)?.dialect === "page";
const HTTP01 = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/;

export interface TlsWrapOptions {
  /** HTTP-01 key authorizations by token (empty unless an order waits). */
  http01?: Map<string, string>;
  /** Where browsers are sent ("https://ddns.example.com" or with a port), or null before a certificate exists. */
  httpsBase: () => string | null;
}

function withHeader(res: Response, name: string, value: string): Response {
  try {
    res.headers.set(name, value);
    return res;
  } catch {
    const copy = new Response(res.body, res);
    copy.headers.set(name, value);
    return copy;
  }
}

export function tlsWrap(app: AppLike, o: TlsWrapOptions): AppLike {
  return {
    async handle(req: Request, facts: Partial<RequestFacts>): Promise<Response> {
      if (facts.transport === "https") return withHeader(await app.handle(req, facts), "strict-transport-security", HSTS);
      const url = new URL(req.url);
      const token = HTTP01.exec(url.pathname)?.[1];
      if (token && o.http01) {
        const answer = o.http01.get(token);
        if (answer) return new Response(answer, { headers: { "content-type": "application/octet-stream", "cache-control": "no-store" } });
        return new Response("no such ACME challenge\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
      }
      const base = o.httpsBase();
      if (base && (req.method === "GET" || req.method === "HEAD") && isBrowserPage(req.method, url.pathname)) {
        return new Response(null, { status: 308, headers: { location: `${base}${url.pathname}${url.search}`, "cache-control": "no-store" } });
      }
      return app.handle(req, facts);
    },
  };
}
