/**
 * Local or remote: the host, domain, token and record commands run against core's Resources,
 * either on the local database (LocalResources, acting as the machine's operator with admin
 * powers) or, with `--server URL` (or IPKEEP_SERVER) and an API key in IPKEEP_API_KEY, over
 * the management API (HttpResources). The command code is the same for both.
 */
import type { Command } from "commander";
import { signingPort } from "../dns/dnssec/manage";
import { IpkeepError } from "../core/errors";
import { LocalResources, type Resources } from "../core/resources";
import type { DomainView, HostView } from "../core/views";
import { ResolverDelegationLookup } from "../dns/delegation";
import { type CliContext, linkBase, openContext, reportError } from "./common";
import { HttpResources } from "./remote-http";
import { canonicalName } from "../core/names";

export interface ResourceContext {
  res: Resources;
  json: boolean;
  remote: boolean;
  /** Base URL for printed links (update URLs). */
  base: string;
}

/** The operator at the machine: may do anything, on behalf of any owner (--owner). */
export const CLI_ACTOR = { userId: null, admin: true, name: "cli", address: null } as const;

export function localResources(ctx: CliContext): LocalResources {
  return new LocalResources({ ...ctx, delegation: new ResolverDelegationLookup(ctx.config.resolver), dnssec: signingPort(ctx.store.dnssec) }, CLI_ACTOR);
}

/** Wraps a command action: builds the Resources for the chosen mode, reports errors, cleans up. */
export function resourceAction<A extends unknown[]>(fn: (rc: ResourceContext, ...args: A) => unknown | Promise<unknown>) {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const opts = cmd.optsWithGlobals() as { server?: string; json?: boolean };
    const server = opts.server ?? process.env.IPKEEP_SERVER;
    let local: CliContext | null = null;
    try {
      let rc: ResourceContext;
      if (server) {
        const key = process.env.IPKEEP_API_KEY;
        if (!key) throw new IpkeepError("invalid_input", "--server needs an API key in the environment variable IPKEEP_API_KEY");
        const http = new HttpResources(server, key);
        rc = { res: http, json: !!opts.json, remote: true, base: http.url };
      } else {
        local = await openContext(cmd);
        rc = { res: localResources(local), json: local.json, remote: false, base: linkBase(local) };
      }
      await fn(rc, ...args);
    } catch (e) {
      reportError(e);
    } finally {
      local?.store.close();
    }
  };
}

const canonical = (name: string) => canonicalName(name.trim());

/** A hostname by its name (or numeric id), as the caller may see it. */
export async function hostByName(res: Resources, name: string): Promise<HostView> {
  const want = canonical(name);
  const h = (await res.listHosts()).find((x) => x.hostname === want || String(x.id) === want);
  // The name is not echoed: users paste tokens into the wrong argument.
  if (!h) throw new IpkeepError("unknown_host", "Hostname not found");
  return h;
}

/** A domain by its name (or numeric id). */
export async function domainByName(res: Resources, name: string): Promise<DomainView> {
  const want = canonical(name);
  const d = (await res.listDomains()).find((x) => x.name === want || String(x.id) === want);
  if (!d) throw new IpkeepError("unknown_zone", "Domain not found");
  return d;
}

/** A numeric id argument; anything else is "not found" without repeating it. */
export function idArg(value: string, what: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(value)) throw new IpkeepError("not_found", `${what} not found`);
  return Number(value);
}
