/**
 * The instance settings an admin changes at run time (stored in the settings table), with
 * their defaults, in one place: registration, default quotas, SMTP.
 */
import { fail } from "./errors";
import type { SmtpSettings } from "./mail";
import { defaultQuota as defaultOf, type QuotaKind, QUOTA_SETTINGS } from "./quotas";

export interface SettingsStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
}

export interface InstanceSettings {
  registrationOpen: boolean;
  /** Limits for users without their own (core/quotas.ts enforces them; admins are exempt). */
  defaultQuota: Record<QuotaKind, number>;
  smtp: (Omit<SmtpSettings, "password"> & { passwordSet: boolean }) | null;
}

const K = {
  registration: "registration_open",
  smtp: "smtp",
} as const;

const KINDS: QuotaKind[] = ["hostnames", "domains", "records"];

export function defaultQuotas(s: SettingsStore): Record<QuotaKind, number> {
  return { hostnames: defaultOf(s, "hostnames"), domains: defaultOf(s, "domains"), records: defaultOf(s, "records") };
}

export function smtpSettings(s: SettingsStore): SmtpSettings | null {
  const raw = s.get(K.smtp);
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as SmtpSettings;
    return v && typeof v.host === "string" && v.host ? v : null;
  } catch {
    return null;
  }
}

export function registrationOpen(s: SettingsStore): boolean {
  return s.get(K.registration) === "true";
}

export function readSettings(s: SettingsStore): InstanceSettings {
  const smtp = smtpSettings(s);
  return {
    registrationOpen: registrationOpen(s),
    defaultQuota: defaultQuotas(s),
    // The SMTP password is never sent back out; the dashboard only learns whether one is set.
    smtp: smtp && { host: smtp.host, port: smtp.port, secure: smtp.secure, user: smtp.user, from: smtp.from, passwordSet: !!smtp.password },
  };
}

export interface SettingsPatch {
  registrationOpen?: boolean;
  defaultQuota?: Partial<Record<QuotaKind, number>>;
  /** null removes SMTP (links are then printed by the CLI). password omitted: kept. */
  smtp?: { host: string; port?: number; secure?: boolean; user?: string | null; password?: string | null; from: string } | null;
}

export function writeSettings(s: SettingsStore, patch: SettingsPatch): InstanceSettings {
  if (patch.registrationOpen !== undefined) s.set(K.registration, patch.registrationOpen ? "true" : "false");
  if (patch.defaultQuota) {
    for (const k of KINDS) {
      const v = patch.defaultQuota[k];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || v < 0 || v > 999_999_999) fail("invalid_input", `defaultQuota.${k} must be a whole number`);
      s.set(QUOTA_SETTINGS[k], String(v));
    }
  }
  if (patch.smtp === null) s.set(K.smtp, "");
  else if (patch.smtp) {
    const old = smtpSettings(s);
    const port = patch.smtp.port ?? (patch.smtp.secure ? 465 : 587);
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail("invalid_input", "smtp.port must be 1-65535");
    if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(patch.smtp.host)) fail("invalid_input", "smtp.host is not a host name or address");
    const next: SmtpSettings = {
      host: patch.smtp.host,
      port,
      secure: patch.smtp.secure ?? port === 465,
      user: patch.smtp.user ?? null,
      password: patch.smtp.password === undefined ? (old?.password ?? null) : patch.smtp.password,
      from: patch.smtp.from,
    };
    s.set(K.smtp, JSON.stringify(next));
  }
  return readSettings(s);
}
