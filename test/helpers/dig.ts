/**
 * Real `dig` against a server on loopback; answers parsed into comparable lines.
 * The async forms are for servers running inside the test process (a synchronous spawn would
 * block the very event loop that has to answer).
 */
import { spawn, spawnSync } from "node:child_process";

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  raw: string;
}

const args = (port: number, name: string, type: string, extra: string[]) => [
  `@127.0.0.1`,
  "-p",
  String(port),
  name,
  type,
  "+norec",
  "+time=2",
  "+tries=3",
  ...extra,
];
const shortArgs = (port: number, name: string, type: string, extra: string[]) => [
  `@127.0.0.1`,
  "-p",
  String(port),
  name,
  type,
  "+short",
  "+time=2",
  "+tries=3",
  ...extra,
];

function parse(raw: string): DigResult {
  const status = /status: (\w+)/.exec(raw)?.[1] ?? "NONE";
  const flags = (/;; flags: ([^;]*);/.exec(raw)?.[1] ?? "").trim().split(/\s+/).filter(Boolean);
  const section = (title: string) => {
    const m = new RegExp(`;; ${title} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(raw);
    return m
      ? m[1]!
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split(/\s+/).join(" "))
      : [];
  };
  return { status, flags, answer: section("ANSWER"), authority: section("AUTHORITY"), additional: section("ADDITIONAL"), raw };
}
const lines = (out: string) => out.split("\n").filter(Boolean);

export function dig(port: number, name: string, type = "A", extra: string[] = []): DigResult {
  return parse(spawnSync("dig", args(port, name, type, extra), { encoding: "utf8" }).stdout ?? "");
}

export function digShort(port: number, name: string, type = "A", extra: string[] = []): string[] {
  return lines(spawnSync("dig", shortArgs(port, name, type, extra), { encoding: "utf8" }).stdout ?? "");
}

function digOut(a: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn("dig", a, { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", () => resolve(out));
  });
}

export async function digAsync(port: number, name: string, type = "A", extra: string[] = []): Promise<DigResult> {
  return parse(await digOut(args(port, name, type, extra)));
}

export async function digShortAsync(port: number, name: string, type = "A", extra: string[] = []): Promise<string[]> {
  return lines(await digOut(shortArgs(port, name, type, extra)));
}
