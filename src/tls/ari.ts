/**
 * ACME Renewal Information (RFC 9773): where the CA offers it (its directory names a
 * `renewalInfo` URL), it says when to renew a certificate (a suggested window), and may move
 * that earlier (a revocation coming). Debian's Pebble does not offer it; Let's Encrypt does.
 */
import { X509Certificate } from "node:crypto";

export { ariRenewAt, parseRenewalInfo, type RenewalWindow } from "../core/acme-cert";

/** A DER element: tag, and where its content starts and ends. */
function element(der: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  return { tag, start, end: start + len };
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString("base64url");

/** RFC 9773 4.1: base64url(AKI keyIdentifier) "." base64url(serial's DER content octets). */
export function ariCertId(pem: string): string | null {
  let der: Uint8Array;
  try {
    der = new Uint8Array(new X509Certificate(pem).raw);
  } catch {
    return null;
  }
  // Certificate SEQUENCE > tbsCertificate SEQUENCE > [0] version? > INTEGER serial.
  const cert = element(der, 0);
  const tbs = element(der, cert.start);
  let at = tbs.start;
  let e = element(der, at);
  if (e.tag === 0xa0) {
    at = e.end;
    e = element(der, at);
  }
  if (e.tag !== 0x02) return null;
  const serial = der.subarray(e.start, e.end);
  // The authorityKeyIdentifier extension: OID 2.5.29.35 (06 03 55 1d 23), [critical], OCTET STRING { SEQUENCE { [0] keyIdentifier } }.
  for (let i = tbs.start; i < tbs.end - 5; i++) {
    if (der[i] === 0x06 && der[i + 1] === 0x03 && der[i + 2] === 0x55 && der[i + 3] === 0x1d && der[i + 4] === 0x23) {
      let p = i + 5;
      let x = element(der, p);
      if (x.tag === 0x01) {
        p = x.end;
        x = element(der, p);
      }
      if (x.tag !== 0x04) return null;
      const seq = element(der, x.start);
      if (seq.tag !== 0x30) return null;
      const keyId = element(der, seq.start);
      if (keyId.tag !== 0x80) return null;
      return `${b64url(der.subarray(keyId.start, keyId.end))}.${b64url(serial)}`;
    }
  }
  return null;
}
