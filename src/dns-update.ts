/**
 * Wires DNS UPDATE (dns/update.ts, the wire) to the update tokens' keys in the store and to
 * core/dyn-update.ts (the meaning), for `ipkeep serve`.
 */
import { performDnsUpdate } from "./core/dyn-update";
import { LocalResources } from "./core/resources";
import type { UpdateLimits } from "./core/limits";
import { type Clock, nowSeconds, type Platform } from "./core/platform";
import type { ChangeSink, UpdateTokenRow } from "./core/ports";
import { canonicalRdata, createUpdateHandler } from "./dns/update";
import { makeKey, type TsigKey } from "./dns/tsig";
import { log, logLimited, redact } from "./log";
import type { Store } from "./store";

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

/** An update token's DNS UPDATE key by its name, with the token; null when there is none. */
export function tokenKey(store: Store, name: string): { key: TsigKey; owner: UpdateTokenRow } | null {
  const found = store.tokens.byTsigName(name);
  if (!found?.token.tsig) return null;
  try {
    return { key: makeKey(name, found.secret, found.token.tsig.algorithm), owner: found.token };
  } catch {
    return null;
  }
}

export function dnsUpdateHandler(d: { store: Store; platform: Platform; changes: ChangeSink; limits: UpdateLimits; clock: Clock }) {
  return createUpdateHandler({
    key: (name) => tokenKey(d.store, name),
    now: () => nowSeconds(d.clock),
    admitSource: (peer) => d.limits.admitSource(peer).reason === null,
    badCredentials: (peer) => void d.limits.badCredentials(peer),
    perform: (owner, keyName, msg, peer) =>
      performDnsUpdate(
        {
          store: d.store,
          platform: d.platform,
          changes: d.changes,
          limits: d.limits,
          canonical: canonicalRdata,
          records: (actor, changes) => new LocalResources({ store: d.store, platform: d.platform, changes }, actor),
        },
        owner as UpdateTokenRow,
        msg,
        {
          source: peer,
          userAgent: `DNS UPDATE (key ${keyName})`,
        },
      ),
    onResult: (r) => {
      const fields = { source: r.peer, key: r.keyName, zone: r.zone, rcode: RCODE_NAMES[r.rcode] ?? r.rcode, reason: r.reason ? redact(r.reason) : undefined };
      // Refusals before a good signature can come in floods: at most one line a minute of them.
      if (r.keyName === null || r.rcode === 9) logLimited("dns-update-unsigned", 60_000, "warn", "dns update refused", fields);
      else log(r.rcode === 0 ? "info" : "warn", "dns update", fields);
    },
  });
}
