/**
 * Configuration: flags > IPKEEP_* environment > config file > defaults, validated once.
 * Keys are the long flag names ("trusted-proxy"); the environment name is IPKEEP_ plus the
 * key in UPPER_SNAKE (IPKEEP_TRUSTED_PROXY); list values in the environment are
 * comma-separated.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fail } from "./core/errors";
import { updateLimitConfig } from "./core/limits";
import { parseCidr } from "./core/addresses";
import { LETS_ENCRYPT_DIRECTORY } from "./core/acme-cert";

type Kind = "string" | "list" | "boolean" | "number" | "switch";

interface OptionSpec {
  kind: Kind;
  default: unknown;
}

/** Every configurable key. A new key is one line here and is then accepted in all three sources. */
export const OPTIONS = {
  data: { kind: "string", default: null },
  http: { kind: "list", default: ["127.0.0.1:8080"] },
  dns: { kind: "list", default: ["127.0.0.1:5300"] },
  url: { kind: "string", default: null },
  demo: { kind: "boolean", default: false },
  "trusted-proxy": { kind: "list", default: [] },
  "log-level": { kind: "string", default: "info" },
  https: { kind: "list", default: [] },
  "tls-cert": { kind: "string", default: null },
  "tls-key": { kind: "string", default: null },
  acme: { kind: "switch", default: null },
  "acme-directory": { kind: "string", default: LETS_ENCRYPT_DIRECTORY },
  "acme-email": { kind: "string", default: null },
  "acme-ca": { kind: "string", default: null },
  "allow-insecure-http": { kind: "boolean", default: false },
  primary: { kind: "string", default: null },
  "metrics-allow": { kind: "list", default: [] },
  zone: { kind: "list", default: [] },
  "update-burst": { kind: "string", default: "5/10" },
  "update-daily": { kind: "number", default: 1440 },
  "xfr-allow": { kind: "list", default: [] },
  notify: { kind: "list", default: [] },
  "tsig-key": { kind: "list", default: [] },
  catalog: { kind: "string", default: null },
  resolver: { kind: "string", default: null },
  "dns-thread": { kind: "boolean", default: true },
  "dns-tcp-max": { kind: "number", default: 200 },
  "dns-tcp-per-source": { kind: "number", default: 20 },
  "rrl-rate": { kind: "number", default: 200 },
  "rrl-slip": { kind: "number", default: 2 },
  "rrl-ipv4-prefix": { kind: "number", default: 24 },
  "rrl-ipv6-prefix": { kind: "number", default: 56 },
  "ixfr-journal-changes": { kind: "number", default: 10_000 },
  "ixfr-journal-bytes": { kind: "number", default: 16 * 1024 * 1024 },
} as const satisfies Record<string, OptionSpec>;

export type ConfigKey = keyof typeof OPTIONS;

export interface Config {
  data: string;
  http: string[];
  dns: string[];
  url: string | null;
  demo: boolean;
  trustedProxy: string[];
  logLevel: string;
  https: string[];
  tlsCert: string | null;
  tlsKey: string | null;
  allowInsecureHttp: boolean;
  /** Own certificate by ACME: true (--acme), false (--acme no), null (on when --https has no --tls-cert). */
  acme: boolean | null;
  acmeDirectory: string;
  acmeEmail: string | null;
  /** Extra trust roots (PEM file) for talking to the ACME directory. */
  acmeCa: string | null;
  /** ipkeep secondary: the primary's DNS address (HOST:PORT) and the zones to pull from it. */
  primary: string | null;
  zone: string[];
  /** CIDRs besides loopback that may read /metrics. */
  metricsAllow: string[];
  /** Update requests per token: COUNT/SECONDS, "0" off. */
  updateBurst: string;
  /** Changes per token per day, 0 off. */
  updateDaily: number;
  /** CIDRs that may AXFR/IXFR without TSIG. */
  xfrAllow: string[];
  /** Secondaries to NOTIFY: "ADDR:PORT" or "ADDR:PORT KEYNAME" (NOTIFY signed with that key). */
  notify: string[];
  /** TSIG keys for transfers: "NAME:BASE64SECRET" or "hmac-sha256:NAME:BASE64SECRET". */
  tsigKey: string[];
  /** Name of the catalog zone (RFC 9432) listing every served zone; null: none. */
  catalog: string | null;
  /** host:port of the resolver asked for delegation checks; null: the system's (/etc/resolv.conf). */
  resolver: string | null;
  /** Answer UDP in a thread of its own (where Bun and Linux allow; the default). */
  dnsThread: boolean;
  /** DNS over TCP: open connections in all, and per source (IPv4 address, IPv6 /64). */
  dnsTcpMax: number;
  dnsTcpPerSource: number;
  /** Response rate limiting of UDP answers (src/dns/rrl.ts): per second per bucket, 0 off. */
  rrlRate: number;
  /** Every Nth answer over the limit goes out truncated (0: none, 1: all). */
  rrlSlip: number;
  /** Prefix lengths that make one source for rate limiting. */
  rrlIpv4Prefix: number;
  rrlIpv6Prefix: number;
  /** IXFR journal bounds per zone: deltas kept, and their bytes (0 changes: no journal, IXFR sends the whole zone). */
  ixfrJournalChanges: number;
  ixfrJournalBytes: number;
  /** The file the configuration was read from, if any. */
  configFile: string | null;
}

export const DEFAULT_CONFIG_FILE = "/etc/ipkeep/ipkeep.toml";
export const INSTALLED_DATA_DIR = "/var/lib/ipkeep";

