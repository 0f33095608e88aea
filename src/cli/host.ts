import type { Command } from "commander";
import { fail } from "../core/errors";
import { createHost, ownedHost, removeHost } from "../core/hosts";
import { nowSeconds } from "../core/platform";
import type { HostRow, UserRow } from "../core/ports";
import { setInterfaceId } from "../core/update";
import { action, baseUrl, type CliContext, print, table } from "./common";
import { compactSnippet, routerSnippets } from "./snippets";

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
    .option("--snippets", "print settings for UniFi, pfSense, OPNsense, Synology, FRITZ!Box, OpenWrt, DD-WRT, ddclient, inadyn, cron")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string, opts: { owner?: string; ttl?: number; snippets?: boolean }) => {
        const owner = resolveOwner(ctx, opts.owner);
        const { host: h, value } = createHost(ctx, { name, ownerId: owner.id, ttl: opts.ttl });
        const updateUrl = `${baseUrl(ctx.config)}/nic/update?hostname=${h.name}&token=${value}`;
        print(ctx, { hostname: hostJson(h), token: { tokenValue: value }, updateUrl }, [
          `Created ${h.name} (owner ${owner.email}).`,
          `Update token (shown once, keep it secret):`,
          `  ${value}`,
          `Update URL:`,
          `  ${updateUrl}`,
          ...(opts.snippets ? routerSnippets : compactSnippet)({ base: baseUrl(ctx.config), hostname: h.name, token: value }),
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
          `ipv6 ifid ${h.ipv6Ifid ?? "- (low 64 bits of the last AAAA)"}`,
          `ttl       ${h.ttl}`,
        ]);
      }),
    );
  host
    .command("set <name>")
    .description("change a hostname's settings")
    .option("--ipv6-ifid <id>", 'IPv6 interface id kept across prefix updates, e.g. ::abcd ("" clears it)')
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string, opts: { ipv6Ifid?: string }) => {
        let h = ownedHost(ctx.store, name, null);
        if (opts.ipv6Ifid === undefined) fail("invalid_input", "Nothing to set: give --ipv6-ifid");
        h = setInterfaceId(ctx, h, opts.ipv6Ifid);
        print(ctx, hostJson(h), `${h.name}: IPv6 interface id ${h.ipv6Ifid ?? "cleared (the low 64 bits of the last AAAA are used)"}`);
      }),
    );
  host
    .command("log <name>")
    .description("update history of a hostname, newest first")
    .option("--limit <n>", "entries to show (default 50)", (v) => Number(v))
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string, opts: { limit?: number }) => {
        const h = ownedHost(ctx.store, name, null);
        const limit = opts.limit ?? 50;
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) fail("invalid_input", "--limit must be between 1 and 10000");
        const rows = ctx.store.updates.history(h.id, limit);
        const iso = (at: number) => new Date(at * 1000).toISOString();
        const addrs = (v4: string | null, v6: string | null) => [v4, v6].filter(Boolean).join(",") || "-";
        print(
          ctx,
          rows.map((r) => ({
            at: iso(r.at),
            hostname: r.hostname,
            result: r.result,
            source: r.source,
            userAgent: r.userAgent,
            token: r.token,
            old: { ipv4: r.oldIpv4, ipv6: r.oldIpv6 },
            new: { ipv4: r.newIpv4, ipv6: r.newIpv6 },
          })),
          rows.length === 0
            ? `No updates logged for ${h.name}`
            : table([
                ["TIME", "RESULT", "SOURCE", "OLD", "NEW", "USER AGENT"],
                ...rows.map((r) => [iso(r.at), r.result, r.source ?? "-", addrs(r.oldIpv4, r.oldIpv6), r.result === "good" || r.result === "nochg" ? addrs(r.newIpv4, r.newIpv6) : "-", r.userAgent ?? "-"]),
              ]),
        );
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
