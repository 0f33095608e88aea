/**
 * serve.pid in the data directory: tells offline operations (restore) that a server holds
 * the database. A file left by a crashed server is recognised by its dead process id.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const PID_FILE = "serve.pid";

export function writePidFile(dataDir: string): () => void {
  const file = join(dataDir, PID_FILE);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    // Only our own: a second server on the same directory must not lose its file to us.
    if (runningServerPid(dataDir) === process.pid) rmSync(file, { force: true });
  };
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
