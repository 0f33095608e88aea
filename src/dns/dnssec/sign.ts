/**
 * Zone signing, whole and incremental. A SignedZone sits beside an in-memory Zone (zone.ts)
 * and holds what signing adds to it: the apex's DNSKEY, CDS, CDNSKEY and NSEC3PARAM, the
 * NSEC3 chain, and one RRSIG per authoritative RRset. The zone itself is never changed.
 *
 * What is signed (RFC 4035 2.2): every RRset the zone is authoritative for. At a delegation
 * point only the DS set (the NS set there and glue below are not ours); names below a cut get
 * neither signatures nor NSEC3 records. Every other name, empty non-terminals included, gets
 * an NSEC3 record (no opt-out, RFC 5155 7.1).
 *
 * Each signature remembers a digest of the canonical RRset it covers, so a signature is reused
 * as long as its RRset is the same and it has more than a third of its validity left: after a
 * change (resign: only the names it touched, the NSEC3 records whose chain or bitmap moved,
 * and the SOA), after a restart (signZone given the stored signatures), and at refresh.
 */
import { createHash } from "node:crypto";
import { keyInZone, parentKey } from "../dname";
import { TYPE } from "../rdata";
import { makeRR, type RR, type Zone } from "../zone";
import { canonicalRRset, parseRrsig, rrsigLabels, rrsigPrefix } from "./canonical";
import { CDNSKEY_DELETE, CDS_DELETE, CSK_FLAGS, dsRdata, type SigningKey } from "./keys";
import { base32hex, fromBase32hex, NSEC3PARAM_RDATA, nsec3Hash, nsec3Rdata, typeBitmap } from "./nsec3";

export const T_RRSIG = 46;
export const T_NSEC3 = 50;
export const T_NSEC3PARAM = 51;
export const T_DNSKEY = 48;
export const T_CDS = 59;
export const T_CDNSKEY = 60;
/** Types at the apex that signing owns: a stored record of these types is not served in a signed zone. */
export const SIGNER_TYPES: ReadonlySet<number> = new Set([T_DNSKEY, T_CDS, T_CDNSKEY, T_NSEC3PARAM, T_RRSIG, T_NSEC3, 47]);

/** RRSIG validity: 14 days; inception an hour back, for clocks behind ours. */
export const VALIDITY = 14 * 86400;
export const INCEPTION_BACK = 3600;
/** Renewed when less than a third of the validity is left. */
export const RENEW_LEFT = Math.floor(VALIDITY / 3);
/** Expirations are spread over up to this much (per RRset, fixed by its owner and type), so they do not all fall due at once. */
export const JITTER = 2 * 86400;

/** One RRSIG as kept: its RDATA, the TTL it is served with, and the digest of what it covers. */
export interface SigEntry {
  ttl: number;
  rdata: Uint8Array;
  /** First 16 octets of SHA-256 of the canonical RRset, as latin1 text (cheaper than a byte array). */
  digest: string;
  expiration: number;
}

/** A signature as the store keeps it (store/dnssec.ts), and as signZone takes it back after a restart. */
export interface StoredSig {
  owner: string;
  code: number;
  ttl: number;
  digest: string;
  rdata: Uint8Array;
}

/** What a signing step changed: for the store (put/drop) and for transfers (the RRs that left and came). */
export interface SignChanges {
  put: StoredSig[];
  drop: { owner: string; code: number }[];
  added: RR[];
  removed: RR[];
  /** Signatures made (not reused). */
  signed: number;
}

interface Nsec3Entry {
  /** The name it stands for. */
  name: string;
  /** Hashed owner (label.zone). */
  owner: string;
  hash: Uint8Array;
  bitmap: Uint8Array;
  rdata: Uint8Array;
}

export interface SignOptions {
  /** Epoch seconds. */
  now: number;
  /** Signatures kept from before (a restart): reused where they still cover the same data. */
  stored?: Iterable<StoredSig>;
  /** Signing is being turned off: CDS and CDNSKEY are the delete records (RFC 8078 4). */
  withdrawing?: boolean;
}

const sigKey = (owner: string, code: number) => `${code} ${owner}`;

