/**
 * IPv64's account API at /api.php and /api, a thin dialect over core's Resources: the call is
 * the parameter that is present (get_account_info, get_logs, get_domains, add_domain,
 * add_record, del_domain, del_record), the answer IPv64's JSON ({"info", "status", <call>}).
 * An IPv64 "domain" is what ipkeep calls a hostname: add_domain creates one in a built-in zone,
 * del_domain deletes it, get_domains lists them with their records; add_record's praefix names
 * the record below it. Authenticated by an API key as Bearer, Basic password or an
 * apikey/token parameter (a session JWT as Bearer works too).
 */
import { Elysia } from "elysia";
import { apiKeyUser } from "../core/auth";
import { fail, IpkeepError } from "../core/errors";
import { canonicalName } from "../core/names";
import { type Actor, LocalResources } from "../core/resources";
import { looksLikeToken } from "../core/tokens";
import type { HostView, RecordView } from "../core/views";
import { authenticate } from "./auth";
import { clientOf, type HttpContext } from "./context";
import { type ParamBag, parseBasic, readParams } from "./credentials";
import { ipv64Error } from "./errors";

const CALLS = ["get_account_info", "get_logs", "get_domains", "add_domain", "add_record", "del_domain", "del_record"] as const;
type Call = (typeof CALLS)[number];
const METHOD: Record<Call, string> = {
  get_account_info: "GET",
  get_logs: "GET",
  get_domains: "GET",
  add_domain: "POST",
  add_record: "POST",
  del_domain: "DELETE",
  del_record: "DELETE",
};

const STATUS_TEXT: Record<number, string> = { 200: "200 OK", 201: "201 Created" };

function answer(call: Call, status: 200 | 201, detail: unknown, data: Record<string, unknown> = {}): Response {
  return Response.json({ ...data, info: "success", status: STATUS_TEXT[status], [call]: detail }, { status });
}

async function resourcesOf(ctx: HttpContext, request: Request, params: ParamBag): Promise<{ res: LocalResources; userId: number }> {
  const header = request.headers.get("authorization");
  const basic = parseBasic(header);
  let userId: number;
  if (basic) {
    const key = looksLikeToken(basic.password, "apiKey") ? basic.password : basic.username;
    userId = apiKeyUser(ctx, key).id;
  } else if (header) {
    userId = (await authenticate(ctx, request)).user.id;
  } else {
    const key = params.get("apikey") ?? params.get("token");
    if (!key) fail("unauthorized", "Authentication required");
    userId = apiKeyUser(ctx, key).id;
  }
  const user = ctx.store.users.byId(userId)!;
  const actor: Actor = { userId, admin: user.role === "admin", name: `user:${userId}`, address: clientOf(ctx, request) };
  return { res: new LocalResources(ctx, actor), userId };
}

/** The records of one hostname: its own A/AAAA, then the zone's records at or below it. */
function recordsOf(h: HostView, zoneRecords: RecordView[]) {
  const own = [
    ...(h.ipv4 ? [{ record_id: null, content: h.ipv4, ttl: h.ttl, type: "A", praefix: "" }] : []),
    ...(h.ipv6 ? [{ record_id: null, content: h.ipv6, ttl: h.ttl, type: "AAAA", praefix: "" }] : []),
  ];
  const below = zoneRecords
    .filter((r) => r.name === h.hostname || r.name.endsWith(`.${h.hostname}`))
    .map((r) => ({
      record_id: r.id,
      content: r.priority === null ? r.content : `${r.priority} ${r.content}`,
      ttl: r.ttl,
      type: r.type,
      praefix: r.name === h.hostname ? "" : r.name.slice(0, r.name.length - h.hostname.length - 1),
    }));
  return [...own, ...below];
}

async function hostNamed(res: LocalResources, name: string | undefined): Promise<HostView> {
  const want = canonicalName((name ?? "").trim());
  if (!want) fail("invalid_input", "Domain name missing");
  const h = (await res.listHosts()).find((x) => x.hostname === want);
  if (!h) fail("unknown_host", "Domain not found");
  return h;
}

