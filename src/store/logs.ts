import type { Driver } from "./driver";

export class Logs {
  constructor(private db: Driver) {}

  audit(e: { actorId: number | null; actor: string; action: string; target?: string; address?: string | null; detail?: string }, now: number): void {
    this.db
      .prepare("INSERT INTO audit_log (at, actor_id, actor, action, target, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(now, e.actorId, e.actor, e.action, e.target ?? null, e.address ?? null, e.detail ?? null);
  }
}