export class SignedZone {
  /** The apex sets signing adds, by type. */
  readonly apexSets = new Map<number, RR[]>();
  /** owner -> covered type -> signature. */
  readonly sigs = new Map<string, Map<number, SigEntry>>();
  /** Base32hex label -> NSEC3. */
  readonly nsec3 = new Map<string, Nsec3Entry>();
  /** Name -> its NSEC3's label. */
  readonly nsec3Of = new Map<string, string>();
  /** Every label, sorted (Base32hex sorts as the hashes do). */
  labels: string[] = [];
  /** Delegation points when last signed: a cut that comes or goes changes the status of everything below it. */
  readonly cuts = new Set<string>();
  /** Names that hold records in the signed zone (authoritative data or a cut), and how many of them lie below each name. */
  readonly visible = new Set<string>();
  readonly visibleBelow = new Map<string, number>();
  nsec3Ttl = 0;
  /** CDS and CDNSKEY say "delete" (signing is being turned off). */
  withdrawing = false;

  /** key: null for a zone read back from its records (a secondary's copy): it serves, it does not sign. */
  constructor(
    readonly apex: string,
    readonly key: SigningKey | null,
  ) {}

  sig(owner: string, code: number): SigEntry | undefined {
    return this.sigs.get(owner)?.get(code);
  }

  /** The RRSIG RR covering a type at an owner. */
  rrsig(owner: string, code: number): RR | undefined {
    const e = this.sig(owner, code);
    return e ? makeRR(owner, T_RRSIG, e.ttl, { code: T_RRSIG, wire: e.rdata, names: [] }) : undefined;
  }

  /** The NSEC3 RR of a label. */
  nsec3RR(label: string): RR | undefined {
    const n = this.nsec3.get(label);
    return n ? makeRR(n.owner, T_NSEC3, this.nsec3Ttl, { code: T_NSEC3, wire: n.rdata, names: [] }) : undefined;
  }

  /** The NSEC3 whose hash is the name's (RFC 5155 "matching"), if the name has one. */
  matching(name: string): string | undefined {
    const label = base32hex(nsec3Hash(name));
    return this.nsec3.has(label) ? label : undefined;
  }

  /** The label of the NSEC3 that covers a hash that has none of its own (the closest one before it, circularly). */
  covering(label: string): string | undefined {
    const l = this.labels;
    if (l.length === 0) return undefined;
    let lo = 0;
    let hi = l.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (l[mid]! <= label) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? l[l.length - 1] : l[lo - 1];
  }

  /** How many signatures the zone holds. */
  get signatureCount(): number {
    let n = 0;
    for (const m of this.sigs.values()) n += m.size;
    return n;
  }
}

/** The NS-less, apex-managed view of one name: the RRsets as signed and served. */
function rrsetsAt(zone: Zone, signed: SignedZone, name: string): Map<number, RR[]> {
  const out = new Map<number, RR[]>();
  const node = zone.nodes.get(name);
  if (node) {
    for (const set of node.values()) {
      if (set.length === 0) continue;
      const code = set[0]!.code;
      if (name === zone.name && SIGNER_TYPES.has(code)) continue;
      if (code === T_RRSIG || code === T_NSEC3) continue;
      out.set(code, set);
    }
  }
  if (name === zone.name) for (const [code, set] of signed.apexSets) out.set(code, set);
  return out;
}

type Status = "auth" | "cut" | "ent" | "none";

/**
 * Whether a name holds records in the signed zone: authoritative data, or a delegation point;
 * null for names below a cut (glue, occluded data) and for names without records. A hostname
 * without addresses has no record a transfer could carry: the signed zone denies it (no NSEC3
 * of its own) as every secondary holding the transferred zone must.
 */
function holds(zone: Zone, name: string): "auth" | "cut" | null {
  if (!keyInZone(name, zone.name)) return null;
  const node = zone.nodes.get(name);
  if (!node || (node.size === 0 && name !== zone.name)) return null;
  if (name !== zone.name) {
    for (let n = parentKey(name); n !== zone.name && keyInZone(n, zone.name); n = parentKey(n)) if (zone.cuts.has(n)) return null;
  }
  return zone.cuts.has(name) ? "cut" : "auth";
}

