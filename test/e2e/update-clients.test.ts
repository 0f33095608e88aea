/**
 * Real clients against a real server on loopback: the seeds' documented requests run as
 * written (curl, wget), the captured requests of the spec replayed byte for byte over a raw
 * socket, and Debian's ddclient and inadyn one-shot. Every case ends with a real DNS query.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { createHost, issueToken, removeHost } from "../../src/core/hosts";
import type { HostRow, UserRow } from "../../src/core/ports";
import { createZone } from "../../src/core/zones";
import { createPlatform } from "../../src/platform";
import { type RunningServer, startServer } from "../../src/server";
import { cleanup, tempDir } from "../helpers/exe";

let dir: string;
let server: RunningServer;
let owner: UserRow;
let http4: number;
let http6: number;
let dnsPort: number;
const platform = createPlatform();
const deps = () => ({ store: server.store, platform, changes: server.live });

beforeAll(async () => {
  dir = tempDir("ipkeep-clients-");
  const config = resolveConfig({ data: join(dir, "data"), http: ["127.0.0.1:0", "[::1]:0"], dns: ["127.0.0.1:0"], updateBurst: "0" }, {}, () => false);
  server = await startServer(config);
  http4 = server.http[0]!.port;
  http6 = server.http[1]!.port;
  dnsPort = server.dns[0]!.port;
  for (const z of ["ipv64.net", "dedyn.io", "ipdock.me", "example.com"]) {
    createZone(deps(), { name: z, nameservers: [{ name: `ns1.${z}`, ipv4: "192.0.2.53", ipv6: null }] });
  }
  owner = server.store.users.create({ email: "me@example.com", role: "user", passwordHash: null }, 0);
});
afterAll(async () => {
  await server?.stop();
  cleanup(dir);
});

/** A fresh host (removed first if a previous case made it) with a fresh token. */
function freshHost(name: string): { host: HostRow; token: string } {
  const old = server.store.hosts.byName(name);
  if (old) removeHost(deps(), old);
  const r = createHost(deps(), { name, ownerId: owner.id });
  return { host: r.host, token: r.value };
}

/**
 * The server runs in this process, so child processes are awaited, never run synchronously
 * (a blocked event loop would leave the server unable to answer them).
 */
function exec(cmd: string, args: string[], env: Record<string, string> = {}, timeout = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: stdout ?? "", stderr: stderr ?? "" });
    });
  });
}
const dig = async (name: string, type: string) =>
  (await exec("dig", ["@127.0.0.1", "-p", String(dnsPort), name, type, "+short", "+time=2", "+tries=1"])).stdout.split("\n").filter(Boolean);
const a = (name: string) => dig(name, "A");
const aaaa = (name: string) => dig(name, "AAAA");

/** Runs a documented shell line as written; curl reaches the documented hosts through ~/.curlrc. */
function shell(line: string): Promise<{ stdout: string; stderr: string }> {
  const home = join(dir, "home");
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, ".curlrc"),
    [
      `connect-to = api.ipdock.io:80:127.0.0.1:${http4}`,
      `connect-to = update.dedyn.io:80:127.0.0.1:${http4}`,
      `connect-to = update6.dedyn.io:80:[::1]:${http6}`,
      `connect-to = ipv64.net:80:127.0.0.1:${http4}`,
      "max-time = 10",
      "",
    ].join("\n"),
  );
  // Plain HTTP here (no TLS in tests); everything else is the line as documented. `wait`
  // collects what an unquoted & sent to the background.
  const script = `${line.replace(/https:\/\//g, "http://")}\nwait\n`;
  return exec("bash", ["-c", script], { HOME: home });
}

