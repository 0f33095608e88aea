/**
 * ipkeep backup FILE / ipkeep restore FILE.
 *
 * Backup works beside a running server (a consistent online snapshot). Restore replaces the
 * database, so it refuses while a server holds it, checks the file first (whole, ipkeep's,
 * a schema this binary knows), and keeps the database it replaces beside it.
 *
 * The key file travels beside the backup: `backup FILE` writes FILE and FILE.key (the data
 * directory's secret.key, which opens the sealed secrets: JWT signing secret, TOTP seeds,
 * SMTP password); `restore FILE` puts FILE.key back as secret.key. Without it, restore says
 * in words what the backup's secrets lose.
 */
import { mkdirSync, chmodSync, copyFileSync, existsSync, fsyncSync, openSync, closeSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { IpkeepError } from "../core/errors";
import { lockDataDir } from "../datalock";
import { runningServerPid } from "../pidfile";
import { Store } from "../store";
import { checkpoint, inspectSnapshot, snapshot } from "../store/backup";
import { openDriver } from "../store/driver";
import { describeLost, unopenable } from "../store/sealed";
import { KEY_FILE, keyId, readKeyFile, SecretBox } from "../store/secret-box";
import { configFrom, DB_FILE, print } from "./common";

function fsyncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function stamp(): string {
  return new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

async function runBackup(cmd: Command, file: string, opts: { force?: boolean }) {
  const config = configFrom(cmd);
  const db = join(config.data, DB_FILE);
  if (!existsSync(db)) throw new IpkeepError("invalid_input", `No ipkeep database in ${config.data}: nothing to back up (pass --data DIR?)`);
  const target = resolve(file);
  const keyTarget = `${target}.key`;
  for (const f of [target, keyTarget]) {
    if (existsSync(f) && !opts.force) throw new IpkeepError("conflict", `${f} already exists: choose another name or pass --force`);
  }
  // Opening the store makes sure the key file exists and nothing is left in clear (an
  // install upgraded but not yet restarted).
  (await Store.open(db)).close();
  const key = readKeyFile(join(config.data, KEY_FILE))!;
  // Written beside the target and renamed, so a half-written backup never carries its name.
  const tmp = `${target}.tmp-${process.pid}`;
  const keyTmp = `${keyTarget}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  rmSync(keyTmp, { force: true });
  try {
    await snapshot(db, tmp);
    chmodSync(tmp, 0o600); // it holds token hashes and sealed secrets
    fsyncFile(tmp);
    const info = await inspectSnapshot(tmp);
    copyFileSync(join(config.data, KEY_FILE), keyTmp);
    chmodSync(keyTmp, 0o600);
    fsyncFile(keyTmp);
    renameSync(keyTmp, keyTarget);
    renameSync(tmp, target);
    const json = !!cmd.optsWithGlobals().json;
    print({ json }, { file: target, keyFile: keyTarget, keyId: keyId(key), bytes: statSync(target).size, ...info }, [
      `Backup written to ${target} (${statSync(target).size} bytes)`,
      `schema version ${info.schemaVersion}: ${info.domains} zone(s), ${info.hostnames} hostname(s), ${info.users} user(s)`,
      `Its key is in ${keyTarget}: it opens the sealed secrets (JWT signing secret, two-factor secrets, SMTP password).`,
      "Keep the two files together for a restore, and keep the key as safe as the install itself.",
    ]);
  } finally {
    rmSync(tmp, { force: true });
    rmSync(keyTmp, { force: true });
  }
}

/** What the key at hand (the backup's FILE.key, else the directory's own) does with the backup's secrets. */
async function keyPlan(source: string, dataKeyFile: string) {
  const keyFile = `${source}.key`;
  const fromBackup = readKeyFile(keyFile);
  const key = fromBackup ?? readKeyFile(dataKeyFile);
  const db = await openDriver(source, { readonly: true });
  let lost: string[];
  try {
    lost = describeLost(unopenable(db, key ? new SecretBox(key) : null));
  } finally {
    db.close();
  }
  return { keyFile: fromBackup ? keyFile : null, key: fromBackup, lost };
}

async function runRestore(cmd: Command, file: string) {
  const config = configFrom(cmd);
  const source = resolve(file);
  if (!existsSync(source)) throw new IpkeepError("invalid_input", `${source} does not exist`);
  // A bad file is refused before anything in the data directory is touched.
  const info = await inspectSnapshot(source);
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  // Held until the restore is done: no server may open the database half-way through.
  const lock = await lockDataDir(config.data, "restore", "stop it first (systemctl stop ipkeep), restore, then start it again");
  try {
    await restoreLocked(cmd, config, source, info);
  } finally {
    lock.release();
  }
}

async function restoreLocked(cmd: Command, config: ReturnType<typeof configFrom>, source: string, info: Awaited<ReturnType<typeof inspectSnapshot>>) {
  // A server from before the lock existed (an older ipkeep still running) left only its pid file.
  const pid = runningServerPid(config.data);
  if (pid !== null) {
    throw new IpkeepError("conflict", `A server (pid ${pid}) is using ${config.data}: stop it first (systemctl stop ipkeep), restore, then start it again`);
  }
  const dataKeyFile = join(config.data, KEY_FILE);
  const plan = await keyPlan(source, dataKeyFile);
  const db = join(config.data, DB_FILE);
  let keptAs: string | null = null;
  if (existsSync(db)) {
    // The WAL may hold the last commits: fold it in so the file kept aside is complete.
    await checkpoint(db);
    keptAs = `${db}.before-restore-${stamp()}`;
    renameSync(db, keptAs);
    for (const ext of ["-wal", "-shm"]) rmSync(`${db}${ext}`, { force: true });
  }
  const tmp = `${db}.restoring-${process.pid}`;
  try {
    copyFileSync(source, tmp);
    chmodSync(tmp, 0o600);
    fsyncFile(tmp);
    renameSync(tmp, db);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (keptAs) renameSync(keptAs, db);
    throw e;
  }
  // The backup's key replaces the directory's (kept aside when it differs).
  let keyKeptAs: string | null = null;
  if (plan.key) {
    const current = readKeyFile(dataKeyFile);
    if (!current || keyId(current) !== keyId(plan.key)) {
      if (current) {
        keyKeptAs = `${dataKeyFile}.before-restore-${stamp()}`;
        renameSync(dataKeyFile, keyKeptAs);
      }
      const keyTmp = `${dataKeyFile}.restoring-${process.pid}`;
      copyFileSync(plan.keyFile!, keyTmp);
      chmodSync(keyTmp, 0o600);
      fsyncFile(keyTmp);
      renameSync(keyTmp, dataKeyFile);
    }
  }
  const json = !!cmd.optsWithGlobals().json;
  const keyLine = plan.key
    ? `Key: ${plan.keyFile} restored as ${dataKeyFile}${keyKeptAs ? ` (the previous key is kept as ${keyKeptAs})` : ""}`
    : `Key: no ${source}.key beside the backup; ${existsSync(dataKeyFile) ? `this directory's ${KEY_FILE} stays` : `a new ${KEY_FILE} is made at start`}`;
  print(
    { json },
    { restored: source, database: db, previous: keptAs, keyFile: plan.keyFile, keyRestored: !!plan.key, previousKey: keyKeptAs, lost: plan.lost, ...info },
    [
      `Restored ${source} into ${db}`,
      `schema version ${info.schemaVersion}: ${info.domains} zone(s), ${info.hostnames} hostname(s), ${info.users} user(s)`,
      keptAs ? `The previous database is kept as ${keptAs}` : "There was no previous database.",
      keyLine,
      ...(plan.lost.length
        ? [
            "Without the key that sealed them, these secrets of the backup are lost (put FILE.key back and restore again to keep them):",
            ...plan.lost.map((l) => `  - ${l}`),
          ]
        : []),
    ],
  );
}

function wrap<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const err = e instanceof IpkeepError ? e : new IpkeepError("internal", (e as Error)?.message ?? String(e));
      process.stderr.write(`ipkeep: ${err.message}\n`);
      process.exitCode = err.exitCode;
    }
  };
}

export function registerBackup(program: Command): void {
  program
    .command("backup <file>")
    .description("write a consistent snapshot of the database to FILE and its key file to FILE.key (safe while the server runs)")
    .option("--force", "overwrite FILE if it exists")
    .option("--json", "machine-readable output")
    .action(wrap((file: string, opts: { force?: boolean }, cmd: Command) => runBackup(cmd, file, opts)));
  program
    .command("restore <file>")
    .description("replace the database with a backup, and the key file with FILE.key when present (the server must be stopped; the old ones are kept aside)")
    .option("--json", "machine-readable output")
    .action(wrap((file: string, _opts: unknown, cmd: Command) => runRestore(cmd, file)));
}
