import type { Command } from "commander";
import type { HostRow } from "../core/ports";
import { hostView } from "../core/views";
import { print, table } from "./common";
import { hostByName, resourceAction } from "./remote";

/** The JSON shape of a hostname (the API's). */
export const hostJson = (h: HostRow) => hostView(h);

export function registerHost(program: Command): void {
  const host = program.command("host").description("dynamic hostnames (local database, or the API with --server)");
  host
    .command("add <name>")
    .description("create a hostname and print its update token (shown once)")
    .option("--owner <email>", "owner (default: the first admin; local only)")
    .option("--ttl <seconds>", "TTL of its A/AAAA records", (v) => Number(v))
    .option("--description <text>", "a note for its owner")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string, opts: { owner?: string; ttl?: number; description?: string }) => {
        const { hostname: h, token } = await rc.res.createHost({ name, ttl: opts.ttl, owner: opts.owner, description: opts.description });
        const value = token.tokenValue;
        const updateUrl = `${rc.base}/nic/update?hostname=${h.hostname}&token=${value}`;
        print(rc, { hostname: h, token, updateUrl }, [
          `Created ${h.hostname}.`,
          `Update token (shown once, keep it secret):`,
          `  ${value}`,
          `Update URL:`,
          `  ${updateUrl}`,
          `curl:`,
          `  curl -u "token:${value}" "${rc.base}/nic/update?hostname=${h.hostname}&myip=203.0.113.10"`,
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
          `ttl       ${h.ttl}`,
          ...(h.description ? [`note      ${h.description}`] : []),
        ]);
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
