/**
 * The JSON shapes of hostnames, tokens, domains and records, as the API answers and the CLI
 * prints them (local or remote: the same shape either way). Never a token value in a list.
 */
import { WEAK_TSIG_ALGORITHMS } from "./tsig-keys";
import type { DomainRow, HostRow, RecordRow, UpdateLogEntry, UpdateTokenRow } from "./ports";
import { presentContent } from "./records";

const iso = (s: number | null | undefined) => (s ? new Date(s * 1000).toISOString() : null);

export interface HostView {
  id: number;
  hostname: string;
  domainId: number;
  ownerId: number;
  ipv4: string | null;
  ipv6: string | null;
  ipv6InterfaceId: string | null;
  ttl: number;
  description: string;
  createdAt: string | null;
  updatedAt: string | null;
  /** When the host last reported in: an update answered good or nochg (a heartbeat). */
  lastSeenAt: string | null;
}

export function hostView(h: HostRow, lastSeen: number | null = null): HostView {
  return {
    id: h.id,
    hostname: h.name,
    domainId: h.domainId,
    ownerId: h.ownerId,
    ipv4: h.ipv4,
    ipv6: h.ipv6,
    ipv6InterfaceId: h.ipv6Ifid,
    ttl: h.ttl,
    description: h.description ?? "",
    createdAt: iso(h.createdAt),
    updatedAt: iso(h.updatedAt),
    lastSeenAt: iso(lastSeen),
  };
}

export interface TokenView {
  id: number;
  label: string;
  /** A non-secret reminder ("ipk_Ab3x…"). */
  hint: string;
  scope: "host" | "set" | "all";
  hostnameIds: number[];
  hostnames: string[];
  createdAt: string | null;
  lastUsedAt: string | null;
  /** Its DNS UPDATE key (never the secret); weak: MD5 or SHA-1, which RFC 8945 advises against. */
  tsig: { name: string; algorithm: string; weak: boolean } | null;
  /** What narrows it further; null: nothing (core/token-policy.ts). Times in ISO 8601. */
  policy: { names: string[] | null; types: string[] | null; networks: string[] | null; expiresAt: string | null; maxUnusedSeconds: number | null } | null;
}

/** A token as answered once, at creation or regeneration (tsig: with the key's secret, base64). */
export interface TokenSecretView extends Omit<TokenView, "tsig"> {
  tokenValue: string;
  tsig: { name: string; algorithm: string; secret: string; weak: boolean } | null;
}

export function tokenView(t: UpdateTokenRow, hostName: (id: number) => string | null): TokenView {
  return {
    id: t.id,
    label: t.label,
    hint: t.hint,
    scope: t.scope,
    hostnameIds: t.hostIds,
    hostnames: t.hostIds.map(hostName).filter((n): n is string => n !== null),
    createdAt: iso(t.createdAt),
    lastUsedAt: iso(t.lastUsedAt),
    tsig: t.tsig ? { ...t.tsig, weak: WEAK_TSIG_ALGORITHMS.has(t.tsig.algorithm) } : null,
    policy: t.policy ? { ...t.policy, expiresAt: iso(t.policy.expiresAt) } : null,
  };
}

export interface DomainView {
  id: number;
  name: string;
  /** "builtin": a shared zone of this server; "custom": a user's own domain. */
  kind: "builtin" | "custom";
  ownerId: number | null;
  /** Custom domains are served only once verified. */
  verified: boolean;
  serial: number;
  nameservers: string[];
}

export function domainView(d: DomainRow, nameservers: string[]): DomainView {
  return { id: d.id, name: d.name, kind: d.kind, ownerId: d.ownerId, verified: d.verified, serial: d.serial, nameservers };
}

export interface RecordView {
  id: number;
  domainId: number;
  /** Fully qualified owner name. */
  name: string;
  type: string;
  /** For MX the exchange, for SRV "weight port target"; the priority is apart. */
  content: string;
  priority: number | null;
  ttl: number;
  hostnameId: number | null;
}

export function recordView(r: RecordRow): RecordView {
  const { content, priority } = presentContent(r.type, r.content);
  return { id: r.id, domainId: r.domainId, name: r.name, type: r.type, content, priority, ttl: r.ttl, hostnameId: r.hostnameId };
}

export interface UpdateLogView {
  at: string | null;
  hostname: string;
  source: string | null;
  userAgent: string | null;
  oldIpv4: string | null;
  oldIpv6: string | null;
  newIpv4: string | null;
  newIpv6: string | null;
  result: string;
}

export function updateLogView(e: UpdateLogEntry): UpdateLogView {
  return {
    at: iso(e.at),
    hostname: e.hostname,
    source: e.source,
    userAgent: e.userAgent,
    oldIpv4: e.oldIpv4,
    oldIpv6: e.oldIpv6,
    newIpv4: e.newIpv4,
    newIpv6: e.newIpv6,
    result: e.result,
  };
}
