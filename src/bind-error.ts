/**
 * One wording for a listen address that cannot be bound, used by serve, secondary and doctor:
 * "cannot bind UDP 127.0.0.1:53: address in use". An address someone else holds is a conflict
 * (exit 5); anything else (no privilege, not this machine's address) exits 1.
 */
import { IpkeepError } from "./core/errors";

interface Listen {
  host: string;
  port: number;
}

const formatListen = (l: Listen) => (l.host.includes(":") ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`);

const WORDS: Record<string, string> = {
  EADDRINUSE: "address in use",
  EACCES: "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE or root)",
  EPERM: "permission denied",
  EADDRNOTAVAIL: "not an address of this machine",
  EAFNOSUPPORT: "address family not supported (no IPv6 here?)",
  EINVAL: "invalid address",
};

/** The errno code of a failed bind, from node:net, node:dgram, Bun.serve or the FFI socket. */
export function bindCode(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === "string" && err.code.startsWith("E")) return err.code;
  const named = /\b(EADDRINUSE|EACCES|EPERM|EADDRNOTAVAIL|EAFNOSUPPORT|EINVAL)\b/.exec(String(err?.message ?? e))?.[1];
  if (named) return named;
  return /in use/i.test(String(err?.message ?? "")) ? "EADDRINUSE" : "EUNKNOWN";
}

export function bindMessage(what: string, l: Listen, code: string): string {
  return `cannot bind ${what} ${formatListen(l)}: ${WORDS[code] ?? code}`;
}

export function bindError(what: string, l: Listen, e: unknown): IpkeepError {
  const code = bindCode(e);
  return new IpkeepError(code === "EADDRINUSE" ? "conflict" : "internal", bindMessage(what, l, code));
}

/**
 * startDns's errors name their socket (transport, listen): such an error becomes the one
 * wording above; anything else is returned as it is.
 */
export function dnsBindError(e: unknown): unknown {
  const at = e as { transport?: string; listen?: Listen };
  return at && typeof at === "object" && at.transport && at.listen ? bindError(at.transport, at.listen, e) : e;
}
