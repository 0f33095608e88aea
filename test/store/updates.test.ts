/**
 * The update path's store methods on both drivers: one transaction per request, history,
 * pruning by age and count.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHost, issueToken } from "../../src/core/hosts";
import type { UpdateLogEntry } from "../../src/core/ports";
import { createZone } from "../../src/core/zones";
import { isBun } from "../../src/store/driver";
import { Store } from "../../src/store";
import { TestClock, testPlatform } from "../helpers/platform";

let dir: string;
let store: Store;
const platform = testPlatform(new TestClock());
const deps = () => ({ store, platform, changes: { zoneChanged() {} } });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "ipkeep-store-upd-"));
  store = await Store.open(join(dir, "ipkeep.db"));
  createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.dyn.example.com", ipv4: "192.0.2.53", ipv6: null }] });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const entry = (hostnameId: number | null, at: number, result = "nochg"): UpdateLogEntry => ({
  at,
  hostnameId,
  hostname: "x",
  tokenId: null,
  source: "192.0.2.1",
  userAgent: null,
  oldIpv4: null,
  oldIpv6: null,
  newIpv4: null,
  newIpv6: null,
  result,
});

describe(`update store on ${isBun ? "bun:sqlite" : "better-sqlite3"}`, () => {
  it("commits host addresses, one serial bump per zone, log lines and token use together", async () => {
    const user = store.users.create({ email: "a@example.com", role: "user", passwordHash: null }, 0);
    const a = createHost(deps(), { name: "a.dyn.example.com", ownerId: user.id });
    const b = createHost(deps(), { name: "b.dyn.example.com", ownerId: user.id });
    const serial = store.domains.byId(a.host.domainId)!.serial;
    await store.commitUpdate({
      now: 1000,
      changes: [
        { hostId: a.host.id, domainId: a.host.domainId, next: { ipv4: "192.0.2.1", ipv6: null } },
        { hostId: b.host.id, domainId: b.host.domainId, next: { ipv4: null, ipv6: "2001:db8::1" } },
      ],
      logs: [entry(a.host.id, 1000, "good"), entry(b.host.id, 1000, "good")],
      tokenId: a.token.id,
    });
    expect(store.hosts.byId(a.host.id)!.ipv4).toBe("192.0.2.1");
    expect(store.hosts.byId(b.host.id)!.ipv6).toBe("2001:db8::1");
    expect(store.domains.byId(a.host.domainId)!.serial).toBe(serial + 1);
    expect(store.tokens.byId(a.token.id)!.lastUsedAt).toBe(1000);
    expect(store.updates.history(a.host.id, 10).map((e) => e.result)).toEqual(["good"]);
  });

  it("a failing write rolls the whole request back (and only that one of its batch)", async () => {
    const user = store.users.create({ email: "a@example.com", role: "user", passwordHash: null }, 0);
    const a = createHost(deps(), { name: "a.dyn.example.com", ownerId: user.id });
    const bad = { ...entry(a.host.id, 1), hostname: null as unknown as string };
    const b = createHost(deps(), { name: "b.dyn.example.com", ownerId: user.id });
    const failing = store.commitUpdate({
      now: 1,
      changes: [{ hostId: a.host.id, domainId: a.host.domainId, next: { ipv4: "192.0.2.9", ipv6: null } }],
      logs: [bad],
      tokenId: null,
    });
    const fine = store.commitUpdate({
      now: 1,
      changes: [{ hostId: b.host.id, domainId: b.host.domainId, next: { ipv4: "192.0.2.8", ipv6: null } }],
      logs: [entry(b.host.id, 1, "good")],
      tokenId: null,
    });
    await expect(failing).rejects.toThrow();
    await fine;
    expect(store.hosts.byId(a.host.id)!.ipv4).toBeNull();
    expect(store.hosts.byId(b.host.id)!.ipv4).toBe("192.0.2.8");
  });

  it("the only hostname of a token: single host, a set of one, or all of an owner with one host", () => {
    const user = store.users.create({ email: "a@example.com", role: "user", passwordHash: null }, 0);
    const a = createHost(deps(), { name: "a.dyn.example.com", ownerId: user.id });
    const all = issueToken(deps(), { userId: user.id, scope: "all", hostIds: [], label: "" }).token;
    expect(store.onlyHostnameOf(a.token)).toBe("a.dyn.example.com");
    expect(store.onlyHostnameOf(all)).toBe("a.dyn.example.com");
    const b = createHost(deps(), { name: "b.dyn.example.com", ownerId: user.id });
    expect(store.onlyHostnameOf(all)).toBeNull();
    const set = issueToken(deps(), { userId: user.id, scope: "set", hostIds: [a.host.id, b.host.id], label: "" }).token;
    expect(store.onlyHostnameOf(set)).toBeNull();
  });

  it("prunes by age, by count per host, and unattached entries by count", async () => {
    const user = store.users.create({ email: "a@example.com", role: "user", passwordHash: null }, 0);
    const a = createHost(deps(), { name: "a.dyn.example.com", ownerId: user.id });
    const logs = [
      ...Array.from({ length: 30 }, (_, i) => entry(a.host.id, 1000 + i)),
      ...Array.from({ length: 10 }, (_, i) => entry(null, 2000 + i)),
      entry(a.host.id, 10),
    ];
    await store.commitUpdate({ now: 0, changes: [], logs, tokenId: null });
    store.flushUpdates();
    const removed = store.pruneUpdateLog({ before: 100, maxPerHost: 20, maxUnattached: 4 });
    expect(removed).toBe(1 + 10 + 6);
    const left = store.updates.history(a.host.id, 100);
    expect(left).toHaveLength(20);
    expect(left[0]!.at).toBe(1029);
    expect(left[19]!.at).toBe(1010);
    expect(store.db.prepare("SELECT COUNT(*) AS n FROM update_log WHERE hostname_id IS NULL").get<{ n: number }>()!.n).toBe(4);
  });
});
