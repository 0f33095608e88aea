/**
 * Opening the database: pragmas and migrations, in one place.
 */
import { chmodSync, existsSync, statSync } from "node:fs";
import { IpkeepError } from "../core/errors";
import { type Driver, openDriver } from "./driver";
import { LATEST_VERSION, MIGRATIONS } from "./migrations";

/**
 * Order matters: busy_timeout first, so that switching to WAL (which needs a lock) waits for
 * another process (the CLI beside the server) instead of failing at once. synchronous=FULL:
 * an update answered "good" must survive a power cut (WAL + NORMAL may lose the last commits).
 * secure_delete: what is deleted or replaced (a secret's old value) is zeroed on disk, not
 * left in free page space for whoever copies the file.
 */
const PRAGMAS = [
  "PRAGMA busy_timeout = 5000",
  "PRAGMA journal_mode = WAL",
  "PRAGMA synchronous = FULL",
  "PRAGMA foreign_keys = ON",
  "PRAGMA secure_delete = ON",
];

export function applyPragmas(db: Driver): void {
  for (const p of PRAGMAS) db.exec(p);
}

export function schemaVersion(db: Driver): number {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get<{ v: number | null }>();
  return row?.v ?? 0;
}

/** Applies every migration not yet applied, each in its own transaction. */
export function migrate(db: Driver, now = Math.floor(Date.now() / 1000)): number[] {
  const current = schemaVersion(db);
  if (current > LATEST_VERSION) {
    throw new IpkeepError(
      "schema_too_new",
      `Database schema version ${current} is newer than this ipkeep knows (${LATEST_VERSION}); use a newer ipkeep or restore a backup`,
    );
  }
  const applied = new Set(
    db
      .prepare("SELECT version FROM schema_migrations")
      .all<{ version: number }>()
      .map((r) => r.version),
  );
  const done: number[] = [];
  for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, now);
    });
    done.push(m.version);
  }
  return done;
}

export async function openDatabase(path: string): Promise<Driver> {
  const fresh = path !== ":memory:" && !existsSync(path);
  const db = await openDriver(path);
  // It holds token hashes, TOTP seeds and TSIG keys: owner only, whatever the umask.
  // (SQLite gives the -wal and -shm files the main file's permissions.)
  if (fresh && existsSync(path)) chmodSync(path, 0o600);
  try {
    applyPragmas(db);
    migrate(db);
    // Test-only (README, Configuration): caps the file's size in pages, so tests can fill
    // "the disk" for real through the running server. SQLite never sets it below the
    // current size, so 1 means "no growth at all".
    const maxPages = Number(process.env.IPKEEP_TEST_MAX_PAGE_COUNT ?? "");
    if (Number.isInteger(maxPages) && maxPages > 0) db.exec(`PRAGMA max_page_count = ${maxPages}`);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/**
 * Start-up check of an existing database file, before anything writes to it: a zero-length
 * file, a file that is not SQLite, a damaged page (PRAGMA quick_check) or a database without
 * ipkeep's schema is refused with database_damaged and what to do, instead of starting as an
 * empty new install (a zero-length file is a valid empty database to SQLite) or answering 500
 * later. `restore` names the command that fixes it.
 */
export async function verifyDatabase(path: string, restore: string): Promise<void> {
  const fix = `Restore the last good backup: ${restore}`;
  const damaged = (what: string): never => {
    throw new IpkeepError("database_damaged", `${path} ${what}. ${fix}`);
  };
  const walBytes = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
  if (statSync(path).size === 0 && walBytes === 0) damaged("is empty (0 bytes): it is not an ipkeep database");
  let db: Driver;
  try {
    db = await openDriver(path);
  } catch (e) {
    return damaged(`cannot be opened (${(e as Error).message})`);
  }
  try {
    let rows: string[];
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      rows = db
        .prepare("PRAGMA quick_check")
        .all<{ quick_check: string }>()
        .map((r) => r.quick_check);
    } catch (e) {
      return damaged(`is not a readable SQLite database (${(e as Error).message})`);
    }
    if (rows.length !== 1 || rows[0] !== "ok") damaged(`is damaged (integrity check: ${rows.slice(0, 3).join("; ")})`);
    const migrations = db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!migrations || !db.prepare("SELECT 1 AS x FROM schema_migrations LIMIT 1").get()) {
      damaged("has no ipkeep schema (no migrations recorded): it is not an ipkeep database");
    }
  } finally {
    db.close();
  }
}
