/**
 * The shared security suite over every hostname, token, domain and record route.
 */
import { LocalResources } from "../../src/core/resources";
import { createZone } from "../../src/core/zones";
import { securitySuite } from "./security-suite";

securitySuite(
  "hostname, token, domain and record routes",
  async (h, owner) => {
    const deps = { ...h.deps, delegation: { nameservers: async () => [] as string[] } };
    h.deps.delegation = deps.delegation;
    const zone = createZone(deps, { name: "dyn.ipkeep.test", nameservers: [{ name: "ns1.ipkeep.test", ipv4: null, ipv6: null }] });
    const mine = new LocalResources(deps, { userId: owner.id, admin: false, name: `user:${owner.id}`, address: null });
    const host = await mine.createHost({ name: "ownerhost", domainId: zone.id });
    const token = await mine.createToken({ hostnameId: host.hostname.id, label: "ownerlabel" });
    const domain = await mine.createDomain({ name: "owner-domain.example" });
    const record = await mine.createRecord(domain.id, { type: "TXT", name: "t", content: "owner-record-content" });
    const zoneRecord = await mine.createRecord(zone.id, { type: "TXT", name: "_x.ownerhost", content: "owner-zone-record" });
    const hid = host.hostname.id;
    return {
      routes: [
        { method: "GET", path: "/api/hostnames", kind: "collection" },
        { method: "POST", path: "/api/hostnames", body: { name: "new", domainId: zone.id }, kind: "collection" },
        { method: "POST", path: "/api/hostnames", body: { name: "new", domainId: domain.id }, kind: "object" },
        { method: "GET", path: `/api/hostnames/${hid}`, kind: "object" },
        { method: "PATCH", path: `/api/hostnames/${hid}`, body: { ttl: 120 }, kind: "object" },
        { method: "DELETE", path: `/api/hostnames/${hid}`, kind: "object" },
        { method: "GET", path: `/api/hostnames/${hid}/log`, kind: "object" },
        { method: "GET", path: "/api/tokens", kind: "collection" },
        { method: "POST", path: "/api/tokens", body: { hostnameId: hid, label: "x" }, kind: "object" },
        { method: "POST", path: "/api/tokens", body: { allHostnames: true }, kind: "collection" },
        { method: "POST", path: `/api/tokens/${token.id}/regenerate`, kind: "object" },
        { method: "DELETE", path: `/api/tokens/${token.id}`, kind: "object" },
        { method: "GET", path: "/api/domains", kind: "collection" },
        { method: "POST", path: "/api/domains", body: { name: "another.example" }, kind: "collection" },
        { method: "GET", path: `/api/domains/${zone.id}`, kind: "collection" },
        { method: "GET", path: `/api/domains/${domain.id}`, kind: "object" },
        { method: "DELETE", path: `/api/domains/${domain.id}`, kind: "object" },
        { method: "POST", path: `/api/domains/${domain.id}/verify`, kind: "object" },
        { method: "GET", path: `/api/domains/${domain.id}/delegation-status`, kind: "object" },
        { method: "GET", path: `/api/domains/${domain.id}/records`, kind: "object" },
        { method: "POST", path: `/api/domains/${domain.id}/records`, body: { type: "A", name: "a", content: "192.0.2.1" }, kind: "object" },
        { method: "PATCH", path: `/api/domains/${domain.id}/records/${record.id}`, body: { content: "changed" }, kind: "object" },
        { method: "DELETE", path: `/api/domains/${domain.id}/records/${record.id}`, kind: "object" },
        { method: "GET", path: `/api/domains/${zone.id}/records`, kind: "collection" },
        { method: "PATCH", path: `/api/domains/${zone.id}/records/${zoneRecord.id}`, body: { content: "changed" }, kind: "object" },
        { method: "DELETE", path: `/api/domains/${zone.id}/records/${zoneRecord.id}`, kind: "object" },
      ],
      markers: ["ownerhost", "ownerlabel", "owner-domain", "owner-record-content", "owner-zone-record", token.tokenValue],
    };
  },
  { ownerRole: "user" },
);
