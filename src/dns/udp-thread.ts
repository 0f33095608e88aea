/**
 * The main thread's side of the DNS thread (udp-worker.ts): starts it on bound UDP sockets,
 * feeds it zone changes, answers the queries it hands back (signed ones, transfers) and stops
 * it. See udp-worker.ts for why the thread exists and how changes reach it in time.
 */
import { Worker } from "node:worker_threads";
import type { ZoneData } from "../core/ports";
import { type PackedZone, packZone } from "../core/packed-zone";
import type { ZoneDelta } from "./zone";
import { DnsCounters } from "./counters";
import type { Libc } from "./ffi";
import { peerOf, sendTo, Waker } from "./ffi";
import type { RrlConfig } from "./rrl";

/** Int32 slots of the shared control block. */
export const CTRL_STOP = 0;
/** Zone messages posted so far (bumped after each post). */
export const CTRL_CHANGES = 1;
/** Queries handed to the main thread and not answered yet. */
export const CTRL_HANDED = 2;
/**
 * Beyond this many, further queries for the main thread are dropped, as a full socket buffer
 * would drop them: a flood of (fake) signed queries must not queue messages without bound.
 */
export const MAX_HANDED = 256;

export interface ThreadInit {
  fds: number[];
  /** Hand NOTIFY messages to the main thread too. */
  notify: boolean;
  /** Readable when a zone change was posted: the thread takes it even while idle. */
  wakeFd: number;
  ctrl: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  zones: unknown;
  /** Response rate limiting (null: off); the thread keeps its own table. */
  rrl: RrlConfig | null;
}

/**
 * A zone loaded (data, or packed), dropped (null), or changed by a delta the thread applies to
 * its copy; or whether it is signed (its DO queries are then the main thread's, which holds
 * the signatures).
 */
export type ZoneMessage =
  | { id: number; data: ZoneData | null }
  | { id: number; packed: PackedZone }
  | { id: number; delta: ZoneDelta }
  | { id: number; signed: boolean };
/** What is posted: a loaded zone goes packed (packZone), a few buffers instead of an object per name. */
export type PostedZone = { id: number; packed: PackedZone | null } | { id: number; delta: ZoneDelta } | { id: number; signed: boolean };

export type ThreadEvent =
  | { kind: "ready" }
  | { kind: "failed"; reason: string }
  | { kind: "error"; message: string }
  | { kind: "query"; fd: number; query: Uint8Array; name: Uint8Array };

/**
 * Where the thread's code is: next to this file when run from source; in the executable,
 * `bun build --compile` puts the extra entry point (scripts/build.ts) at dns/udp-worker.js
 * beside the main one.
 */
function workerEntry(): URL {
  const compiled = import.meta.url.includes("$bunfs");
  return new URL(compiled ? "./dns/udp-worker.js" : "./udp-worker.ts", import.meta.url);
}

/** How long start() waits for the thread to come up before giving up on it. */
const START_TIMEOUT_MS = 15_000;

export interface UdpThreadOptions {
  libc: Libc;
  fds: number[];
  /** The zones to start with, read again whenever the thread is restarted. */
  snapshot: () => (ZoneData | PackedZone)[];
  /** The signed zones (their DO queries are handed back), read with the snapshot. */
  signed?: () => number[];
  /** NOTIFY messages are handed back too (a secondary acts on them). */
  notify?: boolean;
  /** Answers a query the thread handed back; the reply goes out on the same socket. */
  forward: (query: Uint8Array, peer: string) => Uint8Array | null | Promise<Uint8Array | null>;
  /** Problems inside the thread (it keeps serving). */
  onError?: (message: string) => void;
  /** Response rate limiting for what the thread answers (absent or rate 0: off). */
  rrl?: RrlConfig;
}

/** One run of the thread: a worker, its control block and the port its zones come by. */
interface Run {
  worker: Worker;
  waker: Waker;
  ctrl: Int32Array;
  zonePort: MessagePort;
  exited: Promise<void>;
}

/** A thread that stops on its own is started again after this long (doubling up to the cap). */
const RESTART_MS = 500;
const RESTART_MAX_MS = 30_000;

export class UdpThread {
  readonly counters: DnsCounters;
  private readonly countersMemory = new SharedArrayBuffer(DnsCounters.BYTES);
  private run: Run | null = null;
  private closing = false;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private restartMs = RESTART_MS;

  private constructor(private readonly opts: UdpThreadOptions) {
    this.counters = new DnsCounters(this.countersMemory);
  }

  /** The thread serving `fds`, or null when it could not start (the caller serves UDP itself). */
  static async start(opts: UdpThreadOptions): Promise<UdpThread | null> {
    const thread = new UdpThread(opts);
    if (await thread.launch()) return thread;
    await thread.close();
    return null;
  }

