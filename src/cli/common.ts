/**
 * What every subcommand shares: resolved configuration, the opened store, the platform,
 * and printing results (text or --json) and errors (one line, exit code from the error table).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { type Config, resolveConfig } from "../config";
import { asIpkeepError, IpkeepError } from "../core/errors";
import type { Platform } from "../core/platform";
import type { ChangeSink } from "../core/ports";
import { baseUrlFrom } from "../core/urls";
import { log, redact } from "../log";
import { createPlatform } from "../platform";
import { Store } from "../store";

export const DB_FILE = "ipkeep.db";

export interface CliContext {
  config: Config;
  store: Store;
  platform: Platform;
  /** The CLI writes; a running server notices through data_version, so nothing to do here. */
  changes: ChangeSink;
  json: boolean;
}

export function configFrom(cmd: Command): Config {
  return resolveConfig(cmd.optsWithGlobals());
}

export async function openContext(cmd: Command, opts: { create?: boolean } = {}): Promise<CliContext> {
  const config = configFrom(cmd);
  if (opts.create) mkdirSync(config.data, { recursive: true, mode: 0o700 });
  else {
    const { existsSync } = await import("node:fs");
    if (!existsSync(join(config.data, DB_FILE))) {
      throw new IpkeepError("invalid_input", `No ipkeep database in ${config.data}: run "ipkeep init" first (or pass --data DIR)`);
    }
  }
  const store = await Store.open(join(config.data, DB_FILE));
  return { config, store, platform: createPlatform(), changes: { zoneChanged() {} }, json: !!cmd.optsWithGlobals().json };
}

/** Wraps an action: opens the context, prints errors as one line, sets the exit code. */
export function action<A extends unknown[]>(fn: (ctx: CliContext, ...args: A) => unknown | Promise<unknown>, opts: { create?: boolean } = {}) {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    let ctx: CliContext | null = null;
    try {
      refuseRemote(cmd);
      ctx = await openContext(cmd, opts);
      await fn(ctx, ...args);
    } catch (e) {
      reportError(e);
    } finally {
      ctx?.store.close();
    }
  };
}

/**
 * Commands on this machine's database (init, user, key, zone, code) have no remote mode: with
 * --server (or IPKEEP_SERVER) they refuse, rather than quietly change the local database
 * while the operator means another server.
 */
function refuseRemote(cmd: Command): void {
  const server = (cmd.optsWithGlobals() as { server?: string }).server ?? process.env.IPKEEP_SERVER;
  if (!server) return;
  let group = cmd;
  while (group.parent?.parent) group = group.parent;
  throw new IpkeepError(
    "invalid_input",
    `"ipkeep ${group.name()}" works on this machine's database only; --server (IPKEEP_SERVER) is for host, domain, token and record. Run it on the server itself, or unset IPKEEP_SERVER`,
  );
}

/** Prints a failure as one line and sets the exit code from the error table. */
export function reportError(e: unknown): void {
  const err = e instanceof IpkeepError ? e : asIpkeepError(e);
  const message = e instanceof IpkeepError ? e.message : `${(e as Error)?.message ?? e}`;
  process.stderr.write(`ipkeep: ${redact(message)}\n`);
  process.exitCode = err.exitCode;
}

export function print(ctx: { json: boolean }, json: unknown, text: string | string[]): void {
  if (ctx.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else process.stdout.write(`${Array.isArray(text) ? text.join("\n") : text}\n`);
}

/** Plain aligned columns for listings. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The base of every link the CLI prints (core/urls.ts: --url, the stored public URL, then the
 * first HTTP listener, as the CLI has no request to take an origin from).
 */
export function linkBase(ctx: { config: Config; store: Pick<Store, "settings"> }): string {
  const first = ctx.config.http[0] ?? "127.0.0.1:8080";
  return baseUrlFrom(ctx.store.settings, ctx.config.url, `http://${first}`);
}

/**
 * Signals of a long-running command (serve, secondary): SIGTERM and SIGINT are caught from the
 * very start, because listeners are announced (and supervisors or tests may signal) before
 * start-up returns, and an unhandled SIGTERM exits with 143. A signal during start-up is held
 * until there is something to stop; then the service stops and the process exits 0.
 */
export function stopOnSignal(): { running(stop: () => Promise<void>): void } {
  let stopFn: (() => Promise<void>) | null = null;
  let pending: string | null = null;
  const shutdown = (signal: string) => {
    if (!stopFn) {
      pending = signal;
      return;
    }
    log("info", "shutting down", { signal });
    stopFn().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  return {
    running(stop) {
      stopFn = stop;
      if (pending) shutdown(pending);
    },
  };
}
