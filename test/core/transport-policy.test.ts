/**
 * The plain-HTTP rule: updates always, account and install APIs only over TLS once the
 * request comes from another machine.
 */
import { describe, expect, it } from "vitest";
import { buildTransportPolicy, checkTransport, classifyPath, type TransportFacts } from "../../src/core/transport-policy";

const strict = buildTransportPolicy({ trustedProxies: [], allowInsecureHttp: false });
const proxied = buildTransportPolicy({ trustedProxies: ["10.0.0.0/8", "2001:db8::1"], allowInsecureHttp: false });
const lax = buildTransportPolicy({ trustedProxies: [], allowInsecureHttp: true });
const facts = (f: Partial<TransportFacts>): TransportFacts => ({ transport: "http", peer: "203.0.113.7", forwardedProto: null, path: "/api/auth/login", ...f });

describe("path classes", () => {
  it.each([
    ["/api/auth/login", "account"],
    ["/api/users", "account"],
    ["/api/keys/3", "account"],
    ["/api/settings", "account"],
    ["/api/hostnames", "account"],
    ["/api/domains/1/records", "account"],
    ["/api/tokens", "account"],
    ["/api/v2/nodes", "account"],
    ["/api/v2/nodes/3", "account"],
    ["/acme-dns/register", "account"],
    ["/acme-dns/update", "other"],
    ["/api/v2/install/precheck", "install"],
    ["/install.sh", "install"],
    ["/nic/update", "other"],
    ["/api/update", "other"],
    ["/api/myip", "other"],
    ["/api/v2/healthz", "other"],
    ["/metrics", "other"],
    ["/api/authx", "other"],
  ])("%s is %s", (path, cls) => {
    expect(classifyPath(path)).toBe(cls);
  });

  it("sees through case, encoding and doubled slashes", () => {
    expect(classifyPath("/API/Auth/login")).toBe("account");
    expect(classifyPath("/api/%61uth/login")).toBe("account");
    expect(classifyPath("//api//tokens")).toBe("account");
    expect(classifyPath("/Install.SH")).toBe("install");
    expect(classifyPath("/api/%zz")).toBe("other");
  });
});

describe("plain HTTP from another machine", () => {
  it("is refused for the account and install APIs", () => {
    expect(checkTransport(strict, facts({}))).toEqual({ allowed: false, pathClass: "account" });
    expect(checkTransport(strict, facts({ path: "/api/v2/install/activate" }))).toEqual({ allowed: false, pathClass: "install" });
    expect(checkTransport(strict, facts({ path: "/install.sh" }))).toEqual({ allowed: false, pathClass: "install" });
  });

  it("keeps the update paths working", () => {
    expect(checkTransport(strict, facts({ path: "/nic/update" })).allowed).toBe(true);
    expect(checkTransport(strict, facts({ path: "/api/update" })).allowed).toBe(true);
  });

  it("is allowed with --allow-insecure-http", () => {
    expect(checkTransport(lax, facts({})).allowed).toBe(true);
  });
});

describe("what counts as secure", () => {
  it("our own HTTPS listener", () => {
    expect(checkTransport(strict, facts({ transport: "https" })).allowed).toBe(true);
  });

  it("loopback and in-process requests", () => {
    expect(checkTransport(strict, facts({ peer: "127.0.0.1" })).allowed).toBe(true);
    expect(checkTransport(strict, facts({ peer: "::1" })).allowed).toBe(true);
    expect(checkTransport(strict, facts({ peer: "::ffff:127.0.0.1" })).allowed).toBe(true);
    expect(checkTransport(strict, facts({ peer: null })).allowed).toBe(true);
  });

  it("a trusted proxy that says it terminated TLS", () => {
    expect(checkTransport(proxied, facts({ peer: "10.1.2.3", forwardedProto: "https" })).allowed).toBe(true);
    expect(checkTransport(proxied, facts({ peer: "::ffff:10.1.2.3", forwardedProto: "HTTPS" })).allowed).toBe(true);
    expect(checkTransport(proxied, facts({ peer: "2001:db8::1", forwardedProto: "https" })).allowed).toBe(true);
    // The last hop is the proxy's own word; earlier values came from the client.
    expect(checkTransport(proxied, facts({ peer: "10.1.2.3", forwardedProto: "http, https" })).allowed).toBe(true);
  });

  it("not a forwarded header from anyone else, nor a trusted proxy that spoke plain HTTP", () => {
    expect(checkTransport(proxied, facts({ peer: "203.0.113.7", forwardedProto: "https" })).allowed).toBe(false);
    expect(checkTransport(strict, facts({ peer: "10.1.2.3", forwardedProto: "https" })).allowed).toBe(false);
    expect(checkTransport(proxied, facts({ peer: "10.1.2.3", forwardedProto: "http" })).allowed).toBe(false);
    expect(checkTransport(proxied, facts({ peer: "10.1.2.3", forwardedProto: "https, http" })).allowed).toBe(false);
    expect(checkTransport(proxied, facts({ peer: "10.1.2.3" })).allowed).toBe(false);
  });

  it("not an address that only looks like loopback", () => {
    expect(checkTransport(strict, facts({ peer: "127.0.0.1.evil" })).allowed).toBe(false);
    expect(checkTransport(strict, facts({ peer: "" })).allowed).toBe(false);
  });
});

describe("configuration", () => {
  it("rejects a trusted proxy that is not an address or CIDR", () => {
    expect(() => buildTransportPolicy({ trustedProxies: ["proxy.example.com"], allowInsecureHttp: false })).toThrow(/trusted proxy/);
    expect(() => buildTransportPolicy({ trustedProxies: ["10.0.0.0/33"], allowInsecureHttp: false })).toThrow(/trusted proxy/);
  });
});
