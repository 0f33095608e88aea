import type { Command } from "commander";
import { createZone, parseNameserverSpec, removeZone } from "../core/zones";
import { action, collect, print, table } from "./common";

export function registerDomain(program: Command): void {
  const domain = program.command("domain").description("served zones");
  domain
    .command("add <name>")
    .description("serve a new zone")
    .requiredOption("--ns <name[=ipv4[,ipv6]]>", "nameserver (repeatable)", collect)
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string, opts: { ns: string[] }) => {
        const d = createZone(ctx, { name, nameservers: opts.ns.map(parseNameserverSpec) });
        print(ctx, { domain: d }, `Created zone ${d.name} (serial ${d.serial})`);
      }),
    );
  domain
    .command("list")
    .description("list zones")
    .option("--json", "machine-readable output")
    .action(
      action((ctx) => {
        const rows = ctx.store.domains.list();
        print(ctx, rows, table([["NAME", "KIND", "SERVED", "SERIAL"], ...rows.map((d) => [d.name, d.kind, d.verified ? "yes" : "no", String(d.serial)])]));
      }),
    );
  domain
    .command("rm <name>")
    .description("stop serving a zone and delete its hostnames and records")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string) => {
        const d = removeZone(ctx, name);
        print(ctx, { removed: d.name }, `Removed zone ${d.name}`);
      }),
    );
}