describe("seed 000 (ipdock): documented requests", () => {
  const H = "myserver.ipdock.me";
  it.each([
    [
      "curl, auto-detect",
      `curl -s https://api.ipdock.io/api/update \\\n-H "Authorization: Bearer pth_your_token_here"`,
      { status: "good", ip: "127.0.0.1", previous: null },
      "127.0.0.1",
    ],
    [
      "curl, explicit IP",
      `curl -s "https://api.ipdock.io/api/update?ip=1.2.3.4" \\\n-H "Authorization: Bearer pth_your_token_here"`,
      { status: "good", ip: "1.2.3.4", previous: null },
      "1.2.3.4",
    ],
    [
      "curl, POST JSON",
      `curl -s -X POST https://api.ipdock.io/api/update \\\n-H "Authorization: Bearer pth_your_token_here" \\\n-H "Content-Type: application/json" \\\n-d '{"ip": "1.2.3.4"}'`,
      { status: "good", ip: "1.2.3.4", previous: null },
      "1.2.3.4",
    ],
    [
      "cron line",
      `curl -s "https://api.ipdock.io/api/update" -H "Authorization: Bearer pth_your_token_here"`,
      { status: "good", ip: "127.0.0.1", previous: null },
      "127.0.0.1",
    ],
    [
      "router section: ?token=",
      `curl -s "https://api.ipdock.io/api/update?token=YOUR_TOKEN"`,
      { status: "good", ip: "127.0.0.1", previous: null },
      "127.0.0.1",
    ],
    [
      "router URL with Username token / Password",
      `curl -s -u "token:pth_your_token_here" "https://api.ipdock.io/api/update?ip=198.51.100.7"`,
      { status: "good", ip: "198.51.100.7", previous: null },
      "198.51.100.7",
    ],
  ])("%s", async (_n, line, body, address) => {
    const { token } = freshHost(H);
    const r = await shell(line.replace(/pth_your_token_here|YOUR_TOKEN/g, token));
    expect(JSON.parse(r.stdout)).toEqual(body);
    expect(await a(H)).toEqual([address]);
  });

  it("wget", async () => {
    const { token } = freshHost(H);
    const r = await shell(`wget -qO- "http://127.0.0.1:${http4}/api/update" \\\n--header="Authorization: Bearer ${token}"`);
    expect(JSON.parse(r.stdout)).toEqual({ status: "good", ip: "127.0.0.1", previous: null });
    expect(await a(H)).toEqual(["127.0.0.1"]);
  });

  it("UniFi: Server api.ipdock.io/nic/update?hostname=%h&myip=%i, Username token", async () => {
    const { token } = freshHost("your-host.ipdock.me");
    const r = await shell(`curl -s -u "token:${token}" "https://api.ipdock.io/nic/update?hostname=your-host.ipdock.me&myip=203.0.113.44"`);
    expect(r.stdout).toBe("good 203.0.113.44");
    expect(await a("your-host.ipdock.me")).toEqual(["203.0.113.44"]);
  });

  it('pfSense: Result Match "status":"good" and OPNsense (Username token + ?token=)', async () => {
    const { token } = freshHost(H);
    const pf = await shell(`curl -s "https://api.ipdock.io/api/update?token=${token}"`);
    expect(pf.stdout).toContain('"status":"good"');
    const opn = await shell(`curl -s -u "token:${token}" "https://api.ipdock.io/api/update?token=${token}"`);
    expect(opn.stdout).toContain('"status":"nochg"');
    expect(await a(H)).toEqual(["127.0.0.1"]);
  });
});

