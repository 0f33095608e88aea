/**
 * Enrolled secondary nameservers (nodes with role 'secondary'), as zone transfers and NOTIFY
 * need them. The install work writes these rows; DNS only reads them.
 */
import type { Driver } from "./driver";
import { TSIG_CONTEXT } from "./sealed";
import { isSealed, type SecretBox } from "./secret-box";

export interface SecondaryNode {
  name: string;
  publicIp: string | null;
  /** Where it takes NOTIFY (53 unless enrolled with another port). */
  dnsPort: number;
  tsigName: string | null;
  /** Base64 HMAC secret. */
  tsigSecret: string | null;
}

interface Raw {
  name: string;
  public_ip: string | null;
  dns_port: number | null;
  tsig_name: string | null;
  tsig_secret: string | null;
}

export class Secondaries {
  constructor(
    private db: Driver,
    private box: SecretBox,
  ) {}

  active(): SecondaryNode[] {
    return this.db
      .prepare("SELECT name, public_ip, dns_port, tsig_name, tsig_secret FROM nodes WHERE role = 'secondary' AND status = 'active' ORDER BY id")
      .all<Raw>()
      .map((r) => ({ name: r.name, publicIp: r.public_ip, dnsPort: r.dns_port ?? 53, tsigName: r.tsig_name, tsigSecret: this.open(r.tsig_secret) }));
  }

  /** Stored sealed (store/sealed.ts); one that does not open reads as null (no key: unsigned). */
  private open(v: string | null): string | null {
    return isSealed(v) ? this.box.tryOpen(v, TSIG_CONTEXT) : v;
  }
}
