/**
 * The shared security suite: every authenticated route gets the same refusals.
 *
 * Usage (in a *.test.ts file):
 *
 *   securitySuite("hostnames", async (h, owner, other) => ({
 *     routes: [
 *       { method: "GET", path: "/api/hostnames", kind: "collection" },
 *       { method: "PATCH", path: `/api/hostnames/${id}`, body: { ttl: 120 }, kind: "object" },
 *       { method: "GET", path: "/api/users", kind: "admin" },
 *     ],
 *     markers: ["home.dyn.example.test"],   // strings only the owner's data contains
 *   }));
 *
 * `setup` runs once per suite on a fresh harness with two users: `owner` (an admin when any
 * route is kind "admin"), who owns the objects the routes name, and `other`, a plain user.
 * For every route it checks that each of these is refused (401), with no owner data in the
 * answer and no change in the database:
 *   no credential; malformed JWTs; a JWT signed with another secret; an expired JWT; a JWT
 *   whose session row expired (whatever exp it claims); a JWT claiming a later expiry than
 *   its live session row (forged with the real secret); a revoked session; a disabled user
 *   (JWT and API key); a revoked API key.
 * And, by kind:
 *   object:     the other user's JWT and API key -> 404 (as if it did not exist)
 *   admin:      the other (non-admin) user's JWT and API key -> 403
 *   collection: the other user's credentials may succeed but never show owner data (GET)
 * As a control, the owner's own JWT is accepted on every GET route.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createSessionSigner } from "../../src/api/session";
import { SESSION_TTL } from "../../src/core/auth";
import { nowSeconds } from "../../src/core/platform";
import { type ApiHarness, apiHarness, type TestUser } from "../helpers/api";

const TEN_YEARS = 10 * 365 * 24 * 60 * 60;

export interface RouteCase {
  method: string;
  path: string;
  body?: unknown;
  kind: "object" | "collection" | "admin";
}

export interface SuiteSpec {
  routes: RouteCase[];
  /** Strings that appear only in the owner's data (names, secrets): never in a refusal. */
  markers?: string[];
}

/** Everything a refused request must leave as it was (usage timestamps aside). */
const SNAPSHOT_QUERIES = [
  "SELECT id, email, role, disabled, password_hash, totp_secret, totp_enabled, quota_hostnames, quota_domains, quota_records FROM users ORDER BY id",
  "SELECT id, user_id, label, token_hash, revoked_at, expires_at FROM api_keys ORDER BY id",
  "SELECT id, revoked_at FROM sessions ORDER BY id",
  "SELECT * FROM settings ORDER BY key",
  "SELECT * FROM domains ORDER BY id",
  "SELECT * FROM domain_nameservers ORDER BY id",
  "SELECT * FROM hostnames ORDER BY id",
  "SELECT id, user_id, label, token_hash, hint, scope, revoked_at FROM update_tokens ORDER BY id",
  "SELECT * FROM update_token_hosts ORDER BY token_id, hostname_id",
  "SELECT * FROM records ORDER BY id",
  "SELECT id, purpose, used_at FROM one_time_tokens ORDER BY id",
  "SELECT * FROM recovery_codes ORDER BY id",
];

export function dbSnapshot(h: ApiHarness): string {
  return JSON.stringify(SNAPSHOT_QUERIES.map((q) => h.store.db.prepare(q).all()));
}

