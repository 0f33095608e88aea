/**
 * Quotas instead of plans: enforcing how many hostnames, custom domains and records a user
 * may own. The limits themselves (a user's own, else the instance default from settings
 * default_quota_*, null meaning unlimited) are core/settings.ts's effectiveQuota. Admins are
 * not limited: they set the limits.
 */
import { fail } from "./errors";
import type { CoreStore } from "./ports";
import { effectiveQuota } from "./settings";

export type QuotaKind = "hostnames" | "domains" | "records";

const NOUN: Record<QuotaKind, string> = { hostnames: "Hostname", domains: "Custom domain", records: "Record" };

type QuotaStore = Pick<CoreStore, "users" | "settings" | "hosts" | "domains" | "records">;

/** What a user has now of one kind, counted the way the limits count. */
export function usageOf(store: QuotaStore, userId: number, kind: QuotaKind): number {
  switch (kind) {
    case "hostnames":
      return store.hosts.count(userId);
    case "domains":
      return store.domains.countCustom(userId);
    case "records":
      return store.records.countForUser(userId);
  }
}

/**
 * Refuses with PLAN_LIMIT (ipdock's answer) when adding one more of a kind would pass the
 * user's limit. Call inside the transaction that adds, so two requests cannot both squeeze in.
 */
export function checkQuota(store: QuotaStore, userId: number, kind: QuotaKind): void {
  const limit = effectiveQuota(store.settings, store.users.quotas(userId))[kind];
  if (limit === null) return;
  if (usageOf(store, userId, kind) + 1 > limit) {
    fail("PLAN_LIMIT", `${NOUN[kind]} limit reached (${limit}); ask an administrator to raise your quota`);
  }
}
