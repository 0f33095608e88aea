/**
 * DNSSEC state in the store (both drivers): zones signed by default, the switch and keys
 * making the zone load afresh, private keys sealed for their own row and never in clear, and
 * signatures kept so that a restart signs nothing that still covers the same data.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createZone } from "../../src/core/zones";
import { ALG_ECDSAP256SHA256, generateKey, loadKey } from "../../src/dns/dnssec/keys";
import { signZone } from "../../src/dns/dnssec/sign";
import { buildZone } from "../../src/dns/zone";
import { Store } from "../../src/store";
import { describeLost, unopenable } from "../../src/store/sealed";
import { isSealed, SecretBox } from "../../src/store/secret-box";
import { TestClock, testPlatform } from "../helpers/platform";

let dir: string;
let store: Store;
const clock = new TestClock();
const platform = testPlatform(clock);
const deps = () => ({ store, platform, changes: { zoneChanged: () => {} } });
const NOW = Math.floor(Date.now() / 1000);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "ipkeep-dnssec-store-"));
  store = await Store.open(join(dir, "ipkeep.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastChange = () =>
  store.db.prepare("SELECT domain_id, name FROM zone_changes ORDER BY seq DESC LIMIT 1").get<{ domain_id: number; name: string | null }>();

describe("DNSSEC store", () => {
  it("signs zones by default; turning it off or adding a key reloads the zone", () => {
    const d = createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.example.net", ipv4: null, ipv6: null }] });
    expect(store.dnssec.enabled(d.id)).toBe(true);
    expect(store.dnssec.enabled(9999)).toBeNull();
    const before = store.domains.lastChangeSeq();
    store.dnssec.setEnabled(d.id, false);
    expect(store.dnssec.enabled(d.id)).toBe(false);
    expect(store.domains.lastChangeSeq()).toBeGreaterThan(before);
    expect(lastChange()).toEqual({ domain_id: d.id, name: null });
    const seq = store.domains.lastChangeSeq();
    store.dnssec.addKey(d.id, ALG_ECDSAP256SHA256, generateKey(ALG_ECDSAP256SHA256).pkcs8, NOW);
    expect(store.domains.lastChangeSeq()).toBeGreaterThan(seq);
  });

  it("stores the private key sealed for its row; the active key opens back; another data directory's key opens nothing", async () => {
    const d = createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.example.net", ipv4: null, ipv6: null }] });
    const k = generateKey(ALG_ECDSAP256SHA256);
    const first = store.dnssec.addKey(d.id, k.algorithm, k.pkcs8, NOW);
    const raw = store.db.prepare("SELECT private_key FROM dnssec_keys WHERE id = ?").get<{ private_key: string }>(first.id)!.private_key;
    expect(isSealed(raw)).toBe(true);
    expect(raw).not.toContain(Buffer.from(k.pkcs8).toString("base64").slice(0, 40));
    expect(store.dnssec.keys(d.id)[0]).not.toHaveProperty("pkcs8");
    expect(Buffer.from(store.dnssec.activeKey(d.id)!.pkcs8)).toEqual(Buffer.from(k.pkcs8));
    // A second key retires the first.
    const k2 = generateKey(ALG_ECDSAP256SHA256);
    store.dnssec.addKey(d.id, k2.algorithm, k2.pkcs8, NOW);
    expect(store.dnssec.keys(d.id).map((x) => x.state)).toEqual(["retired", "active"]);
    expect(Buffer.from(store.dnssec.activeKey(d.id)!.pkcs8)).toEqual(Buffer.from(k2.pkcs8));
    // Copied into another row, the sealed value does not open (its context is its row).
    store.db.prepare("UPDATE dnssec_keys SET private_key = ? WHERE state = 'active'").run(raw);
    expect(store.dnssec.activeKey(d.id)).toBeNull();
    const u = unopenable(store.db, new SecretBox(new Uint8Array(32).fill(7)));
    expect(u.dnssecZones).toEqual(["dyn.example.com"]);
    expect(describeLost(u).join("\n")).toContain("ipkeep domain ds ZONE");
  });

  it("keeps signatures across a restart: signing the same zone again signs nothing", async () => {
    const d = createZone(deps(), { name: "dyn.example.com", nameservers: [{ name: "ns1.dyn.example.com", ipv4: "192.0.2.1", ipv6: null }] });
    const k = generateKey(ALG_ECDSAP256SHA256);
    store.dnssec.addKey(d.id, k.algorithm, k.pkcs8, NOW);
    const key = loadKey(ALG_ECDSAP256SHA256, store.dnssec.activeKey(d.id)!.pkcs8);
    const zone = buildZone(store.domains.zoneData(d.id, NOW)!);
    const first = signZone(zone, key, { now: NOW, stored: store.dnssec.signatures(d.id) });
    expect(first.changes.signed).toBeGreaterThan(5);
    store.dnssec.saveSignatures(d.id, first.changes.put, first.changes.drop);
    store.close();
    store = await Store.open(join(dir, "ipkeep.db"));
    const stored = store.dnssec.signatures(d.id);
    expect(stored).toHaveLength(first.signed.signatureCount);
    const again = signZone(buildZone(store.domains.zoneData(d.id, NOW)!), loadKey(ALG_ECDSAP256SHA256, store.dnssec.activeKey(d.id)!.pkcs8), {
      now: NOW + 60,
      stored,
    });
    expect(again.changes.signed).toBe(0);
    expect(again.changes.drop).toEqual([]);
    // Dropped ones leave the table.
    store.dnssec.saveSignatures(d.id, [], [{ owner: stored[0]!.owner, code: stored[0]!.code }]);
    expect(store.dnssec.signatures(d.id)).toHaveLength(stored.length - 1);
  });
});
