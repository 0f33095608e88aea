/**
 * DNSSEC state of the zones: whether a zone is signed (domains.dnssec), its keys (the private
 * half sealed, store/sealed.ts; opened only to sign, never returned by a listing) and the
 * signatures made, kept so a restart reuses those that still cover the same data.
 */
import type { Driver } from "./driver";
import { dnssecKeyContext } from "./sealed";
import type { SecretBox } from "./secret-box";

export type KeyState = "active" | "published" | "retired";
export type SigningMode = "on" | "off" | "withdrawing";

/** A key as listings see it: no private half. */
export interface DnssecKeyInfo {
  id: number;
  domainId: number;
  algorithm: number;
  flags: number;
  state: KeyState;
  createdAt: number;
}

/** A key with its private half in clear (PKCS#8 DER): for the signer only. */
export interface DnssecKey extends DnssecKeyInfo {
  pkcs8: Uint8Array;
}

/** A stored signature: owner key, covered type, TTL, the digest of its RRset (latin1 text) and the RRSIG RDATA. */
export interface StoredSignature {
  owner: string;
  code: number;
  ttl: number;
  digest: string;
  rdata: Uint8Array;
}

interface KeyRow {
  id: number;
  domain_id: number;
  algorithm: number;
  flags: number;
  state: KeyState;
  created_at: number;
  private_key: string;
}

const info = (r: KeyRow): DnssecKeyInfo => ({
  id: r.id,
  domainId: r.domain_id,
  algorithm: r.algorithm,
  flags: r.flags,
  state: r.state,
  createdAt: r.created_at,
});

export class Dnssec {
  constructor(
    private db: Driver,
    private box: SecretBox,
  ) {}

  /** Whether a zone is to be signed (the default; also while being withdrawn), null when there is no such zone. */
  enabled(domainId: number): boolean | null {
    const m = this.mode(domainId);
    return m === null ? null : m !== "off";
  }

  setEnabled(domainId: number, on: boolean): void {
    this.setMode(domainId, on ? "on" : "off");
  }

  /** on (1), off (0), or withdrawing (2: still signed, CDS/CDNSKEY delete published, RFC 8078). */
  mode(domainId: number): SigningMode | null {
    const r = this.db.prepare("SELECT dnssec FROM domains WHERE id = ?").get<{ dnssec: number }>(domainId);
    if (!r) return null;
    return r.dnssec === 0 ? "off" : r.dnssec === 2 ? "withdrawing" : "on";
  }

  setMode(domainId: number, mode: SigningMode): void {
    this.db.prepare("UPDATE domains SET dnssec = ? WHERE id = ?").run(mode === "off" ? 0 : mode === "withdrawing" ? 2 : 1, domainId);
  }

  keys(domainId: number): DnssecKeyInfo[] {
    return this.db.prepare("SELECT * FROM dnssec_keys WHERE domain_id = ? ORDER BY id").all<KeyRow>(domainId).map(info);
  }

  /** The zone's active key with its private half opened; null when it has none (or it does not open: see sealed.ts's unopenable). */
  activeKey(domainId: number): DnssecKey | null {
    const r = this.db.prepare("SELECT * FROM dnssec_keys WHERE domain_id = ? AND state = 'active' ORDER BY id DESC LIMIT 1").get<KeyRow>(domainId);
    if (!r) return null;
    const clear = this.box.tryOpen(r.private_key, dnssecKeyContext(r.id));
    if (clear === null) return null;
    return { ...info(r), pkcs8: new Uint8Array(Buffer.from(clear, "base64")) };
  }

  /** Stores a new active key (sealed); the previous active ones are retired, their signatures dropped. */
  addKey(domainId: number, algorithm: number, pkcs8: Uint8Array, now: number): DnssecKeyInfo {
    return this.db.transaction(() => {
      this.db.prepare("UPDATE dnssec_keys SET state = 'retired' WHERE domain_id = ? AND state = 'active'").run(domainId);
      this.db.prepare("DELETE FROM dnssec_signatures WHERE domain_id = ?").run(domainId);
      // Sealed for its own row: the id is known once the row is in.
      const id = Number(
        this.db
          .prepare("INSERT INTO dnssec_keys (domain_id, algorithm, flags, private_key, created_at) VALUES (?, ?, 257, '', ?)")
          .run(domainId, algorithm, now).lastInsertRowid,
      );
      this.db
        .prepare("UPDATE dnssec_keys SET private_key = ? WHERE id = ?")
        .run(this.box.seal(Buffer.from(pkcs8).toString("base64"), dnssecKeyContext(id)), id);
      return info(this.db.prepare("SELECT * FROM dnssec_keys WHERE id = ?").get<KeyRow>(id)!);
    });
  }

  signatures(domainId: number): StoredSignature[] {
    return this.db
      .prepare("SELECT owner, type, ttl, digest, rrsig FROM dnssec_signatures WHERE domain_id = ?")
      .all<{ owner: string; type: number; ttl: number; digest: Uint8Array; rrsig: Uint8Array }>(domainId)
      .map((r) => ({ owner: r.owner, code: r.type, ttl: r.ttl, digest: Buffer.from(r.digest).toString("latin1"), rdata: new Uint8Array(r.rrsig) }));
  }

  /** Writes what a signing step changed, in one transaction. */
  saveSignatures(domainId: number, put: readonly StoredSignature[], drop: readonly { owner: string; code: number }[]): void {
    if (put.length === 0 && drop.length === 0) return;
    this.db.transaction(() => {
      const del = this.db.prepare("DELETE FROM dnssec_signatures WHERE domain_id = ? AND owner = ? AND type = ?");
      for (const d of drop) del.run(domainId, d.owner, d.code);
      const ins = this.db.prepare("INSERT OR REPLACE INTO dnssec_signatures (domain_id, owner, type, ttl, digest, rrsig) VALUES (?, ?, ?, ?, ?, ?)");
      for (const p of put) ins.run(domainId, p.owner, p.code, p.ttl, Buffer.from(p.digest, "latin1"), p.rdata);
    });
  }

  dropSignatures(domainId: number): void {
    this.db.prepare("DELETE FROM dnssec_signatures WHERE domain_id = ?").run(domainId);
  }
}
