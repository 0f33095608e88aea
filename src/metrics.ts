/**
 * A small Prometheus registry. Every label set is bounded and fixed in advance: label values
 * never come from attacker-controlled text (an unknown query type is "other", an odd HTTP
 * status is "other"), so a scrape can never be made to grow without bound.
 */
import { DNS_TYPES, DnsCounters, RCODES } from "./dns/counters";

export { DNS_TYPES, DnsCounters, RCODES };

/** Words an update can end in (core/update.ts and core/errors.ts); anything else is "other". */
export const UPDATE_RESULTS = ["good", "nochg", "badauth", "notfqdn", "nohost", "numhost", "abuse", "badagent", "dnserr", "911", "other"] as const;
const HTTP_STATUSES = [200, 201, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429, 500, 502, 503];

/** A counter over a fixed set of label values. */
export class LabeledCounter<L extends string> {
  private values = new Map<string, number>();
  constructor(
    readonly allowed: readonly L[],
    readonly fallback: L,
  ) {
    for (const l of allowed) this.values.set(l, 0);
  }
  inc(label: string, by = 1): void {
    const key = this.values.has(label) ? label : this.fallback;
    this.values.set(key, this.values.get(key)! + by);
  }
  get(label: L): number {
    return this.values.get(label) ?? 0;
  }
  entries(): [string, number][] {
    return [...this.values.entries()];
  }
}

export const HTTP_STATUS_LABELS = [...HTTP_STATUSES.map(String), "other"];

export const TRANSFER_KINDS = ["axfr", "ixfr", "ixfr-full", "uptodate"] as const;

/** Transfers and their bytes, by kind. */
export class TransferCounter {
  readonly count = new LabeledCounter<string>(TRANSFER_KINDS, "axfr");
  readonly bytes = new LabeledCounter<string>(TRANSFER_KINDS, "axfr");
  inc(kind: (typeof TRANSFER_KINDS)[number], bytes: number): void {
    this.count.inc(kind);
    this.bytes.inc(kind, bytes);
  }
}

/** The process-wide registry: one per process is what Prometheus expects from a target. */
export const metrics = {
  dns: new DnsCounters(),
  /** Counters the DNS threads write (each thread alone writes its own); summed when read. */
  dnsThreads: [] as DnsCounters[],
  updates: new LabeledCounter<string>(UPDATE_RESULTS, "other"),
  http: new LabeledCounter<string>(HTTP_STATUS_LABELS, "other"),
  /** Zone transfers sent: AXFR, IXFR from the journal, IXFR answered with the whole zone, or "up to date". */
  transfers: new TransferCounter(),
  /** Entries and bytes in the IXFR journal, read at scrape time. */
  journal: (() => ({ entries: 0, bytes: 0 })) as () => { entries: number; bytes: number },
  startedAt: Date.now(),
  /** Password hashes (argon2id) started; the server's hash queue, read at scrape time. */
  passwordHashes: 0,
  passwordQueue: (() => ({ running: 0, queued: 0 })) as () => { running: number; queued: number },
  /** When the HTTPS certificate expires (epoch seconds), null without one. */
  tlsNotAfter: null as number | null,
};

/** Counts a DNS reply and passes it through, so a handler can wrap its answer in one call. */
export function countDns<R extends Uint8Array | null | Promise<Uint8Array | null>>(query: Uint8Array, reply: R): R {
  if (reply instanceof Promise) {
    void reply.then(
      (r) => metrics.dns.count(query, r),
      () => {},
    );
    return reply;
  }
  metrics.dns.count(query, reply as Uint8Array | null);
  return reply;
}

export function resetMetrics(): void {
  metrics.dns.responses.fill(0);
  metrics.dns.dropped = 0;
  metrics.dns.rrlDropped = 0;
  metrics.dns.rrlSlipped = 0;
  metrics.updates = new LabeledCounter<string>(UPDATE_RESULTS, "other");
  metrics.http = new LabeledCounter<string>(HTTP_STATUS_LABELS, "other");
  metrics.passwordHashes = 0;
  metrics.transfers = new TransferCounter();
}

// ---- text exposition (Prometheus 0.0.4) ----

