/**
 * `ipkeep agent`: runs the updater agent with the configuration install.sh wrote.
 */
import type { Command } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { asIpkeepError } from "../core/errors";
import { log, redact } from "../log";
import { Agent, defaultAgentDeps } from "./agent";
import { readNodeConfig } from "./config";

export function registerAgent(program: Command): void {
  program
    .command("agent")
    .description("keep this machine's hostname at its public addresses (enrolled by install.sh)")
    .option("--node-config <file>", "configuration (default $IPKEEP_NODE_CONFIG or /etc/ipkeep/agent.json)")
    .option("--state <dir>", "where the last sent addresses are kept", "/var/lib/ipkeep-agent")
    .option("--once", "one round (register, update, check in), then exit")
    .action(async (opts: { nodeConfig?: string; state: string; once?: boolean }) => {
      try {
        const config = readNodeConfig("agent", opts.nodeConfig);
        const agent = new Agent(config, opts.state, defaultAgentDeps(pkg.version));
        if (opts.once) {
          await agent.register();
          await agent.cycle(true);
          return;
        }
        const stop = new AbortController();
        for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => stop.abort());
        log("info", "agent starting", { hostname: config.hostname, primary: config.primary_url });
        await agent.run(stop.signal);
        log("info", "agent stopped");
      } catch (e) {
        const err = asIpkeepError(e);
        process.stderr.write(`ipkeep agent: ${redact((e as Error).message ?? err.message)}\n`);
        process.exitCode = err.code === "internal" ? 1 : err.exitCode;
      }
    });
}
