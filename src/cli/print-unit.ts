/**
 * `ipkeep print-unit ROLE`: the hardened systemd unit for a role, embedded in the executable
 * so install.sh installs exactly the unit this binary was built and tested with.
 */
import type { Command } from "commander";
import agent from "../../systemd/ipkeep-agent.service" with { type: "text" };
import secondary from "../../systemd/ipkeep-secondary.service" with { type: "text" };
import primary from "../../systemd/ipkeep.service" with { type: "text" };

export const UNITS: Record<string, { file: string; text: string }> = {
  primary: { file: "ipkeep.service", text: primary },
  agent: { file: "ipkeep-agent.service", text: agent },
  secondary: { file: "ipkeep-secondary.service", text: secondary },
};

export function registerPrintUnit(program: Command): void {
  program
    .command("print-unit <role>")
    .description("print the systemd unit for a role (primary, agent, secondary)")
    .option("--name", "print the unit's file name instead")
    .action((role: string, opts: { name?: boolean }) => {
      const unit = UNITS[role];
      if (!unit) {
        process.stderr.write(`ipkeep: unknown role "${role}" (primary, agent, secondary)\n`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(opts.name ? `${unit.file}\n` : unit.text);
    });
}
