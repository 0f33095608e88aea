/**
 * The narrow seam between ipkeep and SQLite. Two implementations: bun:sqlite (always in the
 * compiled executable) and better-sqlite3 (under Node). Both are synchronous, which keeps a
 * read-modify-write inside one transaction without awaiting in between.
 */
import { IpkeepError } from "../core/errors";

export type SqlValue = string | number | bigint | null | Uint8Array;

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

export interface Statement {
  run(...params: SqlValue[]): RunResult;
  /** First row or null. */
  get<T = Record<string, unknown>>(...params: SqlValue[]): T | null;
  all<T = Record<string, unknown>>(...params: SqlValue[]): T[];
  /** Rows one at a time, for reads too large to hold as one array. */
  iterate<T = Record<string, unknown>>(...params: SqlValue[]): IterableIterator<T>;
}

export interface Driver {
  readonly kind: "bun:sqlite" | "better-sqlite3";
  exec(sql: string): void;
  /** Prepared statements are cached per SQL text. */
  prepare(sql: string): Statement;
  /** Runs fn in a transaction (a savepoint when nested); rolls back when it throws. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export async function openDriver(path: string, opts: { readonly?: boolean } = {}): Promise<Driver> {
  if (isBun) {
    const { openBunDriver } = await import("./driver-bun");
    return storageGuard(openBunDriver(path, opts));
  }
  const { openNodeDriver } = await import("./driver-node");
  return storageGuard(await openNodeDriver(path, opts));
}

/**
 * Is this SQLite's "database or disk is full" (SQLITE_FULL, also what a write that finds no
 * space on the device becomes), or a plain ENOSPC? Both drivers put the code on the error.
 */
export function isStorageFull(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === "string" ? err.code : "";
  return code === "SQLITE_FULL" || code === "ENOSPC" || /database or disk is full|no space left on device/i.test(String(err?.message ?? ""));
}

const storageFull = () => new IpkeepError("storage_full", "The server's storage is full: nothing was changed");

/**
 * Every statement through one guard: a full disk surfaces as storage_full (503 under /api,
 * 911 for dyndns2, logged), never as an anonymous internal error. The transaction that hit it
 * is rolled back, so nothing is acknowledged that was not stored.
 */
function storageGuard(d: Driver): Driver {
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw isStorageFull(e) ? storageFull() : e;
    }
  };
  const statements = new Map<string, Statement>();
  return {
    kind: d.kind,
    exec: (sql) => guard(() => d.exec(sql)),
    prepare(sql) {
      let st = statements.get(sql);
      if (!st) {
        const inner = d.prepare(sql);
        st = {
          run: (...p) => guard(() => inner.run(...p)),
          get: <T>(...p: SqlValue[]) => guard(() => inner.get<T>(...p)),
          all: <T>(...p: SqlValue[]) => guard(() => inner.all<T>(...p)),
          iterate: <T>(...p: SqlValue[]) => guard(() => inner.iterate<T>(...p)),
        };
        statements.set(sql, st);
      }
      return st;
    },
    transaction: (fn) => guard(() => d.transaction(fn)),
    close: () => d.close(),
  };
}
