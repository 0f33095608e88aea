/**
 * --xfr-allow, --tsig-key and --notify: bad values stop `serve` at start with a clear message.
 */
import { afterAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { startServer } from "../../src/server";
import { cleanup, tempDir } from "../helpers/exe";

const SECRET = Buffer.alloc(32, 1).toString("base64");
const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

function config(flags: Record<string, unknown>, env: Record<string, string> = {}) {
  const data = tempDir();
  dirs.push(data);
  return resolveConfig({ data, dns: ["127.0.0.1:0"], http: ["127.0.0.1:0"], ...flags }, env, () => false);
}

describe("transfer configuration", () => {
  it.each([
    ["an --xfr-allow that is no address", { xfrAllow: ["10.0.0.0/33"] }, /--xfr-allow/],
    ["an --xfr-allow that is a name", { xfrAllow: ["secondary.example"] }, /--xfr-allow/],
    ["a --tsig-key without secret", { tsigKey: ["name"] }, /TSIG key/],
    ["a --tsig-key with a short secret", { tsigKey: [`k:${Buffer.alloc(4).toString("base64")}`] }, /shorter/],
    ["a --notify without port", { notify: ["192.0.2.1:"] }, /--notify/],
    ["a --notify to a name", { notify: ["ns2.example:53"] }, /--notify/],
    ["a --notify with an unknown key", { notify: ["192.0.2.1:53 nokey"] }, /no --tsig-key named nokey/],
    ["a --notify with extra words", { notify: ["192.0.2.1:53 k extra"], tsigKey: [`k:${SECRET}`] }, /--notify/],
  ])("refuses %s", async (_why, flags, message) => {
    await expect(startServer(config(flags))).rejects.toMatchObject({ code: "invalid_input", message: expect.stringMatching(message) });
  });

  it("accepts good values, from flags and from the environment", async () => {
    const fromEnv = config(
      {},
      { IPKEEP_XFR_ALLOW: "192.0.2.0/24,2001:db8::/32", IPKEEP_TSIG_KEY: `k:${SECRET}`, IPKEEP_NOTIFY: "192.0.2.1:53 k,[2001:db8::1]:5353" },
    );
    expect(fromEnv.xfrAllow).toEqual(["192.0.2.0/24", "2001:db8::/32"]);
    expect(fromEnv.notify).toEqual(["192.0.2.1:53 k", "[2001:db8::1]:5353"]);
    const s = await startServer(fromEnv);
    await s.stop();
  });
});
