/**
 * An in-process API for route tests: a fresh store in a temp directory, the real app, a
 * hand-moved clock, and helpers to make users with sessions and API keys.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/api/app";
import { createHttpContext, type HttpContext, type HttpContextInput } from "../../src/api/context";
import { createApiKey, startSession } from "../../src/core/auth";
import type { MailerFactory } from "../../src/core/mail";
import type { Platform } from "../../src/core/platform";
import { nowSeconds } from "../../src/core/platform";
import type { Role } from "../../src/core/ports";
import { Store } from "../../src/store";
import { TestClock, testPlatform } from "./platform";

/** argon2id with tiny costs: the same code path, a fraction of the time and memory. */
export function fastPasswordPlatform(clock: TestClock): Platform {
  const base = testPlatform(clock);
  const bun = (globalThis as { Bun?: { password: { hash(p: string, o: object): Promise<string> } } }).Bun;
  return {
    ...base,
    hashPassword: async (pw) => (bun ? bun.password.hash(pw, { algorithm: "argon2id", memoryCost: 256, timeCost: 1 }) : base.hashPassword(pw)),
  };
}

export interface TestUser {
  id: number;
  email: string;
  password: string;
  /** A live session JWT. */
  jwt: string;
  /** A live API key. */
  apiKey: string;
}

export interface ApiResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface ApiHarness {
  app: ReturnType<typeof createApp>;
  deps: HttpContext;
  store: Store;
  clock: TestClock;
  platform: Platform;
  dir: string;
  /** Sends a request; body objects are JSON-encoded, strings sent as they are. */
  call<T = any>(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string; headers?: Record<string, string>; peer?: string },
  ): Promise<ApiResult<T>>;
  /** Creates a user (password hashed) with a live session and an API key. */
  user(email: string, opts?: { role?: Role; password?: string }): Promise<TestUser>;
  close(): void;
}

export async function apiHarness(
  opts: { mailer?: MailerFactory; rateLimits?: HttpContextInput["rateLimits"]; publicUrl?: string; trustedProxies?: string[] } = {},
): Promise<ApiHarness> {
  const dir = mkdtempSync(join(tmpdir(), "ipkeep-api-"));
  const store = await Store.open(join(dir, "ipkeep.db"));
  const clock = new TestClock();
  const platform = fastPasswordPlatform(clock);
  const deps = createHttpContext({
    store,
    platform,
    changes: { zoneChanged() {} },
    publicUrl: opts.publicUrl ?? "https://ddns.example.test",
    mailer: opts.mailer,
    // Route tests make many calls within one frozen minute; the limits have their own tests.
    rateLimits: opts.rateLimits ?? { login: 100_000, register: 100_000, standard: 100_000 },
    trustedProxies: opts.trustedProxies,
  });
  const app = createApp(deps);
  const h: ApiHarness = {
    app,
    deps,
    store,
    clock,
    platform,
    dir,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
        headers["content-type"] ??= "application/json";
        headers["content-length"] ??= String(new TextEncoder().encode(body).length);
      }
      const req = new Request(`http://localhost${path}`, { method, headers, body });
      // From another machine the account API answers only over TLS (core/transport-policy.ts).
      const res = await app.handle(req, o.peer ? { peer: o.peer, transport: "https" } : {});
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = null;
      }
      return { status: res.status, body: parsed as any, text, headers: res.headers };
    },
    async user(email, u = {}) {
      const password = u.password ?? "correct horse battery";
      const hash = await platform.hashPassword(password);
      const row = store.users.create({ email, role: u.role ?? "user", passwordHash: hash }, nowSeconds(clock));
      const session = await startSession(deps.auth, row.id, { address: null, userAgent: "test" });
      const key = createApiKey(deps, row, { label: "test" }, null);
      return { id: row.id, email, password, jwt: session.token, apiKey: key.key };
    },
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
