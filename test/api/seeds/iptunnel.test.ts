/**
 * IPTunnel's API reference (shared/seeds 004), replayed: every example request of the document
 * against ipkeep's install API. ipkeep serves the lifecycle under /api/v2/install/ (no product
 * in the path) and issues codes to admins; each such difference has a row in the README's
 * "Differences from the documents we follow".
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FP, MACHINE, type Primary, primary, ZONE } from "../../helpers/install";

let p: Primary;
beforeEach(async () => {
  p = await primary();
});
afterEach(() => p.close());

describe("IPTunnel examples", () => {
  it("GET /api/v2/healthz answers the document's body", async () => {
    expect(await p.call("GET", "/api/v2/healthz")).toEqual({ status: 200, body: { data: { status: "ok" }, meta: { message: "OK" } } });
  });

  it("POST /api/v2/slowdns/code/issue: not here (codes are issued by an admin at /api/v2/install/codes); unknown /api/v2 paths answer in the v2 envelope", async () => {
    const r = await p.call("POST", "/api/v2/slowdns/code/issue");
    expect(r).toEqual({ status: 404, body: { error: { code: "not_found", message: expect.any(String) } } });
    expect((await p.call("GET", "/api/v2/anything/else")).body).toEqual({ error: { code: "not_found", message: expect.any(String) } });
    const issued = await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: p.adminKey });
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({
      data: { install_code: expect.stringMatching(/^IPK-/), expires_at: expect.any(String), ttl_seconds: expect.any(Number) },
      meta: { message: "Install code issued" },
    });
  });

  it("precheck, activate, confirm: the document's bodies (product and paths as ipkeep names them)", async () => {
    const code = await p.issue();
    const pre = await p.call("POST", "/api/v2/install/precheck", {
      install_code: code,
      machine_id: MACHINE,
      ssh_fingerprint: FP,
      product: "agent",
      installer_version: "2026.03.31",
    });
    expect(pre.status).toBe(200);
    expect(pre.body).toMatchObject({
      data: {
        install_code: code,
        install_code_hint: expect.any(String),
        precheck_token: expect.any(String),
        precheck_expires_at: expect.any(String),
        machine_binding: { machine_id: MACHINE, ssh_fingerprint: FP },
      },
      meta: { message: "Install code validated" },
    });
    const act = await p.call(
      "POST",
      "/api/v2/install/activate",
      p.activateBody(code, pre.body.data.precheck_token, { requested_ref: "main", installer_version: "2026.03.30" }),
    );
    expect(act.status, JSON.stringify(act.body)).toBe(200);
    expect(act.body).toMatchObject({
      data: {
        activation_id: expect.stringMatching(/^act_/),
        install_token: expect.any(String),
        install_token_expires_at: expect.any(String),
        install_code: code,
        machine_binding: { hostname: `box.${ZONE}`, public_ip: "203.0.113.9", machine_id: MACHINE, ssh_fingerprint: FP },
      },
      meta: { message: "Install token issued" },
    });
    const conf = await p.call("POST", "/api/v2/install/confirm", { activation_id: act.body.data.activation_id, install_token: act.body.data.install_token });
    expect(conf.status).toBe(200);
    expect(conf.body).toMatchObject({ data: { activation_id: act.body.data.activation_id, status: "confirmed" }, meta: { message: "Install confirmed" } });
  });

  it("release (the installer's EXIT trap) restores the code while the install token is unused", async () => {
    const code = await p.issue();
    const pre = await p.prechecked(code);
    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token));
    const rel = await p.call("POST", "/api/v2/install/release", { activation_id: act.body.data.activation_id });
    expect(rel).toEqual({
      status: 200,
      body: { data: { activation_id: act.body.data.activation_id, status: "released", install_code_restored: true }, meta: { message: "Activation released" } },
    });
  });

  it("the error envelope: {error: {code: install_code_expired, message}}", async () => {
    const code = await p.issue();
    p.clock.advance(24 * 3600 * 1000);
    const r = await p.call("POST", "/api/v2/install/precheck", {
      install_code: code,
      machine_id: MACHINE,
      ssh_fingerprint: FP,
      product: "agent",
      installer_version: "t",
    });
    expect(r.body).toEqual({ error: { code: "install_code_expired", message: "Install code has expired." } });
  });

  it("the main stack routes /register, /checkin, /revoke, /status exist (the node's credential)", async () => {
    for (const [m, path] of [
      ["POST", "/register"],
      ["POST", "/checkin"],
      ["POST", "/revoke"],
      ["GET", "/status"],
    ] as const) {
      const r = await p.call(m, path, m === "POST" ? {} : undefined, { auth: "ipkn_wrong" });
      expect(r.status, path).toBe(401);
      expect(r.body.error.code, path).toEqual(expect.any(String));
    }
  });
});
