import type { Command } from "commander";
import { fail } from "../core/errors";
import { issueToken, ownedHost, regenerateToken } from "../core/hosts";
import { nowSeconds } from "../core/platform";
import type { UpdateTokenRow } from "../core/ports";
import { action, type CliContext, collect, print, table } from "./common";
import { resolveOwner } from "./host";

function tokenJson(ctx: CliContext, t: UpdateTokenRow) {
  return {
    id: t.id,
    label: t.label,
    hint: t.hint,
    scope: t.scope,
    hostnames: t.hostIds.map((id) => ctx.store.hosts.byId(id)?.name).filter(Boolean),
    owner: ctx.store.users.byId(t.userId)?.email ?? null,
    createdAt: new Date(t.createdAt * 1000).toISOString(),
    lastUsedAt: t.lastUsedAt ? new Date(t.lastUsedAt * 1000).toISOString() : null,
  };
}

function tokenById(ctx: CliContext, id: string): UpdateTokenRow {
  const t = /^\d+$/.test(id) ? ctx.store.tokens.byId(Number(id)) : null;
  if (!t) fail("not_found", `Token ${id} not found`);
  return t;
}

export function registerToken(program: Command): void {
  const token = program.command("token").description("update tokens");
  token
    .command("create")
    .description("a token covering one or several hostnames (--host, repeatable) or all of an owner's (--all)")
    .option("--host <name>", "hostname to cover (repeatable)", collect, [])
    .option("--all", "cover all of the owner's hostnames, present and future")
    .option("--owner <email>", "owner, with --all (default: the first admin)")
    .option("--label <text>", "a label to recognise it by", "")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, opts: { host: string[]; all?: boolean; owner?: string; label: string }) => {
        if (!!opts.all === opts.host.length > 0) fail("invalid_input", "Give either --host NAME (repeatable) or --all");
        let issued;
        if (opts.all) {
          const owner = resolveOwner(ctx, opts.owner);
          issued = issueToken(ctx, { userId: owner.id, scope: "all", hostIds: [], label: opts.label });
        } else {
          const hosts = opts.host.map((h) => ownedHost(ctx.store, h, null));
          const ownerId = hosts[0]!.ownerId;
          if (hosts.some((h) => h.ownerId !== ownerId)) fail("invalid_input", "All hostnames of one token must have the same owner");
          issued = issueToken(ctx, { userId: ownerId, scope: hosts.length === 1 ? "host" : "set", hostIds: hosts.map((h) => h.id), label: opts.label });
        }
        print(ctx, { token: { ...tokenJson(ctx, issued.token), tokenValue: issued.value } }, [
          `Token ${issued.token.id} (${issued.token.scope}). Shown once, keep it secret:`,
          `  ${issued.value}`,
        ]);
      }),
    );
  token
    .command("list")
    .description("list tokens (hints only; values are never stored)")
    .option("--json", "machine-readable output")
    .action(
      action((ctx) => {
        const rows = ctx.store.tokens.list().map((t) => tokenJson(ctx, t));
        print(ctx, rows, table([["ID", "HINT", "SCOPE", "HOSTNAMES", "LABEL"], ...rows.map((t) => [String(t.id), t.hint, t.scope, t.hostnames.join(",") || "*", t.label])]));
      }),
    );
  token
    .command("regenerate <id>")
    .description("replace a token's secret; the old value stops working at once")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, id: string) => {
        const issued = regenerateToken(ctx, tokenById(ctx, id));
        print(ctx, { token: { ...tokenJson(ctx, issued.token), tokenValue: issued.value } }, [`New value for token ${id} (shown once):`, `  ${issued.value}`]);
      }),
    );
  token
    .command("revoke <id>")
    .description("revoke a token")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, id: string) => {
        const t = tokenById(ctx, id);
        ctx.store.tokens.revoke(t.id, nowSeconds(ctx.platform.clock));
        print(ctx, { revoked: t.id }, `Revoked token ${t.id}`);
      }),
    );
}
