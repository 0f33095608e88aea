import type { Command } from "commander";
import { fail } from "../core/errors";
import type { TokenView } from "../core/views";
import { collect, print, table } from "./common";
import { hostByName, idArg, resourceAction } from "./remote";

const tokenRow = (t: TokenView) => [String(t.id), t.hint, t.scope, t.hostnames.join(",") || "*", t.label];

export function registerToken(program: Command): void {
  const token = program.command("token").description("update tokens (local database, or the API with --server)");
  token
    .command("create")
    .description("a token covering one or several hostnames (--host, repeatable) or all of an owner's (--all)")
    .option("--host <name>", "hostname to cover (repeatable)", collect, [])
    .option("--all", "cover all of the owner's hostnames, present and future")
    .option("--owner <email>", "owner, with --all (default: the first admin; local only)")
    .option("--label <text>", "a label to recognise it by", "")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, opts: { host: string[]; all?: boolean; owner?: string; label: string }) => {
        if (!!opts.all === opts.host.length > 0) fail("invalid_input", "Give either --host NAME (repeatable) or --all");
        const issued = opts.all
          ? await rc.res.createToken({ allHostnames: true, label: opts.label, owner: opts.owner })
          : await rc.res.createToken({ hostnameIds: await Promise.all(opts.host.map(async (n) => (await hostByName(rc.res, n)).id)), label: opts.label });
        print(rc, { token: issued }, [`Token ${issued.id} (${issued.scope}). Shown once, keep it secret:`, `  ${issued.tokenValue}`]);
      }),
    );
  token
    .command("list")
    .description("list tokens (hints only; values are never stored)")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc) => {
        const rows = await rc.res.listTokens();
        print(rc, rows, table([["ID", "HINT", "SCOPE", "HOSTNAMES", "LABEL"], ...rows.map(tokenRow)]));
      }),
    );
  token
    .command("regenerate <id>")
    .description("replace a token's secret; the old value stops working at once")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, id: string) => {
        const issued = await rc.res.regenerateToken(idArg(id, "Token"));
        print(rc, { token: issued }, [`New value for token ${issued.id} (shown once):`, `  ${issued.tokenValue}`]);
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
