/**
 * The compiled dist/ipkeep end to end: init, host add, serve on free ports, update over
 * HTTP, then real dig. Every server started here is stopped by PID.
 */
import { createSocket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig, digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
let data: string;
let server: ServerProcess;
let token: string;

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

beforeAll(async () => {
  data = tempDir();
  const init = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  const out = JSON.parse(init.stdout);
  expect(out.setupCode).toMatch(/^ipko_/);
  expect(new Date(out.expiresAt).getTime()).toBeGreaterThan(Date.now());
  const add = run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com", "--json"]);
  expect(add.code, add.stderr).toBe(0);
  const host = JSON.parse(add.stdout);
  expect(host.hostname.hostname).toBe(`home.${ZONE}`);
  token = host.token.tokenValue;
  expect(host.updateUrl).toContain(`/nic/update?hostname=home.${ZONE}&token=${token}`);
  server = await startServe(data);
});

afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("ipkeep executable", () => {
  it("prints its version", () => {
    const r = run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("init is idempotent", () => {
    const r = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("nothing changed");
  });

  it("serves SOA, NS and glue for the zone", () => {
    const soa = dig(server.dnsPort, ZONE, "SOA");
    expect(soa.status).toBe("NOERROR");
    expect(soa.flags).toContain("aa");
    expect(soa.flags).not.toContain("ra");
    expect(digShort(server.dnsPort, ZONE, "NS")).toEqual([`ns1.${ZONE}.`]);
    expect(digShort(server.dnsPort, `ns1.${ZONE}`, "A")).toEqual(["192.0.2.53"]);
    expect(digShort(server.dnsPort, `ip4.${ZONE}`, "A")).toEqual(["192.0.2.53"]);
  });

  it("an update over /nic/update is answered by DNS, over UDP and TCP", async () => {
    const res = await fetch(`${server.base}/nic/update?hostname=home.${ZONE}&myip=203.0.113.10`, {
      headers: { authorization: basic("anything", token) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(res.headers.get("content-length")).toBe("17");
    expect(await res.text()).toBe("good 203.0.113.10");
    expect(digShort(server.dnsPort, `home.${ZONE}`, "A")).toEqual(["203.0.113.10"]);
    expect(digShort(server.dnsPort, `home.${ZONE}`, "A", ["+tcp"])).toEqual(["203.0.113.10"]);
    const again = await fetch(`${server.base}/nic/update?hostname=home.${ZONE}&myip=203.0.113.10`, {
      headers: { authorization: basic(token, "x") },
    });
    expect(await again.text()).toBe("nochg 203.0.113.10");
  });

  it("an update over /api/update answers ipdock's JSON", async () => {
    const res = await fetch(`${server.base}/api/update?ip=2001:db8::10`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "good", ip: "2001:db8::10", previous: null });
    expect(digShort(server.dnsPort, `home.${ZONE}`, "AAAA")).toEqual(["2001:db8::10"]);
    expect(digShort(server.dnsPort, `home.${ZONE}`, "A")).toEqual(["203.0.113.10"]);
    const bad = await fetch(`${server.base}/api/update?ip=1.2.3.4`, { headers: { authorization: "Bearer ipk_wrong" } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: "Invalid API token" });
  });

  it("answers NXDOMAIN, NODATA and REFUSED as an authoritative server", () => {
    const nx = dig(server.dnsPort, `nope.${ZONE}`, "A");
    expect(nx.status).toBe("NXDOMAIN");
    expect(nx.authority[0]).toMatch(new RegExp(`^${ZONE}\\. 60 IN SOA ns1\\.${ZONE}\\.`));
    const nodata = dig(server.dnsPort, `ns1.${ZONE}`, "AAAA");
    expect(nodata.status).toBe("NOERROR");
    expect(nodata.answer).toEqual([]);
    expect(nodata.authority).toHaveLength(1);
    expect(dig(server.dnsPort, "example.org", "A").status).toBe("REFUSED");
  });

  it("a host added by the CLI while the server runs is served within a second", async () => {
    const add = run(["--data", data, "host", "add", `late.${ZONE}`, "--owner", "me@example.com", "--json"]);
    expect(add.code).toBe(0);
    const lateToken = JSON.parse(add.stdout).token.tokenValue;
    const deadline = Date.now() + 1000;
    let status = "";
    while (Date.now() < deadline) {
      status = dig(server.dnsPort, `late.${ZONE}`, "A").status;
      if (status === "NOERROR") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe("NOERROR");
    const res = await fetch(`${server.base}/nic/update?hostname=late.${ZONE}&myip=198.51.100.7`, { headers: { authorization: basic("u", lateToken) } });
    expect(await res.text()).toBe("good 198.51.100.7");
    expect(digShort(server.dnsPort, `late.${ZONE}`, "A")).toEqual(["198.51.100.7"]);
  });

  describe("bad input changes nothing", () => {
    const update = (query: string, auth: string | null) => fetch(`${server.base}/nic/update?${query}`, { headers: auth ? { authorization: auth } : {} });

    it("no credentials: 401 with a Basic challenge", async () => {
      const res = await update(`hostname=home.${ZONE}&myip=1.1.1.1`, null);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
      expect(await res.text()).toBe("badauth");
    });
    it("wrong token: 401 badauth", async () => {
      const res = await update(`hostname=home.${ZONE}&myip=1.1.1.1`, basic("u", "ipk_notarealtokenatall"));
      expect(res.status).toBe(401);
      expect(await res.text()).toBe("badauth");
    });
    it("malformed Authorization: 401 badauth", async () => {
      const res = await update(`hostname=home.${ZONE}&myip=1.1.1.1`, "Basic !!!notbase64");
      expect(res.status).toBe(401);
    });
    it("invalid hostname: notfqdn", async () => {
      const res = await update(`hostname=..bad..&myip=1.1.1.1`, basic("u", token));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("notfqdn");
    });
    it("unknown hostname: nohost", async () => {
      const res = await update(`hostname=other.${ZONE}&myip=1.1.1.1`, basic("u", token));
      expect(await res.text()).toBe("nohost");
    });
    it("invalid IP: an error word, never good", async () => {
      const res = await update(`hostname=home.${ZONE}&myip=999.1.1.1`, basic("u", token));
      const body = await res.text();
      expect(body).not.toMatch(/good|nochg/i);
    });
    it("after all of it the address is unchanged", () => {
      expect(digShort(server.dnsPort, `home.${ZONE}`, "A")).toEqual(["203.0.113.10"]);
    });
    it("CLI errors are one line with a non-zero exit", () => {
      const r = run(["--data", data, "host", "add", "bad..name", "--owner", "me@example.com"]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain("Invalid hostname");
      const r2 = run(["--data", data, "host", "add", "x.example.org", "--owner", "me@example.com"]);
      expect(r2.code).not.toBe(0);
      expect(r2.stderr).toContain("not inside a served domain");
    });
    it("garbage DNS packets do not stop the server", async () => {
      const sock = createSocket("udp4");
      for (let i = 0; i < 200; i++) {
        const n = Math.floor(Math.random() * 100);
        sock.send(Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256))), server.dnsPort, "127.0.0.1");
      }
      await new Promise((r) => setTimeout(r, 200));
      sock.close();
      expect(digShort(server.dnsPort, `home.${ZONE}`, "A")).toEqual(["203.0.113.10"]);
    });
  });

  it("stops cleanly on SIGTERM with exit 0", async () => {
    const other = tempDir();
    try {
      const s = await startServe(other, ["--demo"]);
      expect(s.logs()).toContain("demo zone created");
      expect(await s.stop("SIGTERM")).toBe(0);
    } finally {
      cleanup(other);
    }
  });
});
