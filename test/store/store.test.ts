/**
 * Runs under Bun (bun:sqlite) and under Node (better-sqlite3): both drivers must behave alike.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IpkeepError } from "../../src/core/errors";
import { createHost } from "../../src/core/hosts";
import { UpdateLimits } from "../../src/core/limits";
import { authenticateUpdateToken, performUpdate, type UpdateAnswer } from "../../src/core/update";
import { createZone } from "../../src/core/zones";
import { migrate } from "../../src/store/db";
import { isBun } from "../../src/store/driver";
import { LATEST_VERSION } from "../../src/store/migrations";
import { Store } from "../../src/store";
import { TestClock, testPlatform } from "../helpers/platform";

let dir: string;
let store: Store;
const clock = new TestClock();
const platform = testPlatform(clock);
const changed: number[] = [];
const changes = { zoneChanged: (id: number) => changed.push(id) };
const deps = () => ({ store, platform, changes });
/** A dyndns2 update as a router sends it, with the token as the Basic password. */
const update = (value: string, hostname: string, myip: string, client = "127.0.0.1"): Promise<UpdateAnswer> =>
  performUpdate(
    { store, platform, changes, limits: new UpdateLimits(clock) },
    {
      params: { get: (n) => ({ hostname, myip })[n as "hostname" | "myip"] },
      basic: { username: "x", password: value },
      bearer: null,
      client,
      userAgent: "test",
    },
  );
