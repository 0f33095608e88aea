/**
 * The HTTP application: the route groups over one HTTP context, served only as the route
 * table (routes.ts) lists them. The table's rules are applied to every request before
 * routing, in this order: the HTTPS rule, the rate class (X-RateLimit-* headers on every
 * answer), the body limit; refusals and framework errors answer in the envelope of the
 * route's dialect. The OpenAPI document is generated from the route schemas, with the
 * table's summaries.
 */
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import pkg from "../../package.json" with { type: "json" };
import { IpkeepError } from "../core/errors";
import { checkTransport } from "../core/transport-policy";
import { log, redact } from "../log";
import { accountRoutes } from "./account";
import { acmeRoutes } from "./acme";
import { type HttpContext, peerOf, type RequestFacts, transportOf } from "./context";
import { dokployRoutes } from "./dokploy";
import { domainRoutes } from "./domains";
import { dialectError, httpsRequired, logFailure } from "./errors";
import { healthRoutes } from "./health";
import { hostnameRoutes } from "./hostnames";
import { installRoutes } from "./install";
import { ipv64Routes } from "./ipv64";
import { keyRoutes } from "./keys";
import { createRateGate } from "./limits";
import { metricsRoutes } from "./metrics";
import { pageRoutes } from "./pages";
import { recordRoutes } from "./records";
import { classifyPath, isFreeUpdatePath, ROUTES, routeKey, rulesFor } from "./routes";
import { settingsRoutes } from "./settings";
import { tokenRoutes } from "./tokens";
import { dyndnsHandler, isRootUpdate, updateRoutes } from "./update";
import { userRoutes } from "./users";

const pathOf = (url: string) => {
  const i = url.indexOf("/", url.indexOf("//") + 2);
  const q = url.indexOf("?", i);
  return i < 0 ? "/" : url.slice(i, q < 0 ? undefined : q);
};

