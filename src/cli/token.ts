import type { Command } from "commander";
import { fail } from "../core/errors";
import type { TokenPolicyInput } from "../core/token-policy";
import type { TokenSecretView, TokenView } from "../core/views";
import { collect, print, table } from "./common";
import { hostByName, idArg, resourceAction } from "./remote";

const tsigText = (t: TokenView) => (t.tsig ? `${t.tsig.name} ${t.tsig.algorithm}${t.tsig.weak ? " (weak)" : ""}` : "-");
const policyText = (t: TokenView) => {
  const p = t.policy;
  if (!p) return "-";
  const parts: string[] = [];
  if (p.names) parts.push(`names=${p.names.join(",")}`);
  if (p.types) parts.push(`types=${p.types.join(",")}`);
  if (p.networks) parts.push(`from=${p.networks.join(",")}`);
  if (p.expiresAt) parts.push(`expires=${p.expiresAt}`);
  if (p.maxUnusedSeconds !== null) parts.push(`max-unused=${p.maxUnusedSeconds}s`);
  return parts.join(" ");
};
const tokenRow = (t: TokenView) => [String(t.id), t.hint, t.scope, t.hostnames.join(",") || "*", tsigText(t), policyText(t), t.label];

/** "90", "90s", "15m", "12h", "30d", "2w" in seconds; invalid_input otherwise. */
function duration(text: string, flag: string): number {
  const m = /^(\d{1,9})([smhdw]?)$/.exec(text.trim());
  if (!m) fail("invalid_input", `${flag} must be a duration such as 90s, 15m, 12h, 30d or 2w`);
  return Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[m[2] as "" | "s" | "m" | "h" | "d" | "w"];
}

interface PolicyFlags {
  onlyName: string[];
  onlyType: string[];
  from: string[];
  expires?: string;
  maxUnused?: string;
  anyName?: boolean;
  anyType?: boolean;
  fromAnywhere?: boolean;
}

/** The policy flags of token create / token set, as core's input (absent: unchanged; null: cleared). */
function policyFlags(o: PolicyFlags): TokenPolicyInput {
  const now = Math.floor(Date.now() / 1000);
  const out: TokenPolicyInput = {};
  if (o.onlyName.length) out.names = o.onlyName;
  if (o.anyName) out.names = null;
  if (o.onlyType.length) out.types = o.onlyType;
  if (o.anyType) out.types = null;
  if (o.from.length) out.networks = o.from;
  if (o.fromAnywhere) out.networks = null;
  if (o.expires !== undefined) {
    if (o.expires === "never") out.expiresAt = null;
    else if (/^\d{1,9}[smhdw]?$/.test(o.expires)) out.expiresAt = now + duration(o.expires, "--expires");
    else {
      const ms = Date.parse(o.expires);
      if (!Number.isFinite(ms)) fail("invalid_input", "--expires must be a duration (30d), a date or time (2027-01-31, 2027-01-31T12:00:00Z) or never");
      out.expiresAt = Math.floor(ms / 1000);
    }
  }
  if (o.maxUnused !== undefined) out.maxUnusedSeconds = o.maxUnused === "never" ? null : duration(o.maxUnused, "--max-unused");
  return out;
}

function policyOptions(c: Command, forSet: boolean): Command {
  c.option("--only-name <name>", "policy: change only this name and what is below it (a hostname of the token, or below one; repeatable)", collect, [])
    .option("--only-type <type>", "policy: change only this record type: A, AAAA or TXT (repeatable)", collect, [])
    .option("--from <cidr>", "policy: accept it only from this address or network (repeatable; acme-dns's allowfrom)", collect, [])
    .option("--expires <when>", "policy: stop working after a duration (30d), at a date or time (2027-01-31), or never")
    .option("--max-unused <duration>", "policy: stop working after this long unused (30d, 12h), or never");
  if (forSet) {
    c.option("--any-name", "policy: drop the name limit")
      .option("--any-type", "policy: drop the type limit")
      .option("--from-anywhere", "policy: drop the network limit");
  }
  return c;
}

