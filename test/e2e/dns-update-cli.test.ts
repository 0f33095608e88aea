/**
 * The compiled executable: `token create --tsig [--tsig-algorithm]`, `token list`, `token
 * regenerate` and the API's tsig fields; the key answered once, stored sealed (never in clear
 * in the database file), and working with nsupdate against `ipkeep serve` (UPDATE handed from
 * the DNS thread to the main thread). A regenerated key replaces the old one at once.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { verifyZone } from "../dns/dnssec/validators";
import { digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
let data: string;
let server: ServerProcess;

beforeAll(async () => {
  data = tempDir();
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  for (const h of ["nas", "cam"]) expect(run(["--data", data, "host", "add", `${h}.${ZONE}`, "--owner", "me@example.com"]).code).toBe(0);
  server = await startServe(data, ["--update-burst", "0", "--xfr-allow", "127.0.0.1/32"]);
});
afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

interface Key {
  name: string;
  algorithm: string;
  secret: string;
  weak: boolean;
}

function nsupdate(k: Key, lines: string[]): Promise<{ code: number; stderr: string }> {
  const f = join(data, `${k.name}.key`);
  writeFileSync(f, `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };\n`);
  const script = [`server 127.0.0.1 ${server.dnsPort}`, `zone ${ZONE}`, ...lines, "send", ""].join("\n");
  return new Promise((resolve) => {
    const c = execFile("nsupdate", ["-k", f], { encoding: "utf8", timeout: 20_000 }, (err, _o, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: stderr ?? "" }),
    );
    c.stdin!.end(script);
  });
}

describe("ipkeep token --tsig", () => {
  let id: number;
  let key: Key;

  it("token create --tsig answers the key once in --json (name, algorithm hmac-sha256, base64 secret)", () => {
    const r = run(["--data", data, "token", "create", "--host", `nas.${ZONE}`, "--tsig", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout).token;
    id = t.id;
    key = t.tsig;
    expect(key).toMatchObject({ algorithm: "hmac-sha256", weak: false });
    expect(key.name).toMatch(/^ipkeep-\d+-[0-9a-f]{8}$/);
    expect(Buffer.from(key.secret, "base64")).toHaveLength(32);
    // Without --json: the same key, in nsupdate's key-file form too.
    const text = run(["--data", data, "token", "create", "--host", `cam.${ZONE}`, "--tsig"]);
    expect(text.stdout).toMatch(/key "ipkeep-\d+-[0-9a-f]{8}" \{ algorithm hmac-sha256; secret "[A-Za-z0-9+/=]+"; \};/);
  });

  it("the secret is sealed: not in the database file, and token list shows only the name", () => {
    const db = readFileSync(join(data, "ipkeep.db"));
    const wal = (() => {
      try {
        return readFileSync(join(data, "ipkeep.db-wal"));
      } catch {
        return Buffer.alloc(0);
      }
    })();
    expect(db.includes(key.secret)).toBe(false);
    expect(wal.includes(key.secret)).toBe(false);
    const list = run(["--data", data, "token", "list", "--json"]);
    const row = JSON.parse(list.stdout).find((t: { id: number }) => t.id === id);
    expect(row.tsig).toEqual({ name: key.name, algorithm: "hmac-sha256", weak: false });
    expect(list.stdout).not.toContain(key.secret);
  });

  it("MD5 only when asked for, and marked weak in token list; an unknown algorithm is exit 2", () => {
    const r = run(["--data", data, "token", "create", "--host", `cam.${ZONE}`, "--tsig-algorithm", "HMAC-MD5", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout).token;
    expect(t.tsig).toMatchObject({ algorithm: "hmac-md5", weak: true });
    expect(Buffer.from(t.tsig.secret, "base64")).toHaveLength(16);
    const list = run(["--data", data, "token", "list"]);
    expect(list.stdout).toMatch(new RegExp(`${t.tsig.name} hmac-md5 \\(weak\\)`));
    const bad = run(["--data", data, "token", "create", "--host", `cam.${ZONE}`, "--tsig-algorithm", "hmac-sha3"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("hmac-sha256");
  });

  it("nsupdate with the key changes the host at once; regenerate replaces the key and the old one stops working", async () => {
    let r = await nsupdate(key, [`update add nas.${ZONE} 60 A 198.51.100.20`]);
    expect(r.stderr).toBe("");
    expect(digShort(server.dnsPort, `nas.${ZONE}`, "A")).toEqual(["198.51.100.20"]);
    const regen = run(["--data", data, "token", "regenerate", String(id), "--json"]);
    expect(regen.code, regen.stderr).toBe(0);
    const fresh: Key = JSON.parse(regen.stdout).token.tsig;
    expect(fresh.name).not.toBe(key.name);
    expect(fresh.secret).not.toBe(key.secret);
    r = await nsupdate(key, [`update add nas.${ZONE} 60 A 198.51.100.21`]);
    expect(r.code).not.toBe(0);
    expect(digShort(server.dnsPort, `nas.${ZONE}`, "A")).toEqual(["198.51.100.20"]);
    r = await nsupdate(fresh, [`update add nas.${ZONE} 60 A 198.51.100.22`]);
    expect(r.stderr).toBe("");
    expect(digShort(server.dnsPort, `nas.${ZONE}`, "A")).toEqual(["198.51.100.22"]);
  });

  it("POST /api/tokens with tsig answers the key once (the owner's API key); a bad algorithm is 400", async () => {
    const k = run(["--data", data, "key", "create", "--user", "me@example.com", "--json"]);
    expect(k.code, k.stderr).toBe(0);
    const apiKey = JSON.parse(k.stdout).key;
    const hosts = (await (await fetch(`${server.base}/api/hostnames`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as {
      hostnames: { id: number; hostname: string }[];
    };
    const nas = hosts.hostnames.find((h) => h.hostname === `nas.${ZONE}`)!;
    const res = await fetch(`${server.base}/api/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ hostnameId: nas.id, tsig: true, tsigAlgorithm: "hmac-sha512" }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: { tsig: { algorithm: string; weak: boolean; secret: string } } };
    expect(body.token.tsig).toMatchObject({ algorithm: "hmac-sha512", weak: false });
    expect(Buffer.from(body.token.tsig.secret, "base64")).toHaveLength(64);
    const bad = await fetch(`${server.base}/api/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ hostnameId: nas.id, tsigAlgorithm: "hmac-sha3" }),
    });
    expect(bad.status).toBe(400);
  });

  it("token create and token set take a policy; token list shows it; PATCH /api/tokens/:id changes it", async () => {
    const r = run([
      "--data",
      data,
      "token",
      "create",
      "--host",
      `cam.${ZONE}`,
      "--only-type",
      "TXT",
      "--only-name",
      `_acme-challenge.cam.${ZONE}`,
      "--from",
      "10.0.0.0/8",
      "--expires",
      "30d",
      "--max-unused",
      "7d",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout).token;
    expect(t.policy).toMatchObject({ names: [`_acme-challenge.cam.${ZONE}`], types: ["TXT"], networks: ["10.0.0.0/8"], maxUnusedSeconds: 604_800 });
    expect(Date.parse(t.policy.expiresAt) / 1000 - Date.now() / 1000).toBeGreaterThan(29 * 86_400);
    const list = run(["--data", data, "token", "list"]);
    expect(list.stdout).toContain(`names=_acme-challenge.cam.${ZONE} types=TXT from=10.0.0.0/8 expires=`);
    const set = run(["--data", data, "token", "set", String(t.id), "--from-anywhere", "--max-unused", "never", "--json"]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).token.policy).toMatchObject({ networks: null, maxUnusedSeconds: null, types: ["TXT"] });
    // Bad input: exit 2 with one line.
    for (const bad of [
      ["--max-unused", "soon"],
      ["--only-name", `nas.${ZONE}`],
      ["--only-type", "NS"],
      ["--from", "10.0.0.0/99"],
      ["--expires", "yesterday"],
    ]) {
      const b = run(["--data", data, "token", "set", String(t.id), ...bad]);
      expect(b.code, bad.join(" ")).toBe(2);
      expect(b.stderr.trim().split("\n")).toHaveLength(1);
    }
    // Over the API.
    const k = run(["--data", data, "key", "create", "--user", "me@example.com", "--json"]);
    const apiKey = JSON.parse(k.stdout).key;
    const patch = await fetch(`${server.base}/api/tokens/${t.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ policy: { types: null, expiresAt: "2099-01-01T00:00:00Z" } }),
    });
    expect(patch.status).toBe(200);
    const body = (await patch.json()) as { token: { policy: { types: unknown; expiresAt: string } } };
    expect(body.token.policy).toMatchObject({ types: null, expiresAt: "2099-01-01T00:00:00.000Z" });
    const bad = await fetch(`${server.base}/api/tokens/${t.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ policy: { expiresAt: "whenever" } }),
    });
    expect(bad.status).toBe(400);
  });

  it("an UPDATE on a signed zone (signed by default) is served signed: the transferred zone validates, with an RRSIG over the new A", async () => {
    const r = run(["--data", data, "token", "create", "--host", `nas.${ZONE}`, "--tsig", "--json"]);
    const k: Key = JSON.parse(r.stdout).token.tsig;
    const u = await nsupdate(k, [`update delete nas.${ZONE} A`, `update add nas.${ZONE} 60 A 198.51.100.77`]);
    expect(u.stderr).toBe("");
    expect(digShort(server.dnsPort, `nas.${ZONE}`, "A")).toEqual(["198.51.100.77"]);
    const axfr = () => {
      const out = spawnSync("dig", ["@127.0.0.1", "-p", String(server.dnsPort), ZONE, "AXFR", "+nocomments", "+nostats", "+nocmd"], {
        encoding: "utf8",
      }).stdout;
      const lines = out.split("\n").filter((l) => l.trim() && !l.startsWith(";"));
      return `${lines.slice(0, -1).join("\n")}\n`;
    };
    // Signatures of a delta are made a moment after the commit.
    let zone = "";
    for (let i = 0; i < 100; i++) {
      zone = axfr();
      if (
        zone.includes("198.51.100.77") &&
        zone.split("\n").some((l) => l.startsWith(`nas.${ZONE}.`) && l.split(/\s+/)[3] === "RRSIG" && l.split(/\s+/)[4] === "A")
      )
        break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(zone).toContain("DNSKEY");
    expect(zone).toContain("198.51.100.77");
    const v = verifyZone(ZONE, zone);
    expect(v.ldns.output).toContain("Zone is verified and complete");
    expect(v.bind!.ok, v.bind!.output).toBe(true);
  });
});
