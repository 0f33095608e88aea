/**
 * The HTTP application: route groups composed over shared dependencies.
 */
import { Elysia } from "elysia";
import { acmeRoutes } from "./acme";
import { log, redact } from "../log";
import type { ApiDeps } from "./context";
import { healthRoutes } from "./health";
import { preRouting, updateRoutes } from "./update";

export function createApp(deps: ApiDeps) {
  // The pre-routing hook re-enters the app with a rewritten request (collapsed slashes).
  let handle: (req: Request) => Promise<Response> = async () => new Response(null, { status: 500 });
  const app = new Elysia()
    .onRequest(preRouting(deps, (req) => handle(req)))
    .onError(({ code, error }) => {
      if (code === "NOT_FOUND") return Response.json({ error: "Not found" }, { status: 404 });
      if (code === "VALIDATION" || code === "PARSE") return Response.json({ error: "Invalid request" }, { status: 400 });
      log("error", "request failed", { code, error: redact(String((error as Error)?.message ?? error)) });
      return Response.json({ error: "Internal error" }, { status: 500 });
    })
    .use(healthRoutes())
    .use(updateRoutes(deps))
    .use(acmeRoutes(deps));
  handle = (req) => app.handle(req);
  return app;
}

export type App = ReturnType<typeof createApp>;
