/**
 * POST /acme-dns/register with every credential the management API accepts (a session JWT or
 * an API key, through authenticate()), and what a revoked session or a user's own limits mean.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHost } from "../../src/core/hosts";
import { createZone } from "../../src/core/zones";
import { type ApiHarness, apiHarness, type TestUser } from "../helpers/api";

const ZONE = "dyn.example.com";
const HOME = `home.${ZONE}`;
let h: ApiHarness;
let alice: TestUser;
let admin: TestUser;
let bob: TestUser;

beforeAll(async () => {
  h = await apiHarness();
  admin = await h.user("admin@example.com", { role: "admin" });
  alice = await h.user("alice@example.com");
  bob = await h.user("bob@example.com");
  createZone(h.deps, { name: ZONE, nameservers: [{ name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null }] });
  createHost(h.deps, { name: HOME, ownerId: alice.id });
});
afterAll(() => h.close());

describe("POST /acme-dns/register (owner or admin)", () => {
  it("with the owner's session JWT: 201 and an acme-dns account", async () => {
    const r = await h.call("POST", "/acme-dns/register", { token: alice.jwt, body: { hostname: HOME } });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ username: HOME, password: expect.stringMatching(/^ipk_/), subdomain: HOME, fulldomain: `_acme-challenge.${HOME}`, allowfrom: [] });
  });

  it("with an admin's session JWT or API key: 201, the token is the owner's", async () => {
    for (const token of [admin.jwt, admin.apiKey]) {
      const r = await h.call("POST", "/acme-dns/register", { token, body: { hostname: HOME } });
      expect(r.status).toBe(201);
    }
    expect(h.store.tokens.list(alice.id).length).toBeGreaterThanOrEqual(4);
    expect(h.store.tokens.list(admin.id)).toEqual([]);
  });

  it("another user's session: 404, as for a name that does not exist", async () => {
    const r = await h.call("POST", "/acme-dns/register", { token: bob.jwt, body: { hostname: HOME } });
    expect(r.status).toBe(404);
    expect(h.store.tokens.list(bob.id)).toEqual([]);
  });

  it("a session revoked by logout, a tampered JWT, none: 401", async () => {
    const carol = await h.user("carol@example.com", { role: "admin" });
    expect((await h.call("POST", "/api/auth/logout", { token: carol.jwt })).status).toBeLessThan(300);
    const tampered = `${alice.jwt.slice(0, -3)}abc`;
    for (const token of [carol.jwt, tampered, undefined]) {
      const r = await h.call("POST", "/acme-dns/register", { token, body: { hostname: HOME } });
      expect(r.status).toBe(401);
    }
  });
});
