/**
 * Wires DNS UPDATE (dns/update.ts, the wire) to the update tokens' keys in the store and to
 * core/dyn-update.ts (the meaning), for `ipkeep serve`.
 */
import { type DynUpdateResult, performDnsUpdate } from "./core/dyn-update";
import { LocalResources } from "./core/resources";
import type { UpdateLimits } from "./core/limits";
import { type Clock, nowSeconds, type Platform } from "./core/platform";
import type { ChangeSink, UpdateTokenRow } from "./core/ports";
import { canonicalRdata, createUpdateHandler } from "./dns/update";
import { makeKey, type TsigKey } from "./dns/tsig";
import { log, logLimited, redact } from "./log";
import type { Store } from "./store";

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

/** An update token's DNS UPDATE key by its name, with the token; null when there is none. */
export function tokenKey(store: Store, name: string): { key: TsigKey; owner: UpdateTokenRow } | null {
  const found = store.tokens.byTsigName(name);
  if (!found?.token.tsig) return null;
  try {
    return { key: makeKey(name, found.secret, found.token.tsig.algorithm), owner: found.token };
  } catch {
    return null;
  }
}

type Job = { run: (changes: ChangeSink) => DynUpdateResult; resolve: (r: DynUpdateResult) => void };

/**
 * Group commit for DNS UPDATE, as commit-batch.ts does for dyndns2: the messages that arrive
 * together run in ONE transaction (one fsync), each in a savepoint of its own (all or nothing
 * per message), in arrival order, so each reads what the earlier ones wrote; every answer waits
 * until the transaction is durable, and DNS is told after it commits.
 */
class UpdateBatch {
  private queue: Job[] = [];
  private scheduled = false;

  constructor(
    private store: Store,
    private changes: ChangeSink,
  ) {}

  add(run: Job["run"]): Promise<DynUpdateResult> {
    return new Promise((resolve) => {
      this.queue.push({ run, resolve });
      if (this.scheduled) return;
      this.scheduled = true;
      // After the I/O already waiting: messages that arrived with this one join its batch.
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue.splice(0);
    const touched = new Set<number>();
    const expiries: number[] = [];
    const sink: ChangeSink = { zoneChanged: (id) => touched.add(id), expiresAt: (at) => expiries.push(at) };
    let results: DynUpdateResult[];
    try {
      // What dyndns2 has waiting is durable first: prerequisites read it, and ours follow it.
      this.store.flushUpdates();
      results = this.store.transaction(() =>
        jobs.map((j): DynUpdateResult => {
          try {
            return j.run(sink);
          } catch (e) {
            // Its savepoint is rolled back; the others still commit.
            return { rcode: "SERVFAIL", reason: (e as Error).message };
          }
        }),
      );
    } catch (e) {
      // The commit failed (a full disk): nothing of the batch was written.
      touched.clear();
      expiries.length = 0;
      results = jobs.map(() => ({ rcode: "SERVFAIL", reason: `not stored: ${(e as Error).message}` }));
    }
    for (const id of touched) this.changes.zoneChanged(id);
    for (const at of expiries) this.changes.expiresAt?.(at);
    for (let i = 0; i < jobs.length; i++) jobs[i]!.resolve(results[i]!);
  }
}

export function dnsUpdateHandler(d: { store: Store; platform: Platform; changes: ChangeSink; limits: UpdateLimits; clock: Clock }) {
  const batch = new UpdateBatch(d.store, d.changes);
  return createUpdateHandler({
    key: (name) => tokenKey(d.store, name),
    now: () => nowSeconds(d.clock),
    admitSource: (peer) => d.limits.admitSource(peer).reason === null,
    badCredentials: (peer) => void d.limits.badCredentials(peer),
    perform: (owner, keyName, msg, peer) =>
      batch.add((changes) =>
        performDnsUpdate(
          {
            store: d.store,
            platform: d.platform,
            changes,
            limits: d.limits,
            canonical: canonicalRdata,
            records: (actor, sink) => new LocalResources({ store: d.store, platform: d.platform, changes: sink }, actor),
          },
          owner as UpdateTokenRow,
          msg,
          { source: peer, userAgent: `DNS UPDATE (key ${keyName})` },
        ),
      ),
    onResult: (r) => {
      const fields = { source: r.peer, key: r.keyName, zone: r.zone, rcode: RCODE_NAMES[r.rcode] ?? r.rcode, reason: r.reason ? redact(r.reason) : undefined };
      // Refusals before a good signature can come in floods: at most one line a minute of them.
      if (r.keyName === null || r.rcode === 9) logLimited("dns-update-unsigned", 60_000, "warn", "dns update refused", fields);
      else log(r.rcode === 0 ? "info" : "warn", "dns update", fields);
    },
  });
}
