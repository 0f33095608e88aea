import type { Driver } from "./driver";

export class Settings {
  constructor(private db: Driver) {}
  get(key: string): string | null {
    return this.db.prepare("SELECT value FROM settings WHERE key = ?").get<{ value: string }>(key)?.value ?? null;
  }
  set(key: string, value: string): void {
    this.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }
}
