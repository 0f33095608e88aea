/**
 * Update endpoints: dyndns2 (/nic/update and its aliases, and / when a request carries
 * credentials or update parameters), ipdock's JSON (/api/update) and what-is-my-IP. They
 * translate requests into core's UpdateCall and core's answer into each client's dialect;
 * nothing here decides what an update means.
 */
import { Elysia } from "elysia";
import { parseIP } from "../core/addresses";
import { IpkeepError } from "../core/errors";
import { sourceKey, type UpdateLimits, type Verdict } from "../core/limits";
import { type HostLine, performUpdate, UPDATE_PARAMS, type UpdateAnswer, type UpdateCall } from "../core/update";
import { clientOf, type HttpContext } from "./context";
import { type ParamBag, parseBasic, parseBearer, readParams } from "./credentials";
import { ROUTES } from "./routes";
import { errorBody, logFailure } from "./errors";

/** Every path a dyndns2 client may be configured with (ddclient, inadyn, IPv64, Dyn's v3): the route table's dyndns2 rows. */
const DYNDNS_PATHS = ROUTES.filter((r) => r.dialect === "dyndns2").map((r) => r.path);

const REALM = 'Basic realm="ipkeep", charset="UTF-8"';

/**
 * text/plain with a Content-Length: ddclient reads a chunk size as the status and breaks on a
 * leading blank, so the body is one exact string and never streamed.
 */
function text(body: string, status: number, headers: Record<string, string>): Response {
  const bytes = new TextEncoder().encode(body);
  return new Response(bytes, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "content-length": String(bytes.length), "cache-control": "no-store", ...headers },
  });
}

function json(body: unknown, status: number, headers: Record<string, string>): Response {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  return new Response(bytes, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "content-length": String(bytes.length), "cache-control": "no-store", ...headers },
  });
}

/** X-RateLimit-* and Retry-After on every update response (ipdock documents all three). */
function rateHeaders(rate: Verdict | null, retryAfter: number): Record<string, string> {
  const h: Record<string, string> = {};
  if (rate && rate.limit > 0) {
    h["x-ratelimit-limit"] = String(rate.limit);
    h["x-ratelimit-remaining"] = String(rate.remaining);
  }
  h["retry-after"] = String(Math.max(retryAfter, rate?.retryAfter ?? 0));
  return h;
}

export interface UpdateRouteOptions {
  limits: UpdateLimits;
}

const options = (ctx: HttpContext): UpdateRouteOptions => ({ limits: ctx.updateLimits });

async function readCall(deps: HttpContext, request: Request): Promise<{ call: UpdateCall; params: ParamBag }> {
  const auth = request.headers.get("authorization");
  const basic = parseBasic(auth);
  const bearer = basic ? null : parseBearer(auth);
  const params = await readParams(request);
  return {
    params,
    call: {
      params,
      basic,
      bearer,
      malformedAuthorization: !!auth && !basic && !bearer,
      client: clientOf(deps, request),
      userAgent: request.headers.get("user-agent"),
    },
  };
}

// ---------------------------------------------------------------------------------------
// dyndns2 text

type Output = "text" | "min" | "none" | "full";
function outputOf(params: ParamBag): Output {
  const o = params.get("output")?.toLowerCase();
  return o === "min" || o === "none" || o === "full" ? o : "text";
}

const lineText = (l: HostLine) => ("error" in l ? l.error.dyndns : l.addresses.length ? `${l.result} ${l.addresses.join(",")}` : l.result);

function formatDyndns(answer: UpdateAnswer, output: Output): Response {
  if (answer.kind === "refused") {
    const e = answer.error;
    // 401 and 429 are the only non-200 answers: ddclient ignores the body of anything else
    // that is not 2xx and inadyn on UniFi gives up on 400.
    const status = e.status === 401 || e.status === 429 ? e.status : 200;
    const headers = rateHeaders(answer.rate, answer.retryAfter);
    if (status === 401) headers["www-authenticate"] = REALM;
    const body = output === "none" ? "" : output === "min" ? "fail" : output === "full" ? null : e.dyndns;
    if (body === null) return json({ status: e.dyndns, ip: [], hosts: [] }, status, headers);
    return text(body, status, headers);
  }
  const limited = answer.lines.some((l) => "error" in l && l.error.status === 429);
  const status = limited ? 429 : 200;
  const headers = rateHeaders(answer.rate, answer.retryAfter);
  switch (output) {
    case "none":
      return text("", status, headers);
    case "min":
      return text(answer.lines.map((l) => ("error" in l ? "fail" : l.result)).join("\n"), status, headers);
    case "full": {
      const ok = answer.lines.every((l) => !("error" in l));
      const ips = [...new Set(answer.lines.flatMap((l) => ("error" in l ? [] : l.addresses)))];
      return json(
        {
          status: ok ? "success" : "fail",
          ip: ips,
          hosts: answer.lines.map((l) =>
            "error" in l ? { hostname: l.hostname, status: l.error.dyndns, ip: [] } : { hostname: l.hostname, status: l.result, ip: l.addresses },
          ),
        },
        status,
        headers,
      );
    }
    default:
      return text(answer.lines.map(lineText).join("\n"), status, headers);
  }
}

/**
 * Whether a request to "/" (or deSEC's free path) is an update: it carries credentials or an
 * update parameter (core's list), or asks howismyip.
 */
