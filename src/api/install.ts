/**
 * The install lifecycle over HTTP (IPTunnel's /api/v2 envelope), the agent routes
 * (register / checkin / revoke / status) and the installer's downloads. Thin: parse,
 * call core/install.ts, wrap in the envelope.
 */
import { Elysia } from "elysia";
import { fail, IpkeepError } from "../core/errors";
import {
  activate,
  archTarget,
  authenticateNode,
  checkin,
  confirm,
  issueCode,
  listCodes,
  listNodes,
  type NodeRow,
  nodeStatus,
  nodeView,
  precheck,
  release,
  revokeCode,
  revokeNode,
  revokeNodeById,
} from "../core/install";
import { authenticate, requireAdmin } from "./auth";
import { clientOf, type HttpContext, linkBase } from "./context";
import { parseBearer } from "./credentials";
import { envelopeError } from "./errors";
import { readJsonObject, toId } from "./http";

export function ok(data: unknown, message: string, status = 200): Response {
  return Response.json({ data, meta: { message } }, { status });
}

/**
 * The body's shape, strictly: only these fields, none of them null (leave a field out to take
 * its default), each of its JSON type. invalid_input names the first field that is wrong.
 */
function strictFields(body: Record<string, unknown>, fields: Record<string, "string" | "number">): void {
  for (const [name, value] of Object.entries(body)) {
    const want = fields[name];
    if (!want) fail("invalid_input", `Unknown field "${name.slice(0, 40)}" (allowed: ${Object.keys(fields).join(", ")})`);
    if (value === null) fail("invalid_input", `${name} must not be null: leave it out for the default`);
    if (typeof value !== want) fail("invalid_input", `${name} must be a ${want}`);
  }
}

/** Runs a handler and answers failures in the envelope. */
const enveloped = (fn: () => Promise<Response> | Response) => async (): Promise<Response> => {
  try {
    return await fn();
  } catch (e) {
    return envelopeError(e);
  }
};

const nodeJson = (n: NodeRow) => ({
  id: n.id,
  role: n.role,
  name: n.name,
  status: n.status,
  public_ip: n.publicIp,
  version: n.version,
  last_checkin_at: n.lastCheckinAt ? new Date(n.lastCheckinAt * 1000).toISOString() : null,
});

