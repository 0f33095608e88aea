/**
 * The sealing module (store/secret-box.ts): AES-256-GCM under the data directory's key file.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Store } from "../../src/store";
import { isSealed, KEY_FILE, loadOrCreateKey, SecretBox } from "../../src/store/secret-box";

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), "ipkeep-box-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("SecretBox", () => {
  it("opens what it sealed, only in the same context and with the same key", () => {
    const a = new SecretBox(loadOrCreateKey(join(dir(), KEY_FILE)).key);
    const b = new SecretBox(loadOrCreateKey(join(dir(), KEY_FILE)).key);
    const s = a.seal("hunter2 ünïcode", "setting:x");
    expect(isSealed(s)).toBe(true);
    expect(s).not.toContain("hunter2");
    expect(a.seal("hunter2 ünïcode", "setting:x")).not.toBe(s); // a fresh nonce each time
    expect(a.open(s, "setting:x")).toBe("hunter2 ünïcode");
    expect(() => a.open(s, "setting:y")).toThrow(/another place/);
    expect(() => b.open(s, "setting:x")).toThrow(/another key/);
    expect(() => a.open(`${s.slice(0, -4)}AAAA`, "setting:x")).toThrow(/damaged/);
    expect(a.tryOpen(s, "setting:y")).toBeNull();
  });

  it("creates the key file once, mode 0600, and refuses a file that is not a key", () => {
    const d = dir();
    const first = loadOrCreateKey(join(d, KEY_FILE));
    expect(first.created).toBe(true);
    expect(statSync(join(d, KEY_FILE)).mode & 0o777).toBe(0o600);
    const again = loadOrCreateKey(join(d, KEY_FILE));
    expect(again.created).toBe(false);
    expect(Buffer.from(again.key)).toEqual(Buffer.from(first.key));
    writeFileSync(join(d, KEY_FILE), "not a key\n");
    expect(() => loadOrCreateKey(join(d, KEY_FILE))).toThrow(/not an ipkeep key file/);
  });

  it("the store seals the JWT secret, SMTP settings and TOTP secrets, and reads them back opened", async () => {
    const d = dir();
    const store = await Store.open(join(d, "ipkeep.db"));
    try {
      store.settings.set("jwt_secret", "the-jwt-secret");
      store.settings.set("public_url", "https://ddns.example.test");
      const u = store.users.create({ email: "a@example.test", role: "user", passwordHash: null }, 0);
      store.accounts.setTotp(u.id, "JBSWY3DPEHPK3PXP", true, 0);
      const raw = (k: string) => store.db.prepare("SELECT value FROM settings WHERE key = ?").get<{ value: string }>(k)!.value;
      expect(isSealed(raw("jwt_secret"))).toBe(true);
      expect(raw("public_url")).toBe("https://ddns.example.test");
      expect(store.settings.get("jwt_secret")).toBe("the-jwt-secret");
      expect(store.accounts.credentials(u.id)!.totpSecret).toBe("JBSWY3DPEHPK3PXP");
      expect(isSealed(store.db.prepare("SELECT totp_secret AS s FROM users").get<{ s: string }>()!.s)).toBe(true);
    } finally {
      store.close();
    }
    expect(readFileSync(join(d, "ipkeep.db")).includes("the-jwt-secret")).toBe(false);
    // Another key: the sealed values read as unset instead of failing.
    rmSync(join(d, KEY_FILE));
    const other = await Store.open(join(d, "ipkeep.db"));
    try {
      expect(other.settings.get("jwt_secret")).toBeNull();
      expect(other.accounts.credentials(1)!.totpSecret).toBeNull();
    } finally {
      other.close();
    }
  });

  it("seals enrolled secondaries' TSIG secrets: written sealed, read opened, clear ones sealed on open", async () => {
    const d = dir();
    const path = join(d, "ipkeep.db");
    let store = await Store.open(path);
    const node = store.install.createNode({
      role: "secondary",
      name: "ns2.example.test",
      machineId: "m1",
      sshFingerprint: null,
      publicIp: "192.0.2.2",
      activationId: null,
      credentialHash: "h1",
      tsigName: "ns2-xfr.",
      tsigSecret: "c2VjcmV0LXRzaWcta2V5LW9uZQ==",
      hostnameId: null,
      updateTokenId: null,
      dnsPort: 53,
      status: "active",
      createdAt: 0,
    });
    const raw = () =>
      store.db
        .prepare("SELECT tsig_secret AS s FROM nodes ORDER BY id")
        .all<{ s: string | null }>()
        .map((r) => r.s);
    expect(isSealed(raw()[0])).toBe(true);
    expect(node.tsigSecret).toBe("c2VjcmV0LXRzaWcta2V5LW9uZQ==");
    expect(store.secondaries.active()[0]!.tsigSecret).toBe("c2VjcmV0LXRzaWcta2V5LW9uZQ==");
    store.install.updateNode(node.id, { tsigSecret: "bmV3LXNlY3JldA==" });
    expect(isSealed(raw()[0])).toBe(true);
    expect(store.install.nodeById(node.id)!.tsigSecret).toBe("bmV3LXNlY3JldA==");
    store.install.updateNode(node.id, { tsigSecret: null });
    expect(raw()[0]).toBeNull();
    // As an older ipkeep wrote it: in clear. Opening the store seals it.
    store.db
      .prepare(
        "INSERT INTO nodes (role, name, machine_id, credential_hash, tsig_name, tsig_secret, status, created_at) VALUES ('secondary', 'ns3', 'm2', 'h2', 'ns3-xfr.', 'Y2xlYXI=', 'active', 0)",
      )
      .run();
    store.close();
    store = await Store.open(path);
    try {
      expect(store.sealing.sealedNow).toBe(1);
      expect(isSealed(raw()[1])).toBe(true);
      expect(store.secondaries.active().find((n) => n.name === "ns3")!.tsigSecret).toBe("Y2xlYXI=");
    } finally {
      store.close();
    }
  });
});
