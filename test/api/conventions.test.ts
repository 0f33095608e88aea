/**
 * Conventions of the whole JSON API: error shape, bad input per route, body size, rate
 * limits with their headers, OpenAPI.
 */
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/core/auth";
import { issueSetupCode } from "../../src/core/setup";
import { classifyPath, ROUTES, routeKey } from "../../src/api/routes";
import { type ApiHarness, apiHarness } from "../helpers/api";

let h: ApiHarness;
afterEach(() => h?.close());

const UNAUTHENTICATED_BODIES: [string, Record<string, unknown>][] = [
  ["/api/auth/setup", { code: "ipko_x", email: "a@example.test", password: "a long password" }],
  ["/api/auth/login", { email: "a@example.test", password: "a long password" }],
  ["/api/auth/login/2fa", { ticket: "ipko_x", pin: "123456" }],
  ["/api/auth/register", { email: "a@example.test", password: "a long password" }],
  ["/api/auth/accept-invite", { token: "ipko_x", password: "a long password" }],
  ["/api/auth/password-reset", { email: "a@example.test" }],
  ["/api/auth/password-reset/confirm", { token: "ipko_x", password: "a long password" }],
  ["/api/auth/confirm-email", { token: "ipko_x" }],
];

describe("bad input answers 400 {error, code: invalid_input}", () => {
  it.each(UNAUTHENTICATED_BODIES)("POST %s: garbage JSON, missing fields, wrong types, unknown fields, empty body", async (path, good) => {
    h = await apiHarness();
    const cases: unknown[] = [
      "{not json",
      "[]",
      "null",
      "42",
      {},
      ...Object.keys(good).map((k) => Object.fromEntries(Object.entries(good).filter(([kk]) => kk !== k))),
      ...Object.keys(good).map((k) => ({ ...good, [k]: 12345 })),
      ...Object.keys(good).map((k) => ({ ...good, [k]: null })),
      ...Object.keys(good).map((k) => ({ ...good, [k]: "x".repeat(2000) })),
      { ...good, extra: true },
    ];
    for (const body of cases) {
      const r = await h.call("POST", path, { body });
      expect([400, 413], `${path} ${JSON.stringify(body).slice(0, 80)} -> ${r.status} ${r.text}`).toContain(r.status);
      expect(r.body).toEqual({ error: expect.any(String), code: expect.stringMatching(/^(invalid_input|too_large)$/) });
    }
    const empty = await h.call("POST", path, { body: "", headers: { "content-type": "application/json" } });
    expect(empty.status).toBe(400);
  });

  it("authenticated routes validate too (PATCH /api/auth/me, POST /api/keys, PATCH /api/users/:id, PATCH /api/settings)", async () => {
    h = await apiHarness();
    const admin = await h.user("admin@example.test", { role: "admin" });
    const cases: [string, string, unknown][] = [
      ["PATCH", "/api/auth/me", { email: 5 }],
      ["PATCH", "/api/auth/me", { email: "not an address", currentPassword: "x" }],
      ["PATCH", "/api/auth/me", "{"],
      ["POST", "/api/keys", { label: 5 }],
      ["POST", "/api/keys", { label: "x".repeat(101) }],
      ["POST", "/api/keys", { expiresInDays: 0 }],
      ["POST", "/api/keys", { owner: 1 }],
      ["PATCH", `/api/users/${admin.id}`, { disabled: "yes" }],
      ["PATCH", `/api/users/${admin.id}`, { role: "user" }],
      ["PATCH", "/api/settings", { registrationOpen: "true" }],
      ["PATCH", "/api/settings", { jwtSecret: "x" }],
      ["PATCH", "/api/settings", { smtp: { host: "h", from: "f@x.y", pass: "x" } }],
      ["POST", "/api/auth/2fa/enable", { pin: 123456 }],
      ["POST", "/api/users/invitations", { email: "nope" }],
    ];
    for (const [method, path, body] of cases) {
      const r = await h.call(method, path, { token: admin.jwt, body });
      expect(r.status, `${method} ${path} ${JSON.stringify(body)} -> ${r.text}`).toBe(400);
      expect(r.body.code).toBe("invalid_input");
    }
  });

  it("refuses an oversize body with 413 before parsing it", async () => {
    h = await apiHarness();
    const big = JSON.stringify({ email: "a@example.test", password: "x".repeat(70 * 1024) });
    const r = await h.call("POST", "/api/auth/login", { body: big });
    expect(r.status).toBe(413);
    expect(r.body).toEqual({ error: "Request body too large", code: "too_large" });
  });

  it("answers unknown paths with 404 {error, code}", async () => {
    h = await apiHarness();
    const r = await h.call("GET", "/api/nothing-here");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: "Not found", code: "not_found" });
  });
});

