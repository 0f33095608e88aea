/**
 * The data directory's lock: `serve`, `secondary` and `restore` hold an exclusive flock(2) on
 * DIR/ipkeep.lock for their whole life, so two of them never work on one directory (a second
 * server overwriting the first's state, a restore under a running server). The kernel drops
 * the lock with the last descriptor, so a process killed with SIGKILL frees it at once; the
 * file itself stays (removing it would let two processes lock two different files).
 *
 * The holder writes "PID COMMAND" into the file, which is what a refused process names. Where
 * flock cannot be reached (not Linux on x86-64/arm64, no libc), a live PID in the file is
 * taken as the lock instead: weaker, but never silently absent.
 */
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { IpkeepError } from "./core/errors";

export const LOCK_FILE = "ipkeep.lock";

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

type Flock = (fd: number, op: number) => { ok: true } | { ok: false; errno: number };

let flockCached: Flock | null | undefined;

async function loadFlock(): Promise<Flock | null> {
  if (flockCached !== undefined) return flockCached;
  flockCached = null;
  if (typeof (globalThis as { Bun?: unknown }).Bun === "undefined") return null;
  if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) return null;
  const { dlopen, FFIType, read } = await import("bun:ffi");
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      const lib = dlopen(name, {
        flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        __errno_location: { args: [], returns: FFIType.ptr },
      }).symbols;
      flockCached = (fd, op) => {
        if (lib.flock(fd, op) === 0) return { ok: true };
        const at = lib.__errno_location();
        return { ok: false, errno: at ? read.i32(at, 0) : 0 };
      };
      break;
    } catch {
      /* try the next name */
    }
  }
  return flockCached;
}

export interface DataLock {
  /** Frees the lock (closing the descriptor); safe to call twice. */
  release(): void;
}

function holderOf(file: string): { pid: number; what: string } | null {
  try {
    const [pid, what] = readFileSync(file, "utf8").trim().split(/\s+/);
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, what: what ?? "ipkeep" } : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function refuse(dir: string, holder: { pid: number; what: string } | null, hint: string): never {
  const who = holder ? `ipkeep ${holder.what} (pid ${holder.pid})` : "another ipkeep process";
  throw new IpkeepError("conflict", `${dir} is in use by ${who}: ${hint}`);
}

/**
 * Takes the data directory's lock for `what` (serve, secondary, restore) or throws a conflict
 * (exit 5) naming the process that holds it. The hint says what to do then.
 */
export async function lockDataDir(dir: string, what: string, hint = "stop it first, or give this one another --data directory"): Promise<DataLock> {
  const file = join(dir, LOCK_FILE);
  const flock = await loadFlock();
  const fd = openSync(file, "a+", 0o600);
  let held = false;
  try {
    if (flock) {
      const r = flock(fd, LOCK_EX | LOCK_NB);
      if (!r.ok) {
        if (r.errno !== EWOULDBLOCK) throw new IpkeepError("internal", `Cannot lock ${file} (errno ${r.errno})`);
        // The holder writes its PID just after locking: give it a moment to appear.
        let holder = holderOf(file);
        for (let i = 0; !holder && i < 20; i++) {
          await new Promise((r) => setTimeout(r, 10));
          holder = holderOf(file);
        }
        refuse(dir, holder, hint);
      }
    } else {
      const holder = holderOf(file);
      if (holder && holder.pid !== process.pid && alive(holder.pid)) refuse(dir, holder, hint);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid} ${what}\n`);
    held = true;
  } finally {
    if (!held) closeSync(fd);
  }
  let open = true;
  return {
    release() {
      if (!open) return;
      open = false;
      try {
        ftruncateSync(fd, 0);
      } catch {
        /* the lock goes with the descriptor all the same */
      }
      closeSync(fd);
    },
  };
}
