/**
 * Enrolled machines on the compiled executable: a secondary and an agent enrolled through the
 * install API, listed by `ipkeep node list` and GET /api/v2/nodes, then revoked (CLI and
 * DELETE /api/v2/nodes/ID): the secondary's TSIG key no longer transfers and it leaves the NS
 * set; the agent's update token answers badauth and its node token is refused.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, EXE, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
const FP = `SHA256:${"A".repeat(43)}`;
let data: string;
let server: ServerProcess;
let adminKey: string;
let userKey: string;
const secondary = { id: 0, tsig: { name: "", secret: "" } };
const agent = { id: 0, updateToken: "", nodeToken: "" };

const cli = (args: string[], input?: string) => {
  const r = spawnSync(EXE, ["--data", data, ...args], { encoding: "utf8", input, timeout: 20_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
};

async function api(method: string, path: string, body?: unknown, key?: string) {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** issue (CLI) -> precheck -> activate -> confirm, as install.sh does it. */
async function enroll(role: "secondary" | "agent", hostname: string, machine: string, publicIp: string) {
  const issued = cli(["code", "issue", "--role", role, "--hostname", hostname, ...(role === "agent" ? ["--owner", "admin@example.com"] : []), "--json"]);
  expect(issued.code, issued.stderr).toBe(0);
  const code = JSON.parse(issued.stdout).installCode;
  const pre = await api("POST", "/api/v2/install/precheck", { install_code: code, machine_id: machine, ssh_fingerprint: FP, product: role });
  expect(pre.status, JSON.stringify(pre.body)).toBe(200);
  const act = await api("POST", "/api/v2/install/activate", {
    install_code: code,
    precheck_token: pre.body.data.precheck_token,
    hostname,
    public_ip: publicIp,
    machine_id: machine,
    ssh_fingerprint: FP,
  });
  expect(act.status, JSON.stringify(act.body)).toBe(200);
  const conf = await api("POST", "/api/v2/install/confirm", { activation_id: act.body.data.activation_id, install_token: act.body.data.install_token });
  expect(conf.status, JSON.stringify(conf.body)).toBe(200);
  return { id: conf.body.data.node.id as number, credentials: act.body.data.credentials };
}

const axfr = (key: { name: string; secret: string }) =>
  spawnSync("dig", ["@127.0.0.1", "-p", String(server.dnsPort), "-y", `hmac-sha256:${key.name}:${key.secret}`, ZONE, "AXFR", "+time=3", "+tries=1"], {
    encoding: "utf8",
  }).stdout;
const soaLine = new RegExp(`^${ZONE.replace(/\./g, "\\.")}\\.\\s+\\d+\\s+IN\\s+SOA`, "m");

async function eventually<T>(fn: () => T, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    v = fn();
  }
  return v;
}

