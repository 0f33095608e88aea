/**
 * An in-process primary for the install API: a fresh store in a temp dir, one zone, an admin
 * with an API key, a hand-moved clock, and requests that carry a chosen peer address.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/api/app";
import { createHttpContext } from "../../src/api/context";
import { mintToken } from "../../src/core/tokens";
import { createZone } from "../../src/core/zones";
import { Store } from "../../src/store";
import { TestClock, testPlatform } from "./platform";

export const ZONE = "dyn.example.com";
export const MACHINE = "0123456789abcdef0123456789abcdef";
export const OTHER_MACHINE = "fedcba9876543210fedcba9876543210";
export const FP = `SHA256:${"A".repeat(43)}`;

export interface Answer {
  status: number;
  body: any;
}

export async function primary(opts: { distDir?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "ipkeep-install-"));
  const store = await Store.open(join(dir, "ipkeep.db"));
  const clock = new TestClock(Date.UTC(2026, 2, 31, 12, 0, 0));
  const platform = testPlatform(clock);
  const changed: number[] = [];
  const changes = { zoneChanged: (id: number) => void changed.push(id) };
  createZone({ store, platform, changes }, { name: ZONE, nameservers: [{ name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null }] });
  const now = Math.floor(clock.now() / 1000);
  const admin = store.users.create({ email: "admin@example.com", role: "admin", passwordHash: null }, now);
  const user = store.users.create({ email: "user@example.com", role: "user", passwordHash: null }, now);
  const key = (userId: number) => {
    const k = mintToken(platform, "apiKey");
    store.db.prepare("INSERT INTO api_keys (user_id, label, token_hash, hint, created_at) VALUES (?, '', ?, ?, ?)").run(userId, k.hash, k.hint, now);
    return k.value;
  };
  const adminKey = key(admin.id);
  const userKey = key(user.id);
  const app = createApp(createHttpContext({ store, platform, changes, publicUrl: "https://ddns.example.com", distDir: opts.distDir ?? null }));

  async function call(method: string, path: string, body?: unknown, o: { peer?: string; auth?: string; raw?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (body !== undefined || o.raw !== undefined) headers["content-type"] = "application/json";
    if (o.auth) headers.authorization = `Bearer ${o.auth}`;
    const req = new Request(`http://localhost${path}`, { method, headers, body: o.raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
    // Installers on other machines reach the install API over TLS (core/transport-policy.ts).
    const res = await app.handle(req, { peer: o.peer ?? "198.51.100.7", transport: "https" });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: left as text for the assertion to show */
    }
    return { status: res.status, body: parsed };
  }

  const issue = async (b: Record<string, unknown> = { role: "agent" }, peer?: string) => {
    const r = await call("POST", "/api/v2/install/codes", b, { auth: adminKey, peer });
    if (r.status !== 201) throw new Error(`issue failed: ${JSON.stringify(r.body)}`);
    return r.body.data.install_code as string;
  };
  const prechecked = async (code: string, machine = MACHINE, role = "agent") => {
    const r = await call("POST", "/api/v2/install/precheck", {
      install_code: code,
      machine_id: machine,
      ssh_fingerprint: FP,
      product: role,
      installer_version: "test",
    });
    return r;
  };
  const activateBody = (code: string, token: string, extra: Record<string, unknown> = {}) => ({
    install_code: code,
    precheck_token: token,
    hostname: `box.${ZONE}`,
    public_ip: "203.0.113.9",
    machine_id: MACHINE,
    ssh_fingerprint: FP,
    installer_version: "test",
    ...extra,
  });

  return {
    dir,
    store,
    clock,
    platform,
    changed,
    app,
    adminKey,
    userKey,
    call,
    issue,
    prechecked,
    activateBody,
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Primary = Awaited<ReturnType<typeof primary>>;
