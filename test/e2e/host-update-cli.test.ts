/**
 * The compiled executable: host set --ipv6-ifid, host log, host add --snippets, and a prefix
 * update composed with the interface id, seen by dig.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
let data: string;
let server: ServerProcess;
let token: string;

beforeAll(async () => {
  data = tempDir();
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  const add = run(["--data", data, "host", "add", `nas.${ZONE}`, "--owner", "me@example.com", "--json"]);
  token = JSON.parse(add.stdout).token.tokenValue;
  server = await startServe(data, ["--update-burst", "0"]);
});
afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("ipkeep host (update features)", () => {
  it("host set --ipv6-ifid, then a FRITZ!Box prefix update gives prefix + interface id in DNS", async () => {
    const set = run(["--data", data, "host", "set", `nas.${ZONE}`, "--ipv6-ifid", "::ABCD", "--json"]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).ipv6InterfaceId).toBe("::abcd");
    const res = await fetch(`${server.base}/nic/update?hostname=nas.${ZONE}&myip=198.51.100.2&ip6lanprefix=2001:db8:aa:bb::/64`, {
      headers: { authorization: `Basic ${Buffer.from(`token:${token}`).toString("base64")}`, "user-agent": "Fritz!Box" },
    });
    expect(await res.text()).toBe("good 198.51.100.2,2001:db8:aa:bb::abcd");
    expect(digShort(server.dnsPort, `nas.${ZONE}`, "AAAA")).toEqual(["2001:db8:aa:bb::abcd"]);
  });

  it("host set refuses a bad interface id with exit 2 and one line", () => {
    const r = run(["--data", data, "host", "set", `nas.${ZONE}`, "--ipv6-ifid", "not-an-address"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("host log shows the attempts, with --json", () => {
    const r = run(["--data", data, "host", "log", `nas.${ZONE}`, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows[0]).toMatchObject({ result: "good", userAgent: "Fritz!Box", source: "127.0.0.1", newIpv4: "198.51.100.2", newIpv6: "2001:db8:aa:bb::abcd" });
    const text = run(["--data", data, "host", "log", `nas.${ZONE}`]);
    expect(text.stdout).toMatch(/^TIME\s+RESULT\s+SOURCE/);
    expect(text.stdout).not.toContain(token);
  });

  it("host log --limit 500 answers more than 100 entries (the history keeps 1000 a host)", async () => {
    const auth = { authorization: `Basic ${Buffer.from(`token:${token}`).toString("base64")}` };
    for (let i = 0; i < 130; i++) {
      const res = await fetch(`${server.base}/nic/update?hostname=nas.${ZONE}&myip=198.51.100.${10 + (i % 2)}`, { headers: auth });
      expect(res.status).toBe(200);
      await res.text();
    }
    const all = run(["--data", data, "host", "log", `nas.${ZONE}`, "--limit", "500", "--json"]);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout).length).toBe(131);
    const some = run(["--data", data, "host", "log", `nas.${ZONE}`, "--limit", "120", "--json"]);
    expect(JSON.parse(some.stdout).length).toBe(120);
    expect(JSON.parse(run(["--data", data, "host", "log", `nas.${ZONE}`, "--json"]).stdout).length).toBe(50);
  });

  it("host add prints a compact block by default and every router with --snippets", () => {
    const short = run(["--data", data, "host", "add", `a.${ZONE}`, "--owner", "me@example.com"]);
    expect(short.stdout).toContain("/nic/update?hostname=a.dyn.example.com&myip=<ipaddr>");
    expect(short.stdout.split("\n").length).toBeLessThan(14);
    const long = run(["--data", data, "host", "add", `b.${ZONE}`, "--owner", "me@example.com", "--snippets"]);
    for (const router of [
      "UniFi",
      "pfSense",
      "Result Match",
      "OPNsense",
      "Synology",
      "FRITZ!Box",
      "ip6lanprefix",
      "OpenWrt",
      "DD-WRT",
      "ddclient",
      "inadyn",
      "*/5 * * * *",
    ]) {
      expect(long.stdout).toContain(router);
    }
  });

  it("serve refuses a malformed --update-burst", () => {
    const r = run(["--data", data, "serve", "--update-burst", "fast"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("COUNT/SECONDS");
  });
});