describe("rate limits (ipdock: login 10/min, register 20/min, others standard)", () => {
  it("allows 10 logins a minute per address, then 429 with Retry-After, and again after the minute", async () => {
    h = await apiHarness({ rateLimits: {} });
    // A new account each time: the per-account failure delay (its own test) stays out of it.
    let n = 0;
    const fresh = () => ({ email: `a${n++}@example.test`, password: "wrong password" });
    for (let i = 0; i < 10; i++) {
      const r = await h.call("POST", "/api/auth/login", { body: fresh(), peer: "198.51.100.7" });
      expect(r.status).toBe(401);
      expect(r.headers.get("x-ratelimit-limit")).toBe("10");
      expect(r.headers.get("x-ratelimit-remaining")).toBe(String(9 - i));
      expect(r.headers.get("retry-after")).toBe("60");
    }
    const limited = await h.call("POST", "/api/auth/login", { body: fresh(), peer: "198.51.100.7" });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: "Too many requests", code: "rate_limited" });
    expect(limited.headers.get("retry-after")).toBe("60");
    // Another address has its own budget.
    expect((await h.call("POST", "/api/auth/login", { body: fresh(), peer: "198.51.100.8" })).status).toBe(401);
    h.clock.advance(20);
    expect((await h.call("POST", "/api/auth/login", { body: fresh(), peer: "198.51.100.7" })).headers.get("retry-after")).toBe("40");
    h.clock.advance(40);
    expect((await h.call("POST", "/api/auth/login", { body: fresh(), peer: "198.51.100.7" })).status).toBe(401);
  });

  it("behind a trusted proxy, counts each forwarded client, and never believes an untrusted X-Forwarded-For", async () => {
    h = await apiHarness({ rateLimits: {}, trustedProxies: ["10.0.0.0/8"] });
    // A new account each time: the per-account failure delay (its own test) stays out of it.
    let n = 0;
    const fresh = () => ({ email: `a${n++}@example.test`, password: "wrong password" });
    const viaProxy = (client: string) => h.call("POST", "/api/auth/login", { body: fresh(), peer: "10.0.0.2", headers: { "x-forwarded-for": client } });
    for (let i = 0; i < 10; i++) expect((await viaProxy("198.51.100.7")).status).toBe(401);
    expect((await viaProxy("198.51.100.7")).status).toBe(429);
    // Another household behind the same proxy keeps its own budget.
    expect((await viaProxy("198.51.100.8")).status).toBe(401);
    // A direct client cannot pick a fresh budget by forging the header.
    const direct = (forged: string) => h.call("POST", "/api/auth/login", { body: fresh(), peer: "203.0.113.9", headers: { "x-forwarded-for": forged } });
    for (let i = 0; i < 10; i++) expect((await direct(`192.0.2.${i}`)).status).toBe(401);
    expect((await direct("192.0.2.200")).status).toBe(429);
  });

  it("delays an account's guessers: past five wrong passwords for it, a failing source waits (429 locked_out, Retry-After), a fresh address still signs in, and the wait ends", async () => {
    h = await apiHarness({ rateLimits: {} });
    const owner = await h.user("owner@example.test", { password: "the right password" });
    const login = (peer: string, password: string) => h.call("POST", "/api/auth/login", { body: { email: owner.email, password }, peer });
    for (let i = 0; i < 5; i++) expect((await login(`198.51.100.${i}`, "wrong password")).status).toBe(401);
    expect((await login("198.51.100.9", "wrong password")).status).toBe(401);
    const delayed = await login("198.51.100.9", "the right password");
    expect(delayed.status).toBe(429);
    expect(delayed.body.code).toBe("locked_out");
    expect(delayed.headers.get("retry-after")).toBe("10");
    // The owner from an address that has not failed is never delayed.
    expect((await login("203.0.113.50", "the right password")).status).toBe(200);
    h.clock.advance(10);
    expect((await login("198.51.100.9", "the right password")).status).toBe(200);
  });

  it("allows 20 registrations a minute", async () => {
    h = await apiHarness({ rateLimits: {} });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++)
      statuses.push(
        (await h.call("POST", "/api/auth/register", { body: { email: `u${i}@example.test`, password: "a long password" }, peer: "203.0.113.1" })).status,
      );
    expect(statuses.slice(0, 20).every((s) => s === 403)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it("puts the headers on every API answer, errors and 404s included", async () => {
    h = await apiHarness({ rateLimits: {} });
    for (const [m, p] of [
      ["GET", "/api/auth/me"],
      ["GET", "/api/nothing"],
      ["GET", "/api/openapi.json"],
    ]) {
      const r = await h.call(m!, p!);
      expect(r.headers.get("x-ratelimit-limit"), p).toBe("300");
      expect(r.headers.get("x-ratelimit-remaining"), p).toMatch(/^\d+$/);
      expect(r.headers.get("retry-after"), p).toMatch(/^\d+$/);
    }
  });
});