  /** Starts a worker on the sockets with the zones as they are now; true once it serves. */
  private launch(): Promise<boolean> {
    const { opts } = this;
    const ctrl = new SharedArrayBuffer(16);
    const channel = new MessageChannel();
    let worker: Worker;
    let waker: Waker;
    try {
      waker = new Waker(opts.libc);
    } catch (e) {
      opts.onError?.(`cannot start the DNS thread: ${(e as Error).message}`);
      return Promise.resolve(false);
    }
    const init: ThreadInit = {
      fds: opts.fds,
      notify: !!opts.notify,
      wakeFd: waker.readFd,
      ctrl,
      counters: this.countersMemory,
      zones: channel.port2,
      rrl: opts.rrl?.rate ? opts.rrl : null,
    };
    try {
      worker = new Worker(workerEntry(), { workerData: init, transferList: [channel.port2 as never] });
    } catch (e) {
      waker.close();
      opts.onError?.(`cannot start the DNS thread: ${(e as Error).message}`);
      return Promise.resolve(false);
    }
    const exited = new Promise<void>((r) => worker.once("exit", () => r()));
    const run: Run = { worker, waker, ctrl: new Int32Array(ctrl), zonePort: channel.port1, exited };
    this.run = run;
    // Zones posted before the thread runs wait on the port; it takes them before its first answer.
    for (const z of opts.snapshot()) this.zoneChanged("head" in z ? { id: z.head.id, packed: z } : { id: z.id, data: z });
    for (const id of opts.signed?.() ?? []) this.zoneChanged({ id, signed: true });
    return new Promise<boolean>((resolve) => {
      let ready = false;
      const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
      worker.on("message", (e: ThreadEvent) => {
        switch (e.kind) {
          case "ready":
            clearTimeout(timer);
            ready = true;
            resolve(true);
            break;
          case "failed":
            opts.onError?.(`the DNS thread failed: ${e.reason}`);
            break;
          case "error":
            opts.onError?.(e.message);
            break;
          case "query":
            try {
              this.answerForwarded(e);
            } finally {
              Atomics.sub(run.ctrl, CTRL_HANDED, 1);
            }
            break;
        }
      });
      worker.once("error", (err: Error) => opts.onError?.(`the DNS thread failed: ${err.message}`));
      worker.once("exit", () => {
        clearTimeout(timer);
        // Nothing is posted or written to this run any more (its pipe's numbers may be reused).
        const current = this.run === run;
        if (current) this.run = null;
        run.zonePort.close();
        run.waker.close();
        if (!ready) resolve(false);
        else if (!this.closing && current) this.restart();
      });
    });
  }

  /** The thread stopped without being asked: queries wait in the socket until it is back. */
  private restart(): void {
    this.opts.onError?.(`the DNS thread stopped; starting it again in ${this.restartMs} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.launch().then((ok) => {
        if (ok) this.restartMs = RESTART_MS;
        else if (!this.closing) {
          this.restartMs = Math.min(this.restartMs * 2, RESTART_MAX_MS);
          this.restart();
        }
      });
    }, this.restartMs);
  }

  private answerForwarded(e: Extract<ThreadEvent, { kind: "query" }>): void {
    // Closing: the caller closes the sockets next, and a number may then name another file.
    if (this.closing) return;
    let reply: ReturnType<UdpThreadOptions["forward"]> = null;
    try {
      reply = this.opts.forward(e.query, peerOf(e.name));
    } catch {
      reply = null;
    }
    const send = (r: Uint8Array | null) => {
      // Still open: a reply that comes later (a DNS UPDATE's) must not go to a closed number.
      if (r && !this.closing) sendTo(this.opts.libc, e.fd, r, e.name);
    };
    if (reply instanceof Promise) void reply.then(send, () => {});
    else send(reply);
  }

  /** A zone was (re)loaded (data), dropped (null) or changed: the thread takes it before its next answer. */
  zoneChanged(m: ZoneMessage): void {
    const run = this.run;
    if (!run) return; // restarting: the next run starts from a fresh snapshot
    if ("delta" in m || "signed" in m) run.zonePort.postMessage(m satisfies PostedZone);
    else {
      // Copies of the buffers: the poster's zone was built from them, and a transfer would empty them.
      const packed = "packed" in m ? m.packed : m.data ? packZone(m.data) : null;
      run.zonePort.postMessage({ id: m.id, packed } satisfies PostedZone);
    }
    Atomics.add(run.ctrl, CTRL_CHANGES, 1);
    run.waker.wake();
  }

  /** Stops the thread (woken to see it at once); the sockets stay the caller's. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const run = this.run;
    if (!run) return;
    Atomics.store(run.ctrl, CTRL_STOP, 1);
    run.waker.wake();
    const late = setTimeout(() => void run.worker.terminate(), 2_000);
    await run.exited;
    clearTimeout(late);
  }
}
