/**
 * Asking before a command destroys something: on a terminal the operator types "yes"; anywhere
 * else (scripts, cron, no standard input) `--yes` must say so, or nothing happens (exit 2).
 */
import { createInterface } from "node:readline";
import { IpkeepError } from "../core/errors";

export async function confirmOrRefuse(question: string, opts: { yes?: boolean }): Promise<void> {
  if (opts.yes) return;
  if (!process.stdin.isTTY) throw new IpkeepError("invalid_input", `${question} Not a terminal, so not asked: pass --yes to confirm`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => {
    rl.question(`${question} Type "yes" to go on: `, resolve);
    rl.once("close", () => resolve(""));
  });
  rl.close();
  if (answer.trim().toLowerCase() !== "yes") throw new IpkeepError("invalid_input", "Not confirmed; nothing was changed");
}
