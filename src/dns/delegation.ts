/**
 * The delegation check's DNS side (core/domains.ts judges the result): asks a resolver for a
 * domain's NS set (and its DS) over UDP, falling back to TCP when the answer is truncated. The resolver is
 * the `resolver` option (host:port), else the first nameserver of /etc/resolv.conf.
 */
import { readFileSync } from "node:fs";
import type { DelegationLookup } from "../core/domains";
import { canonicalName } from "../core/names";
import { queryDns } from "./client";
import { type Listen, parseListen } from "./server";

const RCODE_NXDOMAIN = 3;

export function systemResolver(readFile: (p: string) => string = (p) => readFileSync(p, "utf8")): Listen {
  try {
    const m = /^\s*nameserver\s+(\S+)/m.exec(readFile("/etc/resolv.conf"));
    if (m) return { host: m[1]!, port: 53 };
  } catch {
    /* no resolv.conf: fall through */
  }
  return { host: "127.0.0.1", port: 53 };
}

export class ResolverDelegationLookup implements DelegationLookup {
  private server: Listen;
  constructor(resolver: string | null) {
    this.server = resolver ? parseListen(resolver, 53) : systemResolver();
  }

  async nameservers(domain: string): Promise<string[]> {
    // Over UDP, and again over TCP when truncated (the shared client does both).
    const { packet: p, rcode } = await queryDns(this.server, domain, "NS", { recursion: true });
    if (rcode === RCODE_NXDOMAIN) return [];
    if (rcode !== 0) throw new Error(`the resolver answered ${(p as { rcode?: string }).rcode ?? `rcode ${rcode}`}`);
    // A recursive resolver answers with the NS set; a parent's server refers (authority section).
    const want = canonicalName(domain);
    return [...(p.answers ?? []), ...(p.authorities ?? [])]
      .filter((r) => r.type === "NS" && canonicalName(r.name) === want)
      .map((r) => canonicalName(String((r as { data: unknown }).data)));
  }

  async ds(domain: string): Promise<string[]> {
    const { packet: p, rcode } = await queryDns(this.server, domain, "DS", { recursion: true });
    if (rcode === RCODE_NXDOMAIN) return [];
    if (rcode !== 0) throw new Error(`the resolver answered ${(p as { rcode?: string }).rcode ?? `rcode ${rcode}`} for DS`);
    const want = domain.toLowerCase();
    return (p.answers ?? [])
      .filter((r) => r.type === "DS" && r.name.toLowerCase().replace(/\.$/, "") === want)
      .map((r) => {
        const d = (r as { data: { keyTag: number; algorithm: number; digestType: number; digest: Uint8Array } }).data;
        return `${d.keyTag} ${d.algorithm} ${d.digestType} ${Buffer.from(d.digest).toString("hex").toUpperCase()}`;
      });
  }
}
