import type { Command } from "commander";
import { createApiKey, normalizeEmail } from "../core/auth";
import { fail } from "../core/errors";
import { action, print } from "./common";

/** Long enough for a yearly rotation habit and then some; a key for ever is `--expires-days` left out. */
const MAX_KEY_DAYS = 3650;

export function registerKey(program: Command): void {
  const key = program.command("key").description("API keys (local database)");
  key
    .command("create")
    .description("create an API key for a user and print it (shown once)")
    .requiredOption("--user <email>", "the key's user: it acts with that user's rights")
    .option("--label <text>", "what the key is for")
    .option("--expires-days <n>", `days until it stops working (1-${MAX_KEY_DAYS}; default never)`)
    .option("--json", "machine-readable output")
    .action(
      action((ctx, opts: { user: string; label?: string; expiresDays?: string }) => {
        const u = ctx.store.users.byEmail(normalizeEmail(opts.user));
        if (!u) fail("not_found", `No user ${opts.user}`);
        if (u.disabled) fail("conflict", `${u.email} is disabled (ipkeep user enable first)`);
        let days: number | undefined;
        if (opts.expiresDays !== undefined) {
          days = /^\d{1,5}$/.test(opts.expiresDays) ? Number(opts.expiresDays) : Number.NaN;
          if (!(days >= 1 && days <= MAX_KEY_DAYS)) fail("invalid_input", `--expires-days must be a whole number from 1 to ${MAX_KEY_DAYS}`);
        }
        const label = (opts.label ?? "").trim();
        if (label.length > 100 || /[\x00-\x1f\x7f]/.test(label)) fail("invalid_input", "--label must be at most 100 characters without control characters");
        const r = createApiKey(ctx, u, { label, expiresInDays: days }, null);
        print(ctx, { key: r.key, apiKey: r.apiKey, user: u.email }, [
          `API key for ${u.email} (shown once, keep it secret):`,
          `  ${r.key}`,
          ...(r.apiKey.expiresAt ? [`Expires ${r.apiKey.expiresAt}.`] : []),
          `Use it as "Authorization: Bearer …", or IPKEEP_API_KEY with --server.`,
        ]);
      }),
    );
}
