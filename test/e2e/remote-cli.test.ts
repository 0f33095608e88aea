/**
 * The CLI's two modes with the compiled executable: the same host/domain/token/record commands
 * on the local database and, with --server and IPKEEP_API_KEY, over the API of a running
 * server; each change then answered by the server's DNS.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform } from "../../src/platform";
import { mintToken } from "../../src/core/tokens";
import { Store } from "../../src/store";
import { digAsync as dig, digShortAsync as digShort } from "../helpers/dig";
import { cleanup, run, runAsync, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { type ParentZone, startParentZone } from "../helpers/parent-zone";

const ZONE = "dyn.example.com";
let data: string;
let server: ServerProcess;
let parent: ParentZone;
let apiKey: string;

const remote = (args: string[], key: string | null = apiKey) =>
  run(["--server", server.base, ...args], key === null ? { IPKEEP_API_KEY: "" } : { IPKEEP_API_KEY: key });
const remoteAsync = (args: string[]) => runAsync(["--server", server.base, ...args], { IPKEEP_API_KEY: apiKey });
/** The server notices the CLI's commits by polling; give it a moment. */
async function eventually(fn: () => Promise<string[]>, want: string[]): Promise<void> {
  let got: string[] = [];
  for (let i = 0; i < 40; i++) {
    got = await fn();
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(got).toEqual(want);
}
const local = (args: string[]) => run(["--data", data, ...args]);
const json = (r: { code: number; stdout: string; stderr: string }) => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  data = tempDir();
  parent = await startParentZone();
  expect(local(["init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  const store = await Store.open(join(data, "ipkeep.db"));
  try {
    const u = store.users.create({ email: "remote@example.com", role: "user", passwordHash: null }, 0);
    const key = mintToken(createPlatform(), "apiKey");
    store.db.prepare("INSERT INTO api_keys (user_id, label, token_hash, hint, created_at) VALUES (?, 'cli', ?, ?, 0)").run(u.id, key.hash, key.hint);
    apiKey = key.value;
  } finally {
    store.close();
  }
  server = await startServe(data, ["--resolver", `127.0.0.1:${parent.port}`]);
});
afterAll(async () => {
  await server?.stop();
  await parent?.close();
  cleanup(data);
});

describe("remote mode (--server, IPKEEP_API_KEY)", () => {
  it("host add / list / show / rm over the API, served by DNS", async () => {
    const added = json(remote(["host", "add", `far.${ZONE}`, "--json"]));
    expect(added.hostname).toMatchObject({ hostname: `far.${ZONE}`, ttl: 60 });
    expect(added.token.tokenValue).toMatch(/^ipk_/);
    expect(added.updateUrl).toBe(`${server.base}/nic/update?hostname=far.${ZONE}&token=${added.token.tokenValue}`);
    const up = await fetch(`${server.base}/api/update?ip=198.51.100.44`, { headers: { authorization: `Bearer ${added.token.tokenValue}` } });
    expect(((await up.json()) as { status: string }).status).toBe("good");
    expect(await digShort(server.dnsPort, `far.${ZONE}`)).toEqual(["198.51.100.44"]);
    // Remote and local list the same object in the same shape.
    const remoteList = json(remote(["host", "list", "--json"]));
    const localList = json(local(["host", "list", "--json"]));
    expect(remoteList).toEqual(localList.filter((h: { hostname: string }) => h.hostname === `far.${ZONE}`));
    expect(remote(["host", "show", `far.${ZONE}`]).stdout).toContain("198.51.100.44");
  });

  it("host set --ttl --description and host log over the API", async () => {
    const set = json(remote(["host", "set", `far.${ZONE}`, "--ttl", "300", "--description", "the far one", "--json"]));
    expect(set).toMatchObject({ ttl: 300, description: "the far one" });
    await eventually(async () => (await dig(server.dnsPort, `far.${ZONE}`)).answer, [`far.${ZONE}. 300 IN A 198.51.100.44`]);
    expect(json(remote(["host", "log", `far.${ZONE}`, "--json"]))[0]).toMatchObject({ result: "good", newIpv4: "198.51.100.44" });
    const bad = remote(["host", "set", `far.${ZONE}`, "--ttl", "5"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("TTL must be between 30 and 86400");
  });

  it("token create / list / regenerate / revoke over the API", () => {
    const t = json(remote(["token", "create", "--host", `far.${ZONE}`, "--label", "laptop", "--json"])).token;
    expect(t).toMatchObject({ scope: "host", label: "laptop", hostnames: [`far.${ZONE}`] });
    const listed = remote(["token", "list"]);
    expect(listed.stdout).toContain("laptop");
    expect(listed.stdout).not.toContain(t.tokenValue);
    const again = json(remote(["token", "regenerate", String(t.id), "--json"])).token;
    expect(again.tokenValue).not.toBe(t.tokenValue);
    expect(remote(["token", "revoke", String(t.id)]).code).toBe(0);
    expect(json(remote(["token", "list", "--json"])).map((x: { id: number }) => x.id)).not.toContain(t.id);
  });

  it("record add / list / rm under the user's own hostname", async () => {
    const r = json(remote(["record", "add", ZONE, "TXT", "_acme-challenge.far", "remote-challenge", "--ttl", "60", "--json"])).record;
    expect(r).toMatchObject({ name: `_acme-challenge.far.${ZONE}`, type: "TXT", ttl: 60 });
    expect(await digShort(server.dnsPort, `_acme-challenge.far.${ZONE}`, "TXT")).toEqual(['"remote-challenge"']);
    expect(remote(["record", "list", ZONE]).stdout).toContain("remote-challenge");
    const changed = json(remote(["record", "set", ZONE, String(r.id), "--content", "second-value", "--ttl", "120", "--json"])).record;
    expect(changed).toMatchObject({ content: "second-value", ttl: 120 });
    expect(await digShort(server.dnsPort, `_acme-challenge.far.${ZONE}`, "TXT")).toEqual(['"second-value"']);
    expect(remote(["record", "rm", ZONE, String(r.id)]).code).toBe(0);
    expect(await digShort(server.dnsPort, `_acme-challenge.far.${ZONE}`, "TXT")).toEqual([]);
    // Outside the user's hostnames the server refuses (403 -> exit 6).
    const denied = remote(["record", "add", ZONE, "A", "www", "192.0.2.1"]);
    expect(denied.code).toBe(6);
    expect(denied.stderr).toContain("only at or below your own hostnames");
  });

  it("domain add / status / verify: a custom domain is served once the parent delegates it", async () => {
    const d = json(remote(["domain", "add", "remote.example", "--json"])).domain;
    expect(d).toMatchObject({ kind: "custom", verified: false, nameservers: [`ns1.${ZONE}`] });
    const refused = await remoteAsync(["domain", "verify", "remote.example"]);
    expect(refused.code, refused.stderr).toBe(5);
    expect(refused.stderr).toContain("not delegated");
    parent.delegations.set("remote.example", [`ns1.${ZONE}`]);
    expect(json(await remoteAsync(["domain", "status", "remote.example", "--json"])).delegation).toMatchObject({ delegated: true, verified: false });
    expect(json(await remoteAsync(["domain", "verify", "remote.example", "--json"])).domain.verified).toBe(true);
    expect(await digShort(server.dnsPort, "remote.example", "NS")).toEqual([`ns1.${ZONE}.`]);
    const mx = json(remote(["record", "add", "remote.example", "MX", "@", "mail.remote.example", "--priority", "5", "--json"])).record;
    expect(mx).toMatchObject({ priority: 5, content: "mail.remote.example" });
    expect(await digShort(server.dnsPort, "remote.example", "MX")).toEqual(["5 mail.remote.example."]);
    expect(remote(["domain", "rm", "remote.example", "--yes"]).code).toBe(0);
    expect(remote(["domain", "list"]).stdout).not.toContain("remote.example");
  });

  it("host rm over the API stops DNS answering", async () => {
    expect(remote(["host", "rm", `far.${ZONE}`]).code).toBe(0);
    expect(await digShort(server.dnsPort, `far.${ZONE}`)).toEqual([]);
  });

  it("fails plainly without a key, with a wrong key, a bad URL, or --owner", () => {
    const noKey = remote(["host", "list"], null);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("IPKEEP_API_KEY");
    const badKey = remote(["host", "list"], "ipka_wrongwrongwrongwrongwrongwrongwrongwrong");
    expect(badKey.code).toBe(6);
    expect(badKey.stderr).not.toContain("wrongwrong");
    const badUrl = run(["--server", "not a url", "host", "list"], { IPKEEP_API_KEY: apiKey });
    expect(badUrl.code).toBe(2);
    const owner = remote(["host", "add", `o.${ZONE}`, "--owner", "x@example.com"]);
    expect(owner.code).toBe(2);
    expect(owner.stderr).toContain("--owner works only on the local database");
  });
});

describe("local mode: the same commands on the database", () => {
  it("record add / list / rm, and domain add without --ns makes a custom domain", async () => {
    const r = json(local(["record", "add", ZONE, "CAA", "@", "0", "issue", "letsencrypt.org", "--json"])).record;
    expect(r.content).toBe('0 issue "letsencrypt.org"');
    await eventually(() => digShort(server.dnsPort, ZONE, "CAA"), ['0 issue "letsencrypt.org"']);
    expect(local(["record", "list", ZONE]).stdout).toContain("CAA");
    expect(local(["record", "rm", ZONE, String(r.id)]).code).toBe(0);
    const bad = local(["record", "add", ZONE, "A", "www", "1.2.3"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("A record content must be a valid IPv4 address");
    const d = json(local(["domain", "add", "local.example", "--owner", "me@example.com", "--json"])).domain;
    expect(d).toMatchObject({ kind: "custom", verified: false });
    expect(local(["domain", "rm", "local.example", "--yes"]).code).toBe(0);
  });

  it("an id or name that is really a pasted token is refused without repeating it", () => {
    const fake = "ipk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for (const args of [
      ["token", "revoke", fake],
      ["host", "show", fake],
      ["record", "rm", ZONE, fake],
    ]) {
      const r = local(args);
      expect(r.code).toBe(4);
      expect(r.stderr).not.toContain(fake);
    }
  });
});

describe("commands without a remote mode refuse --server", () => {
  it("user, key, zone and code exit 2 with --server or IPKEEP_SERVER and change nothing locally", () => {
    const before = local(["user", "list", "--json"]).stdout;
    for (const args of [
      ["user", "list"],
      ["user", "invite", "new@example.com"],
      ["key", "create", "--user", "remote@example.com"],
      ["zone", "export", ZONE],
      ["code", "issue", "--role", "secondary"],
      ["code", "list"],
    ]) {
      const r = run(["--data", data, "--server", server.base, ...args], { IPKEEP_API_KEY: apiKey });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(`"ipkeep ${args[0]}" works on this machine's database only`);
      expect(r.stdout).toBe("");
      const env = run(["--data", data, ...args], { IPKEEP_SERVER: server.base, IPKEEP_API_KEY: apiKey });
      expect(env.code, args.join(" ")).toBe(2);
    }
    expect(local(["user", "list", "--json"]).stdout).toBe(before);
    expect(JSON.parse(local(["code", "list", "--json"]).stdout)).toEqual([]);
  });
});
