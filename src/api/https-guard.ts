/**
 * Applies core's transport rule to every request before routing: the HTTP layer only
 * gathers the facts (listener, socket peer, forwarded protocol, path) and speaks the refusal
 * in the envelope of the API that was asked.
 */
import { ERRORS } from "../core/errors";
import { buildTransportPolicy, checkTransport, type TransportPolicy } from "../core/transport-policy";
import { type ApiDeps, peerOf, transportOf } from "./context";

const STRICT: TransportPolicy = buildTransportPolicy({ trustedProxies: [], allowInsecureHttp: false });

export function refuseInsecure(path: string): Response {
  const code = "https_required";
  const message = `${ERRORS.https_required.message}: connect with https:// (or through a proxy that terminates TLS)`;
  const status = ERRORS.https_required.status;
  if (path.toLowerCase().startsWith("/api/v2")) return Response.json({ error: { code, message } }, { status });
  if (path.toLowerCase().startsWith("/api")) return Response.json({ error: message, code }, { status });
  return new Response(`${message}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** An Elysia onRequest hook: a Response stops the request, undefined lets it through. */
export function httpsGuard(deps: Pick<ApiDeps, "transportPolicy">) {
  const policy = deps.transportPolicy ?? STRICT;
  return ({ request }: { request: Request }): Response | undefined => {
    const path = new URL(request.url).pathname;
    const verdict = checkTransport(policy, {
      transport: transportOf(request),
      peer: peerOf(request),
      forwardedProto: request.headers.get("x-forwarded-proto"),
      path,
    });
    return verdict.allowed ? undefined : refuseInsecure(path);
  };
}
