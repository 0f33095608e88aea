/**
 * Group commit for the update path (issue 12): updates that arrive together are written in one
 * transaction, so they share one fsync, and each is answered only after that transaction is
 * durable. What carries no change of address (nochg's history line and the token's last use,
 * refusals' lines) is answered at once and written with the same batch: no acknowledged
 * change depends on it, so it waits for no fsync.
 *
 * Until its batch is written, a host's pending addresses are what later updates read
 * (pendingAddresses), so two updates of one host in one batch see each other as they would in
 * sequence.
 */
import type { UpdateCommit } from "../core/ports";

interface Waiting {
  commit: UpdateCommit;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class CommitBatch {
  private durable: Waiting[] = [];
  private lazy: UpdateCommit[] = [];
  private scheduled = false;
  private pending = new Map<number, { ipv4: string | null; ipv6: string | null }>();

  /** write: the commits in one transaction (throws to roll all of them back). */
  constructor(
    private write: (commits: UpdateCommit[]) => void,
    private onLazyFailure: (e: unknown) => void = () => {},
  ) {}

  /** Resolves once the commit is durable; at once for one that changes no address. */
  commit(c: UpdateCommit): Promise<void> {
    if (c.changes.length === 0) {
      this.lazy.push(c);
      this.schedule();
      return Promise.resolve();
    }
    for (const ch of c.changes) this.pending.set(ch.hostId, ch.next);
    return new Promise((resolve, reject) => {
      this.durable.push({ commit: c, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the I/O already waiting: requests that arrived with this one join its batch.
    setImmediate(() => this.flush());
  }

  /** The addresses a host will have once its pending batch is written, or undefined. */
  pendingAddresses(hostId: number): { ipv4: string | null; ipv6: string | null } | undefined {
    return this.pending.get(hostId);
  }

  /** Writes everything waiting now (also at close). */
  flush(): void {
    this.scheduled = false;
    const batch = this.durable;
    const lazy = this.lazy;
    this.durable = [];
    this.lazy = [];
    if (batch.length === 0 && lazy.length === 0) return;
    try {
      this.write([...lazy, ...batch.map((w) => w.commit)]);
      for (const w of batch) w.resolve();
    } catch {
      // One bad commit must not fail its neighbours: each again on its own.
      for (const c of lazy) {
        try {
          this.write([c]);
        } catch (e) {
          this.onLazyFailure(e);
        }
      }
      for (const w of batch) {
        try {
          this.write([w.commit]);
          w.resolve();
        } catch (e) {
          w.reject(e);
        }
      }
    } finally {
      for (const w of batch) for (const ch of w.commit.changes) if (this.pending.get(ch.hostId) === ch.next) this.pending.delete(ch.hostId);
    }
  }
}
