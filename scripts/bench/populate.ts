/**
 * Fills an ipkeep database (made by `ipkeep init --zone ZONE`) with N hostnames for the
 * benchmarks, in one transaction: hN.ZONE with A and AAAA, a TXT on every 4th, an MX on every
 * 10th; then the named extra hosts (a benchmark's own updaters) without addresses.
 * Usage: bun scripts/bench/populate.ts DATA_DIR ZONE N [EXTRA_HOST...]
 */
import { join } from "node:path";
import { Store } from "../../src/store";

const [dir, zone, count] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4] ?? 10_000)];
const extra = process.argv.slice(5);
const store = await Store.open(join(dir, "ipkeep.db"));
const domain = store.domains.byName(zone);
if (!domain) throw new Error(`no zone ${zone} in ${dir}`);
const now = Math.floor(Date.now() / 1000);
store.transaction(() => {
  const owner = store.users.byEmail("bench@example.com") ?? store.users.create({ email: "bench@example.com", role: "user", passwordHash: null }, now);
  for (let i = 0; i < count; i++) {
    const name = `h${i}.${zone}`;
    const h = store.hosts.create({ name, domainId: domain.id, ownerId: owner.id, ttl: 60 }, now);
    store.hosts.setAddresses(h.id, { ipv4: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, ipv6: `2001:db8::${i.toString(16)}` }, now);
    if (i % 4 === 0) store.records.create({ domainId: domain.id, name, type: "TXT", ttl: 300, content: `"bench host ${i}"` }, now);
    if (i % 10 === 0) store.records.create({ domainId: domain.id, name, type: "MX", ttl: 300, content: `10 mail.${zone}.` }, now);
  }
  for (const name of extra) store.hosts.create({ name, domainId: domain.id, ownerId: owner.id, ttl: 60 }, now);
  store.domains.bumpSerial(domain.id, now);
});
store.close();
console.log(`${count + extra.length} hostnames in ${zone}`);
