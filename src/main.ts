#!/usr/bin/env bun
/**
 * The ipkeep executable: wires the subcommands, nothing else.
 */
import { Command } from "commander";
import pkg from "../package.json" with { type: "json" };
import { registerBackup } from "./cli/backup";
import { registerDoctor } from "./cli/doctor";
import { registerAgent } from "./agent/command";
import { registerCode } from "./cli/code";
import { registerDomain } from "./cli/domain";
import { registerHealth } from "./cli/health";
import { registerHost } from "./cli/host";
import { registerInit } from "./cli/init";
import { registerKey } from "./cli/key";
import { registerNode } from "./cli/node";
import { registerPrintUnit } from "./cli/print-unit";
import { registerRecord } from "./cli/record";
import { registerSecondary } from "./cli/secondary";
import { registerServe } from "./cli/serve";
import { registerToken } from "./cli/token";
import { registerUser } from "./cli/user";
import { registerZone } from "./cli/zone";

const program = new Command()
  .name("ipkeep")
  .description("Self-hosted dynamic DNS: authoritative nameserver, update API and accounts in one executable")
  .version(pkg.version, "-V, --version")
  .option("--config <file>", "config file (TOML; default $IPKEEP_CONFIG or /etc/ipkeep/ipkeep.toml)")
  .option("--data <dir>", "data directory (default /var/lib/ipkeep when it exists, else ./data)")
  .option("--server <url>", "host/domain/token/record commands go to this ipkeep's API (API key in IPKEEP_API_KEY)")
  .showHelpAfterError();

registerInit(program);
registerServe(program);
registerDomain(program);
registerHost(program);
registerToken(program);
registerRecord(program);
registerUser(program);
registerKey(program);
registerZone(program);
registerBackup(program);
registerSecondary(program);
registerDoctor(program);
registerCode(program);
registerNode(program);
registerHealth(program);
registerPrintUnit(program);
registerAgent(program);

await program.parseAsync(process.argv);