describe("seed 001 (deSEC): documented requests", () => {
  const D = "<your domain>.dedyn.io";
  const H = "desec.dedyn.io";
  const run = (line: string, token: string) => shell(line.replaceAll(D, H).replaceAll("<your authorization token>", token));

  it("Basic authentication with automatic IP detection (IPv4)", async () => {
    const { token } = freshHost(H);
    expect((await run(`curl --user ${D}:<your authorization token> https://update.dedyn.io`, token)).stdout).toBe("good 127.0.0.1");
    expect(await a(H)).toEqual(["127.0.0.1"]);
  });
  it("Token header with hostname, automatic IP", async () => {
    const { token } = freshHost(H);
    expect((await run(`curl https://update.dedyn.io/?hostname=${D} \\\n  --header "Authorization: Token <your authorization token>"`, token)).stdout).toBe(
      "good 127.0.0.1",
    );
    expect(await a(H)).toEqual(["127.0.0.1"]);
  });
  it("forced IPv6 (update6): the client's IPv6 address", async () => {
    const { token } = freshHost(H);
    expect((await run(`curl --user ${D}:<your authorization token> https://update6.dedyn.io`, token)).stdout).toBe("good ::1");
    expect((await run(`curl https://update6.dedyn.io/?hostname=${D} \\\n  --header "Authorization: Token <your authorization token>"`, token)).stdout).toBe(
      "nochg ::1",
    );
    expect(await aaaa(H)).toEqual(["::1"]);
  });
  it("simultaneous IPv4 and IPv6, as printed: the shell cuts the URL at the unquoted &, so only IPv4 is sent", async () => {
    const { token } = freshHost(H);
    const r = await run(`curl --user ${D}:<your authorization token> \\\n  https://update.dedyn.io/?myipv4=1.2.3.4&myipv6=fd08::1234`, token);
    expect(r.stdout).toBe("good 1.2.3.4");
    expect(await a(H)).toEqual(["1.2.3.4"]);
    expect(await aaaa(H)).toEqual([]);
  });
  it("simultaneous IPv4 and IPv6, URL quoted as intended", async () => {
    const { token } = freshHost(H);
    expect((await run(`curl --user ${D}:<your authorization token> "https://update.dedyn.io/?myipv4=1.2.3.4&myipv6=fd08::1234"`, token)).stdout).toBe(
      "good 1.2.3.4,fd08::1234",
    );
    expect(await a(H)).toEqual(["1.2.3.4"]);
    expect(await aaaa(H)).toEqual(["fd08::1234"]);
  });
  it("the last example's URL (hostname=…?myipv4=…): a malformed hostname is notfqdn and nothing changes", async () => {
    const { token } = freshHost(H);
    const r = await run(
      `curl "https://update6.dedyn.io/?hostname=${D}?myipv4=1.2.3.4&myipv6=fd08::1234" \\\n  --header "Authorization: Token <your authorization token>"`,
      token,
    );
    expect(r.stdout).toBe("notfqdn");
    expect(await a(H)).toEqual([]);
    expect(await aaaa(H)).toEqual([]);
  });
});

describe("seed 002 (IPv64): documented examples", () => {
  const H = "YOURDOMAIN.IPV64.NET";
  const h = H.toLowerCase();
  const T = "1234567890abcdefgh";
  it.each([
    ["Example 1: {anything}:{token}@", `curl -s "https://{anything}:{${T}}@ipv64.net/nic/update?host=${H}"`, "good 127.0.0.1", ["127.0.0.1"], []],
    [
      "Example 2: {Bearer token}@ as a header",
      `curl -s -H "Authorization: Bearer ${T}" "https://ipv64.net/nic/update?host=${H}"`,
      "good 127.0.0.1",
      ["127.0.0.1"],
      [],
    ],
    ["Example 2 typed into the URL literally", `curl -s "https://Bearer%20${T}@ipv64.net/nic/update?host=${H}"`, "good 127.0.0.1", ["127.0.0.1"], []],
    ["Example 3: ?key=", `curl -s "https://ipv64.net/nic/update?key=${T}&host=${H}"`, "good 127.0.0.1", ["127.0.0.1"], []],
    [
      "Example 4 as printed: ip6=2a01::a441:cf::1 is not an address (two ::), so the host answers dnserr and nothing changes",
      `curl -s "https://ipv64.net/nic/update?key=${T}&domain=${H}&ip=10.20.30.40&ip6=2a01::a441:cf::1"`,
      "dnserr",
      [],
      [],
    ],
    [
      "Example 4 with a valid ip6",
      `curl -s "https://ipv64.net/nic/update?key=${T}&domain=${H}&ip=10.20.30.40&ip6=2a01::a441:cf:1"`,
      "good 10.20.30.40,2a01::a441:cf:1",
      ["10.20.30.40"],
      ["2a01::a441:cf:1"],
    ],
    [
      "CURL example",
      `curl -sSL -H "Authorization: Basic $(echo -n none:${T} | base64)" https://ipv64.net/nic/update?domain=${H}`,
      "good 127.0.0.1",
      ["127.0.0.1"],
      [],
    ],
  ])("%s", async (_n, line, body, v4, v6) => {
    const { token } = freshHost(h);
    const r = await shell(
      line
        .replaceAll(T, token)
        .replace(/\{([^}]*)\}@/, "$1@")
        .replace(/\{anything\}/, "anything"),
    );
    expect(r.stdout).toBe(body);
    expect(await a(h)).toEqual(v4);
    expect(await aaaa(h)).toEqual(v6);
  });
});

