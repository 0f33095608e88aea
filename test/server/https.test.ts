/**
 * The real listeners on 127.0.0.1: HTTPS with a self-signed certificate made here, the
 * certificate swapped on reload while the port keeps answering, and /metrics counting real
 * DNS queries, updates and HTTP responses.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { createHost } from "../../src/core/hosts";
import { createZone } from "../../src/core/zones";
import { setLogSink } from "../../src/log";
import { resetMetrics } from "../../src/metrics";
import { type RunningServer, startServer } from "../../src/server";
import { digStatus } from "../helpers/dig-async";
import { TestClock, testPlatform } from "../helpers/platform";
import { parseProm, value } from "../helpers/prom";
import { selfSigned } from "../helpers/tls";

let dir: string;
let server: RunningServer;
let certA: { cert: string; key: string };
let certB: { cert: string; key: string };
let token: string;
const ZONE = "dyn.example.com";

function peerCN(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const cn = String(s.getPeerCertificate().subject?.CN ?? "");
      s.end();
      resolve(cn);
    });
    s.on("error", reject);
  });
}

const httpsGet = (path: string, ca: string) =>
  fetch(`https://127.0.0.1:${server.https[0]!.port}${path}`, { tls: { ca: readFileSync(ca, "utf8") } } as RequestInit);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ipkeep-https-"));
  const tls = mkdtempSync(join(tmpdir(), "ipkeep-tls-"));
  certA = selfSigned(tls, "first");
  certB = selfSigned(tls, "second");
  const config = resolveConfig(
    { data: dir, http: ["127.0.0.1:0"], https: ["127.0.0.1:0"], dns: ["127.0.0.1:0"], tlsCert: join(tls, "cert.pem"), tlsKey: join(tls, "key.pem") },
    {},
    () => false,
  );
  // The configured paths are fixed; what they hold changes (as with certbot's renewals).
  const { copyFileSync } = await import("node:fs");
  copyFileSync(certA.cert, config.tlsCert!);
  copyFileSync(certA.key, config.tlsKey!);
  resetMetrics();
  setLogSink(() => {});
  server = await startServer(config);
  const platform = testPlatform(new TestClock());
  const deps = { store: server.store, platform, changes: server.live };
  createZone(deps, { name: ZONE, nameservers: [{ name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null }] });
  const user = server.store.users.create({ email: "me@example.com", role: "user", passwordHash: null }, 1);
  token = createHost(deps, { name: `home.${ZONE}`, ownerId: user.id }).value;
  (globalThis as { __tlsPaths?: unknown }).__tlsPaths = { dir: tls, cert: config.tlsCert, key: config.tlsKey };
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
  const t = (globalThis as { __tlsPaths?: { dir: string } }).__tlsPaths;
  if (t) rmSync(t.dir, { recursive: true, force: true });
});

describe("HTTPS listener", () => {
  it("serves the app over TLS with the configured certificate", async () => {
    expect(await peerCN(server.https[0]!.port)).toBe("first");
    const res = await httpsGet("/api/v2/healthz", certA.cert);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { status: string } }).data.status).toBe("ok");
  });

  it("lets the account API through over HTTPS", async () => {
    const res = await httpsGet("/api/tokens", certA.cert);
    expect(res.status).not.toBe(403);
  });

  it("picks up a renewed certificate on reload without closing the port", async () => {
    const t = (globalThis as { __tlsPaths?: { cert: string; key: string } }).__tlsPaths!;
    const { copyFileSync } = await import("node:fs");
    copyFileSync(certB.cert, t.cert);
    copyFileSync(certB.key, t.key);
    server.reloadTls();
    expect(await peerCN(server.https[0]!.port)).toBe("second");
    expect((await httpsGet("/api/v2/healthz", certB.cert)).status).toBe(200);
  });

  it("keeps the old certificate when the new one does not load", async () => {
    const t = (globalThis as { __tlsPaths?: { cert: string; key: string } }).__tlsPaths!;
    const { writeFileSync } = await import("node:fs");
    writeFileSync(t.key, "not a key\n");
    server.reloadTls();
    expect(await peerCN(server.https[0]!.port)).toBe("second");
  });
});

describe("plain HTTP on loopback", () => {
  it("reaches the account API (this machine is trusted)", async () => {
    const res = await fetch(`http://127.0.0.1:${server.http[0]!.port}/api/tokens`);
    expect(res.status).not.toBe(403);
  });
});

describe("GET /metrics", () => {
  it("counts DNS answers by rcode and type, updates by result, HTTP statuses, and shows zone serials", async () => {
    const base = `http://127.0.0.1:${server.http[0]!.port}`;
    const before = parseProm(await (await fetch(`${base}/metrics`)).text()).samples;
    expect((await digStatus(server.dns[0]!.port, `ns1.${ZONE}`, "A")).status).toBe("NOERROR");
    expect((await digStatus(server.dns[0]!.port, `nope.${ZONE}`, "AAAA")).status).toBe("NXDOMAIN");
    expect((await digStatus(server.dns[0]!.port, "example.org", "A")).status).toBe("REFUSED");
    expect((await digStatus(server.dns[0]!.port, `ns1.${ZONE}`, "NAPTR")).status).toBe("NOERROR");
    const good = await fetch(`${base}/nic/update?hostname=home.${ZONE}&myip=198.51.100.4&token=${token}`);
    expect(await good.text()).toBe("good 198.51.100.4");
    const nochg = await fetch(`${base}/nic/update?hostname=home.${ZONE}&myip=198.51.100.4&token=${token}`);
    expect(await nochg.text()).toBe("nochg 198.51.100.4");
    await fetch(`${base}/nic/update?hostname=home.${ZONE}&myip=198.51.100.4&token=ipk_wrong`);

    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const { samples, types } = parseProm(await res.text());
    const delta = (name: string, labels: Record<string, string>) => (value(samples, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
    expect(delta("ipkeep_dns_responses_total", { rcode: "NOERROR", type: "A" })).toBe(1);
    expect(delta("ipkeep_dns_responses_total", { rcode: "NXDOMAIN", type: "AAAA" })).toBe(1);
    expect(delta("ipkeep_dns_responses_total", { rcode: "REFUSED", type: "A" })).toBe(1);
    expect(delta("ipkeep_dns_responses_total", { rcode: "NOERROR", type: "other" })).toBe(1);
    expect(delta("ipkeep_updates_total", { result: "good" })).toBe(1);
    expect(delta("ipkeep_updates_total", { result: "nochg" })).toBe(1);
    expect(delta("ipkeep_http_responses_total", { status: "401" })).toBe(1);
    expect(delta("ipkeep_http_responses_total", { status: "200" })).toBeGreaterThanOrEqual(3);
    expect(types.get("ipkeep_zone_serial")).toBe("gauge");
    expect(value(samples, "ipkeep_zone_serial", { zone: ZONE })).toBe(server.live.zones.find(ZONE)!.serial);
    expect(value(samples, "ipkeep_nodes", { role: "secondary", status: "active" })).toBe(0);
    // Nothing secret: the token never appears.
    expect(JSON.stringify(samples)).not.toContain(token);
  });

  it("lists enrolled nodes and their last check-in", async () => {
    server.store.db
      .prepare("INSERT INTO nodes (role, name, machine_id, credential_hash, status, created_at, last_checkin_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run("agent", 'home"pc', "m1", "h1", "active", 1, 1700000000);
    const { samples } = parseProm(await (await fetch(`http://127.0.0.1:${server.http[0]!.port}/metrics`)).text());
    expect(value(samples, "ipkeep_nodes", { role: "agent", status: "active" })).toBe(1);
    expect(value(samples, "ipkeep_node_last_checkin_timestamp_seconds", { role: "agent", node: 'home"pc' })).toBe(1700000000);
  });
});
