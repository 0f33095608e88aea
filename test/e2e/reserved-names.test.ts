/**
 * The compiled executable with the README's layout (`init --zone dyn.example.com --ns
 * ns1.dyn.example.com=203.0.113.53`): the zone's own names through the CLI and the install
 * API, `domain ns`, and `zone import` of the zone's own export keeping hostnames dynamic.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig, digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
const MACHINE = "0123456789abcdef0123456789abcdef";
const FP = `SHA256:${"A".repeat(43)}`;
let data: string;
let server: ServerProcess;
let token: string;

const cli = (...args: string[]) => run(["--data", data, ...args]);

beforeAll(async () => {
  data = tempDir();
  expect(cli("init", "--zone", ZONE, "--ns", `ns1.${ZONE}=203.0.113.53`, "--url", `https://ddns.${ZONE}`).code).toBe(0);
  const add = cli("host", "add", `home.${ZONE}`, "--owner", "me@example.com", "--json");
  expect(add.code, add.stderr).toBe(0);
  token = JSON.parse(add.stdout).token.tokenValue;
  server = await startServe(data, ["--update-burst", "0"]);
});
afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

const update = async (ip: string) => {
  const r = await fetch(`${server.base}/nic/update?hostname=home.${ZONE}&myip=${ip}`, { headers: { authorization: `Basic ${btoa(`token:${token}`)}` } });
  return r.text();
};

describe("the zone's own names through the executable", () => {
  for (const name of [`ns1.${ZONE}`, `sub.ns1.${ZONE}`, `ip4.${ZONE}`, `x.ip4.${ZONE}`, `ddns.${ZONE}`]) {
    it(`host add ${name} exits 5 and creates nothing`, () => {
      const r = cli("host", "add", name, "--owner", "me@example.com");
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain("reserved");
      expect(JSON.parse(cli("host", "list", "--json").stdout).map((h: { hostname: string }) => h.hostname)).toEqual([`home.${ZONE}`]);
    });
  }

  it("an agent code for ns1 is refused when issued, and an activation asking for ns1 is refused", async () => {
    const issued = cli("code", "issue", "--role", "agent", "--hostname", `ns1.${ZONE}`, "--owner", "me@example.com");
    expect(issued.code).toBe(5);
    const code = JSON.parse(cli("code", "issue", "--role", "agent", "--owner", "me@example.com", "--json").stdout).installCode;
    const post = (path: string, body: unknown) =>
      fetch(`${server.base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as any,
      }));
    const pre = await post("/api/v2/install/precheck", {
      install_code: code,
      machine_id: MACHINE,
      ssh_fingerprint: FP,
      product: "agent",
      installer_version: "test",
    });
    expect(pre.status, JSON.stringify(pre.body)).toBe(200);
    const act = await post("/api/v2/install/activate", {
      install_code: code,
      precheck_token: pre.body.data.precheck_token,
      hostname: `ns1.${ZONE}`,
      public_ip: "203.0.113.9",
      machine_id: MACHINE,
      ssh_fingerprint: FP,
      installer_version: "test",
    });
    expect(act.status).toBe(409);
    expect(act.body.error.code).toBe("conflict");
    expect(digShort(server.dnsPort, `ns1.${ZONE}`, "A")).toEqual(["203.0.113.53"]);
  });

  it("record add at the nameserver's name exits 5; the glue stays", () => {
    expect(cli("record", "add", ZONE, "A", "ns1", "198.51.100.66").code).toBe(5);
    expect(digShort(server.dnsPort, `ns1.${ZONE}`, "A")).toEqual(["203.0.113.53"]);
  });
});

describe("ipkeep domain ns", () => {
  it("replaces the NS set with glue; DNS answers it at once", async () => {
    const r = cli("domain", "ns", ZONE, "--ns", `ns1.${ZONE}=203.0.113.53`, "--ns", `ns2.${ZONE}=203.0.113.54,2001:db8::54`, "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).domain.nameservers).toEqual([`ns1.${ZONE}`, `ns2.${ZONE}`]);
    await new Promise((res) => setTimeout(res, 1500)); // another process's commit: the server notices within a second
    expect(digShort(server.dnsPort, ZONE, "NS").sort()).toEqual([`ns1.${ZONE}.`, `ns2.${ZONE}.`]);
    expect(digShort(server.dnsPort, `ns2.${ZONE}`, "AAAA")).toEqual(["2001:db8::54"]);
  });

  it("refuses a nameserver over a user's hostname (exit 5) and a bad spec (exit 2)", () => {
    expect(cli("domain", "ns", ZONE, "--ns", `home.${ZONE}=203.0.113.7`).code).toBe(5);
    expect(cli("domain", "ns", ZONE, "--ns", `ns3.${ZONE}`).code).toBe(2);
    expect(cli("domain", "ns", ZONE, "--ns", `ns3.${ZONE}=not-an-ip`).code).toBe(2);
    expect(cli("domain", "ns", "nope.example.org", "--ns", "ns1.example.org").code).toBe(4);
  });
});

describe("zone import of the zone's own export", () => {
  it("keeps hostnames dynamic: after the next update DNS answers only the new address", async () => {
    expect(await update("203.0.113.10")).toBe("good 203.0.113.10");
    const file = join(data, "zone.txt");
    const exported = cli("zone", "export", ZONE);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^home\S*\s+\d+\s+IN\s+A\s+203\.0\.113\.10$/m);
    writeFileSync(file, exported.stdout);
    const imp = cli("zone", "import", file);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toContain("addresses of 1 hostname set");
    expect(await update("203.0.113.11")).toBe("good 203.0.113.11");
    expect(digShort(server.dnsPort, `home.${ZONE}`, "A")).toEqual(["203.0.113.11"]);
    expect(cli("zone", "export", ZONE).stdout.match(/203\.0\.113\.1[01]/g)).toEqual(["203.0.113.11"]);
  });

  it("a hostname's address in the file sets that hostname's address", async () => {
    const file = join(data, "zone.txt");
    writeFileSync(file, cli("zone", "export", ZONE).stdout.replace("203.0.113.11", "198.51.100.1"));
    expect(cli("zone", "import", file).code).toBe(0);
    await new Promise((res) => setTimeout(res, 1500));
    expect(digShort(server.dnsPort, `home.${ZONE}`, "A")).toEqual(["198.51.100.1"]);
    expect(JSON.parse(cli("host", "list", "--json").stdout)[0].ipv4).toBe("198.51.100.1");
    // and the next update moves it, with no static copy left behind
    expect(await update("203.0.113.12")).toBe("good 203.0.113.12");
    expect(digShort(server.dnsPort, `home.${ZONE}`, "A")).toEqual(["203.0.113.12"]);
  });

  it("refuses a file with two addresses of one family for a hostname, or an NS set over it, changing nothing", () => {
    const file = join(data, "zone.txt");
    const base = cli("zone", "export", ZONE).stdout;
    writeFileSync(file, `${base}home.${ZONE}. 60 IN A 198.51.100.2\n`);
    expect(cli("zone", "import", file).code).toBe(2);
    writeFileSync(file, `${base}${ZONE}. 3600 IN NS home.${ZONE}.\n`);
    expect(cli("zone", "import", file).code).toBe(5);
    expect(dig(server.dnsPort, `home.${ZONE}`, "A").answer.map((l) => l.split(" ").pop())).toEqual(["203.0.113.12"]);
    expect(readFileSync(file, "utf8")).toContain("home");
  });
});