describe("OpenAPI", () => {
  it("serves a document generated from the route schemas, and a docs page", async () => {
    h = await apiHarness();
    const doc = await h.call("GET", "/api/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.info.title).toBe("ipkeep");
    for (const p of ["/api/auth/login", "/api/auth/setup", "/api/auth/me", "/api/keys/{id}", "/api/users/{id}", "/api/settings", "/api/auth/2fa/enable"]) {
      expect(doc.body.paths[p], p).toBeTruthy();
    }
    const login = doc.body.paths["/api/auth/login"].post.requestBody.content["application/json"].schema;
    expect(login.required).toEqual(["email", "password"]);
    expect(login.additionalProperties).toBe(false);
    const docs = await h.call("GET", "/api/docs");
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toMatch(/text\/html/);
    // Self-contained: no script or style from anywhere else, and the CSP says so.
    const html = docs.text;
    expect(html).toContain("/api/openapi.json");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    // The inline script is the one the CSP allows (else the browser would refuse to run it).
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const hash = createHash("sha256").update(script).digest("base64");
    expect(docs.headers.get("content-security-policy")).toContain(`default-src 'none'; script-src 'sha256-${hash}'`);
    // And it draws every operation of the document (run here over a minimal DOM).
    type Node = { tag: string; kids: (Node | string)[]; textContent: string; className: string; append: (...k: (Node | string)[]) => void };
    const make = (tag: string): Node => {
      const n: Node = { tag, kids: [], textContent: "", className: "", append: (...k) => n.kids.push(...k) };
      return n;
    };
    const root = make("main");
    const dom = { getElementById: () => root, createElement: make };
    await new Function("document", "fetch", `return (async () => { ${script} })()`)(dom, async () => ({ json: async () => doc.body }));
    await new Promise((r) => setTimeout(r, 10));
    const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    const operations = Object.values(doc.body.paths as Record<string, Record<string, unknown>>).flatMap((item) =>
      Object.keys(item).filter((m) => methods.includes(m)),
    );
    expect(root.kids.filter((k) => typeof k !== "string" && k.tag === "details").length).toBe(operations.length);
    expect(operations.length).toBeGreaterThan(40);
  });

  it("takes each operation's summary and tag from the route table", async () => {
    h = await apiHarness();
    const doc = await h.call("GET", "/api/openapi.json");
    for (const r of ROUTES.filter((r) => !r.hide && !r.path.includes(".") && r.method !== "ALL")) {
      const path = r.path.replace(/:([A-Za-z]+)/g, "{$1}");
      const op = doc.body.paths[path]?.[r.method.toLowerCase()];
      expect(op, routeKey(r)).toBeTruthy();
      expect(op.summary, routeKey(r)).toBe(r.summary);
      expect(op.tags, routeKey(r)).toEqual([r.tag]);
    }
  });

  it("keeps working when the first admin is created through it (smoke)", async () => {
    h = await apiHarness();
    const { setupCode } = issueSetupCode(h.deps);
    expect((await h.call("POST", "/api/auth/setup", { body: { code: setupCode, email: "a@example.test", password: "a long password" } })).status).toBe(201);
  });
});

describe("HTTPS: every route that takes a session or an API key is account- or install-class", () => {
  it("finds them by answer (no credential vs an admin's API key) and checks core/transport-policy classifies each", async () => {
    h = await apiHarness();
    const admin = await h.user("admin@example.test", { role: "admin" });
    const adminRow = h.store.users.byId(admin.id)!;
    const routes = h.app.routes;
    // What is served is exactly the route table.
    expect(new Set(routes.map(routeKey))).toEqual(new Set(ROUTES.map(routeKey)));
    // Bodies that get past a route's schema to its credential check.
    const bodies: Record<string, unknown> = { "/acme-dns/register": { hostname: "x.example.test" }, "/api/users/invitations": { email: "x@example.test" } };
    const send = async (method: string, route: string, key: string | null) => {
      const m = method === "ALL" ? "GET" : method;
      const path = route.replace(/:[A-Za-z]+/g, "1");
      const body = ["POST", "PATCH", "PUT", "DELETE"].includes(m) ? JSON.stringify(bodies[route] ?? {}) : undefined;
      const req = new Request(`http://localhost${path}`, {
        method: m,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
        body,
      });
      // From this machine, so the transport rule itself lets everything through.
      return (await h.app.handle(req, { peer: "127.0.0.1", transport: "http" })).status;
    };
    const taking: string[] = [];
    for (const r of routes) {
      const without = await send(r.method, r.path, null);
      // A fresh key each time: some routes (DELETE /api/keys/1) revoke the one they are given.
      const withKey = await send(r.method, r.path, createApiKey(h.deps, adminRow, { label: "probe" }, null).key);
      if (without === withKey) continue;
      taking.push(`${r.method} ${r.path}`);
      expect(["account", "install"], `${r.method} ${r.path} takes an API key: it must not be served over plain HTTP`).toContain(
        classifyPath(r.path.replace(/:[A-Za-z]+/g, "1")),
      );
    }
    // The probe does find them: the admin routes, the nodes API and the key-registered ACME account.
    expect(taking).toEqual(
      expect.arrayContaining([
        "GET /api/v2/nodes",
        "DELETE /api/v2/nodes/:id",
        "GET /api/users",
        "GET /api/hostnames",
        "POST /api/v2/install/codes",
        "POST /acme-dns/register",
        "GET /api.php",
        "GET /api",
        "GET /api/auth.get",
      ]),
    );
  });
});