function validationMessage(error: unknown): string {
  const e = error as { all?: { path?: string; message?: string }[]; valueError?: { path?: string; message?: string } };
  const first = e.valueError ?? e.all?.[0];
  if (!first) return "Invalid request";
  const field = (first.path ?? "").replace(/^\//, "").replace(/\//g, ".");
  return field ? `Invalid request: ${field}: ${first.message ?? "invalid"}` : `Invalid request: ${first.message ?? "invalid"}`;
}

type ElysiaRoute = { method: string; path: string; hooks?: { detail?: Record<string, unknown> } };

/**
 * Every served route must be a row of the table and every row must be served; each route's
 * OpenAPI summary and tag come from its row.
 */
export function applyTable(routes: ElysiaRoute[]): void {
  const rows = new Map(ROUTES.map((r) => [routeKey(r), r]));
  const served = new Set<string>();
  for (const r of routes) {
    const key = routeKey(r);
    const row = rows.get(key);
    if (!row) throw new Error(`${key} is served but not in the route table (src/api/routes.ts)`);
    served.add(key);
    r.hooks ??= {};
    r.hooks.detail = {
      ...r.hooks.detail,
      summary: row.summary,
      tags: [row.tag],
      ...(row.hide ? { hide: true } : {}),
      ...(["session", "admin"].includes(row.auth) ? { security: [{ bearer: [] }] } : {}),
    };
  }
  for (const key of rows.keys()) if (!served.has(key)) throw new Error(`${key} is in the route table but nothing serves it`);
}

export interface HttpApp {
  /** Answers a request; facts: what the listener knows of it (peer, listener, asked-for origin). */
  handle(req: Request, facts?: Partial<RequestFacts>): Promise<Response>;
  /** The routes as served (method, path), for the conventions test. */
  readonly routes: { method: string; path: string }[];
}

export function createApp(ctx: HttpContext): HttpApp {
  const rate = createRateGate(ctx);
  const elysia = new Elysia({ normalize: false })
    .onRequest(({ request, set }) => {
      const path = pathOf(request.url);
      const rules = rulesFor(request.method, path);
      const verdict = checkTransport(ctx.transportPolicy, {
        transport: transportOf(ctx, request),
        peer: peerOf(ctx, request),
        forwardedProto: request.headers.get("x-forwarded-proto"),
        pathClass: classifyPath(path),
      });
      if (!verdict.allowed) return dialectError(rules.dialect, httpsRequired());
      const r = rules.rate ? rate(request, rules.rate) : null;
      if (r) Object.assign(set.headers, r.headers);
      if (r && !r.allowed) return dialectError(rules.dialect, new IpkeepError("rate_limited"), r.headers);
      // Bun.serve bounds bodies without a length (chunked) at the same size; see http-listener.ts.
      const len = request.headers.get("content-length");
      if (len !== null && !(Number(len) <= rules.body)) return dialectError(rules.dialect, new IpkeepError("too_large"), r?.headers ?? {});
    })
    .onError(({ code, error: thrown, request }) => {
      const { dialect } = rulesFor(request.method, pathOf(request.url));
      // A refusal thrown while parsing (size, bad JSON) arrives wrapped in Elysia's ParseError.
      const cause = (thrown as { cause?: unknown })?.cause;
      const error = cause instanceof IpkeepError ? cause : thrown;
      if (error instanceof IpkeepError) {
        if (error.code === "storage_full") logFailure("api", error);
        const res = dialectError(dialect, error);
        if (error.retryAfter) res.headers.set("retry-after", String(error.retryAfter));
        if (error.status === 401) res.headers.set("www-authenticate", 'Bearer realm="ipkeep"');
        return res;
      }
      if (code === "NOT_FOUND") return dialectError(dialect, new IpkeepError("not_found", "Not found"));
      if (code === "VALIDATION") return dialectError(dialect, new IpkeepError("invalid_input", validationMessage(error)));
      if (code === "PARSE") return dialectError(dialect, new IpkeepError("invalid_input", "Request body could not be parsed"));
      log("error", "request failed", { code, error: redact(String((error as Error)?.message ?? error)) });
      return dialectError(dialect, new IpkeepError("internal", "Internal error"));
    })
    .use(
      openapi({
        // The reference page is ours (src/api/pages.ts): the plugin's loads its UI from a CDN.
        provider: null,
        specPath: "/api/openapi.json",
        documentation: {
          info: { title: "ipkeep", version: pkg.version, description: "Management and update API of an ipkeep server" },
          components: {
            securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "Session JWT from /api/auth/login, or an API key (ipka_…)" } },
          },
        },
      }),
    )
    .use(healthRoutes())
    .use(updateRoutes(ctx))
    .use(acmeRoutes(ctx))
    .use(accountRoutes(ctx))
    .use(userRoutes(ctx))
    .use(keyRoutes(ctx))
    .use(settingsRoutes(ctx))
    .use(pageRoutes(ctx))
    .use(hostnameRoutes(ctx))
    .use(tokenRoutes(ctx))
    .use(domainRoutes(ctx))
    .use(recordRoutes(ctx))
    .use(metricsRoutes(ctx))
    .use(installRoutes(ctx))
    .use(ipv64Routes(ctx))
    .use(dokployRoutes(ctx));
  applyTable(elysia.routes as ElysiaRoute[]);
  const rootUpdate = dyndnsHandler(ctx);

  return {
    routes: elysia.routes.map((r) => ({ method: r.method, path: r.path })),
    handle(req, facts = {}) {
      let request = req;
      const url = new URL(req.url);
      // Some UniFi builds send "//nic/update": runs of slashes are folded before routing.
      if (url.pathname.includes("//")) {
        url.pathname = url.pathname.replace(/\/{2,}/g, "/");
        request = new Request(url.toString(), req);
      }
      ctx.requests.remember(request, facts);
      // deSEC lets the path be chosen freely: "/" and any path the table does not serve (outside
      // the APIs, not an icon) is dyndns2 when it carries credentials or update parameters,
      // under the update protocol's own limits.
      if (isFreeUpdatePath(url.pathname) && isRootUpdate(request)) return rootUpdate(request);
      return elysia.handle(request);
    },
  };
}

export type App = HttpApp;
