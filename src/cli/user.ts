import { PUBLIC_URL_SETTING } from "../core/urls";
import { setupLink } from "./init";
import type { Command } from "commander";
import { issueConfirmLink, issueInvite, issueResetLink, normalizeEmail, PasswordHasher, setUserDisabled, userView } from "../core/auth";
import { fail } from "../core/errors";
import { nowSeconds } from "../core/platform";
import { issueSetupCode } from "../core/setup";
import { addUser, removeUser, resetTwoFactor } from "../core/users";
import { action, type CliContext, linkBase, print, table } from "./common";
import { confirmOrRefuse } from "./confirm";
import { readPassword } from "./password-input";

const OPERATOR = { id: null, name: "cli", address: null } as const;

function userByEmail(ctx: CliContext, email: string) {
  const u = ctx.store.users.byEmail(normalizeEmail(email));
  if (!u) fail("not_found", `No user ${email}`);
  return u;
}

export function registerUser(program: Command): void {
  const user = program.command("user").description("accounts");
  user
    .command("setup-code")
    .description("issue a new one-time admin setup code (only while no admin exists)")
    .option("--json", "machine-readable output")
    .action(
      action((ctx) => {
        const s = issueSetupCode(ctx);
        const link = setupLink(ctx.config.url ?? ctx.store.settings.get(PUBLIC_URL_SETTING), s.setupCode);
        const lines = [`Admin setup code (single use, expires ${s.expiresAt}):`, `  ${s.setupCode}`];
        if (link) lines.push("Or open this link to create the first admin:", `  ${link}`);
        print(ctx, { ...s, ...(link ? { setupLink: link } : {}) }, lines);
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
  user
    .command("add")
    .description("create a user with a password (asked on the terminal, or the first line of stdin)")
    .argument("<email>", "the user's e-mail address")
    .option("--admin", "an admin (the first admin, without the setup code)")
    .option("--json", "machine-readable output")
    .action(
      action(async (ctx, email: string, opts: { admin?: boolean }) => {
        // The address is checked before the password is asked for.
        normalizeEmail(email);
        const password = await readPassword();
        const { user: u, existed } = await addUser(
          { ...ctx, passwords: new PasswordHasher(ctx.platform) },
          { email, password, role: opts.admin ? "admin" : "user" },
          OPERATOR,
        );
        const view = userView(ctx.store.accounts.byId(u.id)!);
        print(ctx, view, `${existed ? "Set a password for" : "Created"} ${u.role === "admin" ? "admin" : "user"} ${u.email} (id ${u.id})`);
      }),
    );
  user
    .command("rm")
    .description("delete a user with its hostnames, tokens, custom domains and API keys")
    .argument("<email>", "the user's e-mail address")
    .option("--yes", "do not ask (required when not on a terminal)")
    .option("--json", "machine-readable output")
    .action(
      action(async (ctx, email: string, opts: { yes?: boolean }) => {
        const u = userByEmail(ctx, email);
        const hosts = ctx.store.hosts.list(u.id).length;
        await confirmOrRefuse(`Delete ${u.email} and its ${hosts} hostname(s), tokens, custom domains and API keys?`, opts);
        const r = removeUser(ctx, u.id, OPERATOR);
        print(
          ctx,
          { removed: r.email, hostnames: r.hostnames, domains: r.domains },
          `Removed ${r.email} (${r.hostnames} hostname(s), ${r.domains} custom domain(s))`,
        );
      }),
    );
  user
    .command("reset-2fa")
    .description("turn off a user's two-factor authentication (lost phone); signs the user out everywhere")
    .argument("<email>", "the user's e-mail address")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, email: string) => {
        const u = userByEmail(ctx, email);
        const r = resetTwoFactor(ctx, u.id, OPERATOR);
        print(
          ctx,
          { id: u.id, email: u.email, twoFactorWasEnabled: r.wasEnabled },
          r.wasEnabled
            ? `Two-factor authentication of ${u.email} is off; the password alone signs in (turn it on again in the account)`
            : `${u.email} had no two-factor authentication; sessions signed out`,
        );
      }),
    );
  user
    .command("reset-link")
    .description("print a one-time password reset link for a user (when no SMTP is configured)")
    .argument("<email>", "the user's e-mail address")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, email: string) => {
        const u = userByEmail(ctx, email);
        const link = issueResetLink(ctx, u.id, linkBase(ctx));
        ctx.store.logs.audit({ actorId: null, actor: "cli", action: "user.reset_link", target: `user:${u.id}` }, nowSeconds(ctx.platform.clock));
        const expiresAt = new Date(link.expiresAt * 1000).toISOString();
        print(ctx, { url: link.url, expiresAt }, [`Password reset link for ${u.email} (single use, expires ${expiresAt}):`, `  ${link.url}`]);
      }),
    );
  user
    .command("confirm-link")
    .description("print a one-time e-mail confirmation link for a user")
    .argument("<email>", "the user's e-mail address")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, email: string) => {
        const u = userByEmail(ctx, email);
        const link = issueConfirmLink(ctx, u.id, linkBase(ctx));
        const expiresAt = new Date(link.expiresAt * 1000).toISOString();
        print(ctx, { url: link.url, expiresAt }, [`E-mail confirmation link for ${u.email} (single use, expires ${expiresAt}):`, `  ${link.url}`]);
      }),
    );
  user
    .command("invite")
    .description("print a one-time invitation link (7 days) for a new user")
    .argument("<email>", "the invitee's e-mail address")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, email: string) => {
        const inv = issueInvite(ctx, email, linkBase(ctx), { id: null, name: "cli", address: null });
        const expiresAt = new Date(inv.expiresAt * 1000).toISOString();
        print(ctx, { email: inv.email, url: inv.url, expiresAt }, [`Invitation for ${inv.email} (single use, expires ${expiresAt}):`, `  ${inv.url}`]);
      }),
    );
  for (const [name, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    user
      .command(name)
      .description(disabled ? "disable an account (signs it out everywhere; its tokens stop working)" : "re-enable a disabled account")
      .argument("<email>", "the user's e-mail address")
      .option("--json", "machine-readable output")
      .action(
        action((ctx, email: string) => {
          const u = userByEmail(ctx, email);
          setUserDisabled(ctx, u.id, disabled, { id: null, name: "cli", address: null });
          print(ctx, { id: u.id, email: u.email, disabled }, `${u.email} ${disabled ? "disabled" : "enabled"}`);
        }),
      );
  }
}
