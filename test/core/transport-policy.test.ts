/**
 * The plain-HTTP rule: updates always, account and install APIs only over TLS once the
 * request comes from another machine.
 */
import { describe, expect, it } from "vitest";
import { buildTransportPolicy, checkTransport, type TransportFacts } from "../../src/core/transport-policy";

const strict = buildTransportPolicy({ trustedProxies: [], allowInsecureHttp: false });
const proxied = buildTransportPolicy({ trustedProxies: ["10.0.0.0/8", "2001:db8::1"], allowInsecureHttp: false });
const lax = buildTransportPolicy({ trustedProxies: [], allowInsecureHttp: true });
const facts = (f: Partial<TransportFacts>): TransportFacts => ({ transport: "http", peer: "203.0.113.7", forwardedProto: null, pathClass: "account", ...f });

describe("plain HTTP from another machine", () => {
  it("is refused for the account and install APIs", () => {
    expect(checkTransport(strict, facts({}))).toEqual({ allowed: false, pathClass: "account" });
    expect(checkTransport(strict, facts({ pathClass: "install" }))).toEqual({ allowed: false, pathClass: "install" });
    expect(checkTransport(strict, facts({ pathClass: "install" }))).toEqual({ allowed: false, pathClass: "install" });
  });

  it("keeps the update paths working", () => {
    expect(checkTransport(strict, facts({ pathClass: "other" })).allowed).toBe(true);
    expect(checkTransport(strict, facts({ pathClass: "other" })).allowed).toBe(true);
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
