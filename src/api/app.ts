/**
 * The HTTP application: route groups composed over shared dependencies.
 */
import { Elysia } from "elysia";
import { IpkeepError } from "../core/errors";
import type { ApiDeps } from "./context";
import { domainRoutes } from "./domains";
import { jsonError } from "./errors";
import { healthRoutes } from "./health";
import { hostnameRoutes } from "./hostnames";
import { recordRoutes } from "./records";
import { tokenRoutes } from "./tokens";
import { updateRoutes } from "./update";

export function createApp(deps: ApiDeps) {
  return new Elysia()
    .onError(({ code, error }) => {
      if (code === "NOT_FOUND") return Response.json({ error: "Not found" }, { status: 404 });
      if (code === "VALIDATION" || code === "PARSE") return Response.json({ error: "Invalid request", code: "invalid_input" }, { status: 400 });
      if (error instanceof IpkeepError) return jsonError(error);
      return Response.json({ error: "Internal error" }, { status: 500 });
    })
    .use(healthRoutes())
    .use(updateRoutes(deps))
    .use(hostnameRoutes(deps))
    .use(tokenRoutes(deps))
    .use(domainRoutes(deps))
    .use(recordRoutes(deps));
}

export type App = ReturnType<typeof createApp>;
