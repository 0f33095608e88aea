/**
 * Pulling a zone from the primary: the SOA serial (to see whether anything changed), an
 * incremental transfer (IXFR over TCP, RFC 1995) from the serial we hold, and a full transfer
 * (AXFR, RFC 5936) when we hold nothing; all signed with TSIG when a key is configured.
 */
import * as packet from "dns-packet";
import { buildQuery, DnsClientError, queryDns, tcpExchange } from "../dns/client";
import type { Listen } from "../dns/server";
import { ResponseVerifier, signRequest, type TsigKey } from "../dns/tsig";
import { canonicalName } from "../core/names";

/** A transfer may be large; each message must still arrive within this long. */
const TRANSFER_MESSAGE_TIMEOUT_MS = 15_000;
/** Refuse absurd zones instead of filling memory (a dynamic DNS zone is small). */
const MAX_TRANSFER_RECORDS = 500_000;

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];
const rcodeName = (r: number) => RCODES[r] ?? `RCODE${r}`;
const canonical = canonicalName;

export interface PullOptions {
  key?: TsigKey;
  now: () => number;
  timeoutMs?: number;
}

/** The primary's SOA serial for zone; throws DnsClientError when it cannot tell. */
export async function primarySerial(primary: Listen, zone: string, opts: PullOptions): Promise<number> {
  const r = await queryDns(primary, zone, "SOA", { key: opts.key, now: opts.now, timeoutMs: opts.timeoutMs });
  if (r.rcode !== 0) throw new DnsClientError(`the primary answered ${rcodeName(r.rcode)} for the SOA of ${zone}`);
  const soa = (r.packet.answers ?? []).find((a) => a.type === "SOA" && canonical(a.name) === canonical(zone));
  if (!soa) throw new DnsClientError(`the primary's answer for ${zone} has no SOA (is it authoritative for it?)`);
  return ((soa as packet.Answer & { data: packet.SoaData }).data.serial ?? 0) >>> 0;
}

const soaSerial = (rr: packet.Answer) => ((rr as packet.Answer & { data: packet.SoaData }).data.serial ?? 0) >>> 0;

/** One difference sequence of an IXFR: what left and what came, and the SOA after it. */
export interface IxfrDelta {
  removed: packet.Answer[];
  added: packet.Answer[];
  soa: packet.Answer;
}

export type IxfrResult = { kind: "uptodate" } | { kind: "full"; records: packet.Answer[] } | { kind: "incremental"; deltas: IxfrDelta[] };

/**
 * Asks for the changes since serial (RFC 1995). The answer is the SOA alone (nothing newer),
 * the whole zone (AXFR form: the primary's journal does not reach back), or difference
 * sequences, oldest first.
 */
export async function ixfrZone(primary: Listen, zone: string, serial: number, opts: PullOptions): Promise<IxfrResult> {
  const records = await transfer(primary, zone, opts, serial);
  if (records.length === 1) return { kind: "uptodate" };
  if (records[1]!.type !== "SOA" || canonical(records[1]!.name) !== canonical(zone)) return { kind: "full", records: records.slice(0, -1) };
  const final = soaSerial(records[0]!);
  const deltas: IxfrDelta[] = [];
  let i = 1;
  for (;;) {
    i++; // the old SOA of this sequence
    const removed: packet.Answer[] = [];
    while (i < records.length && records[i]!.type !== "SOA") removed.push(records[i++]!);
    const soa = records[i++];
    if (!soa) throw new DnsClientError(`IXFR of ${zone} ends inside a difference sequence`);
    const added: packet.Answer[] = [];
    while (i < records.length - 1 && records[i]!.type !== "SOA") added.push(records[i++]!);
    deltas.push({ removed, added, soa });
    if (soaSerial(soa) === final) break;
    if (i >= records.length - 1) throw new DnsClientError(`IXFR of ${zone} stops before serial ${final}`);
  }
  return { kind: "incremental", deltas };
}

