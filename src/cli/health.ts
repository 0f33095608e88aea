/**
 * `ipkeep health --role ROLE`: exit 0 when that role is healthy, 1 otherwise, with one line
 * saying what is wrong. install.sh waits on it before confirming an install.
 *   primary:   GET /api/v2/healthz answers, and DNS answers each zone's SOA authoritatively
 *   agent:     the primary knows this node and it has checked in
 *   secondary: its DNS answers every zone's SOA authoritatively
 */
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import dnsPacket from "dns-packet";
import { readNodeConfig } from "../agent/config";
import { parseListen } from "../dns/server";
import { Store } from "../store";
import { configFrom, DB_FILE } from "./common";

const TIMEOUT_MS = 2000;

/** True when server answers an authoritative NOERROR SOA for zone. */
export function soaAnswered(host: string, port: number, zone: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(":") ? "udp6" : "udp4");
    const id = Math.floor(Math.random() * 65535);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), TIMEOUT_MS);
    sock.on("error", () => done(false));
    sock.on("message", (msg) => {
      try {
        const r = dnsPacket.decode(msg);
        const aa = ((r.flags ?? 0) & 0x400) !== 0;
        done(r.id === id && aa && ((r.flags ?? 0) & 0xf) === 0 && (r.answers ?? []).some((a) => a.type === "SOA"));
      } catch {
        done(false);
      }
    });
    const q = dnsPacket.encode({ id, type: "query", flags: 0, questions: [{ name: zone, type: "SOA", class: "IN" }] });
    sock.send(q, port, host, (e) => e && done(false));
  });
}

const local = (host: string) => (host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host);

async function primaryHealth(cmd: Command): Promise<string | null> {
  const config = configFrom(cmd);
  const http = parseListen(config.http[0] ?? "127.0.0.1:8080", 8080);
  const url = `http://${local(http.host).includes(":") ? `[${local(http.host)}]` : local(http.host)}:${http.port}/api/v2/healthz`;
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (r.status !== 200) return `HTTP health check answered ${r.status} (${url})`;
  } catch (e) {
    return `HTTP does not answer at ${url}: ${(e as Error).message}`;
  }
  const dbFile = join(config.data, DB_FILE);
  if (!existsSync(dbFile)) return `no database in ${config.data}`;
  const store = await Store.open(dbFile);
  const zones = store.domains
    .list()
    .filter((d) => d.verified)
    .map((d) => d.name);
  store.close();
  const dns = parseListen(config.dns[0] ?? "127.0.0.1:53", 53);
  for (const z of zones) {
    if (!(await soaAnswered(local(dns.host), dns.port, z))) return `DNS at ${dns.host}:${dns.port} does not answer ${z} SOA`;
  }
  return null;
}

async function agentHealth(configFile?: string): Promise<string | null> {
  const c = readNodeConfig("agent", configFile);
  try {
    const r = await fetch(`${c.primary_url}/status`, { headers: { authorization: `Bearer ${c.node_token}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = (await r.json()) as { data?: { checked_in?: boolean }; error?: { code: string; message: string } };
    if (r.status !== 200) return `primary refused the node: ${body.error?.code ?? r.status}`;
    if (!body.data?.checked_in) return "the agent has not checked in yet";
    return null;
  } catch (e) {
    return `primary ${c.primary_url} not reachable: ${(e as Error).message}`;
  }
}

async function secondaryHealth(configFile?: string): Promise<string | null> {
  const c = readNodeConfig("secondary", configFile);
  const l = parseListen(c.dns_listen ?? "127.0.0.1:53", 53);
  for (const z of c.zones) {
    if (!(await soaAnswered(local(l.host), l.port, z))) return `this secondary does not hold ${z} yet`;
  }
  return null;
}

export function registerHealth(program: Command): void {
  program
    .command("health")
    .description("exit 0 when the role on this machine is healthy (used by install.sh before confirming)")
    .requiredOption("--role <role>", "primary | agent | secondary")
    .option("--node-config <file>", "agent/secondary configuration (default $IPKEEP_NODE_CONFIG or /etc/ipkeep/ROLE.json)")
    .action(async (opts: { role: string; nodeConfig?: string }, cmd: Command) => {
      let problem: string | null;
      try {
        if (opts.role === "primary") problem = await primaryHealth(cmd);
        else if (opts.role === "agent") problem = await agentHealth(opts.nodeConfig);
        else if (opts.role === "secondary") problem = await secondaryHealth(opts.nodeConfig);
        else {
          process.stderr.write(`ipkeep: unknown role "${opts.role}" (primary, agent, secondary)\n`);
          process.exitCode = 2;
          return;
        }
      } catch (e) {
        problem = (e as Error).message;
      }
      if (problem) {
        process.stderr.write(`ipkeep health: ${opts.role} unhealthy: ${problem}\n`);
        process.exitCode = 1;
      } else {
        process.stdout.write(`${opts.role} healthy\n`);
      }
    });
}
