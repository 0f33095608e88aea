/**
 * The DNSSEC rules of a zone, in one place for the server and the CLI: a zone is signed unless
 * turned off; it gets its key (a CSK, ECDSAP256SHA256 unless asked otherwise) the first time
 * it is signed or its DS is asked for; the DS the parent needs comes from that key.
 */
import { IpkeepError } from "../../core/errors";
import type { DnssecView, DsView, ZoneSigningPort } from "../../core/ports";
import { ALG_ECDSAP256SHA256, ALGORITHM_NAMES, ALGORITHMS, type Algorithm, dsInfo, type DsInfo, generateKey, isAlgorithm, loadKey, type SigningKey } from "./keys";

/** What signing needs from the store (store/dnssec.ts implements it). */
export interface DnssecStore {
  enabled(domainId: number): boolean | null;
  setEnabled(domainId: number, on: boolean): void;
  activeKey(domainId: number): { id: number; algorithm: number; pkcs8: Uint8Array } | null;
  keys(domainId: number): { id: number; algorithm: number; state: string }[];
  addKey(domainId: number, algorithm: number, pkcs8: Uint8Array, now: number): unknown;
  signatures(domainId: number): { owner: string; code: number; ttl: number; digest: string; rdata: Uint8Array }[];
  saveSignatures(domainId: number, put: readonly { owner: string; code: number; ttl: number; digest: string; rdata: Uint8Array }[], drop: readonly { owner: string; code: number }[]): void;
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

/** `domain dnssec ZONE on|off`: the switch, and on the first "on" with an algorithm, the key. */
export function setSigning(store: DnssecStore, domainId: number, on: boolean, now: number, algorithm?: Algorithm): { on: boolean; key: SigningKey | null } {
  if (!on) {
    store.setEnabled(domainId, false);
    return { on: false, key: null };
  }
  const active = store.activeKey(domainId);
  if (active && algorithm !== undefined && active.algorithm !== algorithm) {
    throw new IpkeepError(
      "conflict",
      `the zone is signed with ${ALGORITHM_NAMES[active.algorithm as Algorithm] ?? `algorithm ${active.algorithm}`}; changing the algorithm is a key rollover, which ipkeep does not do yet`,
    );
  }
  store.setEnabled(domainId, true);
  return { on: true, key: ensureKey(store, domainId, now, algorithm) };
}

/** `domain ds ZONE`: the DS and DNSKEY for the parent; refused while signing is off. */
export function dsFor(store: DnssecStore, domainId: number, zone: string, now: number): DsInfo {
  if (store.enabled(domainId) === false) throw new IpkeepError("invalid_input", `signing is off for ${zone}: turn it on first (ipkeep domain dnssec ${zone} on)`);
  return dsInfo(zone, ensureKey(store, domainId, now));
}

/** The port core's resources use (ResourceDeps.dnssec), over the store's DNSSEC tables. */
export function signingPort(store: DnssecStore): ZoneSigningPort {
  return {
    set(domainId, zone, on, algorithm, now): DnssecView {
      const r = setSigning(store, domainId, on, now, algorithm === undefined ? undefined : ALGORITHMS[algorithm]);
      return { zone: zone === "" ? "." : `${zone}.`, dnssec: r.on, keyTag: r.key?.tag ?? null, algorithm: r.key?.algorithm ?? null };
    },
    ds(domainId, zone, now): DsView {
      return dsFor(store, domainId, zone, now);
    },
    expectedDs(domainId, zone): string | null {
      // A check, not a change: no key is made here (the server makes it when it signs).
      const active = store.enabled(domainId) === false ? null : store.activeKey(domainId);
      if (!active || !isAlgorithm(active.algorithm)) return null;
      const info = dsInfo(zone, loadKey(active.algorithm, active.pkcs8));
      return `${info.keyTag} ${info.algorithm} ${info.digestType} ${info.digest}`;
    },
  };
}
