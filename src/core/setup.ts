/**
 * The one-time code that lets the first admin be created (printed by `ipkeep init`).
 */
import { fail } from "./errors";
import type { Platform } from "./platform";
import { nowSeconds } from "./platform";
import type { CoreStore } from "./ports";
import { mintToken } from "./tokens";

/** 30 minutes: long enough to open the dashboard, short enough that a leaked log line goes stale. */
export const SETUP_CODE_TTL = 30 * 60;

export function issueSetupCode(deps: { store: CoreStore; platform: Platform }): { setupCode: string; expiresAt: string } {
  if (deps.store.users.firstAdmin()) fail("forbidden", "An admin already exists; setup codes are only for the first admin");
  const now = nowSeconds(deps.platform.clock);
  const minted = mintToken(deps.platform, "oneTime");
  deps.store.transaction(() => {
    // Only the newest code works.
    deps.store.oneTime.expireAll("setup", now);
    deps.store.oneTime.create({ purpose: "setup", hash: minted.hash, expiresAt: now + SETUP_CODE_TTL }, now);
  });
  return { setupCode: minted.value, expiresAt: new Date((now + SETUP_CODE_TTL) * 1000).toISOString() };
}
