import type { Command } from "commander";
import { ensureJwtSecret } from "../core/auth";
import { fail } from "../core/errors";
import { issueSetupCode } from "../core/setup";
import { PUBLIC_URL_SETTING } from "../core/urls";
import { createZone, type NameserverSpec, parentDelegation, parseNameserverSpec } from "../core/zones";
import { nowSeconds } from "../core/platform";
import { action, type CliContext, collect, print } from "./common";
import { canonicalName, inZone } from "../core/names";

/** The names answered with only A / only AAAA, so a client can learn one family's address. */
function familyNames(ctx: CliContext, zoneId: number, zone: string, nameservers: NameserverSpec[]): string[] {
  const v4 = nameservers.find((n) => n.ipv4)?.ipv4 ?? null;
  const v6 = nameservers.find((n) => n.ipv6)?.ipv6 ?? null;
  const now = nowSeconds(ctx.platform.clock);
  const made: string[] = [];
  if (v4) {
    ctx.store.records.create({ domainId: zoneId, name: `ip4.${zone}`, type: "A", ttl: 300, content: v4 }, now);
    made.push(`ip4.${zone}`);
  }
  if (v6) {
    ctx.store.records.create({ domainId: zoneId, name: `ip6.${zone}`, type: "AAAA", ttl: 300, content: v6 }, now);
    made.push(`ip6.${zone}`);
  }
  return made;
}

/**
 * The web address's own A/AAAA (issue 13): `init --url https://NAME` with NAME in (or at the
 * apex of) a zone made now points NAME at the nameserver's addresses, like ip4/ip6. The name
 * is reserved (core/reserved.ts), so only init writes there, straight through the store.
 */
function webAddressRecords(ctx: CliContext, zoneId: number, zone: string, nameservers: NameserverSpec[]): string[] {
  if (!ctx.config.url) return [];
  let host: string;
  try {
    host = canonicalName(new URL(ctx.config.url).hostname);
  } catch {
    return [];
  }
  if (!inZone(host, zone)) return [];
  const now = nowSeconds(ctx.platform.clock);
  if (ctx.store.records.atName(zoneId, host, now).length) return [];
  const v4 = nameservers.find((n) => n.ipv4)?.ipv4 ?? null;
  const v6 = nameservers.find((n) => n.ipv6)?.ipv6 ?? null;
  const made: string[] = [];
  if (v4) {
    ctx.store.records.create({ domainId: zoneId, name: host, type: "A", ttl: 300, content: v4 }, now);
    made.push(`${host} A ${v4}`);
  }
  if (v6) {
    ctx.store.records.create({ domainId: zoneId, name: host, type: "AAAA", ttl: 300, content: v6 }, now);
    made.push(`${host} AAAA ${v6}`);
  }
  return made;
}

/** The first admin's link: the code in the fragment, so it never reaches a server log. */
export function setupLink(base: string | null, code: string): string | null {
  return base?.startsWith("https://") ? `${base}/setup#${code}` : null;
}

/** The install's secrets (core's ensureJwtSecret, the one way it is made); true when made now. */
export function ensureSecrets(ctx: CliContext): boolean {
  if (ctx.store.settings.get("jwt_secret")) return false;
  ensureJwtSecret(ctx);
  return true;
}

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("create the data directory, database, secrets and served zone(s); print the admin setup code")
    .requiredOption("--zone <name>", "zone to serve, e.g. dyn.example.com (repeatable)", collect)
    .requiredOption("--ns <name[=ipv4[,ipv6]]>", "nameserver name, with glue addresses when inside the zone (repeatable)", collect)
    .option("--url <base>", "public base URL of this server, e.g. https://ddns.example.com")
    .option("--json", "machine-readable output")
    .action(
      action(
        (ctx, opts: { zone: string[]; ns: string[] }) => {
          const nameservers = opts.ns.map(parseNameserverSpec);
          const lines: string[] = [];
          const created: string[] = [];
          const changed = ctx.store.transaction(() => {
            let any = ensureSecrets(ctx);
            if (ctx.config.url) {
              if (ctx.store.settings.get(PUBLIC_URL_SETTING) !== ctx.config.url) {
                ctx.store.settings.set(PUBLIC_URL_SETTING, ctx.config.url);
                any = true;
              }
            }
            for (const zoneName of opts.zone) {
              const zone = createZoneIfNew(ctx, zoneName, nameservers);
              if (zone) {
                any = true;
                created.push(zone.name);
                const fam = familyNames(ctx, zone.id, zone.name, nameservers);
                const web = webAddressRecords(ctx, zone.id, zone.name, nameservers);
                lines.push(`Created zone ${zone.name} (NS ${nameservers.map((n) => n.name).join(", ")})`);
                if (fam.length) lines.push(`  what-is-my-IP names: ${fam.join(", ")}`);
                if (web.length) lines.push(`  web address: ${web.join(", ")}`);
              } else {
                lines.push(`Zone ${zoneName} already exists; unchanged`);
              }
            }
            return any;
          });
          let setup: { setupCode: string; expiresAt: string } | null = null;
          if (changed && !ctx.store.users.firstAdmin()) setup = issueSetupCode(ctx);
          if (!changed) lines.unshift(`Already initialised in ${ctx.config.data}; nothing changed.`);
          const link = setup ? setupLink(ctx.config.url ?? ctx.store.settings.get(PUBLIC_URL_SETTING), setup.setupCode) : null;
          if (setup) {
            lines.push("", `Admin setup code (single use, expires ${setup.expiresAt}):`, `  ${setup.setupCode}`);
            if (link) lines.push("Open this link once the server has its certificate, to create the first admin:", `  ${link}`);
            lines.push(`Or use it once with POST /api/auth/setup {"code","email","password"}.`);
          } else if (!ctx.store.users.firstAdmin()) {
            lines.push(`No admin yet: "ipkeep user setup-code" prints a new setup code.`);
          }
          const delegation = created.map((zone) => ({ zone, ...parentDelegation(zone, nameservers) }));
          for (const d of delegation) {
            lines.push("", `Create this delegation for ${d.zone} at your registrar / parent zone:`, ...d.ns.map((l) => `  ${l}`));
            if (d.glue.length) lines.push("and the glue (the nameservers inside the zone need their addresses there too):", ...d.glue.map((l) => `  ${l}`));
          }
          print(ctx, { changed, zones: created, delegation, ...(setup ?? {}), ...(link ? { setupLink: link } : {}) }, lines);
        },
        { create: true },
      ),
    );
}

function createZoneIfNew(ctx: CliContext, name: string, nameservers: NameserverSpec[]) {
  const existing = ctx.store.domains.byName(canonicalName(name));
  if (existing) {
    if (existing.kind !== "builtin") fail("conflict", `${existing.name} exists as a custom domain`);
    return null;
  }
  return createZone(ctx, { name, nameservers });
}
