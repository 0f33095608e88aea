/**
 * Pulling a zone from the primary: the SOA serial (to see whether anything changed) and a
 * full transfer (AXFR over TCP, RFC 5936), both signed with TSIG when a key is configured.
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

/** Every record of zone from the primary, SOA first, without the closing SOA. */
export async function transferZone(primary: Listen, zone: string, opts: PullOptions): Promise<packet.Answer[]> {
  const id = (Math.random() * 0x10000) >>> 0;
  let msg = buildQuery(id, zone, "AXFR");
  let verifier: ResponseVerifier | null = null;
  if (opts.key) {
    const s = signRequest(msg, opts.key, opts.now());
    msg = s.message;
    verifier = new ResponseVerifier(opts.key, s.mac);
  }
  const records: packet.Answer[] = [];
  let soaSeen = 0;
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
      for (const rr of p.answers ?? []) {
        if (rr.type === "SOA" && canonical(rr.name) === canonical(zone)) {
          soaSeen++;
          // The second SOA closes the transfer (RFC 5936 §2.2).
          if (soaSeen === 2) return true;
        } else if (soaSeen === 0) {
          throw new DnsClientError(`transfer of ${zone} does not start with its SOA`);
        }
        records.push(rr);
        if (records.length > MAX_TRANSFER_RECORDS) throw new DnsClientError(`transfer of ${zone} exceeds ${MAX_TRANSFER_RECORDS} records`);
      }
      return false;
    },
    opts.timeoutMs ?? TRANSFER_MESSAGE_TIMEOUT_MS,
  );
  if (verifier && !verifier.complete()) throw new DnsClientError(`transfer of ${zone}: the last message was not signed`);
  return records;
}
