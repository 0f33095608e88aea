/**
 * The plain-HTTP rule as the app applies it, with the peer address injected the way the
 * listener records it (rememberPeer): each API refuses in its own envelope.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app";
import { createHttpContext } from "../../src/api/context";
import { buildTransportPolicy, parseCidrList } from "../../src/core/transport-policy";
import { Store } from "../../src/store";
import { TestClock, testPlatform } from "../helpers/platform";

let dir: string;
let store: Store;
const platform = testPlatform(new TestClock());
const app = (policy = { trustedProxies: ["10.0.0.0/8"], allowInsecureHttp: false }) =>
  withFacts(createApp(createHttpContext({ store, platform, changes: { zoneChanged() {} }, publicUrl: null, transportPolicy: buildTransportPolicy(policy) })));

// The listener's facts travel beside the request (peer, listener).
const facts = new WeakMap<Request, { peer: string; transport?: "http" | "https" }>();
const withFacts = (a: ReturnType<typeof createApp>) => ({ handle: (r: Request) => a.handle(r, facts.get(r)) });

function req(path: string, opts: { peer?: string; transport?: "http" | "https"; headers?: Record<string, string>; method?: string } = {}) {
  const r = new Request(`http://localhost${path}`, { method: opts.method ?? "GET", headers: opts.headers });
  facts.set(r, { peer: opts.peer ?? "203.0.113.7", transport: opts.transport });
  return r;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ipkeep-guard-"));
  store = await Store.open(join(dir, "ipkeep.db"));
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("plain HTTP from another machine", () => {
  it("GET /api/auth/me answers 403 https_required in the account API's envelope", async () => {
    const res = await app().handle(req("/api/auth/me"));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: expect.stringContaining("HTTPS"), code: "https_required" });
  });

  it.each(["/api/users", "/api/keys", "/api/settings", "/api/hostnames", "/api/domains/1/records", "/api/tokens", "/API/TOKENS"])(
    "GET %s is refused",
    async (path) => {
      const res = await app().handle(req(path));
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe("https_required");
    },
  );

  it.each([
    ["GET", "/api/v2/nodes"],
    ["DELETE", "/api/v2/nodes/1"],
  ])("%s %s (the nodes API) is refused in the v2 envelope", async (method, path) => {
    const res = await app().handle(req(path, { method }));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: "https_required", message: expect.stringContaining("HTTPS") } });
  });

  it("POST /api/v2/install/precheck answers in IPTunnel's envelope", async () => {
    const res = await app().handle(req("/api/v2/install/precheck", { method: "POST", headers: { "content-type": "application/json" } }));
    expect(res.status).toBe(403);
    const body = await res.json();
    expect(body).toEqual({ error: { code: "https_required", message: expect.stringContaining("HTTPS") } });
  });

  it("GET /install.sh is refused with a plain-text reason", async () => {
    const res = await app().handle(req("/install.sh"));
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(await res.text()).toContain("HTTPS");
  });

  it("the update path keeps working for routers (GET /nic/update without credentials is badauth, not 403)", async () => {
    const res = await app().handle(req("/nic/update?hostname=home.example.com"));
    expect(res.status).toBe(401);
    expect(await res.text()).toBe("badauth");
  });

  it("health is not an account API", async () => {
    expect((await app().handle(req("/api/v2/healthz"))).status).toBe(200);
  });
});

describe("requests that count as secure", () => {
  it("through our HTTPS listener", async () => {
    const res = await app().handle(req("/api/tokens", { transport: "https" }));
    expect(res.status).not.toBe(403);
  });

  it("from a trusted proxy that terminated TLS", async () => {
    const res = await app().handle(req("/api/tokens", { peer: "10.9.8.7", headers: { "x-forwarded-proto": "https" } }));
    expect(res.status).not.toBe(403);
  });

  it("not X-Forwarded-Proto from an untrusted address", async () => {
    const res = await app().handle(req("/api/tokens", { peer: "203.0.113.9", headers: { "x-forwarded-proto": "https" } }));
    expect(res.status).toBe(403);
  });

  it("from loopback", async () => {
    const res = await app().handle(req("/api/tokens", { peer: "127.0.0.1" }));
    expect(res.status).not.toBe(403);
  });

  it("anything with --allow-insecure-http", async () => {
    const res = await app({ trustedProxies: [], allowInsecureHttp: true }).handle(req("/api/v2/install/precheck", { method: "POST" }));
    expect(res.status).not.toBe(403);
  });
});

describe("GET /metrics", () => {
  const withAllow = (cidrs: string[]) =>
    withFacts(
      createApp(createHttpContext({ store, platform, changes: { zoneChanged() {} }, publicUrl: null, metricsAllow: parseCidrList(cidrs, "--metrics-allow") })),
    );

  it("is refused to other machines by default (it names zones and enrolled machines)", async () => {
    const res = await withAllow([]).handle(req("/metrics"));
    expect(res.status).toBe(403);
  });

  it("is served to loopback and to --metrics-allow ranges, over plain HTTP too", async () => {
    expect((await withAllow([]).handle(req("/metrics", { peer: "127.0.0.1" }))).status).toBe(200);
    expect((await withAllow(["10.0.0.0/8"]).handle(req("/metrics", { peer: "10.1.1.1" }))).status).toBe(200);
    expect((await withAllow(["10.0.0.0/8"]).handle(req("/metrics", { peer: "::ffff:10.1.1.1" }))).status).toBe(200);
    expect((await withAllow(["10.0.0.0/8"]).handle(req("/metrics", { peer: "11.1.1.1" }))).status).toBe(403);
  });

  it("rejects a --metrics-allow that is not a CIDR", () => {
    expect(() => parseCidrList(["everyone"], "--metrics-allow")).toThrow(/--metrics-allow/);
  });
});
