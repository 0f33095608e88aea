import { Database } from "bun:sqlite";
import type { Driver, RunResult, SqlValue, Statement } from "./driver";

export function openBunDriver(path: string, opts: { readonly?: boolean }): Driver {
  const db = opts.readonly ? new Database(path, { readonly: true }) : new Database(path, { create: true });
  const cache = new Map<string, Statement>();
  return {
    kind: "bun:sqlite",
    exec: (sql) => void db.run(sql),
    prepare(sql) {
      let st = cache.get(sql);
      if (!st) {
        const q = db.prepare(sql);
        st = {
          run: (...p: SqlValue[]): RunResult => {
            const r = q.run(...(p as never[]));
            return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
          },
          get: <T>(...p: SqlValue[]) => (q.get(...(p as never[])) as T | null) ?? null,
          all: <T>(...p: SqlValue[]) => q.all(...(p as never[])) as T[],
          iterate: <T>(...p: SqlValue[]) => q.iterate(...(p as never[])) as IterableIterator<T>,
        };
        cache.set(sql, st);
      }
      return st;
    },
    transaction: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  };
}
