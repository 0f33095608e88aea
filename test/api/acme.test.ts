/**
 * ACME DNS-01 over the acme-dns and lego httpreq dialects, against a real server on loopback
 * (HTTP and DNS on port 0) with a test clock and hand-driven expiry timers; every TXT change is
 * checked with a real dig.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CHALLENGE_LIFETIME, dns01Value, MAX_CHALLENGES_PER_HOST, type Timers } from "../../src/core/acme";
import { createHost } from "../../src/core/hosts";
import { nowSeconds } from "../../src/core/platform";
import type { UserRow } from "../../src/core/ports";
import { mintToken } from "../../src/core/tokens";
import { createZone } from "../../src/core/zones";
import { resolveConfig } from "../../src/config";
import { setLogSink } from "../../src/log";
import { createPlatform } from "../../src/platform";
import { type RunningServer, startServer } from "../../src/server";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cleanup, tempDir } from "../helpers/exe";
import { TestClock } from "../helpers/platform";

const ZONE = "dyn.example.com";
const HOME = `home.${ZONE}`;
const OTHER = `bob.${ZONE}`;
const CHALLENGE = `_acme-challenge.${HOME}`;

/** Timers the test fires by hand: the last one set is the one pending. */
class FakeTimers implements Timers {
  pending: { fn: () => void; ms: number; id: number } | null = null;
  private next = 1;
  set(fn: () => void, ms: number) {
    this.pending = { fn, ms, id: this.next++ };
    return this.pending.id;
  }
  clear(id: unknown) {
    if (this.pending?.id === id) this.pending = null;
  }
  fire() {
    const p = this.pending;
    this.pending = null;
    p?.fn();
  }
}

/** A DNS-01 value as clients compute it: base64url(SHA-256(key authorization)). */
const platform = createPlatform();
const value = (n: number) => dns01Value(platform, `token-${n}.thumbprint`);

const clock = new TestClock(Date.UTC(2026, 10, 23, 6, 0, 0));
const timers = new FakeTimers();
const logs: string[] = [];
let data: string;
let server: RunningServer;
let base: string;
let dnsPort: number;
let alice: UserRow;
let bob: UserRow;
let admin: UserRow;
let aliceToken: string;
let bobToken: string;
const apiKeys: Record<string, string> = {};

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
// dig runs asynchronously: the DNS server under test lives in this process's event loop.
async function digShort(port: number, name: string, type: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)("dig", ["@127.0.0.1", "-p", String(port), name, type, "+short", "+time=2", "+tries=1"]);
  return stdout.split("\n").filter(Boolean);
}
const txt = async (name = CHALLENGE) => (await digShort(dnsPort, name, "TXT")).map((s) => s.replace(/^"|"$/g, "")).sort();
const acmeUpdate = (key: string, subdomain: unknown, txtValue: unknown, user = HOME) =>
  post("/acme-dns/update", { subdomain, txt: txtValue }, { "x-api-user": user, "x-api-key": key });

function apiKeyFor(user: UserRow): string {
  const minted = mintToken(platform, "apiKey");
  server.store.db
    .prepare("INSERT INTO api_keys (user_id, label, token_hash, hint, created_at) VALUES (?, 'test', ?, ?, ?)")
    .run(user.id, minted.hash, minted.hint, nowSeconds(clock));
  return minted.value;
}

beforeAll(async () => {
  setLogSink((l) => logs.push(l));
  data = tempDir();
  server = await startServer(
    resolveConfig({ data, http: ["127.0.0.1:0"], dns: ["127.0.0.1:0"] }, {}, () => false),
    clock,
    timers,
  );
  base = `http://127.0.0.1:${server.http[0]!.port}`;
  dnsPort = server.dns[0]!.port;
  const deps = { store: server.store, platform: createPlatform(clock), changes: server.live };
  const now = nowSeconds(clock);
  admin = server.store.users.create({ email: "admin@example.com", role: "admin", passwordHash: null }, now);
  alice = server.store.users.create({ email: "alice@example.com", role: "user", passwordHash: null }, now);
  bob = server.store.users.create({ email: "bob@example.com", role: "user", passwordHash: null }, now);
  createZone(deps, { name: ZONE, nameservers: [{ name: `ns1.${ZONE}`, ipv4: "192.0.2.53", ipv6: null }] });
  aliceToken = createHost(deps, { name: HOME, ownerId: alice.id }).value;
  bobToken = createHost(deps, { name: OTHER, ownerId: bob.id }).value;
  for (const u of [admin, alice, bob]) apiKeys[u.email] = apiKeyFor(u);
});

