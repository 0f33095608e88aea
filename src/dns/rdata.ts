/**
 * Presentation-format RDATA (as stored in the records table) to dns-packet's objects.
 */

/** Splits a TXT value into character-strings: quoted parts kept, escapes undone, 255-octet chunks. */
export function parseTxt(content: string): string[] {
  const parts: string[] = [];
  const s = content.trim();
  if (!s.startsWith('"')) return chunk(s);
  let i = 0;
  while (i < s.length) {
    if (s[i] === " " || s[i] === "\t") {
      i++;
      continue;
    }
    if (s[i] !== '"') break;
    let out = "";
    i++;
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) {
        const d = /^[0-9]{3}/.exec(s.slice(i + 1));
        if (d) {
          out += String.fromCharCode(Number(d[0]));
          i += 4;
          continue;
        }
        out += s[i + 1];
        i += 2;
        continue;
      }
      out += s[i];
      i++;
    }
    i++;
    parts.push(...chunk(out));
  }
  return parts.length ? parts : [""];
}

function chunk(s: string): string[] {
  if (s.length <= 255) return [s];
  const out: string[] = [];
  for (let i = 0; i < s.length; i += 255) out.push(s.slice(i, i + 255));
  return out;
}

const dequote = (s: string) => (s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);
const host = (s: string) => s.toLowerCase().replace(/\.$/, "");

/** dns-packet data for a record, or undefined when the content cannot be served. */
export function parseRdata(type: string, content: string): unknown {
  const f = content.trim().split(/\s+/);
  switch (type) {
    case "A":
    case "AAAA":
      return content.trim();
    case "CNAME":
    case "NS":
    case "PTR":
      return host(content.trim());
    case "TXT":
      return parseTxt(content);
    case "MX":
      return { preference: Number(f[0]), exchange: host(f[1] ?? "") };
    case "SRV":
      return { priority: Number(f[0]), weight: Number(f[1]), port: Number(f[2]), target: host(f[3] ?? "") };
    case "CAA":
      return { flags: Number(f[0]), tag: f[1], value: dequote(f.slice(2).join(" ")) };
    default:
      return undefined;
  }
}
