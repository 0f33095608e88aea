/**
 * The node configuration install.sh writes from the activation response
 * (/etc/ipkeep/agent.json or secondary.json, root-only; systemd hands it to the service
 * as a credential and points IPKEEP_NODE_CONFIG at it).
 */
import { existsSync, readFileSync } from "node:fs";
import { fail } from "../core/errors";

export interface NodeConfig {
  role: "agent" | "secondary";
  primary_url: string;
  node_token: string;
  hostname: string;
  zones: string[];
  checkin_interval_seconds: number;
  activation_id?: string;
  /** Agent: the update token for its hostname. */
  update_token?: string;
  /** Agent: where to learn the public addresses; default the primary's /api/myip. "off" disables a family. */
  myip4_url?: string;
  myip6_url?: string;
  /** Agent: seconds between address checks (default 60). */
  poll_seconds?: number;
  /** Secondary: TSIG key and where to transfer from. */
  tsig?: { name: string; algorithm: string; secret: string };
  primary_dns?: string;
  /** Where this node's own DNS listens (secondary), for the health check. */
  dns_listen?: string;
}

export function nodeConfigPath(role: "agent" | "secondary", explicit?: string): string {
  return explicit ?? process.env.IPKEEP_NODE_CONFIG ?? `/etc/ipkeep/${role}.json`;
}

export function readNodeConfig(role: "agent" | "secondary", explicit?: string): NodeConfig {
  const path = nodeConfigPath(role, explicit);
  if (!existsSync(path)) fail("invalid_input", `No ${role} configuration at ${path} (written by install.sh)`);
  let c: NodeConfig;
  try {
    c = JSON.parse(readFileSync(path, "utf8")) as NodeConfig;
  } catch (e) {
    fail("invalid_input", `${path}: ${(e as Error).message}`);
  }
  // install.sh keeps the activation's data whole under "activation"; flatten what we use.
  const a = (c as unknown as { activation?: Record<string, any> }).activation;
  if (a && typeof a === "object") {
    c = {
      ...c,
      role: c.role ?? a.product,
      primary_url: c.primary_url || a.settings?.primary_url,
      node_token: a.credentials?.node_token,
      update_token: a.credentials?.update_token,
      tsig: a.credentials?.tsig,
      hostname: a.settings?.hostname,
      zones: a.settings?.zones ?? [],
      checkin_interval_seconds: a.settings?.checkin_interval_seconds,
      activation_id: a.activation_id,
    };
  }
  if (!c.primary_dns) delete c.primary_dns;
  if (!c.dns_listen) delete c.dns_listen;
  for (const k of ["primary_url", "node_token", "hostname"] as const) {
    if (typeof c[k] !== "string" || !c[k]) fail("invalid_input", `${path}: "${k}" is missing`);
  }
  c.primary_url = c.primary_url.replace(/\/+$/, "");
  c.zones ??= [];
  c.checkin_interval_seconds ||= 300;
  return c;
}
