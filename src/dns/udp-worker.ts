/**
 * The DNS thread: answers UDP queries on sockets the main thread bound, through
 * recvmmsg/sendmmsg (ffi.ts), from its own copy of the zones. It blocks in poll() rather than
 * in an event loop, so it reads zone changes synchronously: the main thread posts each one on
 * a MessagePort and then bumps a shared counter; after every receive, before answering, the
 * thread takes what the counter says is waiting. A query that arrives after an update was
 * acknowledged over HTTP is therefore answered from the updated zone.
 *
 * What needs the main thread's state (TSIG keys, transfer ACLs) is not answered here: signed
 * queries and AXFR/IXFR questions go to the main thread, which answers them on the same socket.
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { DnsCounters } from "./counters";
import { answer } from "./answer";
import { AnswerCache } from "./cache";
import { AF_INET, AF_INET6, loadLibc, MmsgRing, NAME_SIZE, serveSockets } from "./ffi";
import { RRL_DROP, RRL_SEND, RRL_SLIP, ResponseRateLimiter } from "./rrl";
import { findTsig } from "./tsig";
import { HEADER, OPCODE_NOTIFY, questionEnd, readName, TYPE_AXFR, TYPE_IXFR, u16 } from "./wire";
import { buildPackedZone, ZoneSet } from "./zone";
import { CTRL_CHANGES, CTRL_HANDED, CTRL_STOP, MAX_HANDED, type ThreadInit, type ThreadEvent, type PostedZone } from "./udp-thread";

/** How long the thread sleeps in poll() before it looks at the stop flag again. */
const POLL_MS = 200;

const init = workerData as ThreadInit;
const post = (e: ThreadEvent, transfer?: ArrayBuffer[]) => parentPort!.postMessage(e, transfer ?? []);

const OPCODE_UPDATE = 5;

/**
 * Signed queries, zone transfers and DNS UPDATE: the main thread holds the keys, the ACLs and
 * the database. NOTIFY too when asked (a secondary refreshes on it).
 */
function forMainThread(q: Uint8Array): boolean {
  if (q.length < HEADER) return false;
  if (init.notify && ((q[2]! >> 3) & 0x0f) === OPCODE_NOTIFY && !(q[2]! & 0x80)) return true;
  // DNS UPDATE: keys, limits and the database are the main thread's (signed or not).
  if (((q[2]! >> 3) & 0x0f) === OPCODE_UPDATE && !(q[2]! & 0x80)) return true;
  if ((q[10]! | q[11]!) !== 0 && findTsig(q) !== null) return true;
  if (u16(q, 4) !== 1) return false;
  const qEnd = questionEnd(q);
  if (qEnd < 0) return false;
  const qtype = u16(q, qEnd - 4);
  return qtype === TYPE_AXFR || qtype === TYPE_IXFR;
}

/** A query with DO for a name in a signed zone: its answer needs the signatures. */
function wantsSignatures(q: Uint8Array, zones: ZoneSet, signed: ReadonlySet<number>): boolean {
  if (q.length < HEADER || u16(q, 4) !== 1 || u16(q, 10) === 0) return false;
  const qEnd = questionEnd(q);
  // The OPT first in the additional section (where every resolver puts it): root name, type 41, DO in its TTL.
  if (qEnd < 0 || qEnd + 11 > q.length || q[qEnd] !== 0 || u16(q, qEnd + 1) !== 41 || !(q[qEnd + 7]! & 0x80)) return false;
  const name = readName(q, HEADER);
  if (name === null) return false;
  const zone = zones.find(name);
  return zone !== null && signed.has(zone.id);
}

function run(): void {
  const libc = loadLibc();
  if (!libc) {
    post({ kind: "failed", reason: "libc not available" });
    return;
  }
  const ctrl = new Int32Array(init.ctrl);
  const port = init.zones as MessagePort;
  const zones = new ZoneSet();
  const cache = new AnswerCache(zones);
  const answerUdp = cache.wrap((q) => answer(q, zones, { transport: "udp" }));
  const counters = new DnsCounters(init.counters);
  const rrl = init.rrl ? new ResponseRateLimiter(init.rrl) : null;
  let applied = 0;
  /** Zones whose DO queries the main thread answers (it holds the signatures). */
  const signedZones = new Set<number>();

  /** Takes every zone change the main thread has posted so far. */
  const applyChanges = () => {
    while (applied !== Atomics.load(ctrl, CTRL_CHANGES)) {
      const m = receiveMessageOnPort(port);
      if (!m) break; // posted but not yet visible: the next round takes it
      applied++;
      const msg = m.message as PostedZone;
      try {
        if ("signed" in msg) {
          if (msg.signed) signedZones.add(msg.id);
          else signedZones.delete(msg.id);
        } else if ("delta" in msg) zones.apply(msg.delta);
        else if (msg.packed) {
          zones.set(buildPackedZone(msg.packed));
          // This thread never idles in an event loop, where the collector would run by itself:
          // what the build left behind (the message, the split strings) is collected now.
          (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun?.gc(true);
        } else zones.removeId(msg.id);
      } catch (e) {
        // The main thread built the same data without error; keep serving what we have.
        post({ kind: "error", message: `zone ${msg.id}: ${(e as Error).message}` });
      }
    }
  };

  applyChanges();
  post({ kind: "ready" });

  serveSockets(
    libc,
    init.fds,
    () => Atomics.load(ctrl, CTRL_STOP) !== 0,
    (ring, n, fd) => {
      // Changes posted before these queries arrived are served to them.
      applyChanges();
      // One clock reading per batch: the datagrams of one receive arrived together.
      const now = rrl ? performance.now() : 0;
      for (let i = 0; i < n; i++) {
        const len = ring.length(i);
        if (len < 0) {
          counters.dropped++;
          continue;
        }
        const q = ring.recvData.subarray(i * MmsgRing.RECV_SLOT, i * MmsgRing.RECV_SLOT + len);
        if (forMainThread(q) || (signedZones.size > 0 && wantsSignatures(q, zones, signedZones))) {
          if (Atomics.load(ctrl, CTRL_HANDED) >= MAX_HANDED) {
            counters.dropped++;
            continue;
          }
          Atomics.add(ctrl, CTRL_HANDED, 1);
          const copy = q.slice();
          const name = ring.name(i);
          post({ kind: "query", fd, query: copy, name }, [copy.buffer as ArrayBuffer, name.buffer as ArrayBuffer]);
          continue;
        }
        let reply: Uint8Array | null = null;
        try {
          reply = answerUdp(q, "udp", "");
        } catch {
          reply = null;
        }
        counters.count(q, reply);
        if (!reply) continue;
        if (rrl) {
          // The sender's address, straight from its sockaddr in the ring.
          const at = i * NAME_SIZE;
          const family = ring.names[at]!;
          const verdict =
            family === AF_INET
              ? rrl.check(reply, ring.names, at + 4, false, now)
              : family === AF_INET6
                ? rrl.check(reply, ring.names, at + 8, true, now)
                : RRL_SEND;
          if (verdict === RRL_DROP) {
            counters.rrlDropped++;
            continue;
          }
          if (verdict === RRL_SLIP) {
            counters.rrlSlipped++;
            ring.queueSlipped(i, reply, rrl.questionEnd);
            continue;
          }
        }
        ring.queue(i, reply);
      }
    },
    POLL_MS,
    // A change while idle is taken at once, so the next query does not wait for its build.
    { fd: init.wakeFd, run: applyChanges },
  );
}

try {
  run();
} catch (e) {
  post({ kind: "failed", reason: (e as Error).message });
}
