/**
 * Zone signing keys: one combined signing key (CSK, flags 257: zone key + secure entry point)
 * per zone, ECDSA P-256 with SHA-256 (algorithm 13, RFC 6605) by default or Ed25519 (15,
 * RFC 8080). node:crypto, synchronous (it is there under Bun, Node and in the compiled
 * executable). The private key leaves this module only as PKCS#8 DER, which the store seals
 * (store/dnssec.ts); nothing here prints it.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { nameInfo } from "../dname";

export const ALG_ECDSAP256SHA256 = 13;
export const ALG_ED25519 = 15;
export type Algorithm = typeof ALG_ECDSAP256SHA256 | typeof ALG_ED25519;
export const ALGORITHMS: Record<string, Algorithm> = { ecdsap256sha256: 13, ed25519: 15 };
export const ALGORITHM_NAMES: Record<Algorithm, string> = { 13: "ECDSAP256SHA256", 15: "ED25519" };

/** DNSKEY flags of a CSK: Zone Key (bit 7) + Secure Entry Point (bit 15). */
export const CSK_FLAGS = 257;
/** RFC 4034 2.1.2: the protocol field is always 3. */
const PROTOCOL = 3;
/** DS digest type 2: SHA-256 (RFC 4509). */
export const DIGEST_SHA256 = 2;

export function isAlgorithm(n: number): n is Algorithm {
  return n === ALG_ECDSAP256SHA256 || n === ALG_ED25519;
}

/** A key ready to sign: its DNSKEY RDATA, key tag and a signing function. */
export interface SigningKey {
  algorithm: Algorithm;
  flags: number;
  /** The public key as DNSKEY carries it (P-256: x||y, 64 octets; Ed25519: 32 octets). */
  publicKey: Uint8Array;
  /** DNSKEY RDATA: flags, protocol, algorithm, public key. */
  dnskey: Uint8Array;
  tag: number;
  /** The signature field of an RRSIG over data (P-256: r||s, 64 octets). */
  sign(data: Uint8Array): Uint8Array;
}

/** A fresh key: its algorithm and the private half as PKCS#8 DER (to be sealed before storing). */
export function generateKey(algorithm: Algorithm): { algorithm: Algorithm; pkcs8: Uint8Array } {
  const pair = algorithm === ALG_ED25519 ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { algorithm, pkcs8: new Uint8Array(pair.privateKey.export({ format: "der", type: "pkcs8" })) };
}

function b64url(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "base64url"));
}

function publicBytes(algorithm: Algorithm, pub: KeyObject): Uint8Array {
  const jwk = pub.export({ format: "jwk" });
  if (algorithm === ALG_ED25519) return b64url(jwk.x!);
  const x = b64url(jwk.x!);
  const y = b64url(jwk.y!);
  if (x.length !== 32 || y.length !== 32) throw new Error("not a P-256 key");
  const out = new Uint8Array(64);
  out.set(x, 0);
  out.set(y, 32);
  return out;
}

/** A stored key made usable; throws when the DER is not a key of that algorithm. */
export function loadKey(algorithm: Algorithm, pkcs8: Uint8Array, flags = CSK_FLAGS): SigningKey {
  const priv = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
  const want = algorithm === ALG_ED25519 ? "ed25519" : "ec";
  if (priv.asymmetricKeyType !== want) throw new Error(`the stored key is not an ${ALGORITHM_NAMES[algorithm]} key`);
  const publicKey = publicBytes(algorithm, createPublicKey(priv));
  const dnskey = dnskeyRdata(flags, algorithm, publicKey);
  const tag = keyTag(dnskey);
  const signer =
    algorithm === ALG_ED25519
      ? (data: Uint8Array) => new Uint8Array(sign(null, data, priv))
      : (data: Uint8Array) => new Uint8Array(sign("sha256", data, { key: priv, dsaEncoding: "ieee-p1363" }));
  return { algorithm, flags, publicKey, dnskey, tag, sign: signer };
}

export function dnskeyRdata(flags: number, algorithm: number, publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + publicKey.length);
  out[0] = flags >> 8;
  out[1] = flags & 0xff;
  out[2] = PROTOCOL;
  out[3] = algorithm;
  out.set(publicKey, 4);
  return out;
}

/** RFC 4034 Appendix B: the key tag of a DNSKEY RDATA (algorithm 1 excepted, which we never use). */
export function keyTag(rdata: Uint8Array): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i]! : rdata[i]! << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}

/** DS RDATA (digest type 2, SHA-256 over owner name in canonical wire form + DNSKEY RDATA); also CDS's. */
export function dsRdata(owner: string, dnskey: Uint8Array): Uint8Array {
  const digest = createHash("sha256").update(nameInfo(owner).wire).update(dnskey).digest();
  const tag = keyTag(dnskey);
  const out = new Uint8Array(4 + digest.length);
  out[0] = tag >> 8;
  out[1] = tag & 0xff;
  out[2] = dnskey[3]!;
  out[3] = DIGEST_SHA256;
  out.set(digest, 4);
  return out;
}

/** RFC 8078 4: the CDS and CDNSKEY RDATA that ask the parent to remove the DS (turning signing off). */
export const CDS_DELETE = Uint8Array.from([0, 0, 0, 0, 0]);
export const CDNSKEY_DELETE = Uint8Array.from([0, 0, 3, 0, 0]);

/** The forms registrars ask for: the DS record, and the DNSKEY's fields. */
export interface DsInfo {
  zone: string;
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: string;
  /** "ZONE. IN DS tag alg 2 DIGEST" */
  ds: string;
  flags: number;
  protocol: number;
  publicKey: string;
  /** "ZONE. IN DNSKEY 257 3 alg BASE64" */
  dnskey: string;
}

export function dsInfo(zone: string, key: SigningKey): DsInfo {
  const ds = dsRdata(zone, key.dnskey);
  const digest = Buffer.from(ds.subarray(4)).toString("hex").toUpperCase();
  const publicKey = Buffer.from(key.publicKey).toString("base64");
  const owner = zone === "" ? "." : `${zone}.`;
  return {
    zone: owner,
    keyTag: key.tag,
    algorithm: key.algorithm,
    digestType: DIGEST_SHA256,
    digest,
    ds: `${owner} IN DS ${key.tag} ${key.algorithm} ${DIGEST_SHA256} ${digest}`,
    flags: key.flags,
    protocol: PROTOCOL,
    publicKey,
    dnskey: `${owner} IN DNSKEY ${key.flags} ${PROTOCOL} ${key.algorithm} ${publicKey}`,
  };
}
