/**
 * A password for a command: asked on the terminal (not echoed, twice), or the first line of
 * standard input when it is not a terminal (scripts: `printf '%s\n' "$PW" | ipkeep user add …`).
 * Never taken from a flag: it would sit in the shell history and in `ps`.
 */
import { IpkeepError } from "../core/errors";

/** Bounds what is read from a pipe: far above any password the policy accepts. */
const MAX_STDIN = 64 * 1024;

export async function readPassword(prompt = "Password"): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await askHidden(`${prompt}: `);
    const again = await askHidden(`${prompt} (again): `);
    if (first !== again) throw new IpkeepError("invalid_input", "The two passwords differ");
    return first;
  }
  const text = await readStdin();
  const line = text.split(/\r?\n/)[0] ?? "";
  if (line === "") throw new IpkeepError("invalid_input", "No password: type it on a terminal, or give it as the first line of standard input");
  return line;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    chunks.push(b);
    size += b.length;
    if (size > MAX_STDIN) throw new IpkeepError("invalid_input", "Standard input is too long for a password");
    // The first line is all that is used; a writer that never closes the pipe is not waited for.
    if (b.includes(0x0a)) break;
  }
  return Buffer.concat(chunks).toString("utf8");
}

function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = "";
    const done = (err: IpkeepError | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done(null);
        if (ch === "\u0003" || ch === "\u0004") return done(new IpkeepError("invalid_input", "Cancelled"));
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch >= " ") value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}
