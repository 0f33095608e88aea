/**
 * The HTTP application: route groups composed over shared dependencies.
 */
import { Elysia } from "elysia";
import { acmeRoutes } from "./acme";
import { log, redact } from "../log";
import type { ApiDeps } from "./context";
import { healthRoutes } from "./health";
import { httpsGuard } from "./https-guard";
import { metricsRoutes } from "./metrics";
import { updateRoutes } from "./update";

export function createApp(deps: ApiDeps) {
  return new Elysia()
    .onRequest(httpsGuard(deps))
    .onError(({ code, error }) => {
      if (code === "NOT_FOUND") return Response.json({ error: "Not found" }, { status: 404 });
      if (code === "VALIDATION" || code === "PARSE") return Response.json({ error: "Invalid request" }, { status: 400 });
      log("error", "request failed", { code, error: redact(String((error as Error)?.message ?? error)) });
      return Response.json({ error: "Internal error" }, { status: 500 });
    })
    .use(healthRoutes())
    .use(updateRoutes(deps))
    .use(acmeRoutes(deps))
    .use(metricsRoutes(deps));
}

export type App = ReturnType<typeof createApp>;
