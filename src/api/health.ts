import { Elysia } from "elysia";

export function healthRoutes() {
  return new Elysia().get("/api/v2/healthz", () => ({ data: { status: "ok" }, meta: { message: "OK" } }));
}
