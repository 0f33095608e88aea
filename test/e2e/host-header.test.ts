/**
 * The Host header against the compiled executable, over raw TCP (no client library sends
 * these): HTTP/1.0 without Host and an empty Host are answered normally, a malformed Host
 * gets a plain 400, a Host of three characters or fewer reaches every route, and Bun's debug
 * error page (working directory, stack, bundle source, the request URL with its token) is
 * never served nor printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { type RawResponse, rawHttp } from "../helpers/raw-http";

const ZONE = "dyn.example.com";
const HOST = `home.${ZONE}`;
let data: string;
let server: ServerProcess;
let token: string;

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

beforeAll(async () => {
  data = tempDir("ipkeep-host-header-");
  expect(run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`]).code).toBe(0);
  const add = run(["--data", data, "host", "add", HOST, "--owner", "me@example.com", "--json"]);
  expect(add.code, add.stderr).toBe(0);
  token = JSON.parse(add.stdout).token.tokenValue;
  server = await startServe(data, ["--update-burst", "0"]);
});

afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

/** No trace of the runtime's debug page, nor of the token, in an answer. */
function expectPlain(r: RawResponse): void {
  expect(r.bytes.length).toBeLessThan(4000);
  for (const leak of ["<!doctype", "__bunfallback", "cwd", "$bunfs", "TypeError", token]) expect(r.bytes).not.toContain(leak);
}

describe("a request without a usable Host", () => {
  // HTTP/1.0 without Host, as the README's older routers send it: /nic/update?…&token=ipk_…
  it("HTTP/1.0 without Host: the update is answered and served by DNS", async () => {
    const r = await rawHttp(
      server.httpPort,
      `GET /nic/update?hostname=${HOST}&myip=198.51.100.7&token=${token} HTTP/1.0\r\nUser-Agent: old-router/1.0\r\n\r\n`,
    );
    expectPlain(r);
    expect(r.status).toBe(200);
    expect(r.body).toBe("good 198.51.100.7");
    expect(digShort(server.dnsPort, HOST, "A")).toEqual(["198.51.100.7"]);
  });

  // Host: (empty) with Basic auth on /nic/update
  it("an empty Host: the update is answered", async () => {
    const r = await rawHttp(
      server.httpPort,
      `GET /nic/update?hostname=${HOST}&myip=198.51.100.8 HTTP/1.1\r\nHost: \r\nAuthorization: ${basic("token", token)}\r\nConnection: close\r\n\r\n`,
    );
    expectPlain(r);
    expect(r.status).toBe(200);
    expect(r.body).toBe("good 198.51.100.8");
  });

  it("HTTP/1.0 without Host reaches the JSON API too", async () => {
    const r = await rawHttp(server.httpPort, "GET /api/v2/healthz HTTP/1.0\r\n\r\n");
    expectPlain(r);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).data.status).toBe("ok");
  });

  // The links a primary hands out fall back to the listener's own address.
  it("install.sh names the listener's address when there was no Host", async () => {
    const r = await rawHttp(server.httpPort, "GET /install.sh HTTP/1.0\r\n\r\n");
    expect(r.status).toBe(200);
    expect(r.body).toContain(`DEFAULT_PRIMARY="http://127.0.0.1:${server.httpPort}"`);
  });

  it.each(["a b/c", "evil.example/path", "x:99999", "user@host", "[::1"])("a malformed Host (%s) gets a plain 400", async (host) => {
    const r = await rawHttp(
      server.httpPort,
      `GET /nic/update?hostname=${HOST}&myip=198.51.100.9&token=${token} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    expectPlain(r);
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toContain("text/plain");
    expect(r.body).toContain("Host header");
  });

  it("nothing was changed by the refused requests, and the log holds no token and no stack", async () => {
    expect(digShort(server.dnsPort, HOST, "A")).toEqual(["198.51.100.8"]);
    const logs = server.logs();
    expect(logs).toContain("status=400");
    for (const leak of [token, "$bunfs", "TypeError", "__bunfallback", " at "]) expect(logs).not.toContain(leak);
  });

  // Failed attempts without a Host still meet the update limits (they came before any limit).
  it("wrong tokens without a Host are locked out like any others", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const r = await rawHttp(server.httpPort, `GET /nic/update?hostname=${HOST}&token=ipk_wrong${"x".repeat(40)} HTTP/1.0\r\n\r\n`);
      expectPlain(r);
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe("a Host of three characters or fewer", () => {
  it.each(["dns", "x", "a.b", "ab", "dns:8080"])("Host: %s reaches every route", async (host) => {
    const get = (path: string) => rawHttp(server.httpPort, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const health = await get("/api/v2/healthz");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body).data.status).toBe("ok");
    expect((await get("/api/openapi.json")).status).toBe(200);
    // Authenticated routes refuse the missing session instead of not existing.
    const hosts = await get("/api/hostnames");
    expect(hosts.status).toBe(401);
    expect(JSON.parse(hosts.body).code).toBe("unauthorized");
    const login = await rawHttp(
      server.httpPort,
      `POST /api/auth/login HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 49\r\nConnection: close\r\n\r\n{"email":"me@example.com","password":"wrong-one"}`,
    );
    expect(login.status).toBe(401);
    // And the links it answers keep the name the client used.
    const script = await get("/install.sh");
    expect(script.body).toContain(`DEFAULT_PRIMARY="http://${host}"`);
  });
});
