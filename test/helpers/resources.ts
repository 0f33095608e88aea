/**
 * An in-process ipkeep for the resource API tests: a store in a temp dir, the real app, and
 * the real DNS server on 127.0.0.1 port 0 fed by LiveZones, so a test can change something
 * over the API and dig for it. Users and API keys are made in the store directly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/api/app";
import { createHttpContext } from "../../src/api/context";
import type { DelegationLookup } from "../../src/core/domains";
import type { Role } from "../../src/core/ports";
import { mintToken } from "../../src/core/tokens";
import { createZone } from "../../src/core/zones";
import { answer } from "../../src/dns/answer";
import { LiveZones } from "../../src/dns/live";
import { type DnsServer, startDns } from "../../src/dns/server";
import { signingPort } from "../../src/dns/dnssec/manage";
import { Store } from "../../src/store";
import { TestClock, testPlatform } from "./platform";

export interface Harness {
  dir: string;
  store: Store;
  live: LiveZones;
  dns: DnsServer;
  dnsPort: number;
  clock: TestClock;
  app: ReturnType<typeof createApp>;
  /** Replaceable per test: what the "parent zone" says. */
  delegation: { lookup: DelegationLookup | null };
  user(email: string, role?: Role): { id: number; key: string };
  call(
    method: string,
    path: string,
    opts?: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string>; peer?: string },
  ): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

export const ZONE = "dyn.ipkeep.test";

export async function startHarness(opts: { delegation?: DelegationLookup } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "ipkeep-api-"));
  const store = await Store.open(join(dir, "ipkeep.db"));
  const clock = new TestClock(Date.UTC(2026, 5, 1));
  const platform = testPlatform(clock);
  const live = new LiveZones(store.domains, clock);
  createZone(
    { store, platform, changes: live },
    {
      name: ZONE,
      nameservers: [
        { name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null },
        { name: "ns2.example.net", ipv4: null, ipv6: null },
      ],
    },
  );
  live.sync();
  const dns = await startDns([{ host: "127.0.0.1", port: 0 }], (q, transport) => answer(q, live.zones, { transport }));
  const delegation: Harness["delegation"] = { lookup: opts.delegation ?? null };
  const app = createApp(
    createHttpContext({
      store,
      platform,
      changes: live,
      publicUrl: null,
      delegation: {
        nameservers: (d) => (delegation.lookup ? delegation.lookup.nameservers(d) : Promise.reject(new Error("no resolver in this test"))),
        ds: (d) => (delegation.lookup?.ds ? delegation.lookup.ds(d) : Promise.reject(new Error("no resolver in this test"))),
      },
      dnssec: signingPort(store.dnssec),
    }),
  );
  return {
    dir,
    store,
    live,
    dns,
    dnsPort: dns.addresses[0]!.port,
    clock,
    app,
    delegation,
    user(email, role = "user") {
      const u = store.users.create({ email, role, passwordHash: null }, 1);
      const minted = mintToken(platform, "apiKey");
      store.db.prepare("INSERT INTO api_keys (user_id, label, token_hash, hint, created_at) VALUES (?, 'test', ?, ?, 1)").run(u.id, minted.hash, minted.hint);
      return { id: u.id, key: minted.value };
    },
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.key) headers.authorization = `Bearer ${o.key}`;
      let body: string | undefined;
      if (o.raw !== undefined) body = o.raw;
      else if (o.body !== undefined) body = JSON.stringify(o.body);
      if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
      const req = new Request(`http://localhost${path}`, { method, headers, body });
      // From another machine the account API answers only over TLS (core/transport-policy.ts).
      const res = await app.handle(req, o.peer ? { peer: o.peer, transport: "https" } : {});
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      return { status: res.status, body: parsed, text };
    },
    async close() {
      await dns.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
