import type { Command } from "commander";
import { issueSetupCode } from "../core/setup";
import { action, print, table } from "./common";

export function registerUser(program: Command): void {
  const user = program.command("user").description("accounts");
  user
    .command("setup-code")
    .description("issue a new one-time admin setup code (only while no admin exists)")
    .option("--json", "machine-readable output")
    .action(
      action((ctx) => {
        const s = issueSetupCode(ctx);
        print(ctx, s, [`Admin setup code (single use, expires ${s.expiresAt}):`, `  ${s.setupCode}`]);
      }),
    );
  user
    .command("list")
    .description("list users")
    .option("--json", "machine-readable output")
    .action(
      action((ctx) => {
        const rows = ctx.store.users.list();
        print(ctx, rows, table([["ID", "EMAIL", "ROLE", "DISABLED"], ...rows.map((u) => [String(u.id), u.email, u.role, u.disabled ? "yes" : "no"])]));
      }),
    );
}
