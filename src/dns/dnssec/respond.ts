/**
 * Answers from signed zones: what lookup() decided (answer.ts), with the DNSSEC records a
 * validator needs added (RFC 4035 3.1, RFC 5155 7.2), and the apex sets signing owns (DNSKEY,
 * CDS, CDNSKEY, NSEC3PARAM) answered with or without DO. Without DO nothing else changes.
 *
 * With DO: each RRset from a signed zone carries its RRSIG (in the same placement, so the two
 * fit or are left out together); referrals prove the DS or its absence (the cut's NSEC3);
 * NXDOMAIN carries the closest encloser proof (its NSEC3, the one covering the next closer
 * name, the one covering the wildcard); NODATA the name's NSEC3, or for a wildcard the closest
 * encloser proof with the wildcard's own NSEC3; a wildcard answer the NSEC3 covering the next
 * closer name. A name the signed zone denies (a hostname without addresses) is NXDOMAIN there.
 */
import type { Placed, Result } from "../answer";
import { keyInZone, nameInfo, parentKey } from "../dname";
import { TYPE } from "../rdata";
import { makeRR, type RR, type Zone, type ZoneSet } from "../zone";
import { base32hex, nsec3Hash } from "./nsec3";
import { type SignedZone, T_DNSKEY, T_NSEC3, T_RRSIG } from "./sign";

const NXDOMAIN = 3;

export type SignedOf = (zone: Zone) => SignedZone | undefined;

/** The RRSIG of a set as served: with the set's TTL (a negative SOA is served with the negative TTL). */
function sigFor(s: SignedZone, owner: string, code: number, ttl: number): RR | undefined {
  const e = s.sig(owner, code);
  if (!e) return undefined;
  return makeRR(owner, T_RRSIG, Math.min(ttl, e.ttl), { code: T_RRSIG, wire: e.rdata, names: [] });
}

/** The placements of a section with each signed RRset's RRSIG added to it. */
function signSection(list: Placed[], zones: ZoneSet, signedOf: SignedOf): Placed[] {
  return list.map((p) => {
    const first = p.rrs[0];
    if (!first || first.code === T_RRSIG || first.code === T_NSEC3) return p;
    const zone = zones.find(first.name);
    const s = zone ? signedOf(zone) : undefined;
    const sig = s ? sigFor(s, first.name, first.code, first.ttl) : undefined;
    return sig ? { owner: p.owner, rrs: [...p.rrs, sig] } : p;
  });
}

class Proof {
  readonly placed: Placed[] = [];
  private labels = new Set<string>();
  constructor(private s: SignedZone) {}

  add(label: string | undefined): void {
    if (label === undefined || this.labels.has(label)) return;
    this.labels.add(label);
    const rr = this.s.nsec3RR(label)!;
    const sig = sigFor(this.s, rr.name, T_NSEC3, rr.ttl);
    this.placed.push({ owner: rr.name, rrs: sig ? [rr, sig] : [rr] });
  }
  /** The NSEC3 whose hash is the name's. */
  match(name: string): boolean {
    const l = this.s.matching(name);
    if (l) this.add(l);
    return l !== undefined;
  }
  /** The NSEC3 covering a name that has none. */
  cover(name: string): void {
    this.add(this.s.covering(base32hex(nsec3Hash(name))));
  }
}

/** The closest ancestor of name (name excluded) that the signed zone has, and the next closer name below it. */
function closestEncloser(s: SignedZone, zone: Zone, name: string): { ce: string; next: string } {
  let next = name;
  for (let n = parentKey(name); ; n = parentKey(n)) {
    if (n === zone.name || s.matching(n) !== undefined) return { ce: n, next };
    if (!keyInZone(n, zone.name) || n === "") return { ce: zone.name, next };
    next = n;
  }
}

/** The name the answer ends at: the question, or the last CNAME's target. */
function finalName(r: Result, qname: string): string {
  let name = qname;
  for (const p of r.answer) {
    const rr = p.rrs[0];
    if (rr && rr.code === TYPE.CNAME) name = rr.targets[0] ?? name;
  }
  return name;
}

/**
 * The result of lookup() for a signed zone; zones not signed (signedOf undefined) and every
 * query without DO pass through unchanged, apart from the apex sets.
 */
