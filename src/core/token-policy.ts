/**
 * Token policies: what narrows an update token beyond the hostnames it covers. Per token and
 * optional: the names it may change (hostnames, and names at or below them), the record types,
 * the source networks it may come from (acme-dns's `allowfrom`), an expiry time, and a longest
 * time unused after which it stops working. One rule for every dialect (dyndns2, ipdock,
 * acme-dns, httpreq, IPv64, DNS UPDATE); each answers a refusal in its own words (badauth, 403,
 * REFUSED), through the error code "forbidden".
 */
import { type Cidr, cidrContains, parseCidr, unmapIPv4 } from "./addresses";
import { fail } from "./errors";
import { normalizeName } from "./names";
import type { UpdateTokenRow } from "./ports";

export interface TokenPolicy {
  /** Names it may change, each with what is below it; null: every name its hostnames allow. */
  names: string[] | null;
  /** Record types it may change ("A", "AAAA", "TXT"); null: all its dialects allow. */
  types: string[] | null;
  /** CIDRs (or addresses) it may be used from; null: anywhere. */
  networks: string[] | null;
  /** Epoch seconds after which it no longer works; null: never. */
  expiresAt: number | null;
  /** Seconds without use after which it no longer works; null: no limit. */
  maxUnusedSeconds: number | null;
}

/** What a caller asks for; an absent field stays as it is, null clears it. */
export interface TokenPolicyInput {
  names?: string[] | null;
  types?: string[] | null;
  networks?: string[] | null;
  expiresAt?: number | null;
  maxUnusedSeconds?: number | null;
}

/**
 * The types a policy may name. A, AAAA and TXT narrow what the dialects already allow; the
 * others (and A, AAAA, TXT elsewhere than at a hostname or its _acme-challenge) are what a
 * policy that names both the types and the names adds for DNS UPDATE (core/dyn-update.ts).
 */
export const POLICY_TYPES = ["A", "AAAA", "TXT", "CNAME", "MX", "SRV", "CAA"] as const;
/** Bounds on a policy's lists: a policy is a few names and networks, not a database. */
const MAX_ITEMS = 50;
/** A minute is the shortest time unused that makes sense (routers update every few minutes). */
const MIN_UNUSED = 60;
const MAX_UNUSED = 10 * 365 * 86_400;

export const EMPTY_POLICY: TokenPolicy = { names: null, types: null, networks: null, expiresAt: null, maxUnusedSeconds: null };

export function isEmptyPolicy(p: TokenPolicy | null | undefined): boolean {
  return !p || (p.names === null && p.types === null && p.networks === null && p.expiresAt === null && p.maxUnusedSeconds === null);
}

const list = <T>(v: T[] | null | undefined, what: string): T[] | null => {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v) || v.length === 0) fail("invalid_input", `${what}: give at least one, or null for no limit`);
  if (v.length > MAX_ITEMS) fail("invalid_input", `${what}: at most ${MAX_ITEMS}`);
  return v;
};

/**
 * The policy after a change, checked. covered: the hostnames the token covers (a policy name
 * must be one of them or below one: a policy only narrows).
 */
export function applyPolicyInput(current: TokenPolicy | null, input: TokenPolicyInput, covered: string[], now: number): TokenPolicy | null {
  const next: TokenPolicy = { ...(current ?? EMPTY_POLICY) };
  if (input.names !== undefined) {
    const names = list(input.names, "names");
    next.names = names
      ? [
          ...new Set(
            names.map((raw) => {
              const n = normalizeName(raw, { underscore: true, wildcard: false });
              if (!covered.some((h) => n === h || n.endsWith(`.${h}`))) {
                fail("invalid_input", `${n} is not one of the token's hostnames or below one, nor in one of its owner's domains`);
              }
              return n;
            }),
          ),
        ]
      : null;
  }
  if (input.types !== undefined) {
    const types = list(input.types, "types");
    next.types = types
      ? [
          ...new Set(
            types.map((t) => {
              const u = String(t).trim().toUpperCase();
              if (!(POLICY_TYPES as readonly string[]).includes(u)) fail("invalid_input", `types: ${t} is not one of ${POLICY_TYPES.join(", ")}`);
              return u;
            }),
          ),
        ]
      : null;
  }
  if (input.networks !== undefined) {
    const nets = list(input.networks, "networks");
    next.networks = nets
      ? nets.map((c) => {
          const parsed = parseCidr(String(c).trim());
          if (!parsed) fail("invalid_input", `networks: ${c} is not an address or CIDR`);
          return String(c).trim().toLowerCase();
        })
      : null;
  }
  if (input.expiresAt !== undefined) {
    if (input.expiresAt !== null && (!Number.isInteger(input.expiresAt) || input.expiresAt <= now)) fail("invalid_input", "expiresAt must be in the future");
    next.expiresAt = input.expiresAt;
  }
  if (input.maxUnusedSeconds !== undefined) {
    const m = input.maxUnusedSeconds;
    if (m !== null && (!Number.isInteger(m) || m < MIN_UNUSED || m > MAX_UNUSED))
      fail("invalid_input", `maxUnusedSeconds must be from ${MIN_UNUSED} to ${MAX_UNUSED}`);
    next.maxUnusedSeconds = m;
  }
  return isEmptyPolicy(next) ? null : next;
}

/**
 * Why the token does not work now from this source (for the log; the client gets its
 * dialect's refusal), or null when it does.
 */
export function tokenRefusal(token: Pick<UpdateTokenRow, "policy" | "createdAt" | "lastUsedAt">, source: string | null, now: number): string | null {
  const p = token.policy;
  if (!p) return null;
  if (p.expiresAt !== null && now >= p.expiresAt) return "the token has expired";
  if (p.maxUnusedSeconds !== null && now - (token.lastUsedAt ?? token.createdAt) > p.maxUnusedSeconds)
    return "the token went unused for longer than its policy allows";
  if (p.networks !== null) {
    const from = source ? unmapIPv4(source) : null;
    const nets = p.networks.map(parseCidr).filter((c): c is Cidr => c !== null);
    if (!from || !nets.some((c) => cidrContains(c, from))) return "the token may not be used from this address";
  }
  return null;
}

/** Throws forbidden when the token does not work now from this source. */
export function requireTokenUsable(token: Pick<UpdateTokenRow, "policy" | "createdAt" | "lastUsedAt">, source: string | null, now: number): void {
  const why = tokenRefusal(token, source, now);
  if (why) fail("forbidden", `This token may not be used here: ${why}`);
}

/** May the token change records of this type at this name (the policy's names and types)? */
export function policyAllows(token: Pick<UpdateTokenRow, "policy">, name: string, type: string): boolean {
  const p = token.policy;
  if (!p) return true;
  if (p.types !== null && !p.types.includes(type)) return false;
  if (p.names !== null && !p.names.some((n) => name === n || name.endsWith(`.${n}`))) return false;
  return true;
}

/**
 * Records beyond a hostname's addresses and DNS-01 values (DNS UPDATE only): when the policy
 * names both the names and the types, and this name and type are among them.
 */
export function policyGrants(token: Pick<UpdateTokenRow, "policy">, name: string, type: string): boolean {
  const p = token.policy;
  return !!p && p.names !== null && p.types !== null && policyAllows(token, name, type);
}

/** Throws forbidden when the policy does not allow this change. */
export function requirePolicyAllows(token: Pick<UpdateTokenRow, "policy">, name: string, type: string): void {
  if (!policyAllows(token, name, type)) fail("forbidden", `This token's policy does not allow changing ${type} at ${name}`);
}