export function installRoutes(deps: HttpContext) {
  const catalog = deps.binaries;
  const node = (request: Request) => authenticateNode(deps, parseBearer(request.headers.get("authorization")));
  const none = { parse: "none" as const };

  return (
    new Elysia()
      .post(
        "/api/v2/install/codes",
        ({ request }) =>
          enveloped(async () => {
            const p = await authenticate(deps, request);
            requireAdmin(p);
            const body = await readJsonObject(request);
            strictFields(body, { role: "string", hostname: "string", ttl_seconds: "number", ttl: "number" });
            if ("ttl" in body && "ttl_seconds" in body) fail("invalid_input", "ttl_seconds and ttl are the same field: give one");
            const c = issueCode(
              deps,
              { role: body.role ?? "agent", hostname: body.hostname, ttl: body.ttl_seconds ?? body.ttl },
              {
                ownerId: p.user.id,
                actorKey: `user:${p.user.id}`,
                address: clientOf(deps, request),
              },
            );
            return ok(
              {
                install_code: c.code,
                install_code_hint: c.hint,
                role: c.row.role,
                hostname: c.row.hostname,
                expires_at: c.expiresAt,
                ttl_seconds: c.ttlSeconds,
              },
              "Install code issued",
              201,
            );
          })(),
        none,
      )
      .get("/api/v2/install/codes", ({ request }) =>
        enveloped(async () => {
          requireAdmin(await authenticate(deps, request));
          const rows = listCodes(deps).map((c) => ({
            id: c.id,
            install_code_hint: c.hint,
            role: c.role,
            hostname: c.hostname,
            state: c.displayState,
            expires_at: new Date(c.expiresAt * 1000).toISOString(),
            machine_id: c.machineId,
          }));
          return ok(rows, "Install codes");
        })(),
      )
      .delete("/api/v2/install/codes/:id", ({ request, params }) =>
        enveloped(async () => {
          const p = await authenticate(deps, request);
          requireAdmin(p);
          const c = revokeCode(deps, params.id, `user:${p.user.id}`);
          return ok({ id: c.id, install_code_hint: c.hint, state: c.state }, "Install code revoked");
        })(),
      )
      // Enrolled machines (admins): list, and revoke one (its credentials stop working at once).
      .get("/api/v2/nodes", ({ request }) =>
        enveloped(async () => {
          requireAdmin(await authenticate(deps, request));
          return ok(listNodes(deps).map(nodeView), "Nodes");
        })(),
      )
      .delete("/api/v2/nodes/:id", ({ request, params }) =>
        enveloped(async () => {
          const p = await authenticate(deps, request);
          requireAdmin(p);
          const n = revokeNodeById(deps, toId(params.id), { id: p.user.id, name: `user:${p.user.id}`, address: clientOf(deps, request) });
          return ok(nodeView(n), "Node revoked");
        })(),
      )
      .post(
        "/api/v2/install/precheck",
        ({ request }) =>
          enveloped(async () => {
            const r = precheck(deps, await readJsonObject(request));
            return ok(
              {
                install_code: r.installCode,
                install_code_hint: r.hint,
                product: r.role,
                precheck_token: r.precheckToken,
                precheck_expires_at: r.precheckExpiresAt,
                machine_binding: { machine_id: r.machineBinding.machineId, ssh_fingerprint: r.machineBinding.sshFingerprint },
                hostname: r.hostname,
                zones: r.zones,
                // What the installer proposes as this machine's public IP, for the operator to confirm.
                detected_public_ip: clientOf(deps, request),
              },
              "Install code validated",
            );
          })(),
        none,
      )
      .post(
        "/api/v2/install/activate",
        ({ request }) =>
          enveloped(async () => {
            const r = activate(deps, await readJsonObject(request), { address: clientOf(deps, request) }, catalog);
            const base = linkBase(deps, request);
            return ok(
              {
                activation_id: r.activationId,
                install_token: r.installToken,
                install_token_expires_at: r.installTokenExpiresAt,
                install_code: r.installCode,
                product: r.role,
                machine_binding: {
                  hostname: r.machineBinding.hostname,
                  public_ip: r.machineBinding.publicIp,
                  machine_id: r.machineBinding.machineId,
                  ssh_fingerprint: r.machineBinding.sshFingerprint,
                },
                credentials: {
                  node_token: r.credentials.nodeToken,
                  ...(r.credentials.updateToken ? { update_token: r.credentials.updateToken } : {}),
                  ...(r.credentials.tsig ? { tsig: r.credentials.tsig } : {}),
                },
                settings: {
                  primary_url: base,
                  hostname: r.settings.hostname,
                  zones: r.settings.zones,
                  checkin_interval_seconds: r.settings.checkinInterval,
                  ...(r.settings.binary
                    ? {
                        binary: {
                          arch: r.settings.binary.arch,
                          sha256: r.settings.binary.sha256,
                          url: `${base}/download/ipkeep?arch=${encodeURIComponent(r.settings.binary.arch)}`,
                        },
                      }
                    : {}),
                },
              },
              "Install token issued",
            );
          })(),
        none,
      )
      .post(
        "/api/v2/install/confirm",
        ({ request }) =>
          enveloped(async () => {
            const r = confirm(deps, await readJsonObject(request));
            return ok({ activation_id: r.activationId, status: r.status, node: nodeJson(r.node) }, "Install confirmed");
          })(),
        none,
      )
      .post(
        "/api/v2/install/release",
        ({ request }) =>
          enveloped(async () => {
            const r = release(deps, await readJsonObject(request));
            return ok({ activation_id: r.activationId, status: r.status, install_code_restored: r.installCodeRestored }, "Activation released");
          })(),
        none,
      )
      // IPTunnel's legacy agent stack, authenticated by the node's credential.
      .post(
        "/register",
        ({ request }) =>
          enveloped(async () => {
            const n = node(request);
            const r = checkin(deps, n, await readJsonObject(request));
            const s = nodeStatus(deps, r.node);
            return ok(
              {
                node: nodeJson(r.node),
                hostname: s.hostname,
                zones: s.zones,
                checkin_interval_seconds: r.nextCheckinSeconds,
                seen_address: clientOf(deps, request),
              },
              "Node registered",
            );
          })(),
        none,
      )
      .post(
        "/checkin",
        ({ request }) =>
          enveloped(async () => {
            const n = node(request);
            const r = checkin(deps, n, await readJsonObject(request));
            return ok({ node: nodeJson(r.node), next_checkin_seconds: r.nextCheckinSeconds, seen_address: clientOf(deps, request) }, "Check-in recorded");
          })(),
        none,
      )
      .post(
        "/revoke",
        ({ request }) =>
          enveloped(async () => {
            const n = revokeNode(deps, node(request));
            return ok({ node: nodeJson(n) }, "Node revoked");
          })(),
        none,
      )
      .get("/status", ({ request }) =>
        enveloped(() => {
          const s = nodeStatus(deps, node(request));
          return ok(
            { node: nodeJson(s.node), hostname: s.hostname, zones: s.zones, checked_in: s.checkedIn, next_checkin_seconds: s.nextCheckinSeconds },
            "Node status",
          );
        })(),
      )
      // The installer and the executables it installs.
      .get("/install.sh", ({ request }) => {
        // So `curl -fsSL https://PRIMARY/install.sh | sudo bash -s -- --code …` needs no --primary.
        const base = linkBase(deps, request);
        const script = catalog.installer().replace("__IPKEEP_PRIMARY_URL__", base.replace(/[^A-Za-z0-9:/.\[\]_-]/g, ""));
        return new Response(script, { headers: { "content-type": "text/x-shellscript; charset=utf-8", "cache-control": "no-store" } });
      })
      .get("/download/ipkeep", ({ query }) => {
        const arch = typeof query.arch === "string" ? query.arch : "";
        const target = archTarget(arch);
        const f = target ? catalog.file(`ipkeep-${target}`) : null;
        if (!target || !f || !catalog.sha256For(target)) {
          const what = target ? `: ${catalog.missing(target)}` : " (x86_64 or aarch64)";
          return envelopeError(new IpkeepError("unsupported_arch", `No ipkeep executable for "${arch.slice(0, 32)}" on this primary${what}`));
        }
        return new Response(Bun.file(f), {
          headers: {
            "content-type": "application/octet-stream",
            "content-disposition": 'attachment; filename="ipkeep"',
            "x-checksum-sha256": catalog.sha256For(target)!,
          },
        });
      })
  );
}
