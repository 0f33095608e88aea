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

/** Parameter names are matched case-insensitively; first value wins; this many at most are read. */
const MAX_PARAMS = 100;
const MAX_VALUE = 4096;

export class ParamBag {
  private map = new Map<string, string>();
  // JSON values that are no text ({"ip": null}, arrays, objects): core refuses them where it
  // would otherwise fall back to a default (the source address).
  private other = new Set<string>();
  add(name: string, value: unknown): void {
    if (this.map.size + this.other.size >= MAX_PARAMS) return;
    const key = name.toLowerCase();
    if (this.map.has(key) || this.other.has(key)) return;
    if (typeof value === "string") this.map.set(key, value.slice(0, MAX_VALUE));
    else if (typeof value === "number" || typeof value === "boolean") this.map.set(key, String(value));
    else this.other.add(key);
  }
  notText(name: string): boolean {
    return this.other.has(name);
  }
  addAll(entries: Iterable<[string, unknown]>): void {
    for (const [k, v] of entries) this.add(k, v);
  }
  get(name: string): string | undefined {
    return this.map.get(name);
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  get size(): number {
    return this.map.size;
  }
}

/**
 * Query parameters, then (POST, DELETE…) form, multipart or JSON body parameters. A body that cannot
 * be read adds nothing: the query alone decides, and a broken body is not a server fault.
 */
export async function readParams(request: Request): Promise<ParamBag> {
  const bag = new ParamBag();
  const url = new URL(request.url);
  bag.addAll(url.searchParams.entries());
  if (request.method === "GET" || request.method === "HEAD" || !request.body) return bag;
  const type = (request.headers.get("content-type") ?? "").toLowerCase();
  try {
    if (type.includes("multipart/form-data")) {
      const form = await request.formData();
      for (const [k, v] of form.entries()) if (typeof v === "string") bag.add(k, v);
      return bag;
    }
    const text = await request.text();
    if (type.includes("json") || /^\s*\{/.test(text)) {
      const obj = JSON.parse(text) as unknown;
      if (obj && typeof obj === "object" && !Array.isArray(obj)) bag.addAll(Object.entries(obj as Record<string, unknown>));
    } else {
      bag.addAll(new URLSearchParams(text).entries());
    }
  } catch {
    // Unreadable body: ignored, see above.
  }
  return bag;
}
