import { type Command, InvalidArgumentError } from "commander";
import { IpkeepError } from "../core/errors";
import { canonicalName } from "../core/names";
import { nowSeconds } from "../core/platform";
import type { DelegationView } from "../core/resources";
import { ALGORITHMS, type Algorithm } from "../dns/dnssec/keys";
import { dsFor, setSigning } from "../dns/dnssec/manage";
import { action, type CliContext, collect, print, table } from "./common";
import { confirmOrRefuse } from "./confirm";
import { domainByName, resourceAction } from "./remote";

const delegationLines = (d: DelegationView) => [
  `${d.domain}: ${d.delegated ? "delegated here" : "NOT delegated here"}${d.verified ? " (verified, served)" : ""}`,
  `  expected NS: ${d.expected.join(", ")}`,
  `  parent lists: ${d.found.join(", ") || "nothing"}`,
  ...(d.missing.length ? [`  missing: ${d.missing.join(", ")}`] : []),
  ...(d.unexpected.length ? [`  not ours: ${d.unexpected.join(", ")}`] : []),
];

function zoneRow(ctx: CliContext, name: string) {
  const want = canonicalName(name.trim());
  const d = ctx.store.domains.byName(want) ?? ctx.store.domains.list().find((x) => String(x.id) === want);
  if (!d) throw new IpkeepError("not_found", `No zone ${want}`);
  return d;
}

function algorithmOption(v: string): Algorithm {
  const a = ALGORITHMS[v.toLowerCase()];
  if (a === undefined) throw new InvalidArgumentError(`--algorithm: one of ${Object.keys(ALGORITHMS).join(", ")}`);
  return a;
}

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
    .command("dnssec <zone> <on|off>")
    .description("sign a zone (on: the default) or serve it unsigned (off); local database only")
    .option("--algorithm <name>", "the zone's first key: ecdsap256sha256 (default) or ed25519", algorithmOption)
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string, state: string, opts: { algorithm?: Algorithm }) => {
        if (state !== "on" && state !== "off") throw new IpkeepError("invalid_input", `expected on or off, not "${state}"`);
        const d = zoneRow(ctx, name);
        const r = setSigning(ctx.store.dnssec, d.id, state === "on", nowSeconds(ctx.platform.clock), opts.algorithm);
        print(
          ctx,
          { zone: d.name, dnssec: r.on, keyTag: r.key?.tag ?? null, algorithm: r.key?.algorithm ?? null },
          r.on
            ? [`${d.name} is signed (key ${r.key!.tag}, algorithm ${r.key!.algorithm}).`, `Give the parent its DS: ipkeep domain ds ${d.name}`]
            : [`${d.name} is served unsigned.`, "If the parent has a DS for it, remove the DS there first: validating resolvers fail the zone while it stays."],
        );
      }),
    );
  domain
    .command("ds <zone>")
    .description("the DS record (SHA-256) and DNSKEY to give the parent zone (registrar); local database only")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string) => {
        const d = zoneRow(ctx, name);
        const info = dsFor(ctx.store.dnssec, d.id, d.name, nowSeconds(ctx.platform.clock));
        print(ctx, info, [
          info.ds,
          info.dnskey,
          `key tag ${info.keyTag}, algorithm ${info.algorithm}, digest type ${info.digestType}, digest ${info.digest}`,
        ]);
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
