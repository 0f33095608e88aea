import { describe, expect, it } from "vitest";
import { decideUpdate, type UpdateIntent } from "../../src/core/update";

const set = (address: string) => ({ kind: "set" as const, address });
const keep = { kind: "keep" as const };
const del = { kind: "delete" as const };

describe("decideUpdate", () => {
  const cases: [string, { ipv4: string | null; ipv6: string | null }, UpdateIntent, string, { ipv4: string | null; ipv6: string | null }][] = [
    ["new v4 is good", { ipv4: null, ipv6: null }, { v4: set("1.2.3.4"), v6: keep }, "good", { ipv4: "1.2.3.4", ipv6: null }],
    ["same v4 is nochg", { ipv4: "1.2.3.4", ipv6: null }, { v4: set("1.2.3.4"), v6: keep }, "nochg", { ipv4: "1.2.3.4", ipv6: null }],
    ["v6 alone keeps v4", { ipv4: "1.2.3.4", ipv6: null }, { v4: keep, v6: set("2001:db8::1") }, "good", { ipv4: "1.2.3.4", ipv6: "2001:db8::1" }],
    ["delete v6", { ipv4: "1.2.3.4", ipv6: "2001:db8::1" }, { v4: keep, v6: del }, "good", { ipv4: "1.2.3.4", ipv6: null }],
    ["delete absent is nochg", { ipv4: "1.2.3.4", ipv6: null }, { v4: keep, v6: del }, "nochg", { ipv4: "1.2.3.4", ipv6: null }],
    ["both same is nochg", { ipv4: "1.2.3.4", ipv6: "::1" }, { v4: set("1.2.3.4"), v6: set("::1") }, "nochg", { ipv4: "1.2.3.4", ipv6: "::1" }],
  ];
  it.each(cases)("%s", (_name, current, intent, result, next) => {
    const d = decideUpdate(current, intent);
    expect(d.result).toBe(result);
    expect(d.next).toEqual(next);
  });
});
