/**
 * The DNSSEC rules of a zone, in one place for the server and the CLI: a zone is signed unless
 * turned off; it gets its key (a CSK, ECDSAP256SHA256 unless asked otherwise) the first time
 * it is signed or its DS is asked for; the DS the parent needs comes from that key.
 */
import { IpkeepError } from "../../core/errors";
import type { DnssecView, DsView, ZoneSigningPort } from "../../core/ports";
import {
  ALG_ECDSAP256SHA256,
  ALGORITHM_NAMES,
  ALGORITHMS,
  type Algorithm,
  dsInfo,
  type DsInfo,
  generateKey,
  isAlgorithm,
  loadKey,
  type SigningKey,
} from "./keys";

/** What signing needs from the store (store/dnssec.ts implements it). */
export interface DnssecStore {
  enabled(domainId: number): boolean | null;
  setEnabled(domainId: number, on: boolean): void;
  mode(domainId: number): "on" | "off" | "withdrawing" | null;
  setMode(domainId: number, mode: "on" | "off" | "withdrawing"): void;
  activeKey(domainId: number): { id: number; algorithm: number; pkcs8: Uint8Array } | null;
  keys(domainId: number): { id: number; algorithm: number; state: string }[];
  addKey(domainId: number, algorithm: number, pkcs8: Uint8Array, now: number): unknown;
  signatures(domainId: number): { owner: string; code: number; ttl: number; digest: string; rdata: Uint8Array }[];
  saveSignatures(
    domainId: number,
    put: readonly { owner: string; code: number; ttl: number; digest: string; rdata: Uint8Array }[],
    drop: readonly { owner: string; code: number }[],
  ): void;
  dropSignatures(domainId: number): void;
}

/**
 * The zone's signing key, made (and stored sealed) when it has none. A stored key that does
 * not open (a database restored without its key file) is replaced: the zone stays signed,
 * and the new DS must go to the parent (doctor and restore say so).
 */
export function ensureKey(store: DnssecStore, domainId: number, now: number, algorithm: Algorithm = ALG_ECDSAP256SHA256): SigningKey {
  const active = store.activeKey(domainId);
  if (active && isAlgorithm(active.algorithm)) return loadKey(active.algorithm, active.pkcs8);
  const fresh = generateKey(algorithm);
  store.addKey(domainId, algorithm, fresh.pkcs8, now);
  return loadKey(algorithm, fresh.pkcs8);
}

/**
 * `domain dnssec ZONE on|off`: the switch, and on the first "on" with an algorithm, the key.
 * Off for a zone whose key has been published withdraws it first (RFC 8078 4): it stays
 * signed with the CDS and CDNSKEY delete records, so a parent that reads CDS removes its DS
 * and no resolver sees a DS without signatures; immediately (or when it never had a key) it is
 * served unsigned at once.
 */
export function setSigning(
  store: DnssecStore,
  domainId: number,
  on: boolean,
  now: number,
  algorithm?: Algorithm,
  immediately = false,
): { on: boolean; withdrawing: boolean; key: SigningKey | null } {
  if (!on) {
    const active = store.activeKey(domainId);
    if (immediately || !active || store.mode(domainId) === "off" || !isAlgorithm(active.algorithm)) {
      store.setMode(domainId, "off");
      return { on: false, withdrawing: false, key: null };
    }
    store.setMode(domainId, "withdrawing");
    return { on: true, withdrawing: true, key: loadKey(active.algorithm, active.pkcs8) };
  }
  const active = store.activeKey(domainId);
  if (active && algorithm !== undefined && active.algorithm !== algorithm) {
    throw new IpkeepError(
      "conflict",
      `the zone is signed with ${ALGORITHM_NAMES[active.algorithm as Algorithm] ?? `algorithm ${active.algorithm}`}; changing the algorithm is a key rollover, which ipkeep does not do yet`,
    );
  }
  store.setMode(domainId, "on");
  return { on: true, withdrawing: false, key: ensureKey(store, domainId, now, algorithm) };
}

/** `domain ds ZONE`: the DS and DNSKEY for the parent; refused while signing is off. */
export function dsFor(store: DnssecStore, domainId: number, zone: string, now: number): DsInfo {
  const mode = store.mode(domainId);
  if (mode === "off") throw new IpkeepError("invalid_input", `signing is off for ${zone}: turn it on first (ipkeep domain dnssec ${zone} on)`);
  if (mode === "withdrawing")
    throw new IpkeepError("invalid_input", `${zone} is being withdrawn (its CDS says: delete the DS); to keep it signed: ipkeep domain dnssec ${zone} on`);
  return dsInfo(zone, ensureKey(store, domainId, now));
}

/** The port core's resources use (ResourceDeps.dnssec), over the store's DNSSEC tables. */
export function signingPort(store: DnssecStore): ZoneSigningPort {
  return {
    set(domainId, zone, on, algorithm, now, immediately): DnssecView {
      const r = setSigning(store, domainId, on, now, algorithm === undefined ? undefined : ALGORITHMS[algorithm], immediately);
      return {
        zone: zone === "" ? "." : `${zone}.`,
        dnssec: r.on,
        withdrawing: r.withdrawing,
        keyTag: r.key?.tag ?? null,
        algorithm: r.key?.algorithm ?? null,
      };
    },
    ds(domainId, zone, now): DsView {
      return dsFor(store, domainId, zone, now);
    },
    expectedDs(domainId, zone) {
      // A check, not a change: no key is made here (the server makes it when it signs).
      const mode = store.mode(domainId);
      const active = mode === "off" ? null : store.activeKey(domainId);
      if (!active || !isAlgorithm(active.algorithm)) return { ds: null, withdrawing: false };
      const info = dsInfo(zone, loadKey(active.algorithm, active.pkcs8));
      return { ds: `${info.keyTag} ${info.algorithm} ${info.digestType} ${info.digest}`, withdrawing: mode === "withdrawing" };
    },
  };
}
