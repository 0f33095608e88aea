/**
 * NOTIFY (RFC 1996) to secondaries on every serial change, retried until each one answers.
 * A newer change replaces a pending NOTIFY for the same zone and secondary (only the latest
 * serial matters to it).
 */
import dgram from "node:dgram";
import * as packet from "dns-packet";
import { ResponseVerifier, signRequest, type TsigKey } from "./tsig";
import { OPCODE_NOTIFY, u16 } from "./wire";
import type { ZoneSet } from "./zone";

export interface NotifyTarget {
  host: string;
  port: number;
  key?: TsigKey;
}

/** RFC 1996 §3.6 leaves the interval to us: start fast (loss on a path is usually brief), back off to a minute. */
const RETRY_MS = [1000, 2000, 4000, 8000, 16000, 30000, 60000];

interface Pending {
  id: number;
  zone: string;
  serial: number;
  target: NotifyTarget;
  attempt: number;
  timer: ReturnType<typeof setTimeout> | null;
  /** MACs of the signed attempts still in flight (an answer may be to an earlier one). */
  macs: Uint8Array[];
  /** Why the last answer was not taken (logged once per reason). */
  rejected: string | null;
}

/** Signed attempts whose answers we still accept; older ones are as good as lost. */
const MACS_KEPT = 4;

export interface NotifierOptions {
  zones: () => ZoneSet;
  /** Read on every change: enrolled secondaries come and go while we run. */
  targets: () => NotifyTarget[];
  /** Epoch seconds (TSIG). */
  now: () => number;
  log: (level: "info" | "warn", msg: string, fields: Record<string, unknown>) => void;
  retryMs?: number[];
}

export function notifyMessage(id: number, zone: string, soa: packet.Answer): Uint8Array {
  const msg = packet.encode({ id, type: "query", flags: packet.AUTHORITATIVE_ANSWER, questions: [{ name: zone, type: "SOA", class: "IN" }], answers: [soa] });
  msg[2] = (msg[2]! & 0x87) | (OPCODE_NOTIFY << 3);
  return new Uint8Array(msg);
}

export class Notifier {
  private pending = new Map<string, Pending>();
  private byId = new Map<number, Pending>();
  private sockets: Partial<Record<"udp4" | "udp6", dgram.Socket>> = {};
  private closed = false;

  constructor(private readonly opts: NotifierOptions) {}

  /** Number of NOTIFYs still waiting for an answer. */
  get outstanding(): number {
    return this.pending.size;
  }

  zoneChanged(zoneId: number): void {
    if (this.closed) return;
    const zone = this.opts.zones().get(zoneId);
    if (!zone) return;
    let targets: NotifyTarget[];
    try {
      targets = this.opts.targets();
    } catch (e) {
      this.opts.log("warn", "notify targets unavailable", { error: (e as Error).message });
      return;
    }
    for (const target of targets) {
      const key = `${zone.name}|${target.host}|${target.port}`;
      const old = this.pending.get(key);
      if (old) this.drop(key, old);
      const p: Pending = { id: this.freeId(), zone: zone.name, serial: zone.serial, target, attempt: 0, timer: null, macs: [], rejected: null };
      this.pending.set(key, p);
      this.byId.set(p.id, p);
      this.send(key, p);
    }
  }

  close(): void {
    this.closed = true;
    for (const [key, p] of this.pending) this.drop(key, p);
    for (const s of Object.values(this.sockets)) s?.close();
    this.sockets = {};
  }

  private freeId(): number {
    for (;;) {
      const id = Math.floor(Math.random() * 0x10000);
      if (!this.byId.has(id)) return id;
    }
  }

  private drop(key: string, p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    this.pending.delete(key);
    this.byId.delete(p.id);
  }

  private socket(host: string): dgram.Socket {
    const type = host.includes(":") ? "udp6" : "udp4";
    let s = this.sockets[type];
    if (!s) {
      s = dgram.createSocket(type);
      // An unreachable secondary shows up as a socket error: the retry timer handles it.
      s.on("error", () => {});
      s.on("message", (msg, rinfo) => this.answered(msg, rinfo.address));
      this.sockets[type] = s;
    }
    return s;
  }

  private send(key: string, p: Pending): void {
    const zone = this.opts.zones().find(p.zone);
    if (!zone || zone.name !== p.zone) {
      this.drop(key, p);
      return;
    }
    const retry = this.opts.retryMs ?? RETRY_MS;
    p.timer = setTimeout(
      () => {
        p.attempt++;
        if (p.attempt === 3)
          this.opts.log("warn", "notify not acknowledged yet", { zone: p.zone, target: `${p.target.host}:${p.target.port}`, attempts: p.attempt });
        this.send(key, p);
      },
      retry[Math.min(p.attempt, retry.length - 1)],
    );
    p.timer.unref?.();
    try {
      let msg = notifyMessage(p.id, zone.name, zone.soa as packet.Answer);
      if (p.target.key) {
        const signed = signRequest(msg, p.target.key, this.opts.now());
        msg = signed.message;
        p.macs.push(signed.mac);
        if (p.macs.length > MACS_KEPT) p.macs.shift();
      }
      this.socket(p.target.host).send(msg, p.target.port, p.target.host, () => {});
    } catch {
      /* the timer retries */
    }
  }

  private answered(msg: Buffer, from: string): void {
    if (msg.length < 12 || !(msg[2]! & 0x80) || ((msg[2]! >> 3) & 0xf) !== OPCODE_NOTIFY) return;
    const p = this.byId.get(u16(msg, 0));
    if (!p || from.replace(/^::ffff:/, "") !== p.target.host.replace(/^\[|\]$/g, "")) return;
    // A signed NOTIFY is acknowledged only by an answer signed with the same key over our
    // request (RFC 8945 §5.3): anyone else's answer, forged or stale, leaves the retries on.
    const key = p.target.key;
    if (key) {
      const now = this.opts.now();
      let reason = "";
      for (const mac of p.macs) {
        const r = new ResponseVerifier(key, mac).verify(msg, now);
        reason = r.ok ? "" : r.reason;
        if (!reason) break;
      }
      if (reason) {
        if (p.rejected !== reason)
          this.opts.log("warn", "notify answer failed its TSIG check", { zone: p.zone, target: `${p.target.host}:${p.target.port}`, reason });
        p.rejected = reason;
        return;
      }
    }
    const rcode = msg[3]! & 0x0f;
    this.drop(`${p.zone}|${p.target.host}|${p.target.port}`, p);
    // Any answer ends the retries: a secondary that refuses will refuse again.
    if (rcode === 0) this.opts.log("info", "notify acknowledged", { zone: p.zone, serial: p.serial, target: `${p.target.host}:${p.target.port}` });
    else this.opts.log("warn", "notify refused", { zone: p.zone, target: `${p.target.host}:${p.target.port}`, rcode });
  }
}
