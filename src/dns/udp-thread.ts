/**
 * The main thread's side of the DNS thread (udp-worker.ts): starts it on bound UDP sockets,
 * feeds it zone changes, answers the queries it hands back (signed ones, transfers) and stops
 * it. See udp-worker.ts for why the thread exists and how changes reach it in time.
 */
import { Worker } from "node:worker_threads";
import type { ZoneData } from "../core/ports";
import { DnsCounters } from "../metrics";
import type { Libc } from "./ffi";
import { peerOf, sendTo } from "./ffi";

/** Int32 slots of the shared control block. */
export const CTRL_STOP = 0;
/** Zone messages posted so far (bumped after each post). */
export const CTRL_CHANGES = 1;

export interface ThreadInit {
  fds: number[];
  ctrl: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  zones: unknown;
}

export type ZoneMessage = { id: number; data: ZoneData | null };

export type ThreadEvent =
  | { kind: "ready" }
  | { kind: "stopped" }
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
  /** The zones to start with (read when the thread is ready for them). */
  snapshot: () => ZoneData[];
  /** Answers a query the thread handed back; the reply goes out on the same socket. */
  forward: (query: Uint8Array, peer: string) => Uint8Array | null;
  /** Problems inside the thread (it keeps serving). */
  onError?: (message: string) => void;
}

export class UdpThread {
  readonly counters: DnsCounters;
  private readonly ctrl: Int32Array;
  private readonly zonePort: MessagePort;
  private exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    ctrl: SharedArrayBuffer,
    counters: SharedArrayBuffer,
    zonePort: MessagePort,
  ) {
    this.ctrl = new Int32Array(ctrl);
    this.counters = new DnsCounters(counters);
    this.zonePort = zonePort;
    this.exited = new Promise((resolve) => worker.once("exit", () => resolve()));
  }

  /** The thread serving `fds`, or null when it could not start (the caller serves UDP itself). */
  static async start(opts: UdpThreadOptions): Promise<UdpThread | null> {
    const ctrl = new SharedArrayBuffer(8);
    const counters = new SharedArrayBuffer(DnsCounters.BYTES);
    const channel = new MessageChannel();
    const init: ThreadInit = { fds: opts.fds, ctrl, counters, zones: channel.port2 };
    let worker: Worker;
    try {
      worker = new Worker(workerEntry(), { workerData: init, transferList: [channel.port2 as never] });
    } catch (e) {
      opts.onError?.(`cannot start the DNS thread: ${(e as Error).message}`);
      return null;
    }
    const thread = new UdpThread(worker, ctrl, counters, channel.port1);
    // Zones posted before the thread runs wait on the port; it takes them before its first answer.
    for (const data of opts.snapshot()) thread.zoneChanged(data.id, data);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
      worker.on("message", (e: ThreadEvent) => {
        switch (e.kind) {
          case "ready":
            clearTimeout(timer);
            resolve(true);
            break;
          case "failed":
            clearTimeout(timer);
            opts.onError?.(`the DNS thread failed: ${e.reason}`);
            resolve(false);
            break;
          case "error":
            opts.onError?.(e.message);
            break;
          case "query":
            thread.answerForwarded(opts, e);
            break;
        }
      });
      worker.once("error", (err: Error) => {
        clearTimeout(timer);
        opts.onError?.(`the DNS thread failed: ${err.message}`);
        resolve(false);
      });
      worker.once("exit", () => resolve(false));
    });
    if (!ok) {
      await thread.close();
      return null;
    }
    return thread;
  }

  private answerForwarded(opts: UdpThreadOptions, e: Extract<ThreadEvent, { kind: "query" }>): void {
    let reply: Uint8Array | null = null;
    try {
      reply = opts.forward(e.query, peerOf(e.name));
    } catch {
      reply = null;
    }
    if (reply) sendTo(opts.libc, e.fd, reply, e.name);
  }

  /** A zone was (re)loaded (data) or dropped (null): the thread takes it before its next answer. */
  zoneChanged(id: number, data: ZoneData | null): void {
    const m: ZoneMessage = { id, data };
    this.zonePort.postMessage(m);
    Atomics.add(this.ctrl, CTRL_CHANGES, 1);
  }

  /** Stops the thread (it notices within its poll interval); the sockets stay the caller's. */
  async close(): Promise<void> {
    Atomics.store(this.ctrl, CTRL_STOP, 1);
    const late = setTimeout(() => void this.worker.terminate(), 2_000);
    await this.exited;
    clearTimeout(late);
    this.zonePort.close();
  }
}
