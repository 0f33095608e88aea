/**
 * `ipkeep zone import|export|soa`: master files in and out, SOA timers. Parsing and writing
 * the file format is dns/zonefile.ts; what an import does to a zone is core/zone-contents.ts.
 */
import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { IpkeepError } from "../core/errors";
import { nowSeconds } from "../core/platform";
import { importZone, setZoneSoa } from "../core/zone-contents";
import { nameKey } from "../dns/dname";
import { parsePeriod } from "../dns/rdata";
import { buildZone } from "../dns/zone";
import { exportZone, parseZoneFile, ZoneFileError } from "../dns/zonefile";
import { action, print } from "./common";

function zoneKey(input: string): string {
  try {
    return nameKey(input);
  } catch (e) {
    throw new IpkeepError("invalid_hostname", `Invalid zone name "${input}": ${(e as Error).message}`);
  }
}

function period(label: string) {
  return (v: string) => {
    try {
      return parsePeriod(v);
    } catch (e) {
      throw new InvalidArgumentError(`--${label}: ${(e as Error).message}`);
    }
  };
}

export function registerZone(program: Command): void {
  const zone = program.command("zone").description("zone files and SOA settings");
  zone
    .command("import <file>")
    .description("serve a zone exactly as an RFC 1035 master file says (all or nothing; replaces an existing zone's records)")
    .option("--zone <name>", "the zone's name (and origin) when the file has no $ORIGIN")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, file: string, opts: { zone?: string }) => {
        let text: string;
        try {
          text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
        } catch (e) {
          throw new IpkeepError("invalid_input", `Cannot read ${file}: ${(e as Error).message}`);
        }
        let parsed: ReturnType<typeof parseZoneFile>;
        try {
          parsed = parseZoneFile(text, { zone: opts.zone === undefined ? undefined : zoneKey(opts.zone) });
        } catch (e) {
          if (e instanceof ZoneFileError) {
            throw new IpkeepError("invalid_input", `${file}: nothing imported:\n${e.problems.map((p) => `  ${file}:${p.line}: ${p.message}`).join("\n")}`);
          }
          throw e;
        }
        if (opts.zone && zoneKey(opts.zone) !== parsed.name) {
          throw new IpkeepError("invalid_input", `${file} holds ${parsed.name}, not ${zoneKey(opts.zone)}`);
        }
        const r = importZone(ctx, parsed);
        if (r.serialNote) process.stderr.write(`ipkeep: note: ${r.serialNote}\n`);
        const hosts = r.hostnames ? `; addresses of ${r.hostnames} hostname${r.hostnames === 1 ? "" : "s"} set` : "";
        print(ctx, r, `${r.replaced ? "Replaced" : "Imported"} zone ${r.name}: ${r.records} records, serial ${r.serial}${hosts}`);
      }),
    );
  zone
    .command("export <zone>")
    .description("print a zone as a master file that NSD and BIND load")
    .action(
      action((ctx, name: string) => {
        const d = ctx.store.domains.byName(zoneKey(name));
        if (!d) throw new IpkeepError("unknown_zone", `Domain ${zoneKey(name)} not found`);
        const data = ctx.store.domains.zoneData(d.id, nowSeconds(ctx.platform.clock));
        if (!data) throw new IpkeepError("unknown_zone", `Domain ${zoneKey(name)} not found`);
        process.stdout.write(exportZone(buildZone(data)));
      }),
    );
  zone
    .command("soa <zone>")
    .description("set SOA timers (seconds or 1h/2d/1w style); bumps the serial")
    .option("--refresh <time>", "secondaries check for changes this often", period("refresh"))
    .option("--retry <time>", "and retry this often after a failure", period("retry"))
    .option("--expire <time>", "secondaries stop answering after this long without the primary", period("expire"))
    .option("--minimum <time>", "negative-answer TTL bound (RFC 2308)", period("minimum"))
    .option("--ttl <time>", "TTL of the SOA record itself", period("ttl"))
    .option("--json", "machine-readable output")
    .action(
      action((ctx, name: string, opts: { refresh?: number; retry?: number; expire?: number; minimum?: number; ttl?: number }) => {
        const r = setZoneSoa(ctx, zoneKey(name), { refresh: opts.refresh, retry: opts.retry, expire: opts.expire, minimum: opts.minimum, ttl: opts.ttl });
        print(ctx, { zone: zoneKey(name), ...r }, `Updated SOA of ${zoneKey(name)} (serial ${r.serial})`);
      }),
    );
}