const result = (a: UpdateAnswer) => (a.kind === "hosts" ? a.lines.map((l) => ("error" in l ? l.error.code : l.result)) : [a.error.code]);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "ipkeep-store-"));
  store = await Store.open(join(dir, "ipkeep.db"));
  changed.length = 0;
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`store on ${isBun ? "bun:sqlite" : "better-sqlite3"}`, () => {
  it("uses the driver of its runtime", () => {
    expect(store.db.kind).toBe(isBun ? "bun:sqlite" : "better-sqlite3");
  });

  it("sets WAL, FULL sync and foreign keys", () => {
    expect(store.db.prepare("PRAGMA journal_mode").get<{ journal_mode: string }>()!.journal_mode).toBe("wal");
    expect(store.db.prepare("PRAGMA synchronous").get<{ synchronous: number }>()!.synchronous).toBe(2);
    expect(store.db.prepare("PRAGMA foreign_keys").get<{ foreign_keys: number }>()!.foreign_keys).toBe(1);
    expect(store.db.prepare("PRAGMA busy_timeout").get<Record<string, number>>()).toBeTruthy();
  });

  it("applies migrations once and records the version", async () => {
    expect(migrate(store.db)).toEqual([]);
    const v = store.db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get<{ v: number }>()!.v;
    expect(v).toBe(LATEST_VERSION);
    for (const table of [
      "users",
      "sessions",
      "api_keys",
      "domains",
      "hostnames",
      "update_tokens",
      "update_token_hosts",
      "records",
      "update_log",
      "install_codes",
      "activations",
      "nodes",
      "settings",
      "audit_log",
    ]) {
      expect(store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)).not.toBeNull();
    }
  });

  it("refuses a database whose schema is newer than it knows", async () => {
    store.db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)").run(LATEST_VERSION + 1);
    store.close();
    let err: unknown;
    try {
      store = await Store.open(join(dir, "ipkeep.db"));
    } catch (e) {
      err = e;
    }
    expect((err as IpkeepError).code).toBe("schema_too_new");
    expect((err as IpkeepError).exitCode).toBe(3);
    store = await Store.open(join(dir, "other.db"));
  });

  it("rolls a failed transaction back", () => {
    expect(() =>
      store.transaction(() => {
        store.settings.set("a", "1");
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(store.settings.get("a")).toBeNull();
  });

  it("stores tokens only as hashes", () => {
    createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.example.net", ipv4: null, ipv6: null }] });
    const owner = store.users.create({ email: "o@example.com", role: "user", passwordHash: null }, 1);
    const { value } = createHost(deps(), { name: "home.dyn.example.com", ownerId: owner.id });
    const dump = JSON.stringify(store.db.prepare("SELECT * FROM update_tokens").all());
    expect(dump).not.toContain(value);
    expect(dump).toContain(platform.sha256Hex(value));
  });

  it("good writes and bumps the serial once; nochg writes nothing", async () => {
    const zone = createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.example.net", ipv4: null, ipv6: null }] });
    const owner = store.users.create({ email: "o@example.com", role: "user", passwordHash: null }, 1);
    const { value } = createHost(deps(), { name: "home.dyn.example.com", ownerId: owner.id });
    const serial0 = store.domains.byId(zone.id)!.serial;
    changed.length = 0;
    expect(result(await update(value, "HOME.dyn.example.com.", "203.0.113.10"))).toEqual(["good"]);
    // Durable before the answer: on disk for another connection, the serial moved once.
    expect(store.domains.byId(zone.id)!.serial).toBe(serial0 + 1);
    expect(store.hosts.byName("home.dyn.example.com")!.ipv4).toBe("203.0.113.10");
    expect(changed).toEqual([zone.id]);
    const before = JSON.stringify(store.hosts.byName("home.dyn.example.com"));
    expect(result(await update(value, "home.dyn.example.com", "203.0.113.10"))).toEqual(["nochg"]);
    expect(store.domains.byId(zone.id)!.serial).toBe(serial0 + 1);
    expect(JSON.stringify(store.hosts.byName("home.dyn.example.com"))).toBe(before);
    expect(changed).toEqual([zone.id]);
    // A nochg line rides with the next commit (or a short timer); it is there once written.
    await update(value, "home.dyn.example.com", "203.0.113.11");
    const log = store.updates.history(store.hosts.byName("home.dyn.example.com")!.id, 100);
    expect(log.map((l) => l.result)).toEqual(["good", "nochg", "good"]);
    expect(log[2]).toMatchObject({ oldIpv4: null, newIpv4: "203.0.113.10", source: "127.0.0.1", userAgent: "test" });
  });

  it("updates that arrive together share one transaction, and see each other like updates in sequence", async () => {
    const zone = createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.example.net", ipv4: null, ipv6: null }] });
    const owner = store.users.create({ email: "o@example.com", role: "user", passwordHash: null }, 1);
    const hosts = Array.from({ length: 20 }, (_, i) => createHost(deps(), { name: `h${i}.dyn.example.com`, ownerId: owner.id }));
    const serial0 = store.domains.byId(zone.id)!.serial;
    const answers = await Promise.all([
      ...hosts.map((h, i) => update(h.value, h.host.name, `198.51.100.${i + 1}`)),
      // the same host twice in one batch: the second sees the first
      update(hosts[0]!.value, hosts[0]!.host.name, "198.51.100.1"),
      update(hosts[0]!.value, hosts[0]!.host.name, "198.51.100.99"),
    ]);
    expect(answers.map((a) => result(a)[0])).toEqual([...hosts.map(() => "good"), "nochg", "good"]);
    // One batch: the zone's serial moved once for all of them.
    expect(store.domains.byId(zone.id)!.serial).toBe(serial0 + 1);
    expect(store.hosts.byName("h0.dyn.example.com")!.ipv4).toBe("198.51.100.99");
    expect(store.hosts.byName("h19.dyn.example.com")!.ipv4).toBe("198.51.100.20");
  });

  it("a token never reaches another owner's host", async () => {
    createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.example.net", ipv4: null, ipv6: null }] });
    const alice = store.users.create({ email: "a@example.com", role: "user", passwordHash: null }, 1);
    const bob = store.users.create({ email: "b@example.com", role: "user", passwordHash: null }, 1);
    const a = createHost(deps(), { name: "a.dyn.example.com", ownerId: alice.id });
    createHost(deps(), { name: "b.dyn.example.com", ownerId: bob.id });
    expect(result(await update(a.value, "b.dyn.example.com", "198.51.100.1"))).toEqual(["unknown_host"]);
    expect(store.hosts.byName("b.dyn.example.com")!.ipv4).toBeNull();
    expect(() => authenticateUpdateToken(deps(), `${a.value}x`)).toThrow(expect.objectContaining({ code: "unauthorized" }));
  });

  it("deleting a host deletes its single-host tokens", () => {
    createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.example.net", ipv4: null, ipv6: null }] });
    const owner = store.users.create({ email: "o@example.com", role: "user", passwordHash: null }, 1);
    const { host } = createHost(deps(), { name: "home.dyn.example.com", ownerId: owner.id });
    expect(store.tokens.list()).toHaveLength(1);
    store.transaction(() => {
      store.hosts.remove(host.id);
      store.tokens.removeOrphans();
    });
    expect(store.tokens.list()).toHaveLength(0);
  });

  it("zoneData holds SOA, NS with glue, hosts and unexpired records", () => {
    const zone = createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.dyn.example.com", ipv4: "192.0.2.53", ipv6: null }] });
    store.records.create({ domainId: zone.id, name: "txt.dyn.example.com", type: "TXT", ttl: 300, content: '"hello"' }, 1);
    const z = store.domains.zoneData(zone.id, 100)!;
    expect(z.name).toBe("dyn.example.com");
    expect(z.soa.mname).toBe("ns1.dyn.example.com");
    expect(z.nameservers).toEqual([{ name: "ns1.dyn.example.com", ipv4: "192.0.2.53", ipv6: null }]);
    expect(z.records).toEqual([{ name: "txt.dyn.example.com", type: "TXT", ttl: 300, content: '"hello"' }]);
  });
});
