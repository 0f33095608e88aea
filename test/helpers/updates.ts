/**
 * An update-API fixture: a real store in a temp directory, zones and hosts, tokens minted
 * fresh per test, the Elysia app in process with a hand-moved clock for the limits.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/api/app";
import { createHttpContext } from "../../src/api/context";
import { createHost, issueToken } from "../../src/core/hosts";
import { DEFAULT_LIMITS, UpdateLimits, type UpdateLimitConfig } from "../../src/core/limits";
import type { HostRow, UserRow } from "../../src/core/ports";
import { createZone } from "../../src/core/zones";
import { Store } from "../../src/store";
import { TestClock, testPlatform } from "./platform";

export interface UpdateFixture {
  dir: string;
  store: Store;
  clock: TestClock;
  limits: UpdateLimits;
  changed: number[];
  owner: UserRow;
  other: UserRow;
  app: ReturnType<typeof createApp>;
  /** A host of `owner` (or `user`) with a fresh single-host token. */
  host(name: string, user?: UserRow): { host: HostRow; token: string };
  /** A token covering several hosts ("set") or all of the user's ("all"). */
  token(hosts: HostRow[] | "all", user?: UserRow): string;
  /** app.handle with a socket address as Bun.serve would record it. */
  request(url: string, init?: RequestInit & { peer?: string }): Promise<Response>;
  reload(name: string): HostRow;
  close(): void;
}

export const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

export async function updateFixture(opts: { zones?: string[]; limits?: Partial<UpdateLimitConfig>; trustedProxies?: string[] } = {}): Promise<UpdateFixture> {
  const dir = mkdtempSync(join(tmpdir(), "ipkeep-upd-"));
  const store = await Store.open(join(dir, "ipkeep.db"));
  const clock = new TestClock();
  const platform = testPlatform(clock);
  const changed: number[] = [];
  const changes = { zoneChanged: (id: number) => changed.push(id) };
  const deps = { store, platform, changes };
  for (const z of opts.zones ?? ["dyn.example.com"]) createZone(deps, { name: z, nameservers: [{ name: `ns1.${z}`, ipv4: "192.0.2.53", ipv6: null }] });
  const now = Math.floor(clock.now() / 1000);
  const owner = store.users.create({ email: "owner@example.com", role: "user", passwordHash: null }, now);
  const other = store.users.create({ email: "other@example.com", role: "user", passwordHash: null }, now);
  const limits = new UpdateLimits(clock, { ...DEFAULT_LIMITS, ...opts.limits });
  const app = createApp(createHttpContext({ ...deps, publicUrl: null, updateLimits: limits, trustedProxies: opts.trustedProxies ?? [] }));
  return {
    dir,
    store,
    clock,
    limits,
    changed,
    owner,
    other,
    app,
    host(name, user = owner) {
      const r = createHost(deps, { name, ownerId: user.id });
      return { host: r.host, token: r.value };
    },
    token(hosts, user = owner) {
      if (hosts === "all") return issueToken(deps, { userId: user.id, scope: "all", hostIds: [], label: "all" }).value;
      return issueToken(deps, { userId: user.id, scope: hosts.length === 1 ? "host" : "set", hostIds: hosts.map((h) => h.id), label: "set" }).value;
    },
    async request(url, init = {}) {
      const req = new Request(url.startsWith("http") ? url : `http://localhost${url}`, init);
      return app.handle(req, { peer: init.peer ?? "203.0.113.99" });
    },
    reload(name) {
      return store.hosts.byName(name)!;
    },
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
