import type { Command } from "commander";
import type { DelegationView } from "../core/resources";
import { collect, print, table } from "./common";
import { confirmOrRefuse } from "./confirm";
import { domainByName, resourceAction } from "./remote";

const delegationLines = (d: DelegationView) => [
  `${d.domain}: ${d.delegated ? "delegated here" : "NOT delegated here"}${d.verified ? " (verified, served)" : ""}`,
  `  expected NS: ${d.expected.join(", ")}`,
  `  parent lists: ${d.found.join(", ") || "nothing"}`,
  ...(d.missing.length ? [`  missing: ${d.missing.join(", ")}`] : []),
  ...(d.unexpected.length ? [`  not ours: ${d.unexpected.join(", ")}`] : []),
];

export function registerDomain(program: Command): void {
  const domain = program.command("domain").description("served zones and custom domains (local database, or the API with --server)");
  domain
    .command("add <name>")
    .description("with --ns: serve a new built-in zone; without: add a custom domain to verify once delegated")
    .option("--ns <name[=ipv4[,ipv6]]>", "nameserver (repeatable)", collect, [])
    .option("--owner <email>", "a custom domain's owner (default: the first admin; local only)")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string, opts: { ns: string[]; owner?: string }) => {
        const d = await rc.res.createDomain({ name, nameservers: opts.ns.length ? opts.ns : undefined, owner: opts.owner });
        print(
          rc,
          { domain: d },
          d.kind === "builtin"
            ? `Created zone ${d.name} (serial ${d.serial})`
            : [`Added ${d.name}; not served until verified.`, "Delegate it at the parent (registrar):", ...d.nameservers.map((n) => `  ${d.name}. IN NS ${n}.`), `then: ipkeep domain verify ${d.name}`],
        );
      }),
    );
  domain
    .command("ns <zone>")
    .description("replace a built-in zone's nameservers (the whole set, in order), glue included")
    .requiredOption("--ns <name[=ipv4[,ipv6]]>", "nameserver; an address is required for names inside the zone (repeatable)", collect)
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string, opts: { ns: string[] }) => {
        const d = await rc.res.setNameservers((await domainByName(rc.res, name)).id, opts.ns);
        print(rc, { domain: d }, [`${d.name} NS: ${d.nameservers.join(", ")} (serial ${d.serial})`, "Update the delegation (NS and glue) at the parent zone to match."]);
      }),
    );
  domain
    .command("list")
    .description("list zones and domains")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc) => {
        const rows = await rc.res.listDomains();
        print(rc, rows, table([["NAME", "KIND", "SERVED", "SERIAL"], ...rows.map((d) => [d.name, d.kind, d.verified ? "yes" : "no", String(d.serial)])]));
      }),
    );
  domain
    .command("status <name>")
    .description("what the parent zone says about the domain's delegation")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string) => {
        const s = await rc.res.delegationStatus((await domainByName(rc.res, name)).id);
        print(rc, { delegation: s }, delegationLines(s));
      }),
    );
  domain
    .command("verify <name>")
    .description("check the delegation and start serving a custom domain")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string) => {
        const r = await rc.res.verifyDomain((await domainByName(rc.res, name)).id);
        print(rc, r, `${r.domain.name} verified; served from now on`);
      }),
    );
  domain
    .command("rm <name>")
    .description("stop serving a zone and delete its hostnames and records (asks; --yes when not on a terminal)")
    .option("--yes", "do not ask (required when not on a terminal)")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string, opts: { yes?: boolean }) => {
        const d = await domainByName(rc.res, name);
        await confirmOrRefuse(`Stop serving ${d.name} and delete all its hostnames, their tokens and its records?`, opts);
        await rc.res.removeDomain(d.id);
        print(rc, { removed: d.name }, `Removed zone ${d.name}`);
      }),
    );
}