afterAll(async () => {
  await server?.stop();
  setLogSink((l) => process.stdout.write(`${l}\n`));
  cleanup(data);
});

/** Each test starts from an empty challenge set. */
beforeEach(async () => {
  clock.advance(2 * CHALLENGE_LIFETIME);
  timers.fire();
  expect(await txt()).toEqual([]);
});

describe("acme-dns API under /acme-dns", () => {
  it("GET /acme-dns/health answers 200", async () => {
    const res = await fetch(`${base}/acme-dns/health`);
    expect(res.status).toBe(200);
  });

  it("POST /acme-dns/update (token of the host) publishes the TXT at once, several values side by side", async () => {
    for (const n of [1, 2, 3]) {
      const res = await acmeUpdate(aliceToken, HOME, value(n));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ txt: value(n) });
    }
    // Scenario: three values (apex + wildcard + a second client) are all answered, right after the responses.
    expect(await txt()).toEqual([value(1), value(2), value(3)].sort());
  });

  it("accepts the subdomain as the fqdn, as _acme-challenge.<fqdn>. and in any case", async () => {
    expect((await acmeUpdate(aliceToken, `${CHALLENGE}.`, value(1))).status).toBe(200);
    expect((await acmeUpdate(aliceToken, HOME.toUpperCase(), value(2))).status).toBe(200);
    expect(await txt()).toEqual([value(1), value(2)].sort());
  });

  it("the same value twice is one record", async () => {
    await acmeUpdate(aliceToken, HOME, value(1));
    await acmeUpdate(aliceToken, HOME, value(1));
    expect(await txt()).toEqual([value(1)]);
  });

  it(`keeps at most ${MAX_CHALLENGES_PER_HOST} values: the oldest goes`, async () => {
    for (let n = 0; n <= MAX_CHALLENGES_PER_HOST; n++) {
      expect((await acmeUpdate(aliceToken, HOME, value(n))).status).toBe(200);
      clock.advance(1);
    }
    const now = await txt();
    expect(now).toHaveLength(MAX_CHALLENGES_PER_HOST);
    expect(now).not.toContain(value(0));
    expect(now).toContain(value(MAX_CHALLENGES_PER_HOST));
  });

  it("values expire after their lifetime without a restart; the next expiry is scheduled", async () => {
    await acmeUpdate(aliceToken, HOME, value(1));
    expect(timers.pending?.ms).toBe(CHALLENGE_LIFETIME * 1000);
    clock.advance(600);
    await acmeUpdate(aliceToken, HOME, value(2));
    // The earlier expiry stays the one scheduled.
    expect(timers.pending?.ms).toBe(CHALLENGE_LIFETIME * 1000);
    expect(await txt()).toEqual([value(1), value(2)].sort());
    const serial = (await digShort(dnsPort, ZONE, "SOA"))[0]!.split(" ")[2];
    clock.advance(CHALLENGE_LIFETIME - 600);
    timers.fire();
    // Scenario: the first value is gone from DNS, the second still answered, the serial moved on.
    expect(await txt()).toEqual([value(2)]);
    expect((await digShort(dnsPort, ZONE, "SOA"))[0]!.split(" ")[2]).not.toBe(serial);
    expect(timers.pending?.ms).toBe(600 * 1000);
    clock.advance(600);
    timers.fire();
    expect(await txt()).toEqual([]);
    expect(timers.pending).toBeNull();
  });

  describe("bad input changes nothing", () => {
    it("no X-Api-Key, a wrong one, or another kind of token: 401", async () => {
      for (const key of [null, "", "ipk_wrongwrongwrongwrong", apiKeys["alice@example.com"]!, `${aliceToken}x`]) {
        const headers: Record<string, string> = key === null ? {} : { "x-api-key": key };
        const res = await post("/acme-dns/update", { subdomain: HOME, txt: value(1) }, headers);
        expect(res.status).toBe(401);
        expect(((await res.json()) as { code: string }).code).toBe("unauthorized");
      }
      expect(await txt()).toEqual([]);
    });

    it("another user's hostname answers 404 like an unknown one", async () => {
      const res = await acmeUpdate(bobToken, HOME, value(1));
      expect(res.status).toBe(404);
      const unknown = await acmeUpdate(aliceToken, `nope.${ZONE}`, value(1));
      expect(unknown.status).toBe(404);
      const other = (await unknown.json()) as { error: string; code: string };
      expect(await res.json()).toEqual({ ...other, error: other.error.replace("nope", "home") });
      expect(await txt()).toEqual([]);
    });

    it("garbage JSON, wrong types, missing fields, oversize bodies: 400 (or 413)", async () => {
      const headers = { "x-api-key": aliceToken };
      const bodies: unknown[] = [
        "{not json",
        "",
        "null",
        "[]",
        { subdomain: HOME },
        { txt: value(1) },
        { subdomain: 42, txt: value(1) },
        { subdomain: HOME, txt: ["a"] },
        { subdomain: HOME, txt: "x".repeat(200_000) },
        { subdomain: "a".repeat(300), txt: value(1) },
      ];
      for (const body of bodies) {
        const res = await post("/acme-dns/update", body, headers);
        expect([400, 413], JSON.stringify(body).slice(0, 80)).toContain(res.status);
      }
      expect(await txt()).toEqual([]);
    });

    it("TXT values that are not a DNS-01 digest: 400", async () => {
      const v = value(1);
      for (const bad of [
        v.slice(1),
        `${v}A`,
        `${v.slice(0, 42)}=`,
        `${v.slice(0, 42)}"`,
        `${v.slice(0, 42)} `,
        `${v.slice(0, 42)}\n`,
        `${v.slice(0, 42)}\\`,
        "",
      ]) {
        const res = await acmeUpdate(aliceToken, HOME, bad);
        expect(res.status, JSON.stringify(bad)).toBe(400);
        expect(((await res.json()) as { code: string }).code).toBe("invalid_input");
      }
      expect(await txt()).toEqual([]);
    });

    it("hostile names: 400 or 404, never a record elsewhere", async () => {
      const names = [
        "../etc/passwd",
        `${HOME}\u0000.evil`,
        `_acme-challenge._acme-challenge.${HOME}`,
        `_x.${HOME}`,
        `evil.${HOME}`,
        ZONE,
        `ns1.${ZONE}`,
        "example.org",
        `${HOME}..`,
        "*",
        " ",
      ];
      for (const name of names) {
        const res = await acmeUpdate(aliceToken, name, value(1));
        expect([400, 404], name).toContain(res.status);
      }
      expect(await txt()).toEqual([]);
      expect(await txt(`_acme-challenge.${ZONE}`)).toEqual([]);
      expect(await txt(`_acme-challenge.evil.${HOME}`)).toEqual([]);
    });
  });

  describe("POST /acme-dns/register", () => {
    it("by the owner (API key): a new token covering the hostname, in acme-dns's shape", async () => {
      const res = await post("/acme-dns/register", { hostname: HOME }, { authorization: `Bearer ${apiKeys["alice@example.com"]}` });
      expect(res.status).toBe(201);
      const account = (await res.json()) as { username: string; password: string; subdomain: string; fulldomain: string };
      expect(account).toEqual({ username: HOME, password: expect.stringMatching(/^ipk_/), subdomain: HOME, fulldomain: CHALLENGE, allowfrom: [] });
      expect(account.password).not.toBe(aliceToken);
      // The account works the way acme-dns clients use it.
      const upd = await post(
        "/acme-dns/update",
        { subdomain: account.subdomain, txt: value(7) },
        { "x-api-user": account.username, "x-api-key": account.password },
      );
      expect(upd.status).toBe(200);
      expect(await txt(account.fulldomain)).toEqual([value(7)]);
      // It is an ordinary update token of that one host.
      const ddns = await fetch(`${base}/nic/update?hostname=${HOME}&myip=203.0.113.9`, { headers: { authorization: basic("x", account.password) } });
      expect(await ddns.text()).toBe("good 203.0.113.9");
      expect((await acmeUpdate(account.password, OTHER, value(8))).status).toBe(404);
    });

    it("by an admin for another user's hostname: the token belongs to the owner", async () => {
      const res = await post("/acme-dns/register", { hostname: OTHER }, { authorization: `Bearer ${apiKeys["admin@example.com"]}` });
      expect(res.status).toBe(201);
      const account = (await res.json()) as { username: string; password: string; subdomain: string; fulldomain: string };
      expect(account.subdomain).toBe(OTHER);
      const row = server.store.tokens.list(bob.id).at(-1)!;
      expect(row.hostIds).toEqual([server.store.hosts.byName(OTHER)!.id]);
      expect((await acmeUpdate(account.password, OTHER, value(3), OTHER)).status).toBe(200);
      expect(await txt(`_acme-challenge.${OTHER}`)).toEqual([value(3)]);
    });

    it("refuses other users' hostnames, no or wrong credentials, update tokens, bad bodies", async () => {
      const before = server.store.tokens.list().length;
      const cases: [Record<string, string>, unknown, number][] = [
        [{ authorization: `Bearer ${apiKeys["bob@example.com"]}` }, { hostname: HOME }, 404],
        [{}, { hostname: HOME }, 401],
        [{ authorization: "Bearer ipka_wrongwrongwrongwrong" }, { hostname: HOME }, 401],
        [{ authorization: `Bearer ${aliceToken}` }, { hostname: HOME }, 401],
        [{ "x-api-key": aliceToken }, { hostname: HOME }, 401],
        [{ authorization: `Bearer ${apiKeys["alice@example.com"]}` }, { hostname: `nope.${ZONE}` }, 404],
        [{ authorization: `Bearer ${apiKeys["alice@example.com"]}` }, { hostname: "../x" }, 400],
        [{ authorization: `Bearer ${apiKeys["alice@example.com"]}` }, { hostname: 5 }, 400],
        [{ authorization: `Bearer ${apiKeys["alice@example.com"]}` }, "{garbage", 400],
        [{ authorization: `Bearer ${apiKeys["alice@example.com"]}` }, { hostname: HOME, allowfrom: ["192.0.2.0/24"] }, 400],
        [{ authorization: `Bearer ${apiKeys["alice@example.com"]}` }, { hostname: "h".repeat(10_000) }, 400],
      ];
      for (const [headers, body, status] of cases) {
        const res = await post("/acme-dns/register", body, headers);
        expect(res.status, `${JSON.stringify(headers)} ${JSON.stringify(body).slice(0, 60)}`).toBe(status);
      }
      expect(server.store.tokens.list().length).toBe(before);
    });
  });
});

