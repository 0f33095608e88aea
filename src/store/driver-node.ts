import type { Driver, RunResult, SqlValue, Statement } from "./driver";

// Loaded only under Node: the compiled executable marks better-sqlite3 external and never
// reaches this file (it cannot load in Bun anyway).
export async function openNodeDriver(path: string, opts: { readonly?: boolean }): Promise<Driver> {
  const mod = "better-sqlite3";
  const { default: BetterSqlite } = (await import(mod)) as { default: typeof import("better-sqlite3") };
  const db = new BetterSqlite(path, { readonly: !!opts.readonly });
  const cache = new Map<string, Statement>();
  return {
    kind: "better-sqlite3",
    exec: (sql) => void db.exec(sql),
    prepare(sql) {
      let st = cache.get(sql);
      if (!st) {
        const q = db.prepare(sql);
        const returnsRows = q.reader;
        st = {
          run: (...p: SqlValue[]): RunResult => {
            const r = q.run(...p);
            return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
          },
          get: <T>(...p: SqlValue[]) => (returnsRows ? ((q.get(...p) as T | undefined) ?? null) : null),
          all: <T>(...p: SqlValue[]) => (returnsRows ? (q.all(...p) as T[]) : []),
          iterate: <T>(...p: SqlValue[]) => (returnsRows ? (q.iterate(...p) as IterableIterator<T>) : ([] as T[])[Symbol.iterator]()),
        };
        cache.set(sql, st);
      }
      return st;
    },
    transaction: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  };
}
