/**
 * The narrow seam between ipkeep and SQLite. Two implementations: bun:sqlite (always in the
 * compiled executable) and better-sqlite3 (under Node). Both are synchronous, which keeps a
 * read-modify-write inside one transaction without awaiting in between.
 */

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
    return openBunDriver(path, opts);
  }
  const { openNodeDriver } = await import("./driver-node");
  return openNodeDriver(path, opts);
}