/** Label values we emit from stored data (zone and node names) are escaped and capped. */
const MAX_LABEL_VALUE = 253;
export function labelValue(v: string): string {
  return v.slice(0, MAX_LABEL_VALUE).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

export class Exposition {
  private lines: string[] = [];
  family(name: string, type: "counter" | "gauge", help: string): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }
  sample(name: string, labels: Record<string, string>, value: number): this {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${labelValue(v)}"`)
      .join(",");
    this.lines.push(`${name}${l ? `{${l}}` : ""} ${Number.isFinite(value) ? value : 0}`);
    return this;
  }
  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

/** The process counters; route code adds gauges read from the live state. */
export function writeCounters(out: Exposition): void {
  out.family(
    "ipkeep_dns_responses_total",
    "counter",
    "DNS responses, by response code and query type (UDP ones over the rate limit are then dropped or truncated: ipkeep_dns_rrl_*).",
  );
  const d = Float64Array.from(metrics.dns.responses);
  let dropped = metrics.dns.dropped;
  let rrlDropped = metrics.dns.rrlDropped;
  let rrlSlipped = metrics.dns.rrlSlipped;
  for (const c of metrics.dnsThreads) {
    for (let i = 0; i < d.length; i++) d[i]! += c.responses[i]!;
    dropped += c.dropped;
    rrlDropped += c.rrlDropped;
    rrlSlipped += c.rrlSlipped;
  }
  for (let r = 0; r < RCODES.length; r++) {
    for (let t = 0; t < DNS_TYPES.length; t++) {
      const v = d[r * DNS_TYPES.length + t]!;
      // Only the combinations seen (and always the common ones), so the page stays short.
      if (v > 0 || (r === 0 && t === 0)) out.sample("ipkeep_dns_responses_total", { rcode: RCODES[r]!, type: DNS_TYPES[t]! }, v);
    }
  }
  out.family("ipkeep_dns_dropped_total", "counter", "DNS packets not answered (not a query, or too short to answer).");
  out.sample("ipkeep_dns_dropped_total", {}, dropped);
  out.family("ipkeep_dns_rrl_dropped_total", "counter", "UDP answers not sent: over the response rate limit (--rrl-rate).");
  out.sample("ipkeep_dns_rrl_dropped_total", {}, rrlDropped);
  out.family("ipkeep_dns_rrl_slipped_total", "counter", "UDP answers over the response rate limit sent truncated instead (TC, question only; --rrl-slip).");
  out.sample("ipkeep_dns_rrl_slipped_total", {}, rrlSlipped);
  out.family("ipkeep_updates_total", "counter", "Dynamic DNS update results, by result word.");
  for (const [k, v] of metrics.updates.entries()) out.sample("ipkeep_updates_total", { result: k }, v);
  out.family("ipkeep_http_responses_total", "counter", "HTTP responses, by status code.");
  for (const [k, v] of metrics.http.entries()) out.sample("ipkeep_http_responses_total", { status: k }, v);
  out.family("ipkeep_password_hashes_total", "counter", "Password hashes (argon2id) started: sign-ins, password changes.");
  out.sample("ipkeep_password_hashes_total", {}, metrics.passwordHashes);
  const q = metrics.passwordQueue();
  out.family("ipkeep_password_hashes_running", "gauge", "Password hashes running now (at most two).");
  out.sample("ipkeep_password_hashes_running", {}, q.running);
  out.family("ipkeep_password_hashes_queued", "gauge", "Password hashes waiting for a slot now.");
  out.sample("ipkeep_password_hashes_queued", {}, q.queued);
  out.family(
    "ipkeep_dns_transfers_total",
    "counter",
    "Zone transfers sent, by kind: axfr, ixfr (differences from the journal), ixfr-full (the whole zone: the journal did not reach back), uptodate (the SOA alone).",
  );
  for (const [k, v] of metrics.transfers.count.entries()) out.sample("ipkeep_dns_transfers_total", { kind: k }, v);
  out.family("ipkeep_dns_transfer_bytes_total", "counter", "Bytes of zone transfer messages sent, by kind (before TSIG).");
  for (const [k, v] of metrics.transfers.bytes.entries()) out.sample("ipkeep_dns_transfer_bytes_total", { kind: k }, v);
  const j = metrics.journal();
  out.family("ipkeep_ixfr_journal_entries", "gauge", "Deltas kept in the IXFR journal, all zones.");
  out.sample("ipkeep_ixfr_journal_entries", {}, j.entries);
  out.family("ipkeep_ixfr_journal_bytes", "gauge", "Bytes of records kept in the IXFR journal, all zones.");
  out.sample("ipkeep_ixfr_journal_bytes", {}, j.bytes);
  if (metrics.tlsNotAfter !== null) {
    out.family("ipkeep_tls_certificate_expiry_timestamp_seconds", "gauge", "When the HTTPS certificate expires, in seconds since the epoch.");
    out.sample("ipkeep_tls_certificate_expiry_timestamp_seconds", {}, metrics.tlsNotAfter);
  }
  out.family("ipkeep_process_start_time_seconds", "gauge", "Start time of the process since the epoch, in seconds.");
  out.sample("ipkeep_process_start_time_seconds", {}, Math.floor(metrics.startedAt / 1000));
}
