/**
 * GET /metrics: Prometheus text format. Process counters from src/metrics.ts plus gauges read
 * at scrape time from the store (zone serials, enrolled nodes). Names in labels come from our
 * own database (zones, enrolled node names), are escaped and capped in length; nothing from
 * the request is ever a label.
 */
import { Elysia } from "elysia";
import { Exposition, writeCounters } from "../metrics";
import { metricsAllowed } from "../core/transport-policy";
import { type HttpContext, peerOf } from "./context";

interface NodeRow {
  role: string;
  name: string;
  status: string;
  last_checkin_at: number | null;
}

export function renderMetrics(deps: Pick<HttpContext, "store">): string {
  const out = new Exposition();
  writeCounters(out);
  out.family("ipkeep_zone_serial", "gauge", "SOA serial of each zone in the database.");
  out.family("ipkeep_zone_served", "gauge", "1 when the zone is served (custom domains need verification first).");
  const zones = deps.store.domains.serials();
  for (const z of zones) out.sample("ipkeep_zone_serial", { zone: z.name }, z.serial);
  for (const z of zones) out.sample("ipkeep_zone_served", { zone: z.name }, z.served ? 1 : 0);
  const nodes = deps.store.db.prepare("SELECT role, name, status, last_checkin_at FROM nodes WHERE status != 'revoked' ORDER BY id").all<NodeRow>();
  out.family("ipkeep_nodes", "gauge", "Enrolled machines (agents, secondaries) by role and status.");
  for (const role of ["agent", "secondary"]) {
    for (const status of ["pending", "active"]) {
      out.sample("ipkeep_nodes", { role, status }, nodes.filter((n) => n.role === role && n.status === status).length);
    }
  }
  out.family("ipkeep_node_last_checkin_timestamp_seconds", "gauge", "Last check-in of each enrolled machine (0: never).");
  for (const n of nodes) out.sample("ipkeep_node_last_checkin_timestamp_seconds", { role: n.role, node: n.name }, n.last_checkin_at ?? 0);
  return out.text();
}

export function metricsRoutes(deps: HttpContext) {
  return new Elysia().get("/metrics", ({ request }) => {
    if (!metricsAllowed(deps.metricsAllow, peerOf(deps, request))) {
      return new Response("metrics are served to loopback and --metrics-allow addresses only\n", {
        status: 403,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    return new Response(renderMetrics(deps), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
  });
}