/** Every record of zone from the primary, SOA first, without the closing SOA. */
export async function transferZone(primary: Listen, zone: string, opts: PullOptions): Promise<packet.Answer[]> {
  return (await transfer(primary, zone, opts, null)).slice(0, -1);
}

/**
 * The records of an AXFR (since: null) or IXFR, in order, the closing SOA included. The end:
 * for AXFR the second SOA; for IXFR the lone SOA of a reply of one record, the second copy of
 * the newest SOA in AXFR form, or its third in incremental form.
 */
async function transfer(primary: Listen, zone: string, opts: PullOptions, since: number | null): Promise<packet.Answer[]> {
  const id = (Math.random() * 0x10000) >>> 0;
  let msg: Uint8Array =
    since === null
      ? buildQuery(id, zone, "AXFR")
      : new Uint8Array(
          packet.encode({
            id,
            type: "query",
            flags: 0,
            questions: [{ name: zone, type: "IXFR", class: "IN" }],
            authorities: [{ type: "SOA", name: zone, ttl: 0, data: { mname: ".", rname: ".", serial: since, refresh: 0, retry: 0, expire: 0, minimum: 0 } }],
          }),
        );
  let verifier: ResponseVerifier | null = null;
  if (opts.key) {
    const s = signRequest(msg, opts.key, opts.now());
    msg = s.message;
    verifier = new ResponseVerifier(opts.key, s.mac);
  }
  const records: packet.Answer[] = [];
  let soaSeen = 0;
  let newest = -1;
  await tcpExchange(
    primary,
    msg,
    (m) => {
      if (m.length < 12 || ((m[0]! << 8) | m[1]!) !== id) throw new DnsClientError("transfer message with the wrong id");
      const rcode = m[3]! & 0x0f;
      if (rcode !== 0) {
        throw new DnsClientError(
          rcode === 5 || rcode === 9
            ? `the primary refused the transfer of ${zone} (${rcodeName(rcode)}): check the TSIG key and the primary's --xfr-allow`
            : `the primary answered ${rcodeName(rcode)} to the transfer of ${zone}`,
        );
      }
      if (verifier) {
        const v = verifier.verify(m, opts.now());
        if (!v.ok) throw new DnsClientError(`transfer of ${zone}: TSIG ${v.reason}`);
      }
      let p: packet.DecodedPacket;
      try {
        p = packet.decode(Buffer.from(m.buffer, m.byteOffset, m.length));
      } catch (e) {
        throw new DnsClientError(`transfer of ${zone}: undecodable message (${(e as Error).message})`);
      }
      const answers = p.answers ?? [];
      for (const rr of answers) {
        const isSoa = rr.type === "SOA" && canonical(rr.name) === canonical(zone);
        if (records.length === 0 && !isSoa) throw new DnsClientError(`transfer of ${zone} does not start with its SOA`);
        records.push(rr);
        if (records.length > MAX_TRANSFER_RECORDS) throw new DnsClientError(`transfer of ${zone} exceeds ${MAX_TRANSFER_RECORDS} records`);
        if (!isSoa) continue;
        if (newest < 0) newest = soaSerial(rr);
        if (soaSerial(rr) === newest) soaSeen++;
        // AXFR: the second SOA closes the transfer (RFC 5936 §2.2). IXFR: see above.
        if (since === null && soaSeen === 2) return true;
        if (since !== null && soaSeen === 2 && records[1]!.type !== "SOA") return true;
        if (since !== null && soaSeen === 3) return true;
      }
      // IXFR: a first message of the SOA alone says we are up to date.
      return since !== null && records.length === 1 && answers.length === 1;
    },
    opts.timeoutMs ?? TRANSFER_MESSAGE_TIMEOUT_MS,
  );
  if (verifier && !verifier.complete()) throw new DnsClientError(`transfer of ${zone}: the last message was not signed`);
  return records;
}
