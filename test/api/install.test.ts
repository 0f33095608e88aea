/**
 * The install-code lifecycle over HTTP (in-process app, injected clock): IPTunnel's v2
 * envelope on every answer, each refusal with its own code and status.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ACTIVATE_LIMITS, DEFAULT_CODE_TTL, INSTALL_TOKEN_TTL, ISSUE_LIMITS, PRECHECK_TTL } from "../../src/core/install";
import { mintToken } from "../../src/core/tokens";
import { authenticateUpdateToken } from "../../src/core/update";
import { type Answer, FP, MACHINE, OTHER_MACHINE, type Primary, primary, ZONE } from "../helpers/install";

let p: Primary;
const answers: Answer[] = [];

beforeEach(async () => {
  p = await primary();
  const call = p.call;
  p.call = async (...args) => {
    const a = await call(...args);
    answers.push(a);
    return a;
  };
});

afterEach(() => {
  // The envelope on every answer this test saw.
  for (const a of answers.splice(0)) {
    if (a.status < 400) {
      expect(Object.keys(a.body).sort(), JSON.stringify(a.body)).toEqual(["data", "meta"]);
      expect(typeof a.body.meta.message).toBe("string");
    } else {
      expect(Object.keys(a.body), JSON.stringify(a.body)).toEqual(["error"]);
      expect(a.body.error.code).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(typeof a.body.error.message).toBe("string");
    }
  }
  p.close();
});

const refused = (a: Answer, status: number, code: string) => {
  expect({ status: a.status, code: a.body?.error?.code }).toEqual({ status, code });
};

async function through(code: string, machine = MACHINE) {
  const pre = await p.prechecked(code, machine);
  expect(pre.status, JSON.stringify(pre.body)).toBe(200);
  const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { machine_id: machine }));
  expect(act.status, JSON.stringify(act.body)).toBe(200);
  return { pre, act, id: act.body.data.activation_id as string, token: act.body.data.install_token as string };
}

describe("GET /api/v2/healthz", () => {
  it("answers ok in the envelope", async () => {
    const r = await p.call("GET", "/api/v2/healthz");
    expect(r).toEqual({ status: 200, body: { data: { status: "ok" }, meta: { message: "OK" } } });
  });
});

describe("POST /api/v2/install/codes (issue)", () => {
  it("gives an admin an unambiguous code with its expiry, stored only as a hash", async () => {
    const r = await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: p.adminKey });
    expect(r.status).toBe(201);
    expect(r.body.meta.message).toBe("Install code issued");
    const code: string = r.body.data.install_code;
    expect(code).toMatch(/^IPK-[2-9A-HJKMNP-TW-Z]{6}-[2-9A-HJKMNP-TW-Z]{6}-[2-9A-HJKMNP-TW-Z]{6}$/);
    expect(r.body.data.ttl_seconds).toBe(DEFAULT_CODE_TTL);
    expect(new Date(r.body.data.expires_at).getTime()).toBe(p.clock.now() + DEFAULT_CODE_TTL * 1000);
    expect(r.body.data.install_code_hint).toBe(`${code.slice(0, 6)}…${code.slice(-2)}`);
    const dump = JSON.stringify(p.store.db.prepare("SELECT * FROM install_codes").all());
    expect(dump).not.toContain(code);
    expect(dump).toContain(p.platform.sha256Hex(code));
  });

  it("refuses without credentials (401), for a non-admin (403) and a bad role or ttl (400)", async () => {
    refused(await p.call("POST", "/api/v2/install/codes", { role: "agent" }), 401, "unauthorized");
    refused(await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: p.userKey }), 403, "forbidden");
    refused(await p.call("POST", "/api/v2/install/codes", { role: "primary" }, { auth: p.adminKey }), 400, "invalid_input");
    refused(await p.call("POST", "/api/v2/install/codes", { role: "agent", ttl_seconds: "300" }, { auth: p.adminKey }), 400, "invalid_input");
    refused(await p.call("POST", "/api/v2/install/codes", { role: "agent", ttl_seconds: 10 }, { auth: p.adminKey }), 400, "invalid_input");
    refused(await p.call("POST", "/api/v2/install/codes", { role: "agent", hostname: "x.other.org" }, { auth: p.adminKey }), 400, "outside_zone");
  });

  // Strict shape: each refusal is a 400 in the envelope naming the field, and issues no code.
  it.each([
    ["an unknown field", { role: "agent", rol: "admin" }, "rol"],
    ["role: null", { role: null }, "role"],
    ["hostname: null", { role: "agent", hostname: null }, "hostname"],
    ["ttl_seconds: null", { role: "agent", ttl_seconds: null }, "ttl_seconds"],
    ["a number as role", { role: 1 }, "role"],
    ["an array as hostname", { role: "agent", hostname: [`a.${ZONE}`] }, "hostname"],
    ["an object as ttl", { role: "agent", ttl: { seconds: 600 } }, "ttl"],
    ["ttl and ttl_seconds both", { role: "agent", ttl: 600, ttl_seconds: 600 }, "ttl"],
    ["junk fields", { role: "agent", "<script>": 1, __proto__x: true }, "<script>"],
  ])("refuses %s with 400 naming the field", async (_what, body, field) => {
    const r = await p.call("POST", "/api/v2/install/codes", body, { auth: p.adminKey });
    refused(r, 400, "invalid_input");
    expect(r.body.error.message).toContain(field);
    expect(p.store.db.prepare("SELECT COUNT(*) AS n FROM install_codes").get()).toEqual({ n: 0 });
  });

  it.each([
    ["a JSON array", "[]"],
    ["a JSON string", '"agent"'],
    ["not JSON", "role=agent"],
    ["truncated JSON", '{"role":"agent"'],
  ])("refuses %s as the body with 400", async (_what, raw) => {
    refused(await p.call("POST", "/api/v2/install/codes", undefined, { auth: p.adminKey, raw }), 400, "invalid_input");
    expect(p.store.db.prepare("SELECT COUNT(*) AS n FROM install_codes").get()).toEqual({ n: 0 });
  });

  it("an empty body and a body without role issue an agent code", async () => {
    expect((await p.call("POST", "/api/v2/install/codes", undefined, { auth: p.adminKey, raw: "" })).status).toBe(201);
    const r = await p.call("POST", "/api/v2/install/codes", { ttl: 600 }, { auth: p.adminKey });
    expect(r.status).toBe(201);
    expect(r.body.data.role).toBe("agent");
  });

  it("is rate limited per admin across addresses, hourly, then allowed again an hour later", async () => {
    const perHour = ISSUE_LIMITS.admin[0].max;
    for (let i = 0; i < perHour; i++) await p.issue({ role: "agent" }, `203.0.113.${i + 1}`);
    refused(await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: p.adminKey, peer: "203.0.113.200" }), 429, "rate_limit_exceeded");
    p.clock.advance(3601);
    expect((await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: p.adminKey, peer: "203.0.113.201" })).status).toBe(201);
  });

  it("is rate limited per admin daily too: hourly budgets do not add up past the day's", async () => {
    const perHour = ISSUE_LIMITS.admin[0].max;
    const perDay = ISSUE_LIMITS.admin[1].max;
    for (let i = 0; i < perDay; i++) {
      if (i > 0 && i % perHour === 0) p.clock.advance(3601);
      await p.issue({ role: "agent" }, `203.0.${Math.floor(i / 200)}.${(i % 200) + 1}`);
    }
    p.clock.advance(3601);
    refused(await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: p.adminKey, peer: "192.0.2.77" }), 429, "rate_limit_exceeded");
    p.clock.advance(86400);
    expect((await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: p.adminKey, peer: "192.0.2.77" })).status).toBe(201);
  });

  it("is rate limited per address across admins", async () => {
    const now = Math.floor(p.clock.now() / 1000);
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      const u = p.store.users.create({ email: `admin${i}@example.com`, role: "admin", passwordHash: null }, now);
      const k = mintToken(p.platform, "apiKey");
      p.store.db.prepare("INSERT INTO api_keys (user_id, label, token_hash, hint, created_at) VALUES (?, '', ?, ?, ?)").run(u.id, k.hash, k.hint, now);
      keys.push(k.value);
    }
    const perHour = ISSUE_LIMITS.address[0].max;
    for (let i = 0; i < perHour; i++) {
      const r = await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: keys[i % 2], peer: "198.51.100.50" });
      expect(r.status).toBe(201);
    }
    refused(await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: p.adminKey, peer: "198.51.100.50" }), 429, "rate_limit_exceeded");
    expect((await p.call("POST", "/api/v2/install/codes", { role: "agent" }, { auth: p.adminKey, peer: "198.51.100.51" })).status).toBe(201);
  });

  it("lists codes with their state and revokes one (DELETE)", async () => {
    const code = await p.issue();
    const list = await p.call("GET", "/api/v2/install/codes", undefined, { auth: p.adminKey });
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0].state).toBe("issued");
    expect(JSON.stringify(list.body)).not.toContain(code);
    const del = await p.call("DELETE", `/api/v2/install/codes/${list.body.data[0].id}`, undefined, { auth: p.adminKey });
    expect(del.body.data.state).toBe("revoked");
    refused(await p.call("DELETE", `/api/v2/install/codes/${list.body.data[0].id}`, undefined, { auth: p.adminKey }), 410, "install_code_revoked");
    refused(await p.call("DELETE", "/api/v2/install/codes/999", undefined, { auth: p.adminKey }), 404, "install_code_not_found");
  });
});

describe("the lifecycle: precheck, activate, confirm", () => {
  it("happy path: an agent gets its hostname, an update token and node credentials, and becomes active", async () => {
    const code = await p.issue();
    const pre = await p.prechecked(code.toLowerCase());
    expect(pre.status).toBe(200);
    expect(pre.body.meta.message).toBe("Install code validated");
    expect(pre.body.data).toMatchObject({
      install_code: code,
      product: "agent",
      machine_binding: { machine_id: MACHINE, ssh_fingerprint: FP },
      hostname: null,
      zones: [ZONE],
    });
    expect(pre.body.data.precheck_token).toMatch(/^ipkp_/);
    expect(new Date(pre.body.data.precheck_expires_at).getTime()).toBe(p.clock.now() + PRECHECK_TTL * 1000);

    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token));
    expect(act.status).toBe(200);
    expect(act.body.meta.message).toBe("Install token issued");
    const d = act.body.data;
    expect(d.activation_id).toMatch(/^act_[0-9a-f]{24}$/); // 96 random bits
    expect(d.install_token).toMatch(/^ipki_/);
    expect(new Date(d.install_token_expires_at).getTime()).toBe(p.clock.now() + INSTALL_TOKEN_TTL * 1000);
    expect(d.machine_binding).toEqual({ hostname: `box.${ZONE}`, public_ip: "203.0.113.9", machine_id: MACHINE, ssh_fingerprint: FP });
    expect(d.credentials.node_token).toMatch(/^ipkn_/);
    expect(d.settings).toMatchObject({ primary_url: "https://ddns.example.com", hostname: `box.${ZONE}`, zones: [ZONE] });
    // The update token really updates that hostname.
    const tok = authenticateUpdateToken(p, d.credentials.update_token);
    expect(tok.hostIds).toEqual([p.store.hosts.byName(`box.${ZONE}`)!.id]);
    expect(p.store.install.nodeByActivation(d.activation_id)!.status).toBe("pending");

    const conf = await p.call("POST", "/api/v2/install/confirm", { activation_id: d.activation_id, install_token: d.install_token });
    expect(conf.status).toBe(200);
    expect(conf.body.data).toMatchObject({ activation_id: d.activation_id, status: "confirmed", node: { status: "active", name: `box.${ZONE}` } });
    // Consumed for good.
    refused(await p.prechecked(code), 409, "install_code_consumed");
  });

  it("a code issued for a hostname refuses another one (hostname_mismatch) and accepts its own", async () => {
    const code = await p.issue({ role: "agent", hostname: `Home.${ZONE}` });
    const pre = await p.prechecked(code);
    expect(pre.body.data.hostname).toBe(`home.${ZONE}`);
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token)), 422, "hostname_mismatch");
    const ok = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { hostname: `home.${ZONE}` }));
    expect(ok.status).toBe(200);
  });

  it("an agent binds to an existing hostname of the same owner", async () => {
    const code = await p.issue();
    await through(code);
    const code2 = await p.issue({ role: "agent", hostname: `box.${ZONE}` });
    const { act } = await through(code2, OTHER_MACHINE);
    expect(p.store.hosts.list().map((h) => h.name)).toEqual([`box.${ZONE}`]);
    expect(authenticateUpdateToken(p, act.body.data.credentials.update_token).hostIds).toHaveLength(1);
  });

  it("a secondary gets a TSIG key and the zones; confirming adds it to the NS set with glue", async () => {
    const code = await p.issue({ role: "secondary" });
    const pre = await p.prechecked(code, MACHINE, "secondary");
    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { hostname: `ns2.${ZONE}` }));
    expect(act.status).toBe(200);
    const tsig = act.body.data.credentials.tsig;
    expect(tsig).toMatchObject({ name: `ns2.${ZONE}.`, algorithm: "hmac-sha256" });
    expect(atob(tsig.secret)).toHaveLength(32);
    expect(act.body.data.settings.zones).toEqual([ZONE]);
    const before = p.store.domains.byName(ZONE)!.serial;
    const conf = await p.call("POST", "/api/v2/install/confirm", { activation_id: act.body.data.activation_id, install_token: act.body.data.install_token });
    expect(conf.status).toBe(200);
    const node = p.store.install.nodeByActivation(act.body.data.activation_id)!;
    expect(node).toMatchObject({ status: "active", role: "secondary", tsigName: `ns2.${ZONE}.`, tsigSecret: tsig.secret, publicIp: "203.0.113.9" });
    const zone = p.store.domains.zoneData(p.store.domains.byName(ZONE)!.id, 0)!;
    expect(zone.nameservers).toContainEqual({ name: `ns2.${ZONE}`, ipv4: "203.0.113.9", ipv6: null });
    expect(zone.serial).toBe(before + 1);
    expect(p.changed).toContain(zone.id);
  });

  it("a secondary may transfer (TSIG, NOTIFY) from activation on, so its health check can pass; a release takes that back", async () => {
    const code = await p.issue({ role: "secondary" });
    const pre = await p.prechecked(code, MACHINE, "secondary");
    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { hostname: `ns2.${ZONE}` }));
    expect(p.store.secondaries.active().map((n) => n.tsigName)).toEqual([`ns2.${ZONE}.`]);
    // Not yet in the NS set: a failed install must not leave a lame delegation.
    expect(p.store.domains.zoneData(p.store.domains.byName(ZONE)!.id, 0)!.nameservers.map((n) => n.name)).toEqual([`ns1.${ZONE}`]);
    expect(p.store.secondaries.active()[0]!.dnsPort).toBe(53);
    await p.call("POST", "/api/v2/install/release", { activation_id: act.body.data.activation_id });
    expect(p.store.secondaries.active()).toEqual([]);
    // Another enrollment on a non-standard DNS port: NOTIFY goes there.
    const code2 = await p.issue({ role: "secondary" });
    const pre2 = await p.prechecked(code2, OTHER_MACHINE, "secondary");
    const bad = p.activateBody(code2, pre2.body.data.precheck_token, { hostname: `ns3.${ZONE}`, machine_id: OTHER_MACHINE, dns_port: "5353" });
    refused(await p.call("POST", "/api/v2/install/activate", bad), 400, "invalid_input");
    await p.call("POST", "/api/v2/install/activate", { ...bad, dns_port: 5353 });
    expect(p.store.secondaries.active().map((n) => n.dnsPort)).toEqual([5353]);
  });

  it("a secondary code refuses the agent product", async () => {
    const code = await p.issue({ role: "secondary" });
    refused(await p.prechecked(code, MACHINE, "agent"), 400, "invalid_input");
  });
});

describe("nodes: GET /api/v2/nodes, DELETE /api/v2/nodes/:id (admins)", () => {
  it("revoking a secondary drops its key and NOTIFY target and takes it out of the NS set", async () => {
    const code = await p.issue({ role: "secondary" });
    const pre = await p.prechecked(code, MACHINE, "secondary");
    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { hostname: `ns2.${ZONE}` }));
    await p.call("POST", "/api/v2/install/confirm", { activation_id: act.body.data.activation_id, install_token: act.body.data.install_token });
    const list = await p.call("GET", "/api/v2/nodes", undefined, { auth: p.adminKey });
    expect(list.body.data).toEqual([expect.objectContaining({ role: "secondary", name: `ns2.${ZONE}`, status: "active" })]);
    expect(JSON.stringify(list.body)).not.toContain(act.body.data.credentials.tsig.secret);
    const id = list.body.data[0].id;
    refused(await p.call("DELETE", `/api/v2/nodes/${id}`, undefined, { auth: p.userKey }), 403, "forbidden");
    refused(await p.call("GET", "/api/v2/nodes"), 401, "unauthorized");
    const del = await p.call("DELETE", `/api/v2/nodes/${id}`, undefined, { auth: p.adminKey });
    expect(del.status).toBe(200);
    expect(del.body.data.status).toBe("revoked");
    expect(p.store.secondaries.active()).toEqual([]);
    expect(p.store.install.nodeById(id)!.tsigSecret).toBeNull();
    expect(p.store.domains.zoneData(p.store.domains.byName(ZONE)!.id, 0)!.nameservers.map((n) => n.name)).toEqual([`ns1.${ZONE}`]);
    refused(await p.call("DELETE", `/api/v2/nodes/${id}`, undefined, { auth: p.adminKey }), 409, "conflict");
    refused(await p.call("DELETE", "/api/v2/nodes/77", undefined, { auth: p.adminKey }), 404, "not_found");
    refused(await p.call("DELETE", "/api/v2/nodes/x", undefined, { auth: p.adminKey }), 404, "not_found");
  });

  it("a node revoked while its install runs cannot be confirmed back in", async () => {
    const code = await p.issue({ role: "secondary" });
    const pre = await p.prechecked(code, MACHINE, "secondary");
    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { hostname: `ns2.${ZONE}` }));
    const id = (await p.call("GET", "/api/v2/nodes", undefined, { auth: p.adminKey })).body.data[0].id;
    expect((await p.call("DELETE", `/api/v2/nodes/${id}`, undefined, { auth: p.adminKey })).status).toBe(200);
    refused(
      await p.call("POST", "/api/v2/install/confirm", { activation_id: act.body.data.activation_id, install_token: act.body.data.install_token }),
      403,
      "node_revoked",
    );
    expect(p.store.secondaries.active()).toEqual([]);
    expect(p.store.domains.zoneData(p.store.domains.byName(ZONE)!.id, 0)!.nameservers.map((n) => n.name)).toEqual([`ns1.${ZONE}`]);
  });
});

describe("refusals", () => {
  it("an unknown or malformed code: install_code_not_found 404", async () => {
    refused(await p.prechecked("IPK-222222-222222-222222"), 404, "install_code_not_found");
    refused(await p.prechecked("nonsense"), 404, "install_code_not_found");
  });

  it("expiry: a code not prechecked within its TTL is expired for good (410)", async () => {
    const code = await p.issue();
    p.clock.advance(DEFAULT_CODE_TTL);
    refused(await p.prechecked(code), 410, "install_code_expired");
    expect(p.store.install.listCodes()[0]!.state).toBe("expired");
    p.clock.advance(-DEFAULT_CODE_TTL); // even with the clock turned back: expired is final
    refused(await p.prechecked(code), 410, "install_code_expired");
  });

  it("expiry: a precheck token older than 10 minutes no longer activates", async () => {
    const code = await p.issue();
    const pre = await p.prechecked(code);
    p.clock.advance(PRECHECK_TTL);
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token)), 410, "install_code_expired");
  });

  it("expiry: an install token past its life cannot confirm nor release", async () => {
    const { id, token } = await through(await p.issue());
    p.clock.advance(INSTALL_TOKEN_TTL);
    refused(await p.call("POST", "/api/v2/install/confirm", { activation_id: id, install_token: token }), 410, "install_token_expired");
    refused(await p.call("POST", "/api/v2/install/release", { activation_id: id }), 410, "install_token_expired");
  });

  it("wrong machine: once prechecked, another machine gets code_bound_elsewhere on precheck and activate", async () => {
    const code = await p.issue();
    const pre = await p.prechecked(code);
    refused(await p.prechecked(code, OTHER_MACHINE), 409, "code_bound_elsewhere");
    refused(
      await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { machine_id: OTHER_MACHINE })),
      409,
      "code_bound_elsewhere",
    );
    // Same machine id, different host key: also another machine.
    const r = await p.call("POST", "/api/v2/install/precheck", {
      install_code: code,
      machine_id: MACHINE,
      ssh_fingerprint: `SHA256:${"B".repeat(43)}`,
      product: "agent",
    });
    refused(r, 409, "code_bound_elsewhere");
  });

  it("replayed precheck token: single use, and superseded by a newer precheck", async () => {
    const code = await p.issue();
    const first = await p.prechecked(code);
    const second = await p.prechecked(code);
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, first.body.data.precheck_token)), 401, "precheck_token_invalid");
    expect((await p.call("POST", "/api/v2/install/activate", p.activateBody(code, second.body.data.precheck_token))).status).toBe(200);
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, second.body.data.precheck_token)), 401, "precheck_token_invalid");
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, "ipkp_forged")), 401, "precheck_token_invalid");
  });

  it("replayed install token: confirm twice answers install_token_used; a wrong token install_token_invalid", async () => {
    const { id, token } = await through(await p.issue());
    refused(
      await p.call("POST", "/api/v2/install/confirm", { activation_id: id, install_token: mintToken(p.platform, "install").value }),
      401,
      "install_token_invalid",
    );
    expect((await p.call("POST", "/api/v2/install/confirm", { activation_id: id, install_token: token })).status).toBe(200);
    refused(await p.call("POST", "/api/v2/install/confirm", { activation_id: id, install_token: token }), 409, "install_token_used");
  });

  it("release restores the code to issued (still bound to the machine); confirm after release is refused", async () => {
    const code = await p.issue();
    const { id, token } = await through(code);
    const rel = await p.call("POST", "/api/v2/install/release", { activation_id: id });
    expect(rel.body).toEqual({ data: { activation_id: id, status: "released", install_code_restored: true }, meta: { message: "Activation released" } });
    refused(await p.call("POST", "/api/v2/install/confirm", { activation_id: id, install_token: token }), 409, "activation_released");
    refused(await p.call("POST", "/api/v2/install/release", { activation_id: id }), 409, "activation_released");
    expect(p.store.install.listCodes()[0]!.state).toBe("issued");
    expect(p.store.install.nodeByActivation(id)!.status).toBe("revoked");
    refused(await p.prechecked(code, OTHER_MACHINE), 409, "code_bound_elsewhere");
    // The operator retries on the same machine: works, even past the code's first TTL.
    p.clock.advance(DEFAULT_CODE_TTL - 1);
    const again = await through(code);
    expect((await p.call("POST", "/api/v2/install/confirm", { activation_id: again.id, install_token: again.token })).status).toBe(200);
  });

  it("release after confirm: activation_confirmed 409", async () => {
    const { id, token } = await through(await p.issue());
    await p.call("POST", "/api/v2/install/confirm", { activation_id: id, install_token: token });
    refused(await p.call("POST", "/api/v2/install/release", { activation_id: id }), 409, "activation_confirmed");
  });

  it("unknown activation: activation_not_found 404", async () => {
    refused(await p.call("POST", "/api/v2/install/release", { activation_id: "act_000000000000000000000000" }), 404, "activation_not_found");
    refused(await p.call("POST", "/api/v2/install/confirm", { activation_id: "../etc", install_token: "x" }), 404, "activation_not_found");
  });

  it("an activated code cannot be prechecked again until confirmed or released", async () => {
    const code = await p.issue();
    await through(code);
    refused(await p.prechecked(code), 409, "install_code_in_use");
  });

  it("revoked code: refused at precheck, and an open activation can no longer confirm", async () => {
    const code = await p.issue();
    const { id, token } = await through(code);
    const row = p.store.install.listCodes()[0]!;
    await p.call("DELETE", `/api/v2/install/codes/${row.id}`, undefined, { auth: p.adminKey });
    refused(await p.call("POST", "/api/v2/install/confirm", { activation_id: id, install_token: token }), 410, "install_code_revoked");
    refused(await p.prechecked(code), 410, "install_code_revoked");
    expect(p.store.install.nodeByActivation(id)!.status).toBe("revoked");
  });

  it("activation is rate limited per machine: 5 per 24 h", async () => {
    const code = await p.issue();
    for (let i = 0; i < ACTIVATE_LIMITS.machine[0].max; i++) {
      const { id } = await through(code);
      await p.call("POST", "/api/v2/install/release", { activation_id: id });
    }
    const pre = await p.prechecked(code);
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token)), 429, "rate_limit_exceeded");
    p.clock.advance(86400); // a day later the machine may activate again (a new code: this one expired meanwhile)
    refused(await p.prechecked(code), 410, "install_code_expired");
    await through(await p.issue());
  });

  it("activation is rate limited per address: 5 per 24 h, failed attempts included", async () => {
    for (let i = 0; i < ACTIVATE_LIMITS.address[0].max; i++) {
      const m = `${String(i).repeat(8)}abcdef0123456789abcdef01`;
      refused(
        await p.call("POST", "/api/v2/install/activate", p.activateBody("IPK-222222-222222-222222", "ipkp_x", { machine_id: m })),
        404,
        "install_code_not_found",
      );
    }
    refused(
      await p.call("POST", "/api/v2/install/activate", p.activateBody("IPK-222222-222222-222222", "ipkp_x", { machine_id: OTHER_MACHINE })),
      429,
      "rate_limit_exceeded",
    );
  });

  it("an unknown architecture: unsupported_arch 404 on activate and on download", async () => {
    const code = await p.issue();
    const pre = await p.prechecked(code);
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { arch: "mips" })), 404, "unsupported_arch");
    refused(await p.call("GET", "/download/ipkeep?arch=mips"), 404, "unsupported_arch");
    refused(await p.call("GET", "/download/ipkeep"), 404, "unsupported_arch");
  });
});

describe("bad input", () => {
  const paths = ["/api/v2/install/precheck", "/api/v2/install/activate", "/api/v2/install/confirm", "/api/v2/install/release"];

  it("garbage JSON and a non-object body are invalid_input 400, an oversize body too_large 413, on every route", async () => {
    for (const path of paths) {
      refused(await p.call("POST", path, undefined, { raw: "{not json" }), 400, "invalid_input");
      refused(await p.call("POST", path, undefined, { raw: "[1,2]" }), 400, "invalid_input");
      // One body reader for every route (api/http.ts), its limit from the route table.
      refused(await p.call("POST", path, undefined, { raw: JSON.stringify({ pad: "x".repeat(20_000) }) }), 413, "too_large");
    }
    refused(await p.call("POST", "/api/v2/install/codes", undefined, { raw: "{", auth: p.adminKey }), 400, "invalid_input");
  });

  it("wrong types are refused with invalid_input, never a 500", async () => {
    const code = await p.issue();
    refused(await p.call("POST", "/api/v2/install/precheck", { install_code: code, machine_id: 12345678, product: "agent" }), 400, "invalid_input");
    refused(
      await p.call("POST", "/api/v2/install/precheck", { install_code: code, machine_id: MACHINE, ssh_fingerprint: "md5:zz", product: "agent" }),
      400,
      "invalid_input",
    );
    refused(await p.call("POST", "/api/v2/install/precheck", { install_code: code, machine_id: MACHINE, product: ["agent"] }), 400, "invalid_input");
    refused(await p.call("POST", "/api/v2/install/precheck", { install_code: ["x"], machine_id: MACHINE, product: "agent" }), 404, "install_code_not_found");
    const pre = await p.prechecked(code);
    const tok = pre.body.data.precheck_token;
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, tok, { public_ip: "999.1.1.1" })), 400, "invalid_address");
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, tok, { public_ip: 1 })), 400, "invalid_input");
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, tok, { hostname: 7 })), 400, "invalid_input");
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, tok, { hostname: "bad_name!.dyn.example.com" })), 400, "invalid_hostname");
    refused(await p.call("POST", "/api/v2/install/activate", p.activateBody(code, tok, { hostname: "box.elsewhere.org" })), 400, "outside_zone");
    refused(await p.call("POST", "/api/v2/install/confirm", { activation_id: 5, install_token: {} }), 404, "activation_not_found");
    // The refused attempts did not spend the precheck token.
    expect((await p.call("POST", "/api/v2/install/activate", p.activateBody(code, tok))).status).toBe(200);
  });
});

describe("agent routes (register, checkin, status, revoke)", () => {
  it("work with the node's credentials and answer in the envelope", async () => {
    const code = await p.issue();
    const { act } = await through(code);
    const nodeToken = act.body.data.credentials.node_token;
    const reg = await p.call("POST", "/register", { version: "0.1.0" }, { auth: nodeToken });
    expect(reg.status).toBe(200);
    expect(reg.body.data).toMatchObject({ node: { role: "agent", name: `box.${ZONE}`, status: "pending", version: "0.1.0" }, zones: [ZONE] });
    p.clock.advance(10);
    const ci = await p.call("POST", "/checkin", { ipv4: "203.0.113.10" }, { auth: nodeToken });
    expect(ci.body.data).toMatchObject({
      node: { public_ip: "203.0.113.10", last_checkin_at: new Date(p.clock.now()).toISOString() },
      next_checkin_seconds: 300,
    });
    const st = await p.call("GET", "/status", undefined, { auth: nodeToken });
    expect(st.body.data).toMatchObject({ checked_in: true, hostname: { name: `box.${ZONE}` } });
    refused(await p.call("POST", "/checkin", { ipv4: "::1" }, { auth: nodeToken }), 400, "invalid_address");
    refused(await p.call("POST", "/checkin", undefined, { raw: "nope", auth: nodeToken }), 400, "invalid_input");
    const rev = await p.call("POST", "/revoke", {}, { auth: nodeToken });
    expect(rev.body.data.node.status).toBe("revoked");
    refused(await p.call("GET", "/status", undefined, { auth: nodeToken }), 403, "node_revoked");
    // Its update token went with it.
    expect(() => authenticateUpdateToken(p, act.body.data.credentials.update_token)).toThrow();
  });

  it("refuse missing or wrong credentials with 401", async () => {
    refused(await p.call("GET", "/status"), 401, "unauthorized");
    refused(await p.call("POST", "/checkin", {}, { auth: mintToken(p.platform, "node").value }), 401, "unauthorized");
    refused(await p.call("POST", "/register", {}, { auth: p.adminKey }), 401, "unauthorized");
  });
});

describe("what a node is told about zones: its role's needs, never other users' domains", () => {
  const ADMIN_OWN = "admin-own.example";
  const USER_OWN = "user-own.example";
  const custom = (name: string, email: string) =>
    p.store.domains.create(
      {
        name,
        kind: "custom",
        ownerId: p.store.users.byEmail(email)!.id,
        verified: true,
        serial: 1,
        soaMname: `ns1.${ZONE}`,
        soaRname: `hostmaster.${ZONE}`,
        nameservers: [{ name: `ns1.${ZONE}`, ipv4: null, ipv6: null }],
      },
      0,
    );
  beforeEach(() => {
    custom(ADMIN_OWN, "admin@example.com");
    custom(USER_OWN, "user@example.com");
  });

  it("an agent: precheck offers the shared zones and its owner's own, then only its hostname's zone", async () => {
    const code = await p.issue();
    const pre = await p.prechecked(code);
    expect(pre.body.data.zones).toEqual([ZONE, ADMIN_OWN]);
    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token));
    expect(act.status, JSON.stringify(act.body)).toBe(200);
    expect(act.body.data.settings.zones).toEqual([ZONE]);
    const nodeToken = act.body.data.credentials.node_token;
    const reg = await p.call("POST", "/register", { version: "0.1.0" }, { auth: nodeToken });
    expect(reg.body.data.zones).toEqual([ZONE]);
    const st = await p.call("GET", "/status", undefined, { auth: nodeToken });
    expect(st.body.data.zones).toEqual([ZONE]);
    expect(JSON.stringify([pre.body, act.body, reg.body, st.body])).not.toContain(USER_OWN);
  });

  it("an agent in its owner's own domain is told that domain only", async () => {
    const code = await p.issue();
    const pre = await p.prechecked(code);
    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { hostname: `nas.${ADMIN_OWN}` }));
    expect(act.status, JSON.stringify(act.body)).toBe(200);
    expect(act.body.data.settings.zones).toEqual([ADMIN_OWN]);
  });

  it("an agent cannot take a hostname in another user's domain", async () => {
    const code = await p.issue();
    const pre = await p.prechecked(code);
    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { hostname: `nas.${USER_OWN}` }));
    expect(act.status).toBeGreaterThanOrEqual(400);
    expect(p.store.hosts.byName(`nas.${USER_OWN}`)).toBeNull();
  });

  it("a secondary is told every zone it will serve (it joins every NS set)", async () => {
    const code = await p.issue({ role: "secondary" });
    const pre = await p.prechecked(code, MACHINE, "secondary");
    expect(pre.body.data.zones.sort()).toEqual([ZONE, ADMIN_OWN, USER_OWN].sort());
    const act = await p.call("POST", "/api/v2/install/activate", p.activateBody(code, pre.body.data.precheck_token, { hostname: `ns2.${ZONE}` }));
    expect(act.status, JSON.stringify(act.body)).toBe(200);
    expect(act.body.data.settings.zones.sort()).toEqual([ZONE, ADMIN_OWN, USER_OWN].sort());
  });
});
