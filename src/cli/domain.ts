import { type Command, InvalidArgumentError } from "commander";
import { IpkeepError } from "../core/errors";
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
  ...(d.dnssec
    ? [
        `DNSSEC: ${d.dnssec.state}${d.dnssec.found.length ? ` (parent DS: ${d.dnssec.found.join("; ")})` : ""}`,
        ...(d.dnssec.advice ? [`  ${d.dnssec.advice}`] : []),
      ]
    : []),
];

function algorithmOption(v: string): "ecdsap256sha256" | "ed25519" {
  const a = v.toLowerCase();
  if (a !== "ecdsap256sha256" && a !== "ed25519") throw new InvalidArgumentError("--algorithm: one of ecdsap256sha256, ed25519");
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
            : [
                `Added ${d.name}; not served until verified.`,
                "Delegate it at the parent (registrar):",
                ...d.nameservers.map((n) => `  ${d.name}. IN NS ${n}.`),
                `then: ipkeep domain verify ${d.name}`,
              ],
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
        print(rc, { domain: d }, [
          `${d.name} NS: ${d.nameservers.join(", ")} (serial ${d.serial})`,
          "Update the delegation (NS and glue) at the parent zone to match.",
        ]);
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
    .description("sign a zone (on: the default) or serve it unsigned (off)")
    .option("--algorithm <name>", "the zone's first key: ecdsap256sha256 (default) or ed25519", algorithmOption)
    .option("--now", "off at once, without withdrawing through the CDS delete records first")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string, state: string, opts: { algorithm?: "ecdsap256sha256" | "ed25519"; now?: boolean }) => {
        if (state !== "on" && state !== "off") throw new IpkeepError("invalid_input", `expected on or off, not "${state}"`);
        const d = await domainByName(rc.res, name);
        const r = await rc.res.setDnssec(d.id, state === "on", opts.algorithm, opts.now === true);
        print(
          rc,
          { dnssec: r },
          r.withdrawing
            ? [
                `${d.name} stays signed, its CDS and CDNSKEY now saying "delete the DS" (RFC 8078).`,
                "Remove the DS at the registrar (a parent that reads CDS does it by itself); once ipkeep domain status shows no DS:",
                `ipkeep domain dnssec ${d.name} off --now`,
              ]
            : r.dnssec
              ? [`${d.name} is signed (key ${r.keyTag}, algorithm ${r.algorithm}).`, `Give the parent its DS: ipkeep domain ds ${d.name}`]
              : [
                  `${d.name} is served unsigned.`,
                  "If the parent still has a DS for it, remove it there now: validating resolvers fail the zone while it stays.",
                ],
        );
      }),
    );
  domain
    .command("ds <zone>")
    .description("the DS record (SHA-256) and DNSKEY to give the parent zone (registrar)")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, name: string) => {
        const info = await rc.res.dnssecDs((await domainByName(rc.res, name)).id);
        print(rc, info, [info.ds, info.dnskey, `key tag ${info.keyTag}, algorithm ${info.algorithm}, digest type ${info.digestType}, digest ${info.digest}`]);
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
