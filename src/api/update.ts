/**
 * Update endpoints: dyndns2 (/nic/update) and ipdock's JSON (/api/update). They translate
 * requests into core's UpdateIntent and core's outcome into each client's dialect.
 */
import { Elysia } from "elysia";
import { parseIP, parseIPv4, parseIPv6, unmapIPv4 } from "../core/addresses";
import { asIpkeepError, IpkeepError } from "../core/errors";
import { authenticateUpdateToken, type FamilyChange, type UpdateIntent, type UpdateOutcome, updateHost } from "../core/update";
import type { UpdateTokenRow } from "../core/ports";
import { type ApiDeps, peerOf } from "./context";
import { parseBasic, parseBearer } from "./credentials";

const text = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

/** Intent from an explicit address, else from the connecting address (its family only). */
function intentFor(myip: string | null, peer: string | null): UpdateIntent | IpkeepError {
  const keep: FamilyChange = { kind: "keep" };
  const raw = myip && myip.length ? myip : peer ? unmapIPv4(peer) : null;
  if (!raw) return new IpkeepError("invalid_address", "No address given and none could be detected");
  const ip = parseIP(raw);
  if (!ip) return new IpkeepError("invalid_address");
  return ip.family === 4 ? { v4: { kind: "set", address: ip.address }, v6: keep } : { v4: keep, v6: { kind: "set", address: ip.address } };
}

const echo = (o: UpdateOutcome, intent: UpdateIntent) =>
  [intent.v4.kind === "set" ? o.current.ipv4 : null, intent.v6.kind === "set" ? o.current.ipv6 : null].filter(Boolean).join(",");

export function updateRoutes(deps: ApiDeps) {
  const meta = (request: Request) => ({ source: peerOf(request), userAgent: request.headers.get("user-agent") });

  return new Elysia()
    .get("/nic/update", ({ request, query }) => {
      const basic = parseBasic(request.headers.get("authorization"));
      const queryToken = typeof query.token === "string" && query.token ? query.token : null;
      if (!basic && !queryToken) return text("badauth", 401, { "www-authenticate": 'Basic realm="ipkeep"' });
      let token: UpdateTokenRow;
      try {
        const presented = queryToken ?? (basic!.password.startsWith("ipk_") ? basic!.password : basic!.username);
        token = authenticateUpdateToken(deps, presented);
      } catch {
        return text("badauth", 401, { "www-authenticate": 'Basic realm="ipkeep"' });
      }
      const hostname = typeof query.hostname === "string" ? query.hostname : "";
      if (!hostname) return text("notfqdn");
      const intent = intentFor(typeof query.myip === "string" ? query.myip : null, peerOf(request));
      if (intent instanceof IpkeepError) return text(intent.dyndns);
      try {
        const out = updateHost(deps, token, hostname, intent, meta(request));
        return text(`${out.result} ${echo(out, intent)}`);
      } catch (e) {
        return text(asIpkeepError(e).dyndns);
      }
    })
    .get("/api/update", ({ request, query }) => {
      const json = (body: unknown, status = 200) => Response.json(body, { status });
      const presented = parseBearer(request.headers.get("authorization")) ?? (typeof query.token === "string" ? query.token : null);
      let token: UpdateTokenRow;
      try {
        token = authenticateUpdateToken(deps, presented ?? "");
      } catch {
        return json({ error: "Invalid API token" }, 401);
      }
      let hostname = typeof query.hostname === "string" ? query.hostname : null;
      if (!hostname) {
        if (token.scope === "all" || token.hostIds.length !== 1) return json({ error: "hostname is required for this token" }, 400);
        hostname = deps.store.hosts.byId(token.hostIds[0]!)?.name ?? null;
        if (!hostname) return json({ error: "Hostname not found" }, 404);
      }
      const ipParam = typeof query.ip === "string" ? query.ip : null;
      if (ipParam && !parseIPv4(ipParam) && !parseIPv6(ipParam)) return json({ error: "Invalid IP address" }, 400);
      const intent = intentFor(ipParam, peerOf(request));
      if (intent instanceof IpkeepError) return json({ error: intent.message }, intent.status);
      try {
        const out = updateHost(deps, token, hostname, intent, meta(request));
        const ip = echo(out, intent);
        const previous = intent.v4.kind === "set" ? out.previous.ipv4 : out.previous.ipv6;
        return json(out.result === "good" ? { status: "good", ip, previous } : { status: "nochg", ip });
      } catch (e) {
        const err = asIpkeepError(e);
        return json({ error: err.message }, err.status);
      }
    });
}