/** A name's part in the signed zone; an empty non-terminal is a name with no records above one that has. */
function statusOf(zone: Zone, signed: SignedZone, name: string): Status {
  const h = holds(zone, name);
  if (h) return h;
  return name !== zone.name && (signed.visibleBelow.get(name) ?? 0) > 0 ? "ent" : "none";
}

/** Records a name's holding records or not in its ancestors' counts; the ancestors go on the queue (their ENT status may follow). */
function setVisible(zone: Zone, signed: SignedZone, name: string, visible: boolean, queue: string[]): void {
  if (visible === signed.visible.has(name)) return;
  if (visible) signed.visible.add(name);
  else signed.visible.delete(name);
  if (name === zone.name) return;
  for (let n = parentKey(name); keyInZone(n, zone.name); n = parentKey(n)) {
    const v = (signed.visibleBelow.get(n) ?? 0) + (visible ? 1 : -1);
    if (v > 0) signed.visibleBelow.set(n, v);
    else signed.visibleBelow.delete(n);
    queue.push(n);
    if (n === zone.name) break;
  }
}

/** The types the NSEC3 of a name lists. */
function bitmapOf(status: Status, sets: Map<number, RR[]>): Uint8Array {
  if (status === "ent") return new Uint8Array(0);
  if (status === "cut") return typeBitmap(sets.has(TYPE.DS) ? [TYPE.NS, TYPE.DS, T_RRSIG] : [TYPE.NS]);
  return typeBitmap([...sets.keys(), T_RRSIG]);
}

function digestOf(canonical: Uint8Array): string {
  return createHash("sha256").update(canonical).digest().subarray(0, 16).toString("latin1");
}

