import type { Driver } from "./driver";
import { SEALED_SETTINGS, settingContext } from "./sealed";
import { isSealed, type SecretBox } from "./secret-box";

/** Key/value settings; the ones in SEALED_SETTINGS are sealed at rest (store/sealed.ts). */
export class Settings {
  constructor(
    private db: Driver,
    private box: SecretBox,
  ) {}
  /** The value; a sealed one that does not open with this directory's key reads as unset. */
  get(key: string): string | null {
    const v = this.db.prepare("SELECT value FROM settings WHERE key = ?").get<{ value: string }>(key)?.value ?? null;
    if (v === null || !SEALED_SETTINGS.has(key) || !isSealed(v)) return v;
    return this.box.tryOpen(v, settingContext(key));
  }
  set(key: string, value: string): void {
    const stored = SEALED_SETTINGS.has(key) && value !== "" ? this.box.seal(value, settingContext(key)) : value;
    this.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, stored);
  }
}
