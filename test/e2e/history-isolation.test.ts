/**
 * A token that does not cover a host must not write into that host's history: user B's
 * token trying user A's hostname (1,000 such lines used to push A's real updates out of
 * `host log`). Against the executable; the attempts are kept against B's token instead.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
const A = `alice.${ZONE}`;
const B = `bob.${ZONE}`;
let data: string;
let server: ServerProcess;
let aliceToken: string;
let bobToken: string;

const addHost = (name: string, owner: string) => {
  const r = run(["--data", data, "host", "add", name, "--owner", owner, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).token.tokenValue as string;
};
const hostLog = (name: string) => {
  const r = run(["--data", data, "host", "log", name, "--json", "--limit", "10000"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { result: string; newIpv4: string | null }[];
};

beforeAll(async () => {
  data = tempDir("ipkeep-history-");
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  aliceToken = addHost(A, "alice@example.com");
  bobToken = addHost(B, "bob@example.com");
  server = await startServe(data, ["--update-burst", "0"]);
});

afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("history of a host another user's token tries", () => {
  it("stays exactly as its owner's updates left it", async () => {
    let r = await fetch(`${server.base}/nic/update?hostname=${A}&myip=198.51.100.1`, { headers: { authorization: `Bearer ${aliceToken}` } });
    expect(await r.text()).toBe("good 198.51.100.1");
    const before = hostLog(A);
    expect(before.map((l) => l.result)).toEqual(["good"]);

    // Bob's valid token, every dialect and credential form, aimed at Alice's host.
    const tries = [
      () => fetch(`${server.base}/nic/update?hostname=${A}&myip=203.0.113.66&token=${bobToken}`),
      () =>
        fetch(`${server.base}/nic/update?hostname=${A},${B}&myip=203.0.113.66`, {
          headers: { authorization: `Basic ${Buffer.from(`token:${bobToken}`).toString("base64")}` },
        }),
      () => fetch(`${server.base}/api/update?hostname=${A}&ip=203.0.113.66`, { headers: { authorization: `Bearer ${bobToken}` } }),
      () =>
        fetch(`${server.base}/update.php`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ domain: A, ip: "203.0.113.66", key: bobToken }),
        }),
    ];
    const answers = new Set<string>();
    for (let i = 0; i < 60; i++) {
      r = await tries[i % tries.length]!();
      answers.add(`${r.status} ${(await r.text()).split("\n")[0]}`);
    }
    expect([...answers].sort()).toEqual(['404 {"error":"Hostname not found"}', "200 nohost"].sort());

    // Alice's history: unchanged. Her host: unchanged.
    expect(hostLog(A)).toEqual(before);
    r = await fetch(`${server.base}/nic/update?hostname=${A}&myip=198.51.100.1`, { headers: { authorization: `Bearer ${aliceToken}` } });
    expect(await r.text()).toBe("nochg 198.51.100.1");

    // Bob's own host got its good lines (the two-host request), and the attempts are his token's.
    expect(hostLog(B).every((l) => l.result === "good" || l.result === "nochg")).toBe(true);
    const store = await Store.open(join(data, "ipkeep.db"));
    try {
      const rows = store.db
        .prepare(
          "SELECT l.hostname_id AS hostnameId, t.user_id AS userId, COUNT(*) AS n FROM update_log l JOIN update_tokens t ON t.id = l.token_id WHERE l.result = 'nohost' GROUP BY 1, 2",
        )
        .all<{ hostnameId: number | null; userId: number; n: number }>();
      const bob = store.users.byEmail("bob@example.com")!;
      expect(rows).toEqual([{ hostnameId: null, userId: bob.id, n: 60 }]);
    } finally {
      store.close();
    }
  });
});
