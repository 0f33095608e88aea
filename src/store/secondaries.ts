/**
 * Enrolled secondary nameservers (nodes with role 'secondary'), as zone transfers and NOTIFY
 * need them. The install work writes these rows; DNS only reads them.
 */
import type { Driver } from "./driver";

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
  constructor(private db: Driver) {}

  active(): SecondaryNode[] {
    return this.db
      .prepare("SELECT name, public_ip, dns_port, tsig_name, tsig_secret FROM nodes WHERE role = 'secondary' AND status = 'active' ORDER BY id")
      .all<Raw>()
      .map((r) => ({ name: r.name, publicIp: r.public_ip, dnsPort: r.dns_port ?? 53, tsigName: r.tsig_name, tsigSecret: r.tsig_secret }));
  }
}