/** Writes raw bytes, reads until the server closes; parses the HTTP response. */
function raw(port: number, request: string): Promise<{ statusLine: string; headers: Map<string, string>; body: string; bytes: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error("no close from server"));
    }, 5000);
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("error", reject);
    sock.on("close", () => {
      clearTimeout(timer);
      const bytes = Buffer.concat(chunks).toString("latin1");
      const split = bytes.indexOf("\r\n\r\n");
      const [statusLine, ...lines] = bytes.slice(0, split).split("\r\n");
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()] as [string, string]));
      resolve({ statusLine: statusLine!, headers, body: bytes.slice(split + 4), bytes });
    });
    sock.write(Buffer.from(request, "latin1"));
  });
}

describe("captured requests of dyndns2.md, replayed byte for byte", () => {
  let token = "";
  const ddclient = (target: string, userpass: string) =>
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nAuthorization: Basic ${Buffer.from(userpass).toString("base64")}\r\nUser-Agent: ddclient/3.10.0\r\nConnection: close\r\n\r\n`;
  const inadyn = (target: string, auth: string) =>
    `GET ${target} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Basic ${auth}\r\nUser-Agent: inadyn/2.10.0 https://github.com/troglobit/inadyn/issues\r\n\r\n`;
  beforeAll(() => {
    const t1 = freshHost("test.example.com").host;
    const t2 = freshHost("test2.example.com").host;
    token = issueToken(deps(), { userId: owner.id, scope: "set", hostIds: [t1.id, t2.id], label: "replay" }).value;
  });
  const cases: [string, () => string, string, [string, string, string[]]][] = [
    [
      "ddclient v4 (token as password)",
      () => ddclient("/nic/update?system=dyndns&hostname=test.example.com&myip=203.0.113.10", `testuser:${token}`),
      "good 203.0.113.10",
      ["test.example.com", "A", ["203.0.113.10"]],
    ],
    [
      "ddclient two hosts",
      () => ddclient("/nic/update?system=dyndns&hostname=test.example.com,test2.example.com&myip=203.0.113.10", `testuser:${token}`),
      "nochg 203.0.113.10\ngood 203.0.113.10",
      ["test2.example.com", "A", ["203.0.113.10"]],
    ],
    [
      "ddclient statdns with Dyn's extra parameters (ignored)",
      () => ddclient("/nic/update?system=statdns&hostname=test.example.com&myip=203.0.113.10&wildcard=ON&mx=mx.example.com&backmx=YES", `testuser:${token}`),
      "nochg 203.0.113.10",
      ["test.example.com", "A", ["203.0.113.10"]],
    ],
    [
      "ddclient v6 (token as username)",
      () => ddclient("/nic/update?system=dyndns&hostname=test.example.com&myip=2001:db8::10", `${token}:s3cret`),
      "good 2001:db8::10",
      ["test.example.com", "AAAA", ["2001:db8::10"]],
    ],
    [
      "ddclient usev6 only: empty myip is no address, the connection's is used",
      () => ddclient("/nic/update?system=dyndns&hostname=test.example.com&myip=", `testuser:${token}`),
      "good 127.0.0.1",
      ["test.example.com", "A", ["127.0.0.1"]],
    ],
    [
      "inadyn v4, HTTP/1.0",
      () => inadyn("/nic/update?hostname=test.example.com&myip=203.0.113.10", Buffer.from(`${token}:s3cret`).toString("base64")),
      "good 203.0.113.10",
      ["test.example.com", "A", ["203.0.113.10"]],
    ],
    [
      "inadyn v6 percent-encoded",
      () => inadyn("/nic/update?hostname=test.example.com&myip=2001%3adb8%3a%3a10", Buffer.from(`testuser:${token}`).toString("base64")),
      "nochg 2001:db8::10",
      ["test.example.com", "AAAA", ["2001:db8::10"]],
    ],
    [
      "inadyn without credentials: Basic Og== beside the query token",
      () => inadyn(`/nic/update?hostname=test.example.com&token=${token}`, "Og=="),
      "good 127.0.0.1",
      ["test.example.com", "A", ["127.0.0.1"]],
    ],
  ];
  it.each(cases)("%s", async (_n, request, body, [name, type, answer]) => {
    const r = await raw(http4, request());
    expect(r.statusLine).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(r.headers.has("transfer-encoding")).toBe(false);
    expect(r.headers.get("content-length")).toBe(String(Buffer.byteLength(r.body)));
    expect(r.body).toBe(body);
    expect(await dig(name, type)).toEqual(answer);
  });
  it("no credentials over HTTP/1.0: 401, the Basic challenge, badauth", async () => {
    const r = await raw(http4, "GET /nic/update?hostname=test.example.com&myip=203.0.113.10 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    expect(r.statusLine).toMatch(/^HTTP\/1\.[01] 401 /);
    expect(r.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    expect(r.body).toBe("badauth");
  });
  it("hostile bytes over real HTTP change nothing and the server keeps answering", async () => {
    const auth = Buffer.from(`x:${token}`).toString("base64");
    const before = await a("test.example.com");
    // A 100 KB request line, raw 0xff bytes, a header without a colon, garbage.
    const huge = await raw(http4, inadyn(`/nic/update?hostname=test.example.com&myip=203.0.113.99&pad=${"x".repeat(100_000)}`, auth)).catch(() => null);
    expect(huge?.body ?? "").not.toMatch(/good|nochg/);
    const bytes = await raw(http4, inadyn("/nic/update?hostname=t\xffst.example.com&myip=203.0.113.99", auth)).catch(() => null);
    expect(bytes?.body ?? "").not.toMatch(/good|nochg/);
    await raw(http4, "GET /nic/update HTTP/1.0\r\nno colon here\r\n\r\n").catch(() => null);
    await raw(http4, "\x00\x01\x02 garbage\r\n\r\n").catch(() => null);
    expect(await a("test.example.com")).toEqual(before);
    const ok = await raw(http4, inadyn("/nic/update?hostname=test.example.com&myip=203.0.113.12", auth));
    expect(ok.body).toBe("good 203.0.113.12");
  });
  it("//nic/update over real HTTP (some UniFi builds)", async () => {
    const r = await raw(http4, inadyn("//nic/update?hostname=test.example.com&myip=203.0.113.11", Buffer.from(`x:${token}`).toString("base64")));
    expect(r.body).toBe("good 203.0.113.11");
    expect(await a("test.example.com")).toEqual(["203.0.113.11"]);
  });
});

describe("Debian's ddclient, one-shot", () => {
  const ddclientRun = async (name: string, token: string, lines: string[]) => {
    const d = join(dir, `ddclient-${name}`);
    mkdirSync(d, { recursive: true });
    const conf = join(d, "ddclient.conf");
    writeFileSync(
      conf,
      [
        "daemon=0",
        "syslog=no",
        "ssl=no",
        `cache=${d}/ddclient.cache`,
        `pid=${d}/ddclient.pid`,
        "protocol=dyndns2",
        `server=127.0.0.1:${http4}`,
        "login=token",
        `password='${token}'`,
        ...lines,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const r = await exec("ddclient", ["-daemon=0", "-foreground", "-noquiet", "-verbose", "-force", "-file", conf], {}, 30_000);
    return r.stdout + r.stderr;
  };
  it("single host, IPv4", async () => {
    const { token } = freshHost("dd1.example.com");
    const out = await ddclientRun("v4", token, ["usev4=ipv4, ipv4=203.0.113.21", "dd1.example.com"]);
    expect(out).toMatch(/SUCCESS:\s+updating dd1\.example\.com/);
    expect(await a("dd1.example.com")).toEqual(["203.0.113.21"]);
  });
  it("two hosts in one request (a token covering both)", async () => {
    const h1 = freshHost("dd2.example.com").host;
    const h2 = freshHost("dd3.example.com").host;
    const token = issueToken(deps(), { userId: owner.id, scope: "set", hostIds: [h1.id, h2.id], label: "dd" }).value;
    const out = await ddclientRun("multi", token, ["usev4=ipv4, ipv4=203.0.113.22", "dd2.example.com,dd3.example.com"]);
    expect(out).toMatch(/SUCCESS:\s+updating dd2\.example\.com/);
    expect(out).toMatch(/SUCCESS:\s+updating dd3\.example\.com/);
    expect(await a("dd2.example.com")).toEqual(["203.0.113.22"]);
    expect(await a("dd3.example.com")).toEqual(["203.0.113.22"]);
  });
  it("IPv6 (ddclient 3.10 sends IPv6 in myip with use=ip; usev6 alone sends an empty myip)", async () => {
    const { token } = freshHost("dd4.example.com");
    const out = await ddclientRun("v6", token, ["use=ip, ip=2001:db8::22", "dd4.example.com"]);
    expect(out).toMatch(/SUCCESS:\s+updating dd4\.example\.com/);
    expect(await aaaa("dd4.example.com")).toEqual(["2001:db8::22"]);
  });
  it("use=web reads /nic/checkip.html", async () => {
    const { token } = freshHost("dd5.example.com");
    const out = await ddclientRun("web", token, [`usev4=webv4, webv4=http://127.0.0.1:${http4}/nic/checkip.html`, "dd5.example.com"]);
    expect(out).toMatch(/SUCCESS:\s+updating dd5\.example\.com/);
    expect(await a("dd5.example.com")).toEqual(["127.0.0.1"]);
  });
  it("a wrong token is not reported as success and changes nothing", async () => {
    freshHost("dd6.example.com");
    const out = await ddclientRun("bad", "ipk_wrongwrongwrongwrongwrongwrong", ["usev4=ipv4, ipv4=203.0.113.23", "dd6.example.com"]);
    expect(out).not.toMatch(/SUCCESS/);
    expect(await a("dd6.example.com")).toEqual([]);
  });
});

describe("Debian's inadyn, one-shot", () => {
  const inadynRun = async (name: string, token: string, body: string[]) => {
    const d = join(dir, `inadyn-${name}`);
    mkdirSync(join(d, "cache"), { recursive: true });
    const conf = join(d, "inadyn.conf");
    writeFileSync(
      conf,
      [
        "verify-address = false",
        "custom ipkeep {",
        "  ssl = false",
        "  username = token",
        `  password = "${token}"`,
        `  ddns-server = "127.0.0.1:${http4}"`,
        '  ddns-path = "/nic/update?hostname=%h&myip=%i"',
        ...body.map((l) => `  ${l}`),
        "}",
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    // inadyn sleeps and retries on failures: the timeout ends such a run.
    const r = await exec(
      "timeout",
      ["20", "inadyn", "-1", "--force", "--foreground", "-l", "info", "--no-pidfile", "-f", conf, `--cache-dir=${join(d, "cache")}`],
      {},
      30_000,
    );
    return r.stdout + r.stderr;
  };
  it("single host, IPv4", async () => {
    const { token } = freshHost("in1.example.com");
    const out = await inadynRun("v4", token, ['checkip-command = "echo 203.0.113.31"', 'hostname = "in1.example.com"']);
    expect(out).toContain("Successful alias table update");
    expect(await a("in1.example.com")).toEqual(["203.0.113.31"]);
  });
  it("two hosts (one request each)", async () => {
    const h1 = freshHost("in2.example.com").host;
    const h2 = freshHost("in3.example.com").host;
    const token = issueToken(deps(), { userId: owner.id, scope: "set", hostIds: [h1.id, h2.id], label: "in" }).value;
    const out = await inadynRun("multi", token, ['checkip-command = "echo 203.0.113.32"', 'hostname = { "in2.example.com", "in3.example.com" }']);
    expect(out).toContain("Successful alias table update");
    expect(await a("in2.example.com")).toEqual(["203.0.113.32"]);
    expect(await a("in3.example.com")).toEqual(["203.0.113.32"]);
  });
  it("IPv6 (sent as myip=2001%3adb8%3a%3a…)", async () => {
    const { token } = freshHost("in4.example.com");
    const out = await inadynRun("v6", token, ['checkip-command = "echo 2001:db8::32"', 'hostname = "in4.example.com"']);
    expect(out).toContain("Successful alias table update");
    expect(await aaaa("in4.example.com")).toEqual(["2001:db8::32"]);
  });
  it("a wrong token fails the run and changes nothing", async () => {
    freshHost("in5.example.com");
    const out = await inadynRun("bad", "ipk_wrongwrongwrongwrongwrongwrong", ['checkip-command = "echo 203.0.113.33"', 'hostname = "in5.example.com"']);
    expect(out).not.toContain("Successful alias table update");
    expect(await a("in5.example.com")).toEqual([]);
  });
});