export function withDnssec(r: Result, zones: ZoneSet, qname: string, qtype: number, signedOf: SignedOf, dnssecOk: boolean): Result {
  const zone = zones.find(qname);
  const s = zone ? signedOf(zone) : undefined;
  // The apex sets signing owns are answered like any RRset (NSD serves DNSKEY without DO too).
  if (zone && s && qname === zone.name && r.rcode === 0 && r.answer.length === 0 && !r.delegation) {
    const set = s.apexSets.get(qtype);
    if (set) {
      const apexNs = zone.nodes.get(zone.name)?.get("NS");
      const withNs = apexNs !== undefined && qtype !== T_DNSKEY;
      r = {
        ...r,
        answer: [{ owner: null, rrs: set }],
        authority: [],
        optionalAuthority: withNs ? [{ owner: zone.name, rrs: apexNs }] : [],
        additionalA: [],
        additionalAAAA: [],
      };
      // As any positive answer: the nameservers' addresses when the zone holds them.
      if (withNs) {
        for (const ns of apexNs) {
          const t = ns.targets[0];
          const node = t && keyInZone(t, zone.name) ? zone.nodes.get(t) : undefined;
          const a = node?.get("A");
          const aaaa = node?.get("AAAA");
          if (a) r.additionalA.push({ owner: t!, rrs: a });
          if (aaaa) r.additionalAAAA.push({ owner: t!, rrs: aaaa });
        }
      }
    }
  }
  if (!dnssecOk) return r;
  const out: Result = {
    ...r,
    answer: signSection(r.answer, zones, signedOf),
    authority: signSection(r.authority, zones, signedOf),
    optionalAuthority: signSection(r.optionalAuthority, zones, signedOf),
    // As NSD: authoritative addresses in the additional section come with their signatures.
    additionalA: signSection(r.additionalA, zones, signedOf),
    additionalAAAA: signSection(r.additionalAAAA, zones, signedOf),
  };
  const sname = finalName(r, qname);
  const z = zones.find(sname);
  const ss = z ? signedOf(z) : undefined;
  if (!z || !ss) return out;
  const proof = new Proof(ss);
  if (r.delegation) {
    // The cut: its DS (signed) when it has one, else its NSEC3 saying it has none.
    const cutSet = r.authority.find((p) => p.rrs[0]?.code === TYPE.NS)?.rrs;
    const cut = cutSet?.[0]?.name;
    if (cut) {
      const ds = z.nodes.get(cut)?.get("UNKNOWN_43");
      if (ds) out.authority.push(...signSection([{ owner: cut, rrs: ds }], zones, signedOf));
      else proof.match(cut);
    }
    out.authority.push(...proof.placed);
    return out;
  }
  // Wildcard expansions: an RRset served under another owner than its own.
  for (const p of r.answer) {
    const own = p.rrs[0]?.name;
    if (!own || !own.startsWith("*.")) continue;
    const written = p.owner ?? qname;
    if (written === own) continue;
    proof.cover(closestEncloser(ss, z, written).next);
  }
  if (r.rcode === NXDOMAIN) {
    const { ce, next } = closestEncloser(ss, z, sname);
    proof.match(ce);
    proof.cover(next);
    proof.cover(`*.${ce}`);
  } else if (r.rcode === 0 && r.authority.some((p) => p.rrs[0]?.code === TYPE.SOA)) {
    // NODATA: the name's own NSEC3 when it has one (an empty non-terminal's too; for a wildcard's
    // own name, as NSD, its closest encloser's as well) ...
    if (proof.match(sname)) {
      if (sname.startsWith("*.")) proof.match(parentKey(sname));
    } else {
      const { ce, next } = closestEncloser(ss, z, sname);
      if (ss.matching(`*.${ce}`) !== undefined) {
        // ... or the wildcard's, with the proof that the name itself does not exist.
        proof.match(ce);
        proof.cover(next);
        proof.match(`*.${ce}`);
      } else {
        // A name the unsigned zone has but the signed zone denies (a hostname without
        // addresses): NXDOMAIN, as every secondary with the transferred zone answers.
        out.rcode = NXDOMAIN;
        proof.match(ce);
        proof.cover(next);
        proof.cover(`*.${ce}`);
      }
    }
  }
  out.authority.push(...proof.placed);
  return out;
}

/** For tests: the label of a name's NSEC3 hash. */
export function hashLabel(name: string): string {
  return base32hex(nsec3Hash(nameInfo(name).key));
}
