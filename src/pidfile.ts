/**
 * serve.pid in the data directory: tells offline operations (restore) that a server holds
 * the database. A file left by a crashed server is recognised by its dead process id. Beside
 * it, serve.listen.json records where that server listens, for `doctor`.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const PID_FILE = "serve.pid";

/** Beside serve.pid: the addresses the running server really listens on (port 0 resolved). */
export const LISTEN_FILE = "serve.listen.json";

export interface ServeListening {
  pid: number;
  http: string[];
  https: string[];
  dns: string[];
}

export function writePidFile(dataDir: string, listening?: Omit<ServeListening, "pid">): () => void {
  const file = join(dataDir, PID_FILE);
  const listenFile = join(dataDir, LISTEN_FILE);
  if (listening) writeFileSync(listenFile, `${JSON.stringify({ pid: process.pid, ...listening })}\n`, { mode: 0o600 });
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    // Only our own: a second server on the same directory must not lose its file to us.
    if (runningServerPid(dataDir) === process.pid) {
      rmSync(file, { force: true });
      rmSync(listenFile, { force: true });
    }
  };
}

/** What the server with this pid recorded about its listeners, or null (none, or another's). */
export function serverListening(dataDir: string, pid: number): ServeListening | null {
  try {
    const v = JSON.parse(readFileSync(join(dataDir, LISTEN_FILE), "utf8")) as ServeListening;
    const list = (x: unknown) => Array.isArray(x) && x.every((a) => typeof a === "string");
    return v?.pid === pid && list(v.http) && list(v.https) && list(v.dns) ? v : null;
  } catch {
    return null;
  }
}

/** The process id of a live server using dataDir, or null. */
export function runningServerPid(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, PID_FILE), "utf8").trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: alive but someone else's (a service user); only ESRCH means gone.
    return (e as NodeJS.ErrnoException).code === "EPERM" ? pid : null;
  }
}