/** The key's lines for a person (nsupdate's key file form too); --json has the same fields. */
function keyLines(k: TokenSecretView["tsig"]): string[] {
  if (!k) return [];
  return [
    `DNS UPDATE key (shown once): name ${k.name}, algorithm ${k.algorithm}${k.weak ? " (weak: MD5/SHA-1, only for clients that need it)" : ""}`,
    `  secret ${k.secret}`,
    `  for nsupdate -k FILE:  key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`,
  ];
}

export function registerToken(program: Command): void {
  const token = program.command("token").description("update tokens (local database, or the API with --server)");
  policyOptions(token.command("create"), false)
    .description("a token covering one or several hostnames (--host, repeatable) or all of an owner's (--all)")
    .option("--host <name>", "hostname to cover (repeatable)", collect, [])
    .option("--all", "cover all of the owner's hostnames, present and future")
    .option("--owner <email>", "owner, with --all (default: the first admin; local only)")
    .option("--label <text>", "a label to recognise it by", "")
    .option("--tsig", "also a TSIG key for DNS UPDATE (RFC 2136: nsupdate, lego, certbot), shown once")
    .option(
      "--tsig-algorithm <name>",
      "the key's algorithm: hmac-sha256 (default), hmac-sha224, hmac-sha384, hmac-sha512, or hmac-md5 / hmac-sha1 for clients that need them (implies --tsig)",
    )
    .option("--json", "machine-readable output")
    .action(
      resourceAction(
        async (rc, opts: { host: string[]; all?: boolean; owner?: string; label: string; tsig?: boolean; tsigAlgorithm?: string } & PolicyFlags) => {
          if (!!opts.all === opts.host.length > 0) fail("invalid_input", "Give either --host NAME (repeatable) or --all");
          const policy = policyFlags(opts);
          const tsig = {
            ...(opts.tsig || opts.tsigAlgorithm !== undefined ? { tsig: true, tsigAlgorithm: opts.tsigAlgorithm } : {}),
            ...(Object.keys(policy).length ? { policy } : {}),
          };
          const issued = opts.all
            ? await rc.res.createToken({ allHostnames: true, label: opts.label, owner: opts.owner, ...tsig })
            : await rc.res.createToken({
                hostnameIds: await Promise.all(opts.host.map(async (n) => (await hostByName(rc.res, n)).id)),
                label: opts.label,
                ...tsig,
              });
          print(rc, { token: issued }, [
            `Token ${issued.id} (${issued.scope}). Shown once, keep it secret:`,
            `  ${issued.tokenValue}`,
            ...keyLines(issued.tsig),
          ]);
        },
      ),
    );
  token
    .command("list")
    .description("list tokens (hints only; values are never stored)")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc) => {
        const rows = await rc.res.listTokens();
        print(rc, rows, table([["ID", "HINT", "SCOPE", "HOSTNAMES", "TSIG KEY", "POLICY", "LABEL"], ...rows.map(tokenRow)]));
      }),
    );
  policyOptions(token.command("set <id>"), true)
    .description("change a token's policy (what it may change, from where, until when); flags not given stay as they are")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, id: string, opts: PolicyFlags) => {
        const input = policyFlags(opts);
        if (Object.keys(input).length === 0) fail("invalid_input", "Give at least one policy flag (see ipkeep token set --help)");
        const t = await rc.res.setTokenPolicy(idArg(id, "Token"), input);
        print(rc, { token: t }, `Token ${t.id}: ${policyText(t) === "-" ? "no policy" : policyText(t)}`);
      }),
    );
  token
    .command("regenerate <id>")
    .description("replace a token's secret (and its DNS UPDATE key, if it has one); the old ones stop working at once")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, id: string) => {
        const issued = await rc.res.regenerateToken(idArg(id, "Token"));
        print(rc, { token: issued }, [`New value for token ${issued.id} (shown once):`, `  ${issued.tokenValue}`, ...keyLines(issued.tsig)]);
      }),
    );
  token
    .command("revoke <id>")
    .description("revoke a token")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, id: string) => {
        const n = idArg(id, "Token");
        await rc.res.removeToken(n);
        print(rc, { revoked: n }, `Revoked token ${n}`);
      }),
    );
}