const envName = (key: string) => `IPKEEP_${key.toUpperCase().replace(/-/g, "_")}`;
const camel = (key: string) => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function coerce(key: string, kind: Kind, value: unknown, source: string): unknown {
  switch (kind) {
    case "string":
      if (typeof value === "string") return value;
      break;
    case "list":
      if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
      if (typeof value === "string")
        return value
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      break;
    case "boolean":
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "1" || value === "yes") return true;
      if (value === "false" || value === "0" || value === "no" || value === "") return false;
      break;
    case "switch":
      // A flag given bare (--acme) is true; a value says yes or no.
      if (typeof value === "boolean") return value;
      if (typeof value === "string" && /^(yes|true|1|on)$/i.test(value)) return true;
      if (typeof value === "string" && /^(no|false|0|off)$/i.test(value)) return false;
      return fail("invalid_input", `${source}: "${key}" must be yes or no`);
    case "number":
      if (typeof value === "number" && Number.isFinite(value)) return value;
      if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
      break;
  }
  fail("invalid_input", `${source}: "${key}" must be a ${kind}`);
}

function parseToml(text: string, file: string): Record<string, unknown> {
  const toml = (globalThis as { Bun?: { TOML: { parse(s: string): unknown } } }).Bun?.TOML;
  if (!toml) fail("invalid_input", `${file}: reading TOML needs the Bun runtime`);
  try {
    return toml.parse(text) as Record<string, unknown>;
  } catch (e) {
    fail("invalid_input", `${file}: ${(e as Error).message}`);
  }
}

/**
 * flags: commander's parsed options (camelCase); only keys the user actually gave should be
 * present (no commander defaults), so the environment and the file can supply the rest.
 */
export function resolveConfig(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined> = process.env,
  fileExists: (p: string) => boolean = existsSync,
): Config {
  const explicit = (flags.config as string | undefined) ?? env.IPKEEP_CONFIG;
  let configFile: string | null = null;
  let file: Record<string, unknown> = {};
  if (explicit) {
    if (!fileExists(explicit)) fail("invalid_input", `Config file ${explicit} does not exist`);
    configFile = explicit;
  } else if (fileExists(DEFAULT_CONFIG_FILE)) {
    configFile = DEFAULT_CONFIG_FILE;
  }
  if (configFile) {
    file = parseToml(readFileSync(configFile, "utf8"), configFile);
    for (const k of Object.keys(file)) {
      if (!(k in OPTIONS)) fail("invalid_input", `${configFile}: unknown key "${k}"`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    const flag = flags[camel(key)];
    const fromEnv = env[envName(key)];
    let value: unknown = spec.default;
    if (flag !== undefined && !(Array.isArray(flag) && flag.length === 0)) value = coerce(key, spec.kind, flag, `--${key}`);
    else if (fromEnv !== undefined) value = coerce(key, spec.kind, fromEnv, envName(key));
    else if (file[key] !== undefined) value = coerce(key, spec.kind, file[key], configFile!);
    out[camel(key)] = value;
  }
  updateLimitConfig(out.updateBurst as string, out.updateDaily as number);
  for (const c of out.trustedProxy as string[]) if (!parseCidr(c)) fail("invalid_input", `trusted-proxy: "${c}" is not an address or CIDR`);
  const ranges: [ConfigKey, number, number][] = [
    ["dns-tcp-max", 1, 100_000],
    ["dns-tcp-per-source", 1, 100_000],
    ["rrl-rate", 0, 1_000_000],
    ["rrl-slip", 0, 100],
    ["rrl-ipv4-prefix", 1, 32],
    ["rrl-ipv6-prefix", 1, 128],
    ["ixfr-journal-changes", 0, 10_000_000],
    ["ixfr-journal-bytes", 0, 2 ** 40],
  ];
  for (const [key, min, max] of ranges) {
    const v = out[camel(key)] as number;
    if (!Number.isInteger(v) || v < min || v > max) fail("invalid_input", `${key} must be a whole number from ${min} to ${max}, not ${v}`);
  }
  const data = (out.data as string | null) ?? (fileExists(INSTALLED_DATA_DIR) ? INSTALLED_DATA_DIR : "./data");
  return {
    data: resolve(data),
    http: out.http as string[],
    dns: out.dns as string[],
    url: (out.url as string | null)?.replace(/\/+$/, "") ?? null,
    demo: out.demo as boolean,
    trustedProxy: out.trustedProxy as string[],
    logLevel: out.logLevel as string,
    https: out.https as string[],
    tlsCert: out.tlsCert as string | null,
    tlsKey: out.tlsKey as string | null,
    allowInsecureHttp: out.allowInsecureHttp as boolean,
    acme: out.acme as boolean | null,
    acmeDirectory: out.acmeDirectory as string,
    acmeEmail: out.acmeEmail as string | null,
    acmeCa: out.acmeCa as string | null,
    primary: out.primary as string | null,
    zone: out.zone as string[],
    metricsAllow: out.metricsAllow as string[],
    updateBurst: out.updateBurst as string,
    updateDaily: out.updateDaily as number,
    xfrAllow: out.xfrAllow as string[],
    notify: out.notify as string[],
    tsigKey: out.tsigKey as string[],
    catalog: (out.catalog as string | null) ?? null,
    resolver: (out.resolver as string | null) ?? null,
    dnsThread: out.dnsThread as boolean,
    dnsTcpMax: out.dnsTcpMax as number,
    dnsTcpPerSource: out.dnsTcpPerSource as number,
    rrlRate: out.rrlRate as number,
    rrlSlip: out.rrlSlip as number,
    rrlIpv4Prefix: out.rrlIpv4Prefix as number,
    rrlIpv6Prefix: out.rrlIpv6Prefix as number,
    ixfrJournalChanges: out.ixfrJournalChanges as number,
    ixfrJournalBytes: out.ixfrJournalBytes as number,
    configFile,
  };
}