/** A fixed spread per RRset (FNV-1a of owner and type), in seconds below JITTER. */
function jitterOf(owner: string, code: number): number {
  let h = 0x811c9dc5 ^ code;
  for (let i = 0; i < owner.length; i++) h = Math.imul(h ^ owner.charCodeAt(i), 0x01000193);
  return (h >>> 0) % JITTER;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** A list that keeps nothing. */
const DISCARD = { push: () => 0 } as unknown as RR[];

/** Working state of one signing step. */
class Step {
  readonly changes: SignChanges = { put: [], drop: [], added: [], removed: [], signed: 0 };
  constructor(
    readonly signed: SignedZone,
    readonly now: number,
    readonly stored: Map<string, StoredSig> | null,
  ) {}

  /** Signs (or keeps the signature of) an RRset. */
  sign(owner: string, code: number, ttl: number, rdatas: Uint8Array[]): void {
    const s = this.signed;
    const canonical = canonicalRRset({ owner, code, ttl, rdatas });
    const digest = digestOf(canonical);
    let bySet = s.sigs.get(owner);
    const old = bySet?.get(code);
    if (old && this.reusable(old.rdata, old.digest, digest, old.ttl, ttl)) return;
    const kept = this.stored?.get(sigKey(owner, code));
    if (kept && this.reusable(kept.rdata, kept.digest, digest, kept.ttl, ttl)) {
      const h = parseRrsig(kept.rdata)!;
      const entry: SigEntry = { ttl, rdata: kept.rdata, digest, expiration: h.expiration };
      if (!bySet) s.sigs.set(owner, (bySet = new Map()));
      bySet.set(code, entry);
      if (old) this.changes.removed.push(rrsigRR(owner, old));
      this.changes.added.push(rrsigRR(owner, entry));
      return;
    }
    const inception = this.now - INCEPTION_BACK;
    const expiration = this.now + VALIDITY - jitterOf(owner, code);
    const key = s.key!;
    const prefix = rrsigPrefix({
      typeCovered: code,
      algorithm: key.algorithm,
      labels: rrsigLabels(owner),
      originalTtl: ttl,
      expiration,
      inception,
      keyTag: key.tag,
      signer: s.apex,
    });
    const rdata = concatBytes(prefix, key.sign(concatBytes(prefix, canonical)));
    const entry: SigEntry = { ttl, rdata, digest, expiration };
    if (!bySet) s.sigs.set(owner, (bySet = new Map()));
    bySet.set(code, entry);
    this.changes.signed++;
    this.changes.put.push({ owner, code, ttl, digest, rdata });
    if (old) this.changes.removed.push(rrsigRR(owner, old));
    this.changes.added.push(rrsigRR(owner, entry));
  }

  private reusable(rdata: Uint8Array, had: string, want: string, hadTtl: number, ttl: number): boolean {
    if (had !== want || hadTtl !== ttl) return false;
    const h = parseRrsig(rdata);
    const key = this.signed.key!;
    if (!h || h.keyTag !== key.tag || h.algorithm !== key.algorithm) return false;
    return h.expiration - this.now > RENEW_LEFT && h.inception <= this.now;
  }

  /** Drops the signatures at an owner whose types are not in keep (all when keep is null). */
  dropSigs(owner: string, keep: ReadonlySet<number> | null): void {
    const bySet = this.signed.sigs.get(owner);
    if (!bySet) return;
    for (const [code, e] of bySet) {
      if (keep?.has(code)) continue;
      bySet.delete(code);
      this.changes.drop.push({ owner, code });
      this.changes.removed.push(rrsigRR(owner, e));
    }
    if (bySet.size === 0) this.signed.sigs.delete(owner);
  }
}

function rrsigRR(owner: string, e: SigEntry): RR {
  return makeRR(owner, T_RRSIG, e.ttl, { code: T_RRSIG, wire: e.rdata, names: [] });
}

/** The apex sets signing owns, from the key: DNSKEY, CDS, CDNSKEY (RFC 7344, 8078) and NSEC3PARAM. */
function setApex(zone: Zone, signed: SignedZone): void {
  const ttl = zone.soa.ttl;
  const one = (code: number, wire: Uint8Array, t = ttl) => [makeRR(zone.name, code, t, { code, wire, names: [] })];
  const key = signed.key!;
  signed.apexSets.set(T_DNSKEY, one(T_DNSKEY, key.dnskey));
  signed.apexSets.set(T_CDS, one(T_CDS, signed.withdrawing ? CDS_DELETE : dsRdata(zone.name, key.dnskey)));
  signed.apexSets.set(T_CDNSKEY, one(T_CDNSKEY, signed.withdrawing ? CDNSKEY_DELETE : key.dnskey));
  // RFC 5155 4: only for authoritative servers to find the chain's parameters; TTL 0 as BIND and Knot publish it.
  signed.apexSets.set(T_NSEC3PARAM, one(T_NSEC3PARAM, NSEC3PARAM_RDATA, 0));
  signed.nsec3Ttl = zone.negativeTtl;
}

/**
 * Signs one name's RRsets and settles its NSEC3 (its bitmap; whether it has one); labels whose
 * NSEC3 RDATA must be rebuilt are added to dirty.
 */
function settleName(zone: Zone, step: Step, name: string, dirty: Set<string>, queue: string[]): void {
  const s = step.signed;
  const status = statusOf(zone, s, name);
  setVisible(zone, s, name, status === "auth" || status === "cut", queue);
  const sets = status === "auth" || status === "cut" ? rrsetsAt(zone, s, name) : new Map<number, RR[]>();
  if (status === "auth") {
    for (const [code, set] of sets)
      step.sign(
        name,
        code,
        set[0]!.ttl,
        set.map((r) => r.rdata),
      );
    step.dropSigs(name, new Set(sets.keys()));
  } else if (status === "cut") {
    const ds = sets.get(TYPE.DS);
    if (ds)
      step.sign(
        name,
        TYPE.DS,
        ds[0]!.ttl,
        ds.map((r) => r.rdata),
      );
    step.dropSigs(name, ds ? new Set([TYPE.DS]) : null);
  } else {
    step.dropSigs(name, null);
  }
  if (status === "cut") s.cuts.add(name);
  else s.cuts.delete(name);
  const had = s.nsec3Of.get(name);
  if (status === "none") {
    if (had === undefined) return;
    removeLabel(s, had, step);
    s.nsec3Of.delete(name);
    const before = s.covering(had);
    if (before !== undefined) dirty.add(before);
    dirty.delete(had);
    return;
  }
  const bitmap = bitmapOf(status, sets);
  if (had !== undefined) {
    const e = s.nsec3.get(had)!;
    if (!sameBytes(e.bitmap, bitmap)) {
      e.bitmap = bitmap;
      dirty.add(had);
    }
    return;
  }
  const hash = nsec3Hash(name);
  const label = base32hex(hash);
  s.nsec3.set(label, { name, owner: `${label}.${s.apex}`, hash, bitmap, rdata: new Uint8Array(0) });
  s.nsec3Of.set(name, label);
  insertLabel(s, label);
  dirty.add(label);
  // The one before it now points here.
  const idx = indexOf(s.labels, label);
  dirty.add(s.labels[(idx - 1 + s.labels.length) % s.labels.length]!);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function indexOf(sorted: string[], label: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < label) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertLabel(s: SignedZone, label: string): void {
  const i = indexOf(s.labels, label);
  if (s.labels[i] !== label) s.labels.splice(i, 0, label);
}

function removeLabel(s: SignedZone, label: string, step: Step): void {
  const e = s.nsec3.get(label);
  const i = indexOf(s.labels, label);
  if (s.labels[i] === label) s.labels.splice(i, 1);
  if (!e) return;
  s.nsec3.delete(label);
  if (e.rdata.length) step.changes.removed.push(makeRR(e.owner, T_NSEC3, s.nsec3Ttl, { code: T_NSEC3, wire: e.rdata, names: [] }));
  step.dropSigs(e.owner, null);
}

/** Rebuilds the NSEC3 RDATA of the dirty labels (their next hash, their bitmap) and signs what changed. */
function settleChain(step: Step, dirty: Iterable<string>): void {
  const s = step.signed;
  const n = s.labels.length;
  for (const label of dirty) {
    const e = s.nsec3.get(label);
    if (!e) continue;
    const i = indexOf(s.labels, label);
    const next = s.nsec3.get(s.labels[(i + 1) % n]!)!;
    const rdata = nsec3Rdata(next.hash, e.bitmap);
    if (!sameBytes(rdata, e.rdata)) {
      if (e.rdata.length) step.changes.removed.push(makeRR(e.owner, T_NSEC3, s.nsec3Ttl, { code: T_NSEC3, wire: e.rdata, names: [] }));
      e.rdata = rdata;
      step.changes.added.push(makeRR(e.owner, T_NSEC3, s.nsec3Ttl, { code: T_NSEC3, wire: rdata, names: [] }));
    }
    step.sign(e.owner, T_NSEC3, s.nsec3Ttl, [e.rdata]);
  }
}

/** Settles names until nothing more follows (a name's change may change its ancestors' empty non-terminal status). */
function settleAll(zone: Zone, step: Step, names: Iterable<string>, dirty: Set<string>): void {
  const queue = [...names];
  while (queue.length) settleName(zone, step, queue.pop()!, dirty, queue);
  settleChain(step, dirty);
}

/** Signs a whole zone with its key; stored signatures that still fit are reused. */
export function signZone(zone: Zone, key: SigningKey, opts: SignOptions): { signed: SignedZone; changes: SignChanges } {
  if (key.flags !== CSK_FLAGS) throw new Error("a zone is signed with a combined signing key (flags 257)");
  const signed = new SignedZone(zone.name, key);
  signed.withdrawing = opts.withdrawing === true;
  const stored = new Map<string, StoredSig>();
  for (const st of opts.stored ?? []) stored.set(sigKey(st.owner, st.code), st);
  const step = new Step(signed, opts.now, stored);
  // A whole signing is no difference for a journal: nothing is kept of what it made but the signatures.
  step.changes.added = DISCARD;
  step.changes.removed = DISCARD;
  setApex(zone, signed);
  const none: string[] = [];
  for (const name of zone.nodes.keys()) if (holds(zone, name)) setVisible(zone, signed, name, true, none);
  // The chain is built once, sorted, rather than by insertion.
  for (const name of new Set([...signed.visible, ...signed.visibleBelow.keys()])) {
    const status = statusOf(zone, signed, name);
    if (status === "none") continue;
    const sets = status === "ent" ? new Map<number, RR[]>() : rrsetsAt(zone, signed, name);
    if (status === "auth")
      for (const [code, set] of sets)
        step.sign(
          name,
          code,
          set[0]!.ttl,
          set.map((r) => r.rdata),
        );
    else if (status === "cut") {
      signed.cuts.add(name);
      const ds = sets.get(TYPE.DS);
      if (ds)
        step.sign(
          name,
          TYPE.DS,
          ds[0]!.ttl,
          ds.map((r) => r.rdata),
        );
    }
    const hash = nsec3Hash(name);
    const label = base32hex(hash);
    signed.nsec3.set(label, { name, owner: `${label}.${signed.apex}`, hash, bitmap: bitmapOf(status, sets), rdata: new Uint8Array(0) });
    signed.nsec3Of.set(name, label);
  }
  signed.labels = [...signed.nsec3.keys()].sort();
  settleChain(step, signed.labels);
  // What was stored and is no longer used is dropped from the store.
  for (const st of stored.values()) if (!signed.sig(st.owner, st.code)) step.changes.drop.push({ owner: st.owner, code: st.code });
  step.changes.added = [];
  step.changes.removed = [];
  return { signed, changes: step.changes };
}

/**
 * Re-signs after a change (applyDelta's AppliedDelta.names): the RRsets of those names, the
 * NSEC3 records whose bitmap or chain link changed, and the SOA. A delegation that came or went
 * settles every name below it as well.
 */
export function resignNames(zone: Zone, signed: SignedZone, names: Iterable<string>, now: number): SignChanges {
  const step = new Step(signed, now, null);
  const todo = new Set<string>(names);
  for (const name of [...todo]) {
    if (zone.cuts.has(name) === signed.cuts.has(name)) continue;
    for (const n of signed.nsec3Of.keys()) if (n !== name && keyInZone(n, name)) todo.add(n);
    for (const n of zone.nodes.keys()) if (n !== name && keyInZone(n, name)) todo.add(n);
  }
  // The SOA's serial moved; the apex sets follow the SOA TTL, the NSEC3 records the negative TTL.
  todo.add(zone.name);
  if (zone.negativeTtl !== signed.nsec3Ttl || signed.apexSets.get(T_DNSKEY)?.[0]?.ttl !== zone.soa.ttl) {
    setApex(zone, signed);
    settleAll(zone, step, new Set([...zone.nodes.keys(), ...signed.nsec3Of.keys()]), new Set(signed.labels));
    return step.changes;
  }
  settleAll(zone, step, todo, new Set());
  return step.changes;
}

/** Renews the signatures with less than a third of their validity left (run from a timer). */
export function refreshSignatures(zone: Zone, signed: SignedZone, now: number): SignChanges {
  const step = new Step(signed, now, null);
  const names = new Set<string>();
  const labels = new Set<string>();
  for (const [owner, bySet] of signed.sigs) {
    for (const [code, e] of bySet) {
      if (e.expiration - now > RENEW_LEFT) continue;
      if (code === T_NSEC3) {
        const label = owner.slice(0, owner.indexOf("."));
        if (signed.nsec3.has(label)) labels.add(label);
      } else names.add(owner);
    }
  }
  settleAll(zone, step, names, new Set(labels));
  return step.changes;
}

/** The earliest time a signature falls due for renewal (epoch seconds), or null. */
export function nextRefresh(signed: SignedZone): number | null {
  let min: number | null = null;
  for (const bySet of signed.sigs.values())
    for (const e of bySet.values()) if (min === null || e.expiration - RENEW_LEFT < min) min = e.expiration - RENEW_LEFT;
  return min;
}

/**
 * Every record of the signed zone once, SOA first: the zone's own (without stored records of
 * the types signing owns, and the SOA's signature right after it), the apex sets, the NSEC3
 * chain and every signature. For transfers and master files.
 */
export function signedRecords(zone: Zone, signed: SignedZone): RR[] {
  const out: RR[] = [zone.soa];
  const soaSig = signed.rrsig(zone.name, TYPE.SOA);
  if (soaSig) out.push(soaSig);
  for (const [name, node] of zone.nodes) {
    for (const set of node.values()) {
      for (const r of set) {
        if (r.code === TYPE.SOA && name === zone.name) continue;
        if (name === zone.name && SIGNER_TYPES.has(r.code)) continue;
        if (r.code === T_RRSIG || r.code === T_NSEC3) continue;
        out.push(r);
      }
    }
    if (name === zone.name) for (const set of signed.apexSets.values()) out.push(...set);
    const bySet = signed.sigs.get(name);
    if (bySet) for (const code of bySet.keys()) if (!(name === zone.name && code === TYPE.SOA)) out.push(signed.rrsig(name, code)!);
  }
  for (const label of signed.labels) {
    const e = signed.nsec3.get(label)!;
    out.push(signed.nsec3RR(label)!);
    const sig = signed.rrsig(e.owner, T_NSEC3);
    if (sig) out.push(sig);
  }
  return out;
}

/**
 * The signatures and NSEC3 chain a zone carries as records (a secondary's transferred copy of
 * a signed zone), in the form answers use; null when the zone is not signed (no RRSIG at its
 * SOA). It signs nothing: the primary did.
 */
export function viewFromRecords(zone: Zone): SignedZone | null {
  if (!zone.nodes.get(zone.name)?.get(`UNKNOWN_${T_RRSIG}`)) return null;
  const view = new SignedZone(zone.name, null);
  for (const name of zone.nodes.keys()) readNode(zone, view, name);
  view.labels = [...view.nsec3.keys()].sort();
  return view;
}

/** Reads again what names of the zone carry (after a delta); false when the zone is no longer signed. */
export function refreshView(zone: Zone, view: SignedZone, names: Iterable<string>): boolean {
  if (!zone.nodes.get(zone.name)?.get(`UNKNOWN_${T_RRSIG}`)) return false;
  for (const name of names) {
    view.sigs.delete(name);
    const label = nsec3Label(view, name);
    if (label !== null && view.nsec3.delete(label)) {
      const i = indexOf(view.labels, label);
      if (view.labels[i] === label) view.labels.splice(i, 1);
    }
    if (readNode(zone, view, name) && label !== null) insertLabel(view, label);
  }
  return true;
}

/** The label of a name that is an NSEC3 owner (label.apex), or null. */
function nsec3Label(view: SignedZone, name: string): string | null {
  if (!name.endsWith(`.${view.apex}`)) return null;
  const label = name.slice(0, name.length - view.apex.length - 1);
  return /^[0-9a-v]{32}$/.test(label) ? label : null;
}

/** Takes a node's RRSIGs and NSEC3 into the view; true when it has an NSEC3. */
function readNode(zone: Zone, view: SignedZone, name: string): boolean {
  const node = zone.nodes.get(name);
  if (!node) return false;
  const sigs = node.get(`UNKNOWN_${T_RRSIG}`);
  if (sigs) {
    const bySet = new Map<number, SigEntry>();
    for (const r of sigs) {
      const h = parseRrsig(r.rdata);
      if (h && !bySet.has(h.typeCovered)) bySet.set(h.typeCovered, { ttl: r.ttl, rdata: r.rdata, digest: "", expiration: h.expiration });
    }
    view.sigs.set(name, bySet);
  }
  const n3 = node.get(`UNKNOWN_${T_NSEC3}`)?.[0];
  const label = n3 ? nsec3Label(view, name) : null;
  if (!n3 || label === null) return false;
  const r = n3.rdata;
  const saltLen = r[4] ?? 0;
  const hashLen = r[5 + saltLen] ?? 0;
  view.nsec3Ttl = n3.ttl;
  view.nsec3.set(label, { name: "", owner: name, hash: fromBase32hex(label) ?? new Uint8Array(0), bitmap: r.subarray(6 + saltLen + hashLen), rdata: r });
  return true;
}
