import type { Command } from "commander";
import { fail } from "../core/errors";
import type { TokenSecretView, TokenView } from "../core/views";
import { collect, print, table } from "./common";
import { hostByName, idArg, resourceAction } from "./remote";

const tsigText = (t: TokenView) => (t.tsig ? `${t.tsig.name} ${t.tsig.algorithm}${t.tsig.weak ? " (weak)" : ""}` : "-");
const tokenRow = (t: TokenView) => [String(t.id), t.hint, t.scope, t.hostnames.join(",") || "*", tsigText(t), t.label];

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
  token
    .command("create")
    .description("a token covering one or several hostnames (--host, repeatable) or all of an owner's (--all)")
    .option("--host <name>", "hostname to cover (repeatable)", collect, [])
    .option("--all", "cover all of the owner's hostnames, present and future")
    .option("--owner <email>", "owner, with --all (default: the first admin; local only)")
    .option("--label <text>", "a label to recognise it by", "")
    .option("--tsig", "also a TSIG key for DNS UPDATE (RFC 2136: nsupdate, lego, certbot), shown once")
    .option("--tsig-algorithm <name>", "the key's algorithm: hmac-sha256 (default), hmac-sha224, hmac-sha384, hmac-sha512, or hmac-md5 / hmac-sha1 for clients that need them (implies --tsig)")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, opts: { host: string[]; all?: boolean; owner?: string; label: string; tsig?: boolean; tsigAlgorithm?: string }) => {
        if (!!opts.all === opts.host.length > 0) fail("invalid_input", "Give either --host NAME (repeatable) or --all");
        const tsig = opts.tsig || opts.tsigAlgorithm !== undefined ? { tsig: true, tsigAlgorithm: opts.tsigAlgorithm } : {};
        const issued = opts.all
          ? await rc.res.createToken({ allHostnames: true, label: opts.label, owner: opts.owner, ...tsig })
          : await rc.res.createToken({ hostnameIds: await Promise.all(opts.host.map(async (n) => (await hostByName(rc.res, n)).id)), label: opts.label, ...tsig });
        print(rc, { token: issued }, [`Token ${issued.id} (${issued.scope}). Shown once, keep it secret:`, `  ${issued.tokenValue}`, ...keyLines(issued.tsig)]);
      }),
    );
  token
    .command("list")
    .description("list tokens (hints only; values are never stored)")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc) => {
        const rows = await rc.res.listTokens();
        print(rc, rows, table([["ID", "HINT", "SCOPE", "HOSTNAMES", "TSIG KEY", "LABEL"], ...rows.map(tokenRow)]));
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
