/**
 * Pulls a presented secret out of a request, in the forms routers send. Shape only: whether
 * the secret is valid is core's question.
 */

export interface BasicCredentials {
  username: string;
  password: string;
}

/** Decodes "Authorization: Basic ..."; null when absent or malformed. */
export function parseBasic(header: string | null): BasicCredentials | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]{1,1024})\s*$/i.exec(header);
  if (!m) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** "Bearer x" or "Token x". */
export function parseBearer(header: string | null): string | null {
  if (!header) return null;
  const m = /^(?:Bearer|Token)\s+(\S{1,512})\s*$/i.exec(header);
  return m ? m[1]! : null;
}
