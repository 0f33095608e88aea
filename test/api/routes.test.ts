/**
 * The route table (src/api/routes.ts) and what is derived from it: the path classes of the
 * HTTPS rule, rate classes and envelopes of paths in and out of the table.
 */
import { describe, expect, it } from "vitest";
import { applyTable } from "../../src/api/app";
import { ACCOUNT_AUTH, classifyPath, ROUTES, routeKey, rulesFor } from "../../src/api/routes";

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

describe("the table", () => {
  it("a served route missing from it stops the app from being built, as does a row nobody serves", () => {
    const served = ROUTES.map((r) => ({ method: r.method, path: r.path }));
    expect(() => applyTable(served)).not.toThrow();
    expect(() => applyTable([...served, { method: "GET", path: "/api/secret-backdoor" }])).toThrow(
      /GET \/api\/secret-backdoor is served but not in the route table/,
    );
    expect(() => applyTable(served.slice(1))).toThrow(/is in the route table but nothing serves it/);
  });

  it("has one row per (method, path)", () => {
    const keys = ROUTES.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("every route taking a password, a session, a secret or an API key is account- or install-class", () => {
    for (const r of ROUTES.filter((r) => ACCOUNT_AUTH.includes(r.auth))) {
      expect(["account", "install"], routeKey(r)).toContain(r.tls);
      expect(["account", "install"], routeKey(r)).toContain(classifyPath(r.path.replace(/:[A-Za-z]+/g, "1")));
    }
  });

  it("a wrong method on a known path keeps its TLS rule; unknown paths take their area's", () => {
    expect(rulesFor("GET", "/acme-dns/register").tls).toBe("account");
    expect(rulesFor("GET", "/api/auth/nothing").tls).toBe("account");
    expect(rulesFor("GET", "/api/v2/nothing").dialect).toBe("v2");
    expect(rulesFor("GET", "/api/nothing").rate).toBe("standard");
    expect(rulesFor("POST", "/api/auth/login").rate).toBe("login");
    expect(rulesFor("GET", "/api/auth/login").rate).toBe("standard");
    expect(rulesFor("GET", "/nic/update").rate).toBeNull();
    expect(rulesFor("GET", "/api/v2/healthz").rate).toBeNull();
    expect(rulesFor("GET", "/api/v2/nodes").rate).toBe("standard");
  });
});