export function isRootUpdate(request: Request): boolean {
  if (request.headers.has("authorization")) return true;
  const q = new URL(request.url).searchParams;
  for (const k of q.keys()) if (UPDATE_PARAMS.includes(k.toLowerCase()) || k.toLowerCase() === "howismyip") return true;
  return false;
}

function myIpText(client: string | null): string {
  return client ? (parseIP(client)?.address ?? client) : "";
}

/** The dyndns2 handler, shared by every dyndns path and by "/". */
export function dyndnsHandler(deps: HttpContext, opts: UpdateRouteOptions = options(deps)) {
  return async (request: Request): Promise<Response> => {
    if (request.method !== "GET" && request.method !== "POST") {
      const client = clientOf(deps, request);
      return text(new IpkeepError("bad_agent").dyndns, 200, { allow: "GET, POST", ...rateHeaders(opts.limits.sourceBurst.peek(sourceKey(client)), 0) });
    }
    const { call, params } = await readCall(deps, request);
    if (params.has("howismyip")) return myIp(opts, call.client);
    const output = outputOf(params);
    let answer: UpdateAnswer;
    try {
      answer = await performUpdate({ ...deps, limits: opts.limits }, call);
    } catch (e) {
      // dyndns2 has one word for "the server failed": 911, and nothing was stored. The cause
      // goes to the log (a full disk at most once a minute).
      logFailure("dyndns2", e);
      const headers = rateHeaders(opts.limits.sourceBurst.peek(sourceKey(call.client)), 0);
      return text(output === "min" ? "fail" : output === "none" ? "" : "911", 200, headers);
    }
    return formatDyndns(answer, output);
  };
}

function myIp(opts: UpdateRouteOptions, client: string | null): Response {
  const v = opts.limits.admitSource(client);
  if (!v.verdict.allowed) return text("abuse", 429, rateHeaders(v.verdict, v.verdict.retryAfter));
  return text(myIpText(client), 200, rateHeaders(v.verdict, 0));
}

// ---------------------------------------------------------------------------------------
// ipdock JSON

function formatIpdock(answer: UpdateAnswer): Response {
  if (answer.kind === "refused") {
    const e = answer.error;
    const headers = rateHeaders(answer.rate, answer.retryAfter);
    if (e.code === "unauthorized") return json({ error: "Invalid API token" }, 401, { ...headers, "www-authenticate": REALM });
    if (e.status === 429) return json({ error: "Too many requests" }, 429, headers);
    return json({ error: e.code === "invalid_hostname" ? "Hostname not found" : e.message }, e.status, headers);
  }
  const headers = rateHeaders(answer.rate, answer.retryAfter);
  const first = answer.lines[0]!;
  if ("error" in first) {
    const e = first.error;
    if (e.status === 429) return json({ error: "Too many requests" }, 429, headers);
    return json({ error: e.code === "invalid_address" ? "Invalid IP address" : e.message }, e.status, headers);
  }
  const ip = first.addresses.join(",");
  if (first.result === "nochg") return json({ status: "nochg", ip }, 200, headers);
  const previous = [
    first.current.ipv4 !== first.previous.ipv4 ? first.previous.ipv4 : null,
    first.current.ipv6 !== first.previous.ipv6 ? first.previous.ipv6 : null,
  ].filter(Boolean);
  return json({ status: "good", ip, previous: previous.length ? previous.join(",") : null }, 200, headers);
}

export function ipdockHandler(deps: HttpContext, opts: UpdateRouteOptions = options(deps)) {
  return async (request: Request): Promise<Response> => {
    const { call, params } = await readCall(deps, request);
    if (params.has("howismyip")) return myIp(opts, call.client);
    try {
      return formatIpdock(await performUpdate({ ...deps, limits: opts.limits }, call));
    } catch (e) {
      logFailure("api/update", e);
      if (e instanceof IpkeepError && e.code === "storage_full") return json(errorBody(e), e.status, {});
      return json({ error: "Internal error" }, 500, {});
    }
  };
}

// ---------------------------------------------------------------------------------------
// Routes and pre-routing

const CHECKIP_HTML = (ip: string) => `<html><head><title>Current IP Check</title></head><body>Current IP Address: ${ip}</body></html>`;

export function updateRoutes(deps: HttpContext) {
  const opts = options(deps);
  const dyndns = dyndnsHandler(deps, opts);
  const ipdock = ipdockHandler(deps, opts);
  let app = new Elysia();
  for (const path of DYNDNS_PATHS) app = app.all(path, ({ request }) => dyndns(request), { parse: "none" }) as unknown as Elysia;
  return app
    .get("/api/update", ({ request }) => ipdock(request), { parse: "none" })
    .post("/api/update", ({ request }) => ipdock(request), { parse: "none" })
    .get("/api/myip", ({ request }) => myIp(opts, clientOf(deps, request)))
    .get("/nic/checkip.html", ({ request }) => {
      const client = clientOf(deps, request);
      const v = opts.limits.admitSource(client);
      if (!v.verdict.allowed) return text("abuse", 429, rateHeaders(v.verdict, v.verdict.retryAfter));
      const body = new TextEncoder().encode(CHECKIP_HTML(myIpText(client)));
      return new Response(body, {
        headers: { "content-type": "text/html; charset=utf-8", "content-length": String(body.length), "cache-control": "no-store" },
      });
    });
}
