/**
 * Quotas instead of plans: how many hostnames, custom domains and records a user may own.
 * A user's own limit (users.quota_*) wins; NULL there means the installation's default from
 * settings (keys below, edited through GET/PATCH /api/settings), else the built-in default.
 * Admins are not limited: they set the limits.
 */
import { fail } from "./errors";
import type { CoreStore } from "./ports";

export type QuotaKind = "hostnames" | "domains" | "records";

/** Settings keys holding the installation's defaults (non-negative integers as text). */
export const QUOTA_SETTINGS: Record<QuotaKind, string> = {
  hostnames: "default_quota_hostnames",
  domains: "default_quota_domains",
  records: "default_quota_records",
};

// Generous for a homelab, small enough that one account cannot fill the database or make a
// zone so large that every answer-cache rebuild slows down for everyone.
export const BUILTIN_QUOTAS: Record<QuotaKind, number> = { hostnames: 25, domains: 5, records: 200 };

const NOUN: Record<QuotaKind, string> = { hostnames: "hostname", domains: "custom domain", records: "record" };

type QuotaStore = Pick<CoreStore, "users" | "settings" | "hosts" | "domains" | "records">;

function settingValue(store: QuotaStore, kind: QuotaKind): number {
  const raw = store.settings.get(QUOTA_SETTINGS[kind]);
  if (raw !== null && /^\d{1,9}$/.test(raw.trim())) return Number(raw.trim());
  return BUILTIN_QUOTAS[kind];
}

/** The limits in force for a user. */
export function quotasFor(store: QuotaStore, userId: number): Record<QuotaKind, number> {
  const own = store.users.quotas(userId);
  return {
    hostnames: own.hostnames ?? settingValue(store, "hostnames"),
    domains: own.domains ?? settingValue(store, "domains"),
    records: own.records ?? settingValue(store, "records"),
  };
}

/** What a user has now, counted the way the limits count. */
export function usageOf(store: QuotaStore, userId: number): Record<QuotaKind, number> {
  return {
    hostnames: store.hosts.count(userId),
    domains: store.domains.countCustom(userId),
    records: store.records.countForUser(userId),
  };
}

/**
 * Refuses with PLAN_LIMIT when adding `adding` more of a kind would pass the user's limit.
 * Call inside the transaction that adds, so two concurrent requests cannot both squeeze in.
 */
export function checkQuota(store: QuotaStore, userId: number, kind: QuotaKind, adding = 1): void {
  const limit = quotasFor(store, userId)[kind];
  const used = usageOf(store, userId)[kind];
  if (used + adding > limit) {
    fail("PLAN_LIMIT", `${NOUN[kind][0]!.toUpperCase()}${NOUN[kind].slice(1)} limit reached (${limit}); ask an administrator to raise your quota`);
  }
}