function b64url(s: string): string {
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function securitySuite(
  title: string,
  setup: (h: ApiHarness, owner: TestUser, other: TestUser) => SuiteSpec | Promise<SuiteSpec>,
  opts: { ownerRole?: "admin" | "user" } = {},
): void {
  describe(`security: ${title}`, () => {
    let h: ApiHarness;
    let owner: TestUser;
    let other: TestUser;
    let spec: SuiteSpec;
    let ready: Promise<void> | null = null;

    const init = () =>
      (ready ??= (async () => {
        h = await apiHarness();
        owner = await h.user("owner@example.test", { role: opts.ownerRole ?? "admin" });
        other = await h.user("other@example.test", { role: "user" });
        spec = await setup(h, owner, other);
      })());

    /** Sends each route with `token`, expects `status`, no marker in the answer, no change. */
    async function refused(token: string | undefined, status: number | ((r: RouteCase) => number | null), filter: (r: RouteCase) => boolean = () => true) {
      await init();
      let checked = 0;
      for (const r of spec.routes.filter(filter)) {
        const want = typeof status === "function" ? status(r) : status;
        if (want === null) continue;
        const before = dbSnapshot(h);
        const res = await h.call(r.method, r.path, { token, body: r.body });
        expect(res.status, `${r.method} ${r.path}`).toBe(want);
        expect(res.body?.error, `${r.method} ${r.path} answers {"error"}`).toEqual(expect.any(String));
        for (const m of spec.markers ?? []) expect(res.text, `${r.method} ${r.path} leaks ${m}`).not.toContain(m);
        expect(dbSnapshot(h), `${r.method} ${r.path} changed the database`).toBe(before);
        checked++;
      }
      return checked;
    }

    it("accepts the owner's own JWT on GET routes (control)", async () => {
      await init();
      for (const r of spec.routes.filter((x) => x.method === "GET")) {
        const res = await h.call("GET", r.path, { token: owner.jwt });
        expect(res.status, `${r.method} ${r.path}`).toBeLessThan(300);
      }
    });

    it("refuses a request with no credential (401)", async () => {
      expect(await refused(undefined, 401)).toBeGreaterThan(0);
    });

    it("refuses malformed JWTs (401)", async () => {
      for (const bad of [
        "not-a-jwt",
        "a.b.c",
        `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(`{"sub":"${owner.id}"}`)}.`,
        owner.jwt.slice(0, -4),
        `${owner.jwt}x`,
        "ipka_notarealkey",
        "ipk_updatetoken",
      ]) {
        await refused(bad, 401);
      }
    });

    it("refuses a JWT signed with another secret (401)", async () => {
      await init();
      const live = h.store.db.prepare("SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL").get<{ id: string }>(owner.id)!;
      const forged = await createSessionSigner("another-install-secret", h.clock).sign({
        sub: String(owner.id),
        jti: live.id,
        exp: nowSeconds(h.clock) + 600,
      });
      await refused(forged, 401);
    });

    it("refuses an expired JWT, and a JWT whose session row expired (401)", async () => {
      await init();
      const d = h.deps.auth;
      const now = nowSeconds(h.clock);
      const secret = h.store.settings.get("jwt_secret")!;
      const signer = createSessionSigner(secret, h.clock);
      h.store.sessions.create({ id: "expired-jwt", userId: owner.id, expiresAt: now + SESSION_TTL, address: null, userAgent: null }, now);
      await refused(await signer.sign({ sub: String(owner.id), jti: "expired-jwt", exp: now - 1 }), 401);
      h.store.sessions.create({ id: "expired-row", userId: owner.id, expiresAt: now - 1, address: null, userAgent: null }, now - SESSION_TTL);
      await refused(await d.signer.sign({ sub: String(owner.id), jti: "expired-row", exp: now + 600 }), 401);
      await refused(await d.signer.sign({ sub: String(owner.id), jti: "expired-row", exp: now + TEN_YEARS }), 401);
    });

    it("refuses a JWT that claims to outlive its (live) session row, signed with the real secret (401)", async () => {
      await init();
      const now = nowSeconds(h.clock);
      h.store.sessions.create({ id: "long-jwt", userId: owner.id, expiresAt: now + SESSION_TTL, address: null, userAgent: null }, now);
      const signer = h.deps.auth.signer;
      // The control: the expiry startSession signs is accepted.
      expect(
        (
          await h.call("GET", spec.routes.find((r) => r.method === "GET")?.path ?? "/api/auth/me", {
            token: await signer.sign({ sub: String(owner.id), jti: "long-jwt", exp: now + SESSION_TTL }),
          })
        ).status,
      ).toBeLessThan(300);
      await refused(await signer.sign({ sub: String(owner.id), jti: "long-jwt", exp: now + TEN_YEARS }), 401);
    });

    it("refuses a JWT naming a session of another user (401)", async () => {
      await init();
      const otherSession = h.store.db.prepare("SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL").get<{ id: string }>(other.id)!;
      const token = await h.deps.auth.signer.sign({ sub: String(owner.id), jti: otherSession.id, exp: nowSeconds(h.clock) + 600 });
      await refused(token, 401);
    });

    it("refuses a revoked session (logged out) (401)", async () => {
      await init();
      const login = await h.call("POST", "/api/auth/login", { body: { email: owner.email, password: owner.password } });
      expect(login.status).toBe(200);
      const out = await h.call("POST", "/api/auth/logout", { token: login.body.token });
      expect(out.status).toBe(204);
      await refused(login.body.token, 401);
    });

    it("refuses a disabled user's JWT and API key (401)", async () => {
      await init();
      h.store.db.prepare("UPDATE users SET disabled = 1 WHERE id = ?").run(owner.id);
      try {
        await refused(owner.jwt, 401);
        await refused(owner.apiKey, 401);
      } finally {
        h.store.db.prepare("UPDATE users SET disabled = 0 WHERE id = ?").run(owner.id);
      }
    });

    it("refuses a revoked API key (401)", async () => {
      await init();
      const made = await h.call("POST", "/api/keys", { token: owner.jwt, body: { label: "to revoke" } });
      expect(made.status).toBe(201);
      expect((await h.call("DELETE", `/api/keys/${made.body.apiKey.id}`, { token: owner.jwt })).status).toBe(204);
      await refused(made.body.key, 401);
    });

    const byKind = (r: RouteCase) => (r.kind === "object" ? 404 : r.kind === "admin" ? 403 : null);

    it("answers another user's JWT on the owner's objects as if they did not exist (404), and on admin routes 403", async () => {
      await init();
      await refused(other.jwt, byKind);
    });

    it("answers another user's API key alike (404 / 403)", async () => {
      await init();
      await refused(other.apiKey, byKind);
    });

    it("never shows the owner's data to another user on collection routes", async () => {
      await init();
      for (const r of spec.routes.filter((x) => x.kind === "collection" && x.method === "GET")) {
        for (const token of [other.jwt, other.apiKey]) {
          const res = await h.call("GET", r.path, { token });
          for (const m of spec.markers ?? []) expect(res.text, `${r.path} leaks ${m}`).not.toContain(m);
        }
      }
    });

    afterAll(async () => {
      if (ready) {
        await ready.catch(() => {});
        h?.close();
      }
    });
  });
}