beforeAll(async () => {
  data = tempDir("ipkeep-e2e-nodes-");
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  expect(cli(["user", "add", "admin@example.com", "--admin"], "a long passphrase\n").code).toBe(0);
  expect(cli(["user", "add", "user@example.com"], "a long passphrase\n").code).toBe(0);
  adminKey = JSON.parse(cli(["key", "create", "--user", "admin@example.com", "--json"]).stdout).key;
  userKey = JSON.parse(cli(["key", "create", "--user", "user@example.com", "--json"]).stdout).key;
  server = await startServe(data);
  const s = await enroll("secondary", `ns2.${ZONE}`, "0123456789abcdef0123456789abcdef", "127.0.0.1");
  secondary.id = s.id;
  secondary.tsig = s.credentials.tsig;
  const a = await enroll("agent", `box.${ZONE}`, "fedcba9876543210fedcba9876543210", "203.0.113.9");
  agent.id = a.id;
  agent.updateToken = a.credentials.update_token;
  agent.nodeToken = a.credentials.node_token;
});
afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("node list", () => {
  it("lists both machines, active, without any credential (CLI and GET /api/v2/nodes)", async () => {
    const r = cli(["node", "list", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows).toEqual([
      expect.objectContaining({ id: secondary.id, role: "secondary", name: `ns2.${ZONE}`, status: "active", public_ip: "127.0.0.1", dns_port: 53 }),
      expect.objectContaining({ id: agent.id, role: "agent", name: `box.${ZONE}`, status: "active", public_ip: "203.0.113.9", dns_port: null }),
    ]);
    const text = cli(["node", "list"]).stdout;
    expect(text).toMatch(/^ID\s+ROLE\s+NAME\s+STATUS/);
    for (const secret of [secondary.tsig.secret, agent.updateToken, agent.nodeToken]) {
      expect(r.stdout).not.toContain(secret);
      expect(text).not.toContain(secret);
    }
    const viaApi = await api("GET", "/api/v2/nodes", undefined, adminKey);
    expect(viaApi.status).toBe(200);
    expect(viaApi.body).toEqual({ data: rows, meta: { message: "Nodes" } });
  });

  it("the nodes API is for admins: 401 without a credential, 403 for a user, in the v2 envelope", async () => {
    const none = await api("GET", "/api/v2/nodes");
    expect(none.status).toBe(401);
    expect(Object.keys(none.body)).toEqual(["error"]);
    const user = await api("GET", "/api/v2/nodes", undefined, userKey);
    expect(user.status).toBe(403);
    expect(user.body.error.code).toBe("forbidden");
    expect((await api("DELETE", `/api/v2/nodes/${agent.id}`, undefined, userKey)).status).toBe(403);
  });
});

describe("node revoke", () => {
  it("a revoked secondary's TSIG key no longer transfers, and it leaves the NS set", async () => {
    expect(axfr(secondary.tsig)).toMatch(soaLine);
    expect(
      await eventually(
        () => digShort(server.dnsPort, ZONE, "NS"),
        (ns) => ns.includes(`ns2.${ZONE}.`),
      ),
    ).toContain(`ns2.${ZONE}.`);

    const r = cli(["node", "revoke", String(secondary.id)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Revoked secondary ns2.${ZONE}`);
    const out = axfr(secondary.tsig);
    expect(out).not.toMatch(soaLine);
    expect(out).toMatch(/NOTAUTH|BADKEY|failed/i);
    expect(
      await eventually(
        () => digShort(server.dnsPort, ZONE, "NS"),
        (ns) => !ns.includes(`ns2.${ZONE}.`),
      ),
    ).toEqual([`ns1.${ZONE}.`]);
    // Again: already revoked (exit 5); an unknown id: not found (exit 4).
    expect(cli(["node", "revoke", String(secondary.id)]).code).toBe(5);
    expect(cli(["node", "revoke", "999"]).code).toBe(4);
    expect(cli(["node", "revoke", "abc"]).code).toBe(4);
  });

  it("DELETE /api/v2/nodes/ID revokes an agent: its update token is badauth, its node token refused", async () => {
    const basic = `Basic ${Buffer.from(`t:${agent.updateToken}`).toString("base64")}`;
    const up = await fetch(`${server.base}/nic/update?hostname=box.${ZONE}&myip=198.51.100.20`, { headers: { authorization: basic } });
    expect(await up.text()).toBe("good 198.51.100.20");

    const del = await api("DELETE", `/api/v2/nodes/${agent.id}`, undefined, adminKey);
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    expect(del.body).toEqual({
      data: expect.objectContaining({ id: agent.id, status: "revoked", revoked_at: expect.any(String) }),
      meta: { message: "Node revoked" },
    });

    const after = await fetch(`${server.base}/nic/update?hostname=box.${ZONE}&myip=198.51.100.21`, { headers: { authorization: basic } });
    expect(await after.text()).toBe("badauth");
    const status = await api("GET", "/status", undefined, agent.nodeToken);
    expect(status.status).toBe(403);
    expect(status.body.error.code).toBe("node_revoked");
    expect((await api("DELETE", `/api/v2/nodes/${agent.id}`, undefined, adminKey)).body.error.code).toBe("conflict");
    expect((await api("DELETE", "/api/v2/nodes/999", undefined, adminKey)).status).toBe(404);
    expect(JSON.parse(cli(["node", "list", "--json"]).stdout).map((n: { status: string }) => n.status)).toEqual(["revoked", "revoked"]);
  });
});
