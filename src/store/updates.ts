/**
 * The update path's writes: one request's host changes, serial bumps, log lines and token
 * use in a single transaction (one fsync under synchronous=FULL), plus history and pruning.
 */
import type { UpdateCommit, UpdateLogEntry, UpdateTokenRow } from "../core/ports";
import { BUMP_SERIAL } from "./domains";
import type { Driver } from "./driver";

export class Updates {
  constructor(private db: Driver) {}

  /** Several update requests in one transaction (one fsync); each changed zone's serial moves once. */
  commit(commits: UpdateCommit[]): void {
    if (commits.every((u) => u.changes.length === 0 && u.logs.length === 0 && u.tokenId === null)) return;
    this.db.transaction(() => {
      const bumped = new Map<number, number>();
      for (const u of commits) {
        for (const c of u.changes) {
          this.db
            .prepare("UPDATE hostnames SET ipv4 = ?, ipv6 = ?, updated_at = ?, last_update_at = ? WHERE id = ?")
            .run(c.next.ipv4, c.next.ipv6, u.now, u.now, c.hostId);
          bumped.set(c.domainId, u.now);
        }
        for (const e of u.logs) this.log(e);
        if (u.tokenId !== null) this.db.prepare("UPDATE update_tokens SET last_used_at = ? WHERE id = ?").run(u.now, u.tokenId);
      }
      for (const [domainId, now] of bumped) {
        this.db.prepare(BUMP_SERIAL).run(now, domainId);
      }
    });
  }

  private log(e: UpdateLogEntry): void {
    this.db
      .prepare(
        `INSERT INTO update_log (at, hostname_id, hostname, token_id, source, user_agent, old_ipv4, old_ipv6, new_ipv4, new_ipv6, result)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.at, e.hostnameId, e.hostname, e.tokenId, e.source, e.userAgent, e.oldIpv4, e.oldIpv6, e.newIpv4, e.newIpv6, e.result);
  }

  onlyHostnameOf(token: UpdateTokenRow): string | null {
    const rows =
      token.scope === "all"
        ? this.db.prepare("SELECT name FROM hostnames WHERE owner_id = ? LIMIT 2").all<{ name: string }>(token.userId)
        : this.db
            .prepare(
              `SELECT h.name FROM update_token_hosts t JOIN hostnames h ON h.id = t.hostname_id
               WHERE t.token_id = ? AND h.owner_id = ? LIMIT 2`,
            )
            .all<{ name: string }>(token.id, token.userId);
    return rows.length === 1 ? rows[0]!.name : null;
  }

  /** The last time the host reported in (an update answered good or nochg: IPv64's healthcheck is one), or null. */
  lastSeen(hostnameId: number): number | null {
    return (
      this.db.prepare("SELECT MAX(at) AS at FROM update_log WHERE hostname_id = ? AND result IN ('good', 'nochg')").get<{ at: number | null }>(hostnameId)
        ?.at ?? null
    );
  }

  /** Newest first. */
  history(hostnameId: number, limit: number): (UpdateLogEntry & { token: string | null })[] {
    return this.db
      .prepare(
        `SELECT l.at, l.hostname_id AS hostnameId, l.hostname, l.token_id AS tokenId, l.source, l.user_agent AS userAgent,
                l.old_ipv4 AS oldIpv4, l.old_ipv6 AS oldIpv6, l.new_ipv4 AS newIpv4, l.new_ipv6 AS newIpv6, l.result,
                t.hint AS token
         FROM update_log l LEFT JOIN update_tokens t ON t.id = l.token_id
         WHERE l.hostname_id = ? ORDER BY l.id DESC LIMIT ?`,
      )
      .all<UpdateLogEntry & { token: string | null }>(hostnameId, limit);
  }

  prune(p: { before: number; maxPerHost: number; maxUnattached: number }): number {
    return this.db.transaction(() => {
      let n = this.db.prepare("DELETE FROM update_log WHERE at < ?").run(p.before).changes;
      const crowded = this.db
        .prepare("SELECT hostname_id AS id FROM update_log WHERE hostname_id IS NOT NULL GROUP BY hostname_id HAVING COUNT(*) > ?")
        .all<{ id: number }>(p.maxPerHost);
      for (const { id } of crowded) {
        n += this.db
          .prepare(
            `DELETE FROM update_log WHERE hostname_id = ? AND id <=
               (SELECT id FROM update_log WHERE hostname_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
          )
          .run(id, id, p.maxPerHost).changes;
      }
      n += this.db
        .prepare(
          `DELETE FROM update_log WHERE hostname_id IS NULL AND id <=
             (SELECT id FROM update_log WHERE hostname_id IS NULL ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        )
        .run(p.maxUnattached).changes;
      return n;
    });
  }
}
