/**
 * The instance settings an admin changes at run time (stored in the settings table), with
 * their defaults, in one place: registration, default quotas, SMTP.
 */
import { fail } from "./errors";
import type { SmtpSettings } from "./mail";
import type { Quota } from "./ports";

export interface SettingsStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
}

export interface EffectiveQuota {
  /** null: unlimited. */
  hostnames: number | null;
  domains: number | null;
  records: number | null;
}

/**
 * Defaults for a fresh install: enough for a household, small enough that one account cannot
 * fill the zone. The admin changes them in settings, or per user.
 */
export const DEFAULT_QUOTA: EffectiveQuota = { hostnames: 20, domains: 3, records: 200 };

export interface InstanceSettings {
  registrationOpen: boolean;
  defaultQuota: EffectiveQuota;
  smtp: (Omit<SmtpSettings, "password"> & { passwordSet: boolean }) | null;
}

const K = {
  registration: "registration_open",
  quota: (k: keyof Quota) => `default_quota_${k}`,
  smtp: "smtp",
} as const;

function quotaValue(raw: string | null, fallback: number | null): number | null {
  if (raw === null) return fallback;
  if (raw === "unlimited") return null;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

export function defaultQuota(s: SettingsStore): EffectiveQuota {
  return {
    hostnames: quotaValue(s.get(K.quota("hostnames")), DEFAULT_QUOTA.hostnames),
    domains: quotaValue(s.get(K.quota("domains")), DEFAULT_QUOTA.domains),
    records: quotaValue(s.get(K.quota("records")), DEFAULT_QUOTA.records),
  };
}

/** A user's limits: their own where set, else the instance default. null means unlimited. */
export function effectiveQuota(s: SettingsStore, own: Quota): EffectiveQuota {
  const d = defaultQuota(s);
  return { hostnames: own.hostnames ?? d.hostnames, domains: own.domains ?? d.domains, records: own.records ?? d.records };
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
    defaultQuota: defaultQuota(s),
    // The SMTP password is never sent back out; the dashboard only learns whether one is set.
    smtp: smtp && { host: smtp.host, port: smtp.port, secure: smtp.secure, user: smtp.user, from: smtp.from, passwordSet: !!smtp.password },
  };
}

export interface SettingsPatch {
  registrationOpen?: boolean;
  defaultQuota?: Partial<EffectiveQuota>;
  /** null removes SMTP (links are then printed by the CLI). password omitted: kept. */
  smtp?: { host: string; port?: number; secure?: boolean; user?: string | null; password?: string | null; from: string } | null;
}

export function writeSettings(s: SettingsStore, patch: SettingsPatch): InstanceSettings {
  if (patch.registrationOpen !== undefined) s.set(K.registration, patch.registrationOpen ? "true" : "false");
  if (patch.defaultQuota) {
    for (const k of ["hostnames", "domains", "records"] as const) {
      if (!(k in patch.defaultQuota)) continue;
      const v = patch.defaultQuota[k];
      if (v !== null && (v === undefined || !Number.isInteger(v) || v < 0)) fail("invalid_input", `defaultQuota.${k} must be a whole number or null`);
      s.set(K.quota(k), v === null ? "unlimited" : String(v));
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
