/**
 * The ipkeep side of the differential test: the compiled executable, `ipkeep zone import`
 * of the same file NSD loads, then `ipkeep serve` on free ports (stopped by PID).
 */
import { cleanup, run, startServe, tempDir } from "../helpers/exe";

export interface Ipkeep {
  port: number;
  stop(): Promise<void>;
}

/** zones: [name, file] pairs, imported in order. */
export async function startIpkeep(zones: [string, string][], opts: { signed?: boolean } = {}): Promise<Ipkeep> {
  const dir = tempDir();
  const step = (args: string[]) => {
    const r = run(["--data", dir, ...args]);
    if (r.code !== 0) throw new Error(`ipkeep ${args.join(" ")} failed (${r.code}):\n${r.stdout}${r.stderr}`);
  };
  // init needs a zone of its own; .invalid (RFC 6761) cannot collide with the corpus.
  step(["init", "--zone", "init.invalid", "--ns", "ns1.init.invalid=192.0.2.9"]);
  // NSD serves the unsigned files: signing is off for these zones, unless the comparison is of
  // the signed zones (NSD then loads them as ipkeep transfers them).
  for (const [zone, file] of zones) {
    step(["zone", "import", file, "--zone", zone]);
    if (!opts.signed) step(["domain", "dnssec", zone, "off"]);
  }
  // Response rate limiting off, as for NSD (test/helpers/nsd.ts: rrl-ratelimit: 0).
  const srv = await startServe(dir, ["--rrl-rate", "0", ...(opts.signed ? ["--xfr-allow", "127.0.0.1/32"] : [])]);
  return {
    port: srv.dnsPort,
    stop: async () => {
      await srv.stop();
      cleanup(dir);
    },
  };
}
