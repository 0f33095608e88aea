/**
 * Real `dig` against a server on loopback; answers parsed into comparable lines.
 */
import { spawnSync } from "node:child_process";

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  raw: string;
}

export function dig(port: number, name: string, type = "A", extra: string[] = []): DigResult {
  const r = spawnSync("dig", [`@127.0.0.1`, "-p", String(port), name, type, "+norec", "+time=2", "+tries=1", ...extra], { encoding: "utf8" });
  const raw = r.stdout ?? "";
  const status = /status: (\w+)/.exec(raw)?.[1] ?? "NONE";
  const flags = (/;; flags: ([^;]*);/.exec(raw)?.[1] ?? "").trim().split(/\s+/).filter(Boolean);
  const section = (title: string) => {
    const m = new RegExp(`;; ${title} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(raw);
    return m ? m[1]!.split("\n").filter(Boolean).map((l) => l.split(/\s+/).join(" ")) : [];
  };
  return { status, flags, answer: section("ANSWER"), authority: section("AUTHORITY"), raw };
}

export function digShort(port: number, name: string, type = "A", extra: string[] = []): string[] {
  const r = spawnSync("dig", [`@127.0.0.1`, "-p", String(port), name, type, "+short", "+time=2", "+tries=1", ...extra], { encoding: "utf8" });
  return (r.stdout ?? "").split("\n").filter(Boolean);
}
