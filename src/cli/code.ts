/**
 * `ipkeep code issue|list|revoke`: install codes from the primary's own shell (the local
 * operator is the admin here, as with `ipkeep host`).
 */
import type { Command } from "commander";
import { normalizeEmail } from "../core/auth";
import { fail } from "../core/errors";
import { issueCode, listCodes, revokeCode } from "../core/install";
import { nowSeconds } from "../core/platform";
import type { UserRow } from "../core/ports";
import { action, type CliContext, linkBase, print, table } from "./common";

/**
 * --owner EMAIL (created as a user without password when new: `created` says so), else the
 * first admin, else none.
 */
function ownerOf(ctx: CliContext, email: string | undefined): { user: UserRow | null; created: boolean } {
  if (email === undefined) return { user: ctx.store.users.firstAdmin(), created: false };
  const normalized = normalizeEmail(email);
  const existing = ctx.store.users.byEmail(normalized);
  if (existing) return { user: existing, created: false };
  return { user: ctx.store.users.create({ email: normalized, role: "user", passwordHash: null }, nowSeconds(ctx.platform.clock)), created: true };
}

const isoOf = (s: number) => new Date(s * 1000).toISOString();

export function registerCode(program: Command): void {
  const code = program.command("code").description("install codes that enroll an agent or a secondary nameserver");
  code
    .command("issue")
    .description("issue a one-time install code (shown once)")
    .requiredOption("--role <role>", "agent | secondary")
    .option("--hostname <name>", "the only hostname (agent) or nameserver name (secondary) the code may activate")
    .option("--ttl <seconds>", "lifetime before the precheck (default 300)", (v) => (/^\d+$/.test(v) ? Number(v) : v))
    .option("--owner <email>", "owner of the agent's hostname (default: the first admin)")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, opts: { role: string; hostname?: string; ttl?: number | string; owner?: string }) => {
        // A user --owner creates exists only with the code: a refused issue leaves none behind.
        const { owner, created, c } = ctx.store.transaction(() => {
          const { user: owner, created } = ownerOf(ctx, opts.owner);
          if (!owner && opts.role === "agent") fail("invalid_input", "No admin exists yet: pass --owner EMAIL (the agent's hostname needs an owner)");
          const c = issueCode(ctx, { role: opts.role, hostname: opts.hostname, ttl: opts.ttl }, { ownerId: owner?.id ?? null, actorKey: "cli", address: null });
          return { owner, created, c };
        });
        const url = linkBase(ctx);
        print(
          ctx,
          {
            installCode: c.code,
            id: c.row.id,
            hint: c.hint,
            role: c.row.role,
            hostname: c.row.hostname,
            expiresAt: c.expiresAt,
            ttlSeconds: c.ttlSeconds,
            ...(created ? { createdOwner: owner!.email } : {}),
          },
          [
            ...(created
              ? [`Created user ${owner!.email} (no password yet: "ipkeep user add ${owner!.email}" or "ipkeep user invite ${owner!.email}" gives one).`]
              : []),
            `Install code for ${c.row.role === "agent" ? "an agent" : "a secondary"} (single use, expires ${c.expiresAt}):`,
            `  ${c.code}`,
            `On the machine to enroll:`,
            `  curl -fsSL ${url}/install.sh | sudo bash -s -- --primary ${url} --code ${c.code}`,
          ],
        );
      }),
    );
  code
    .command("list")
    .description("list install codes (hints only)")
    .option("--json", "machine-readable output")
    .action(
      action((ctx) => {
        const rows = listCodes(ctx).map((c) => ({
          id: c.id,
          hint: c.hint,
          role: c.role,
          hostname: c.hostname,
          state: c.displayState,
          expiresAt: isoOf(c.expiresAt),
          machineId: c.machineId,
        }));
        print(
          ctx,
          rows,
          table([
            ["ID", "HINT", "ROLE", "STATE", "HOSTNAME", "EXPIRES"],
            ...rows.map((r) => [String(r.id), r.hint, r.role, r.state, r.hostname ?? "-", r.expiresAt]),
          ]),
        );
      }),
    );
  code
    .command("revoke <id>")
    .description("revoke a code (by id or hint); an enrollment in progress is cancelled with it")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, id: string) => {
        const c = revokeCode(ctx, id, "cli");
        print(ctx, { revoked: c.id, hint: c.hint }, `Revoked install code ${c.id} (${c.hint})`);
      }),
    );
}
