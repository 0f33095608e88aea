/**
 * Account tables on both drivers: sessions, API keys, recovery codes, the TOTP replay guard.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isBun } from "../../src/store/driver";
import { Store } from "../../src/store";

let dir: string;
let store: Store;
let uid: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "ipkeep-accounts-"));
  store = await Store.open(join(dir, "ipkeep.db"));
  uid = store.users.create({ email: "u@example.test", role: "user", passwordHash: "h" }, 100).id;
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`account store on ${isBun ? "bun:sqlite" : "better-sqlite3"}`, () => {
  it("keeps sessions live until revoked or expired, and prunes expired rows", () => {
    store.sessions.create({ id: "s1", userId: uid, expiresAt: 200, address: "192.0.2.1", userAgent: "ua" }, 100);
    store.sessions.create({ id: "s2", userId: uid, expiresAt: 300, address: null, userAgent: null }, 100);
    expect(store.sessions.live("s1", 150)).toMatchObject({ id: "s1", userId: uid });
    expect(store.sessions.live("s1", 200)).toBeNull();
    expect(store.sessions.revoke("s2", 150)).toBe(true);
    expect(store.sessions.revoke("s2", 151)).toBe(false);
    expect(store.sessions.live("s2", 160)).toBeNull();
    store.sessions.prune(250);
    expect(store.db.prepare("SELECT id FROM sessions").all()).toEqual([{ id: "s2" }]);
  });

  it("refuses a second user with the same address as a conflict, not a constraint failure", () => {
    expect(() => store.users.create({ email: "u@example.test", role: "admin", passwordHash: null }, 100)).toThrow(
      expect.objectContaining({ code: "conflict" }),
    );
  });

  it("revokes all of a user's sessions but one", () => {
    for (const id of ["a", "b", "c"]) store.sessions.create({ id, userId: uid, expiresAt: 999, address: null, userAgent: null }, 100);
    expect(store.sessions.revokeAllFor(uid, 150, "b")).toBe(2);
    expect(["a", "b", "c"].map((id) => !!store.sessions.live(id, 160))).toEqual([false, true, false]);
  });

  it("finds API keys by hash while live only", () => {
    const k = store.apiKeys.create({ userId: uid, label: "l", hash: "kh", hint: "ipka_abcd…", expiresAt: 500 }, 100);
    expect(store.apiKeys.liveByHash("kh", 499)?.id).toBe(k.id);
    expect(store.apiKeys.liveByHash("kh", 500)).toBeNull();
    store.apiKeys.revoke(k.id, 200);
    expect(store.apiKeys.liveByHash("kh", 300)).toBeNull();
    expect(store.apiKeys.list(uid)).toEqual([]);
  });

  it("uses a recovery code once", () => {
    store.recoveryCodes.replace(uid, ["r1", "r2"]);
    expect(store.recoveryCodes.consume(uid, "r1", 100)).toBe(true);
    expect(store.recoveryCodes.consume(uid, "r1", 101)).toBe(false);
    store.recoveryCodes.replace(uid, ["r3"]);
    expect(store.recoveryCodes.consume(uid, "r2", 102)).toBe(false);
    expect(store.recoveryCodes.consume(uid, "r3", 103)).toBe(true);
  });

  it("accepts each TOTP step once and never an older one", () => {
    store.accounts.setTotp(uid, "SECRET", true, 100);
    expect(store.accounts.useTotpStep(uid, 10)).toBe(true);
    expect(store.accounts.useTotpStep(uid, 10)).toBe(false);
    expect(store.accounts.useTotpStep(uid, 9)).toBe(false);
    expect(store.accounts.useTotpStep(uid, 11)).toBe(true);
    store.accounts.setTotp(uid, null, false, 100);
    expect(store.accounts.credentials(uid)).toMatchObject({ totpSecret: null, totpLastStep: null });
  });

  it("sets quotas field by field, null meaning the default", () => {
    store.accounts.setQuota(uid, { hostnames: 3 }, 100);
    store.accounts.setQuota(uid, { records: 7, hostnames: null }, 100);
    expect(store.accounts.byId(uid)!.quota).toEqual({ hostnames: null, domains: null, records: 7 });
  });

  it("refuses a disabled user's update tokens", () => {
    const t = store.tokens.create({ userId: uid, label: "", hash: "th", hint: "ipk_x…", scope: "all", hostIds: [] }, 100);
    expect(store.tokens.byHash("th")?.id).toBe(t.id);
    store.accounts.setDisabled(uid, true, 100);
    expect(store.tokens.byHash("th")).toBeNull();
    store.accounts.setDisabled(uid, false, 100);
    expect(store.tokens.byHash("th")?.id).toBe(t.id);
  });
});
