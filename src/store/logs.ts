import type { UpdateLogEntry } from "../core/ports";
import type { Driver } from "./driver";

export class Logs {
  constructor(private db: Driver) {}

  addUpdate(e: UpdateLogEntry): void {
    this.db
      .prepare(
        `INSERT INTO update_log (at, hostname_id, hostname, token_id, source, user_agent, old_ipv4, old_ipv6, new_ipv4, new_ipv6, result)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.at, e.hostnameId, e.hostname, e.tokenId, e.source, e.userAgent, e.oldIpv4, e.oldIpv6, e.newIpv4, e.newIpv6, e.result);
  }
  updatesFor(hostnameId: number, limit = 100): UpdateLogEntry[] {
    return this.db
      .prepare(
        `SELECT at, hostname_id AS hostnameId, hostname, token_id AS tokenId, source, user_agent AS userAgent,
                old_ipv4 AS oldIpv4, old_ipv6 AS oldIpv6, new_ipv4 AS newIpv4, new_ipv6 AS newIpv6, result
         FROM update_log WHERE hostname_id = ? ORDER BY id DESC LIMIT ?`,
      )
      .all<UpdateLogEntry>(hostnameId, limit);
  }
  audit(e: { actorId: number | null; actor: string; action: string; target?: string; address?: string | null; detail?: string }, now: number): void {
    this.db
      .prepare("INSERT INTO audit_log (at, actor_id, actor, action, target, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(now, e.actorId, e.actor, e.action, e.target ?? null, e.address ?? null, e.detail ?? null);
  }
}