export function ipv64Routes(ctx: HttpContext) {
  const handle = async (request: Request): Promise<Response> => {
    const params = await readParams(request);
    const call = CALLS.find((c) => params.has(c));
    try {
      // Credentials first: an unauthenticated caller learns nothing, not even what a call needs.
      const { res, userId } = await resourcesOf(ctx, request, params);
      if (!call) fail("invalid_input", `No API call: one of ${CALLS.join(", ")}`);
      if (request.method !== METHOD[call]) fail("invalid_input", `${call} is a ${METHOD[call]} request`);
      switch (call) {
        case "get_account_info": {
          const a = ctx.store.accounts.byId(userId)!;
          const hosts = await res.listHosts();
          return answer(call, 200, "successful", {
            email: a.email,
            account_status: a.disabled ? "disabled" : "active",
            reg_date: new Date(a.createdAt * 1000).toISOString(),
            account_class: { class_name: "self-hosted", dyndns_domain_limit: a.quota.hostnames ?? null },
            dyndns_domains: hosts.length,
          });
        }
        case "get_logs": {
          const hosts = await res.listHosts();
          const logs = (await Promise.all(hosts.map(async (h) => (await res.hostLog(h.id)).map((l) => ({ ...l, subdomain: h.hostname })))))
            .flat()
            .sort((x, y) => (y.at ?? "").localeCompare(x.at ?? ""))
            .slice(0, 100);
          return answer(call, 200, "successful", { logs });
        }
        case "get_domains": {
          const hosts = await res.listHosts();
          const zones = new Map<number, RecordView[]>();
          for (const h of hosts) if (!zones.has(h.domainId)) zones.set(h.domainId, await res.listRecords(h.domainId));
          const subdomains = Object.fromEntries(
            hosts.map((h) => [h.hostname, { last_seen: h.lastSeenAt, records: recordsOf(h, zones.get(h.domainId) ?? []) }]),
          );
          return answer(call, 200, "subdomains", { subdomains });
        }
        case "add_domain": {
          const r = await res.createHost({ name: params.get(call) ?? "" });
          // The hostname's update token, shown once (IPv64 updates with the account's key instead).
          return answer(call, 201, r.hostname.hostname, { update_token: r.token.tokenValue });
        }
        case "del_domain": {
          const h = await hostNamed(res, params.get(call));
          await res.removeHost(h.id);
          return answer(call, 200, h.hostname);
        }
        case "add_record": {
          const h = await hostNamed(res, params.get(call));
          const praefix = (params.get("praefix") ?? "").trim();
          const r = await res.createRecord(h.domainId, {
            name: praefix ? `${praefix}.${h.hostname}` : h.hostname,
            type: params.get("type") ?? "",
            content: params.get("content") ?? "",
          });
          return answer(call, 201, "record created", { record_id: r.id });
        }
        case "del_record": {
          const target = (params.get(call) ?? "").trim();
          if (/^[0-9]{1,15}$/.test(target)) {
            // By id: a record below one of the caller's hostnames.
            for (const h of await res.listHosts()) {
              const r = recordsOf(h, await res.listRecords(h.domainId)).find((x) => x.record_id === Number(target));
              if (r) {
                await res.removeRecord(h.domainId, Number(target));
                return answer(call, 200, "record deleted");
              }
            }
            fail("not_found", "Record not found");
          }
          const h = await hostNamed(res, target);
          const praefix = (params.get("praefix") ?? "").trim();
          const type = (params.get("type") ?? "").trim().toUpperCase();
          const content = (params.get("content") ?? "").trim();
          const r = recordsOf(h, await res.listRecords(h.domainId)).find(
            (x) => x.record_id !== null && x.praefix === praefix && x.type === type && x.content === content,
          );
          if (!r) fail("not_found", "Record not found");
          await res.removeRecord(h.domainId, r.record_id!);
          return answer(call, 200, "record deleted");
        }
      }
    } catch (e) {
      return ipv64Error(e, call ?? "error");
    }
  };
  const app = new Elysia();
  for (const path of ["/api.php", "/api"]) {
    app.get(path, ({ request }) => handle(request), { parse: "none" });
    app.post(path, ({ request }) => handle(request), { parse: "none" });
    app.delete(path, ({ request }) => handle(request), { parse: "none" });
  }
  return app;
}
