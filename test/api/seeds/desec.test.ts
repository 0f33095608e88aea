/**
 * deSEC's IP update document (shared/seeds 001), replayed: every example request of the
 * document against ipkeep, with the document's host names replaced by ours. An example that
 * ipkeep answers differently has a row in the README's "Differences from the documents we follow".
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { basic, type UpdateFixture, updateFixture } from "../../helpers/updates";

let f: UpdateFixture;
// <your domain>.dedyn.io
const D = "home.dyn.example.com";
let token: string;
beforeEach(async () => {
  f = await updateFixture();
  token = f.host(D).token;
});
afterEach(() => f.close());

const get = async (url: string, headers: Record<string, string>, peer = "198.51.100.4") => {
  const r = await f.request(url, { headers, peer });
  return { status: r.status, body: await r.text() };
};

describe("deSEC examples", () => {
  it("curl --user <domain>:<token> https://update.dedyn.io  (Basic, the address detected)", async () => {
    expect(await get("/", { authorization: basic(D, token) })).toEqual({ status: 200, body: "good 198.51.100.4" });
    expect(f.reload(D).ipv4).toBe("198.51.100.4");
  });

  it("curl https://update.dedyn.io/?hostname=<domain> --header 'Authorization: Token <token>'", async () => {
    expect(await get(`/?hostname=${D}`, { authorization: `Token ${token}` })).toEqual({ status: 200, body: "good 198.51.100.4" });
  });

  it("update6 (over IPv6), Basic: the AAAA is set; the A is kept (README: differences)", async () => {
    await get(`/?myipv4=192.0.2.1`, { authorization: basic(D, token) });
    expect(await get("/", { authorization: basic(D, token) }, "2001:db8::44")).toEqual({ status: 200, body: "good 2001:db8::44" });
    expect(f.reload(D)).toMatchObject({ ipv4: "192.0.2.1", ipv6: "2001:db8::44" });
  });

  it("update6, ?hostname=<domain> with Authorization: Token", async () => {
    expect(await get(`/?hostname=${D}`, { authorization: `Token ${token}` }, "2001:db8::45")).toEqual({ status: 200, body: "good 2001:db8::45" });
  });

  it("curl --user <domain>:<token> 'https://update.dedyn.io/?myipv4=1.2.3.4&myipv6=fd08::1234'", async () => {
    expect(await get("/?myipv4=1.2.3.4&myipv6=fd08::1234", { authorization: basic(D, token) })).toEqual({ status: 200, body: "good 1.2.3.4,fd08::1234" });
    expect(f.reload(D)).toMatchObject({ ipv4: "1.2.3.4", ipv6: "fd08::1234" });
  });

  it("'/?hostname=<domain>?myipv4=…&myipv6=…' (the document's second '?'): the hostname is not a name, notfqdn (README: differences)", async () => {
    const r = await get(`/?hostname=${D}?myipv4=1.2.3.4&myipv6=fd08::1234`, { authorization: `Token ${token}` });
    expect(r).toEqual({ status: 200, body: "notfqdn" });
    expect(f.reload(D).ipv6).toBeNull();
  });

  it("the query string method (?username=…&password=…)", async () => {
    expect(await get(`/?username=${D}&password=${token}&myip=192.0.2.9`, {})).toEqual({ status: 200, body: "good 192.0.2.9" });
  });
});

describe("deSEC's rules", () => {
  it("the path is chosen freely, unless it ends in .ico or .png", async () => {
    expect(await get("/any/path/at/all", { authorization: basic(D, token) })).toEqual({ status: 200, body: "good 198.51.100.4" });
    expect(await get(`/dyndns?hostname=${D}&myip=192.0.2.7`, { authorization: `Token ${token}` })).toEqual({ status: 200, body: "good 192.0.2.7" });
    expect((await get("/favicon.ico", { authorization: basic(D, token) })).status).toBe(404);
    expect((await get("/apple-touch-icon.png", { authorization: basic(D, token) })).status).toBe(404);
    // A path without credentials or update parameters is no update.
    expect((await get("/any/path", {})).status).toBe(404);
    // The APIs keep their own answers.
    expect((await get("/api/nothing", { authorization: basic(D, token) })).status).toBe(404);
  });

  it("hostname order: hostname (not YES), host_id, the Basic username, the username parameter, the token's only hostname", async () => {
    expect((await get(`/?hostname=YES&host_id=${D}&myip=192.0.2.10`, { authorization: `Token ${token}` })).body).toBe("good 192.0.2.10");
    expect((await get(`/?myip=192.0.2.11`, { authorization: basic(D, token) })).body).toBe("good 192.0.2.11");
    expect((await get(`/?myip=192.0.2.12&username=${D}&password=${token}`, {})).body).toBe("good 192.0.2.12");
    expect((await get(`/?myip=192.0.2.13`, { authorization: `Token ${token}` })).body).toBe("good 192.0.2.13");
  });

  it("an empty family value deletes that record; an empty myip= counts as absent (README: differences)", async () => {
    await get("/?myipv4=192.0.2.1&myipv6=2001:db8::1", { authorization: basic(D, token) });
    expect((await get("/?myipv6=", { authorization: basic(D, token) })).status).toBe(200);
    expect(f.reload(D)).toMatchObject({ ipv4: "192.0.2.1", ipv6: null });
    expect((await get("/?myip=", { authorization: basic(D, token) })).body).toBe("good 198.51.100.4");
    expect(f.reload(D).ipv4).toBe("198.51.100.4");
  });

  it("failed authentication is 401; no hostname is 200 notfqdn, not 404 (README: differences)", async () => {
    expect((await get("/", { authorization: basic(D, "ipk_wrong") })).status).toBe(401);
    const other = await f.request("/?myip=192.0.2.1", { headers: { authorization: `Token ${f.token("all", f.other)}` } });
    expect({ status: other.status, body: await other.text() }).toEqual({ status: 200, body: "notfqdn" });
  });
});
