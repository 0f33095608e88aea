import type { Driver } from "./driver";

export interface RecordRow {
  id: number;
  domainId: number;
  name: string;
  type: string;
  ttl: number;
  content: string;
}

export class Records {
  constructor(private db: Driver) {}
  create(r: { domainId: number; name: string; type: string; ttl: number; content: string }, now: number): number {
    return this.db
      .prepare("INSERT INTO records (domain_id, name, type, ttl, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(r.domainId, r.name, r.type, r.ttl, r.content, now, now).lastInsertRowid;
  }
  list(domainId: number): RecordRow[] {
    return this.db
      .prepare("SELECT id, domain_id AS domainId, name, type, ttl, content FROM records WHERE domain_id = ? ORDER BY id")
      .all<RecordRow>(domainId);
  }
}
