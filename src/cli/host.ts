import type { Command } from "commander";
import { fail } from "../core/errors";
import { print, table } from "./common";
import { hostByName, resourceAction } from "./remote";
import { compactSnippet, routerSnippets } from "./snippets";

export function registerHost(program: Command): void {
  const host = program.command("host").description("dynamic hostnames (local database, or the API with --server)");
  host
    .command("add <name>")
    .description("create a hostname and print its update token (shown once)")
    .option("--owner <email>", "owner (default: the first admin; local only)")
    .option("--ttl <seconds>", "TTL of its A/AAAA records", (v) => Number(v))
    .option("--description <text>", "a note for its owner")
    .option("--snippets", "print settings for UniFi, pfSense, OPNsense, Synology, FRITZ!Box, OpenWrt, DD-WRT, ddclient, inadyn, cron")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string, opts: { owner?: string; ttl?: number; description?: string; snippets?: boolean }) => {
        const { hostname: h, token, createdOwner } = await rc.res.createHost({ name, ttl: opts.ttl, owner: opts.owner, description: opts.description });
        const value = token.tokenValue;
        const updateUrl = `${rc.base}/nic/update?hostname=${h.hostname}&token=${value}`;
        print(rc, { hostname: h, token, updateUrl, ...(createdOwner ? { createdOwner } : {}) }, [
          ...(createdOwner
            ? [
                `Created user ${createdOwner} (no password yet: "ipkeep user add ${createdOwner}", "ipkeep user invite ${createdOwner}" or the admin setup code gives one).`,
              ]
            : []),
          `Created ${h.hostname}.`,
          `Update token (shown once, keep it secret):`,
          `  ${value}`,
          `Update URL:`,
          `  ${updateUrl}`,
          ...(opts.snippets ? routerSnippets : compactSnippet)({ base: rc.base, hostname: h.hostname, token: value }),
        ]);
      }),
    );
  host
    .command("list")
    .description("list hostnames")
    .option("--owner <email>", "only this owner's (local only)")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, opts: { owner?: string }) => {
        const rows = await rc.res.listHosts({ owner: opts.owner });
        print(rc, rows, table([["HOSTNAME", "IPV4", "IPV6", "TTL"], ...rows.map((h) => [h.hostname, h.ipv4 ?? "-", h.ipv6 ?? "-", String(h.ttl)])]));
      }),
    );
  host
    .command("show <name>")
    .description("one hostname")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string) => {
        const h = await hostByName(rc.res, name);
        print(rc, h, [
          `hostname  ${h.hostname}`,
          `ipv4      ${h.ipv4 ?? "-"}`,
          `ipv6      ${h.ipv6 ?? "-"}`,
          `ipv6 ifid ${h.ipv6InterfaceId ?? "- (low 64 bits of the last AAAA)"}`,
          `ttl       ${h.ttl}`,
          ...(h.description ? [`note      ${h.description}`] : []),
        ]);
      }),
    );
  host
    .command("set <name>")
    .description("change a hostname's settings")
    .option("--ipv6-ifid <id>", 'IPv6 interface id kept across prefix updates: ::abcd, or any address of the machine ("" clears it)')
    .option("--ttl <seconds>", "TTL of its A/AAAA records", (v) => (/^\d{1,10}$/.test(v) ? Number(v) : Number.NaN))
    .option("--description <text>", "a note for its owner")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string, opts: { ipv6Ifid?: string; ttl?: number; description?: string }) => {
        if (opts.ipv6Ifid === undefined && opts.ttl === undefined && opts.description === undefined) {
          fail("invalid_input", "Nothing to set: give --ipv6-ifid, --ttl or --description");
        }
        const h = await hostByName(rc.res, name);
        const ifid = opts.ipv6Ifid === undefined ? undefined : opts.ipv6Ifid.trim() === "" ? null : opts.ipv6Ifid;
        const updated = await rc.res.updateHost(h.id, { ipv6InterfaceId: ifid, ttl: opts.ttl, description: opts.description });
        print(rc, updated, [
          `${updated.hostname}: ttl ${updated.ttl}`,
          `  IPv6 interface id ${updated.ipv6InterfaceId ?? "- (the low 64 bits of the last AAAA are used)"}`,
          ...(updated.description ? [`  note ${updated.description}`] : []),
        ]);
      }),
    );
  host
    .command("log <name>")
    .description("update history of a hostname, newest first")
    .option("--limit <n>", "entries to show (default 50)", (v) => Number(v))
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string, opts: { limit?: number }) => {
        const limit = opts.limit ?? 50;
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) fail("invalid_input", "--limit must be between 1 and 10000");
        const h = await hostByName(rc.res, name);
        const rows = await rc.res.hostLog(h.id, limit);
        const addrs = (v4: string | null, v6: string | null) => [v4, v6].filter(Boolean).join(",") || "-";
        print(
          rc,
          rows,
          rows.length === 0
            ? `No updates logged for ${h.hostname}`
            : table([
                ["TIME", "RESULT", "SOURCE", "OLD", "NEW", "USER AGENT"],
                ...rows.map((r) => [
                  r.at ?? "-",
                  r.result,
                  r.source ?? "-",
                  addrs(r.oldIpv4, r.oldIpv6),
                  r.result === "good" || r.result === "nochg" ? addrs(r.newIpv4, r.newIpv6) : "-",
                  r.userAgent ?? "-",
                ]),
              ]),
        );
      }),
    );
  host
    .command("rm <name>")
    .description("delete a hostname with its tokens and records")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string) => {
        const h = await hostByName(rc.res, name);
        await rc.res.removeHost(h.id);
        print(rc, { removed: h.hostname }, `Removed ${h.hostname}`);
      }),
    );
}
