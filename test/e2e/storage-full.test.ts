/**
 * A full disk, for real, through the running executable: IPKEEP_TEST_MAX_PAGE_COUNT=1 caps the
 * database at the size it has (SQLite then answers SQLITE_FULL to any write that needs a new
 * page, as on a full disk). The API answers 503 storage_full, dyndns2 answers 911, the log says
 * so once (rate-limited), and everything that was acknowledged is there after a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digShort } from "../helpers/dig";
import { cleanup, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";

const ZONE = "dyn.example.com";
const FULL = { IPKEEP_TEST_MAX_PAGE_COUNT: "1" };
let data: string;
let server: ServerProcess | null = null;
let token: string;
let jwt: string;

const update = async (ip: string) => (await fetch(`${server!.base}/nic/update?hostname=home.${ZONE}&myip=${ip}&token=${token}`)).text();
const api = (method: string, path: string, body?: unknown) =>
  fetch(`${server!.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const storageLines = () =>
  server!
    .logs()
    .split("\n")
    .filter((l) => l.includes("storage full"));

beforeAll(async () => {
  data = tempDir();
  const init = run(["--data", data, "init", "--zone", ZONE, "--ns", `ns1.${ZONE}=192.0.2.53`, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  const setupCode = JSON.parse(init.stdout).setupCode;
  const add = run(["--data", data, "host", "add", `home.${ZONE}`, "--owner", "me@example.com", "--json"]);
  expect(add.code, add.stderr).toBe(0);
  token = JSON.parse(add.stdout).token.tokenValue;
  // The admin and its session are made while there is room.
  server = await startServe(data, ["--update-burst", "0", "--update-daily", "0"]);
  const setup = await fetch(`${server.base}/api/auth/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: setupCode, email: "admin@example.com", password: "admin password 1" }),
  });
  expect(setup.status).toBe(201);
  jwt = ((await setup.json()) as { token: string }).token;
  await server.stop();
  server = await startServe(data, ["--update-burst", "0", "--update-daily", "0"], FULL);
});

afterAll(async () => {
  await server?.stop();
  cleanup(data);
});

describe("a full disk", () => {
  let acknowledged = 0;
  let lastGood: string | null = null;

  it("the API answers 503 storage_full once nothing more fits, and keeps every record it answered 201 for", async () => {
    const big = "x".repeat(2000);
    let refused: Response | null = null;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await api("POST", "/api/domains/1/records", { type: "TXT", name: `fill${i}`, content: big });
      if (r.status === 201) acknowledged++;
      else refused = r;
    }
    expect(refused, "200 records of 2 KB fitted in a database that may not grow").not.toBeNull();
    expect(refused!.status).toBe(503);
    expect(await refused!.json()).toEqual({ error: expect.stringMatching(/storage is full/), code: "storage_full" });
    const list = await api("GET", "/api/domains/1/records");
    expect(list.status).toBe(200);
    const names = ((await list.json()) as { records: { name: string }[] }).records.map((r) => r.name).filter((n) => /^fill\d+/.test(n));
    expect(names.length).toBe(acknowledged);
  });

  it("dyndns2 answers 911 (never good) for an update that cannot be stored, and DNS keeps the last acknowledged address", async () => {
    let answer = "";
    for (let i = 1; i < 250; i++) {
      const ip = `198.51.${Math.floor(i / 250)}.${i % 250}`;
      answer = await update(ip);
      if (answer !== `good ${ip}`) break;
      lastGood = ip;
    }
    expect(answer).toBe("911");
    for (let i = 0; i < 5; i++) expect(await update(`203.0.113.${i + 1}`)).toBe("911");
    expect(digShort(server!.dnsPort, `home.${ZONE}`)).toEqual(lastGood ? [lastGood] : []);
    // The JSON update API is under /api: 503 with the code.
    const json = await fetch(`${server!.base}/api/update?hostname=home.${ZONE}&ip=203.0.113.99&token=${token}`);
    expect(json.status).toBe(503);
    expect(((await json.json()) as { code: string }).code).toBe("storage_full");
  });

  it("is logged, once a minute at most however many requests meet it", () => {
    const lines = storageLines();
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/level=error/);
    expect(server!.logs()).not.toMatch(/request failed/);
  });

  it("everything acknowledged is there after a restart with room again", async () => {
    await server!.stop();
    server = await startServe(data);
    if (lastGood) expect(digShort(server.dnsPort, `home.${ZONE}`)).toEqual([lastGood]);
    const list = await api("GET", "/api/domains/1/records");
    const names = ((await list.json()) as { records: { name: string }[] }).records.map((r) => r.name).filter((n) => /^fill\d+/.test(n));
    expect(names.length).toBe(acknowledged);
    expect(await update("192.0.2.200")).toBe("good 192.0.2.200");
  });
});
