/**
 * ACME DNS-01 for ACME clients that cannot be changed: acme-dns's API under /acme-dns (Caddy,
 * Traefik/lego, cert-manager, acme.sh, certbot hooks) and lego's httpreq under /httpreq. Each
 * takes a base URL, so these paths are all they need. Meaning lives in core/acme.ts.
 */
import { Elysia, t } from "elysia";
import { cleanupChallenge, dns01Value, presentChallenge, registerAcmeDnsAccount } from "../core/acme";
import { fail, IpkeepError } from "../core/errors";
import type { UpdateTokenRow } from "../core/ports";
import { looksLikeToken } from "../core/tokens";
import { authenticateUpdateToken } from "../core/update";
import { authenticate } from "./auth";
import { clientOf, type HttpContext } from "./context";
import { parseBasic, parseBearer } from "./credentials";
import { jsonError } from "./errors";

// Shapes only; the bounds keep a hostile body from reaching core at all. 260: a 253-character
// name with a trailing dot and room for "*."; a DNS-01 value is 43 characters.
const NAME = t.String({ maxLength: 260 });
const VALUE = t.String({ maxLength: 128 });

export function acmeRoutes(deps: HttpContext) {
  // The update endpoints' limits, shared with them through the context: the same source lockout
  // after bad credentials and the same per-source burst, so ACME is no side door for guessing tokens.
  const gate = deps.updateLimits;
  const source = (request: Request) => clientOf(deps, request);
  const meta = (request: Request) => ({ source: source(request) });

  /** Runs a handler behind the source gate; bad credentials count toward the lockout. */
  const guarded = async (request: Request, fn: () => Response | Promise<Response>, headers: Record<string, string> = {}): Promise<Response> => {
    const admitted = gate.admitSource(source(request));
    if (!admitted.verdict.allowed) {
      return jsonError(new IpkeepError(admitted.reason ?? "rate_limited"), { "retry-after": String(Math.max(1, admitted.verdict.retryAfter)) });
    }
    try {
      return await fn();
    } catch (e) {
      if (e instanceof IpkeepError && e.code === "unauthorized") gate.badCredentials(source(request));
      return jsonError(e, headers);
    }
  };

  /** acme-dns: X-Api-Key is the update token; X-Api-User (the account name, our fqdn) is not a secret. */
  const acmeDnsToken = (request: Request): UpdateTokenRow => authenticateUpdateToken(deps, request.headers.get("x-api-key") ?? "");

  /** httpreq: lego sends HTTPREQ_USERNAME/HTTPREQ_PASSWORD as Basic; the token may be either field. */
  const httpreqToken = (request: Request): UpdateTokenRow => {
    const header = request.headers.get("authorization");
    const basic = parseBasic(header);
    const presented = basic ? (looksLikeToken(basic.password, "update") ? basic.password : basic.username) : parseBearer(header);
    if (!presented) fail("unauthorized", "Authentication required");
    return authenticateUpdateToken(deps, presented);
  };
  const challengeHeaders = { "www-authenticate": 'Basic realm="ipkeep"' };

  return new Elysia()
    .get("/acme-dns/health", () => new Response(null, { status: 200 }))
    .post(
      "/acme-dns/register",
      ({ request, body }) =>
        guarded(request, async () => {
          const principal = await authenticate(deps, request);
          return Response.json(registerAcmeDnsAccount(deps, principal.user, body.hostname), { status: 201 });
        }),
      { parse: "json", body: t.Object({ hostname: NAME, allowfrom: t.Optional(t.Array(t.String({ maxLength: 64 }), { maxItems: 0 })) }) },
    )
    .post(
      "/acme-dns/update",
      ({ request, body }) =>
        guarded(request, () => {
          const token = acmeDnsToken(request);
          const out = presentChallenge(deps, token, body.subdomain, body.txt, meta(request));
          return Response.json({ txt: out.value });
        }),
      { parse: "json", body: t.Object({ subdomain: NAME, txt: VALUE }) },
    )
    .post(
      "/httpreq/present",
      ({ request, body }) =>
        guarded(
          request,
          () => {
            const token = httpreqToken(request);
            const { name, value } = httpreqChallenge(deps, body);
            const out = presentChallenge(deps, token, name, value, meta(request));
            return Response.json({ fqdn: `${out.fqdn}.`, value: out.value });
          },
          challengeHeaders,
        ),
      { parse: "json", body: HTTPREQ_BODY },
    )
    .post(
      "/httpreq/cleanup",
      ({ request, body }) =>
        guarded(
          request,
          () => {
            const token = httpreqToken(request);
            const { name, value } = httpreqChallenge(deps, body);
            const out = cleanupChallenge(deps, token, name, value, meta(request));
            return Response.json({ fqdn: `${out.fqdn}.`, value, removed: out.removed });
          },
          challengeHeaders,
        ),
      { parse: "json", body: HTTPREQ_BODY },
    );
}

// Default mode {"fqdn","value"}; RAW mode (HTTPREQ_MODE=RAW) {"domain","token","keyAuth"}.
const HTTPREQ_BODY = t.Object({
  fqdn: t.Optional(NAME),
  value: t.Optional(VALUE),
  domain: t.Optional(NAME),
  token: t.Optional(t.String({ maxLength: 256 })),
  keyAuth: t.Optional(t.String({ maxLength: 1024 })),
});

function httpreqChallenge(deps: HttpContext, body: typeof HTTPREQ_BODY.static): { name: string; value: string } {
  if (body.fqdn !== undefined && body.value !== undefined) return { name: body.fqdn, value: body.value };
  if (body.domain !== undefined && body.keyAuth !== undefined) return { name: body.domain, value: dns01Value(deps.platform, body.keyAuth) };
  fail("invalid_input", 'Expected {"fqdn","value"} (or RAW mode {"domain","token","keyAuth"})');
}