describe("lego httpreq under /httpreq", () => {
  const present = (auth: string | null, body: unknown) => post("/httpreq/present", body, auth ? { authorization: auth } : {});
  const cleanupReq = (auth: string | null, body: unknown) => post("/httpreq/cleanup", body, auth ? { authorization: auth } : {});

  it("present then cleanup, as lego sends them (fqdn with trailing dot, Basic with the token as password)", async () => {
    const auth = basic("lego", aliceToken);
    for (const n of [1, 2]) {
      const res = await present(auth, { fqdn: `${CHALLENGE}.`, value: value(n) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ fqdn: `${CHALLENGE}.`, value: value(n) });
    }
    expect(await txt()).toEqual([value(1), value(2)].sort());
    const res = await cleanupReq(auth, { fqdn: `${CHALLENGE}.`, value: value(1) });
    expect(res.status).toBe(200);
    expect(await txt()).toEqual([value(2)]);
    // Cleaning up a value already gone is fine (lego retries).
    expect((await cleanupReq(auth, { fqdn: `${CHALLENGE}.`, value: value(1) })).status).toBe(200);
  });

  it("the token may be the Basic username too", async () => {
    expect((await present(basic(aliceToken, ""), { fqdn: `${CHALLENGE}.`, value: value(4) })).status).toBe(200);
    expect(await txt()).toEqual([value(4)]);
  });

  it("RAW mode: the value is computed from the key authorization", async () => {
    const res = await present(basic("lego", aliceToken), { domain: HOME, token: "tok", keyAuth: "tok.thumb" });
    expect(res.status).toBe(200);
    expect(await txt()).toEqual([dns01Value(platform, "tok.thumb")]);
    expect((await cleanupReq(basic("lego", aliceToken), { domain: `*.${HOME}`, token: "tok", keyAuth: "tok.thumb" })).status).toBe(200);
    expect(await txt()).toEqual([]);
  });

  describe("bad input changes nothing", () => {
    it("no credentials: 401 with a Basic challenge; wrong ones: 401", async () => {
      const body = { fqdn: `${CHALLENGE}.`, value: value(1) };
      const none = await present(null, body);
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
      for (const auth of [
        basic("lego", "ipk_wrongwrongwrongwrong"),
        basic("lego", "s3cret"),
        "Basic !!!",
        `Bearer ${apiKeys["alice@example.com"]}`,
        "Digest x",
      ]) {
        expect((await present(auth, body)).status, auth).toBe(401);
        expect((await cleanupReq(auth, body)).status, auth).toBe(401);
        // Keep under the lockout (its own test below): a new failure window each time.
        clock.advance(601);
      }
      expect(await txt()).toEqual([]);
    });

    it("another user's hostname: 404 for present and cleanup, their values stay", async () => {
      await acmeUpdate(bobToken, OTHER, value(5), OTHER);
      const auth = basic("lego", aliceToken);
      expect((await present(auth, { fqdn: `_acme-challenge.${OTHER}.`, value: value(1) })).status).toBe(404);
      expect((await cleanupReq(auth, { fqdn: `_acme-challenge.${OTHER}.`, value: value(5) })).status).toBe(404);
      expect(await txt(`_acme-challenge.${OTHER}`)).toEqual([value(5)]);
    });

    it("garbage JSON, wrong types, half bodies, bad values, hostile names: 400/404/413", async () => {
      const auth = basic("lego", aliceToken);
      const bodies: unknown[] = [
        "{{",
        "",
        { fqdn: `${CHALLENGE}.` },
        { value: value(1) },
        { fqdn: 1, value: value(1) },
        { fqdn: `${CHALLENGE}.`, value: { x: 1 } },
        { fqdn: `${CHALLENGE}.`, value: "not-a-digest" },
        { fqdn: `${CHALLENGE}.`, value: "y".repeat(100_000) },
        { fqdn: `_acme-challenge.${ZONE}.`, value: value(1) },
        { fqdn: `_acme-challenge.a.b.${HOME}.`, value: value(1) },
        { fqdn: `_acme-challenge.${HOME}.%00`, value: value(1) },
        { domain: HOME, keyAuth: "k".repeat(5000) },
      ];
      for (const body of bodies) {
        const res = await present(auth, body);
        expect([400, 404, 413], JSON.stringify(body).slice(0, 80)).toContain(res.status);
      }
      expect(await txt()).toEqual([]);
    });
  });
});

