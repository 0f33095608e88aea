import type { Command } from "commander";
import { fail } from "../core/errors";
import { createHost, ownedHost, removeHost } from "../core/hosts";
import { nowSeconds } from "../core/platform";
import type { HostRow, UserRow } from "../core/ports";
import { action, baseUrl, type CliContext, print, table } from "./common";

/** --owner EMAIL (created as a user without password when new), else the first admin. */
export function resolveOwner(ctx: CliContext, email: string | undefined): UserRow {
  if (email) {
    const normalized = email.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalized)) fail("invalid_input", `Invalid e-mail address "${email}"`);
    return ctx.store.users.byEmail(normalized) ?? ctx.store.users.create({ email: normalized, role: "user", passwordHash: null }, nowSeconds(ctx.platform.clock));
  }
  const admin = ctx.store.users.firstAdmin();
  if (!admin) fail("invalid_input", "No admin exists yet: pass --owner EMAIL (or create the admin with the setup code first)");
  return admin;
}

export function hostJson(h: HostRow) {
  return { id: h.id, hostname: h.name, ipv4: h.ipv4, ipv6: h.ipv6, ipv6InterfaceId: h.ipv6Ifid, ttl: h.ttl, updatedAt: new Date(h.updatedAt * 1000).toISOString() };
}

export function registerHost(program: Command): void {
  const host = program.command("host").description("dynamic hostnames");
  host
    .command("add <name>")
    .description("create a hostname and print its update token (shown once)")
    .option("--owner <email>", "owner (default: the first admin)")
    .option("--ttl <seconds>", "TTL of its A/AAAA records", (v) => Number(v))
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string, opts: { owner?: string; ttl?: number }) => {
        const owner = resolveOwner(ctx, opts.owner);
        const { host: h, value } = createHost(ctx, { name, ownerId: owner.id, ttl: opts.ttl });
        const updateUrl = `${baseUrl(ctx.config)}/nic/update?hostname=${h.name}&token=${value}`;
        print(ctx, { hostname: hostJson(h), token: { tokenValue: value }, updateUrl }, [
          `Created ${h.name} (owner ${owner.email}).`,
          `Update token (shown once, keep it secret):`,
          `  ${value}`,
          `Update URL:`,
          `  ${updateUrl}`,
          `curl:`,
          `  curl -u "token:${value}" "${baseUrl(ctx.config)}/nic/update?hostname=${h.name}&myip=203.0.113.10"`,
        ]);
      }),
    );
  host
    .command("list")
    .description("list hostnames")
    .option("--owner <email>", "only this owner's")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, opts: { owner?: string }) => {
        const owner = opts.owner ? ctx.store.users.byEmail(opts.owner.toLowerCase()) : null;
        if (opts.owner && !owner) fail("not_found", `No user ${opts.owner}`);
        const rows = ctx.store.hosts.list(owner?.id);
        print(ctx, rows.map(hostJson), table([["HOSTNAME", "IPV4", "IPV6", "TTL"], ...rows.map((h) => [h.name, h.ipv4 ?? "-", h.ipv6 ?? "-", String(h.ttl)])]));
      }),
    );
  host
    .command("show <name>")
    .description("one hostname")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string) => {
        const h = ownedHost(ctx.store, name, null);
        const owner = ctx.store.users.byId(h.ownerId);
        print(ctx, { ...hostJson(h), owner: owner?.email ?? null }, [
          `hostname  ${h.name}`,
          `owner     ${owner?.email ?? "-"}`,
          `ipv4      ${h.ipv4 ?? "-"}`,
          `ipv6      ${h.ipv6 ?? "-"}`,
          `ttl       ${h.ttl}`,
        ]);
      }),
    );
  host
    .command("rm <name>")
    .description("delete a hostname with its tokens")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string) => {
        const h = ownedHost(ctx.store, name, null);
        removeHost(ctx, h);
        print(ctx, { removed: h.name }, `Removed ${h.name}`);
      }),
    );
}
