/**
 * The HTTP application: route groups composed over shared dependencies, with the conventions
 * of the whole JSON API in one place: error shape, body size bound, strict schemas (normalize
 * off, so unknown fields are refused rather than silently dropped), rate-limit headers, and
 * the OpenAPI document generated from the route schemas.
 */
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import pkg from "../../package.json" with { type: "json" };
import { IpkeepError } from "../core/errors";
import { log, redact } from "../log";
import { accountRoutes } from "./account";
import { acmeRoutes } from "./acme";
import type { ApiDeps } from "./context";
import { jsonError, logFailure } from "./errors";
import { domainRoutes } from "./domains";
import { healthRoutes } from "./health";
import { hostnameRoutes } from "./hostnames";
import { installRoutes } from "./install";
import { MAX_JSON_BODY } from "./http";
import { httpsGuard } from "./https-guard";
import { keyRoutes } from "./keys";
import { createRateGate } from "./limits";
import { metricsRoutes } from "./metrics";
import { pageRoutes } from "./pages";
import { recordRoutes } from "./records";
import { settingsRoutes } from "./settings";
import { tokenRoutes } from "./tokens";
import { preRouting, updateRoutes } from "./update";
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

export function createApp(deps: ApiDeps) {
  const rate = createRateGate(deps);
  // The pre-routing hook re-enters the app with a rewritten request (collapsed slashes) and
  // answers dyndns2 at "/"; it runs first so the update protocol keeps its own limits.
  let handle: (req: Request) => Promise<Response> = async () => new Response(null, { status: 500 });
  const app = (
    new Elysia({ normalize: false })
      .onRequest(httpsGuard(deps))
      .onRequest(preRouting(deps, (req) => handle(req)))
      .onRequest(({ request, set }) => {
        const len = request.headers.get("content-length");
        const r = rate(request, pathOf(request.url));
        if (r) Object.assign(set.headers, r.headers);
        if (r && !r.allowed) return jsonError(new IpkeepError("rate_limited"), r.headers);
        // Bun.serve bounds bodies without a length (chunked) at the same size; see server.ts.
        if (len !== null && !(Number(len) <= MAX_JSON_BODY)) return jsonError(new IpkeepError("too_large"), r?.headers ?? {});
      })
      .onError(({ code, error: thrown }) => {
        // A refusal thrown while parsing (size, bad JSON) arrives wrapped in Elysia's ParseError.
        const cause = (thrown as { cause?: unknown })?.cause;
        const error = cause instanceof IpkeepError ? cause : thrown;
        if (error instanceof IpkeepError) {
          if (error.code === "storage_full") logFailure("api", error);
          const res = jsonError(error);
          if (error.retryAfter) res.headers.set("retry-after", String(error.retryAfter));
          if (error.status === 401) res.headers.set("www-authenticate", 'Bearer realm="ipkeep"');
          return res;
        }
        if (code === "NOT_FOUND") return Response.json({ error: "Not found", code: "not_found" }, { status: 404 });
        if (code === "VALIDATION") return Response.json({ error: validationMessage(error), code: "invalid_input" }, { status: 400 });
        if (code === "PARSE") return Response.json({ error: "Request body could not be parsed", code: "invalid_input" }, { status: 400 });
        log("error", "request failed", { code, error: redact(String((error as Error)?.message ?? error)) });
        return Response.json({ error: "Internal error", code: "internal" }, { status: 500 });
      })
      .use(
        openapi({
          // The reference page is ours (src/api/pages.ts): the plugin's loads its UI from a CDN.
          provider: null,
          specPath: "/api/openapi.json",
          documentation: {
            info: { title: "ipkeep", version: pkg.version, description: "Management and update API of an ipkeep server" },
            components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "Session JWT from /api/auth/login, or an API key (ipka_…)" } } },
          },
        }),
      )
      .use(healthRoutes())
      .use(updateRoutes(deps))
      .use(acmeRoutes(deps))
      .use(accountRoutes(deps))
      .use(userRoutes(deps))
      .use(keyRoutes(deps))
      .use(settingsRoutes(deps))
      .use(pageRoutes(deps))
      .use(hostnameRoutes(deps))
      .use(tokenRoutes(deps))
      .use(domainRoutes(deps))
      .use(recordRoutes(deps))
      .use(metricsRoutes(deps))
      .use(installRoutes(deps))
  );
  handle = (req) => app.handle(req);
  return app;
}

export type App = ReturnType<typeof createApp>;