describe("bad credentials lock the source out, as on the update endpoints", () => {
  it("ten bad keys: the eleventh request, even with a good token, is 429 until the lockout ends", async () => {
    for (let i = 0; i < 10; i++) {
      const res = await acmeUpdate(`ipk_wrong${i}wrongwrongwrong`, HOME, value(1));
      expect(res.status).toBe(401);
    }
    for (const res of [
      await acmeUpdate(aliceToken, HOME, value(1)),
      await post("/httpreq/present", { fqdn: `${CHALLENGE}.`, value: value(1) }, { authorization: basic("lego", aliceToken) }),
    ]) {
      expect(res.status).toBe(429);
      expect(((await res.json()) as { code: string }).code).toBe("locked_out");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    // One lockout for the source: the update endpoints refuse it too.
    const ddns = await fetch(`${base}/nic/update?hostname=${HOME}&myip=203.0.113.50`, { headers: { authorization: basic("x", aliceToken) } });
    expect(ddns.status).toBe(429);
    expect(await ddns.text()).toBe("abuse");
    expect(await txt()).toEqual([]);
    clock.advance(601);
    expect((await acmeUpdate(aliceToken, HOME, value(1))).status).toBe(200);
    expect(await txt()).toEqual([value(1)]);
  });
});

describe("logs", () => {
  it("no token or API key minted here appears in any log line", () => {
    const all = logs.join("\n");
    expect(all).toContain("/acme-dns/update");
    for (const secret of [aliceToken, bobToken, ...Object.values(apiKeys)]) expect(all).not.toContain(secret);
  });
});
