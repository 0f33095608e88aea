/**
 * Online snapshots and their inspection. VACUUM INTO reads inside one transaction, so the
 * copy is consistent even while the server commits updates, and it leaves out the WAL: the
 * result is a single self-contained file.
 */
import { IpkeepError } from "../core/errors";
import { applyPragmas } from "./db";
import { openDriver } from "./driver";
import { LATEST_VERSION } from "./migrations";

export interface SnapshotInfo {
  schemaVersion: number;
  domains: number;
  hostnames: number;
  users: number;
}

export async function snapshot(dbPath: string, target: string): Promise<void> {
  const db = await openDriver(dbPath);
  try {
    // busy_timeout before anything: the server may be mid-commit.
    applyPragmas(db);
    db.prepare("VACUUM INTO ?").run(target);
  } finally {
    db.close();
  }
}

/**
 * Opens a database file read-only and says whether it is a whole, ipkeep-shaped database
 * this binary can run. Throws invalid_input (not a database, damaged, not ipkeep's) or
 * schema_too_new.
 */
export async function inspectSnapshot(path: string): Promise<SnapshotInfo> {
  let db: Awaited<ReturnType<typeof openDriver>> | undefined;
  try {
    db = await openDriver(path, { readonly: true });
  } catch (e) {
    throw new IpkeepError("invalid_input", `${path} cannot be opened as a database: ${(e as Error).message}`);
  }
  try {
    let check: string[];
    try {
      check = db
        .prepare("PRAGMA integrity_check")
        .all<{ integrity_check: string }>()
        .map((r) => r.integrity_check);
    } catch (e) {
      throw new IpkeepError("invalid_input", `${path} is not an SQLite database: ${(e as Error).message}`);
    }
    if (check.length !== 1 || check[0] !== "ok") {
      throw new IpkeepError("invalid_input", `${path} is damaged (integrity check: ${check.slice(0, 3).join("; ")})`);
    }
    const hasTable = (name: string) => !!db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?").get(name);
    if (!hasTable("schema_migrations") || !hasTable("domains")) {
      throw new IpkeepError("invalid_input", `${path} is not an ipkeep database`);
    }
    const version = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get<{ v: number | null }>()?.v ?? 0;
    if (version > LATEST_VERSION) {
      throw new IpkeepError(
        "schema_too_new",
        `${path} has schema version ${version}, newer than this ipkeep knows (${LATEST_VERSION}): restore it with a newer ipkeep`,
      );
    }
    const count = (table: string) => db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get<{ n: number }>()!.n;
    return { schemaVersion: version, domains: count("domains"), hostnames: count("hostnames"), users: count("users") };
  } finally {
    db.close();
  }
}

/** Folds the WAL into the main file so that the file alone is the whole database. */
export async function checkpoint(dbPath: string): Promise<void> {
  const db = await openDriver(dbPath);
  try {
    applyPragmas(db);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}
