/**
 * The HTTP listener's last resort, on a real socket: whatever escapes the app is a plain 500
 * and one redacted log line, never the runtime's debug page with the stack and the URL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenHttp, type Listener } from "../../src/http-listener";
import { setLogSink } from "../../src/log";
import { rawHttp } from "../helpers/raw-http";

const TOKEN = `ipk_${"A1b2C3d4".repeat(5)}`;
let listener: Listener;
const lines: string[] = [];

beforeAll(() => {
  setLogSink((l) => lines.push(l));
  listener = listenHttp(
    { host: "127.0.0.1", port: 0 },
    {
      handle(req) {
        throw new Error(`boom while handling ${new URL(req.url).pathname}${new URL(req.url).search}`);
      },
    },
  );
});
afterAll(() => {
  listener?.stop();
  setLogSink((l) => process.stdout.write(`${l}\n`));
});

describe("an app that throws", () => {
  it("answers a plain 500 without the debug page, and logs it redacted", async () => {
    const r = await rawHttp(listener.address.port, `GET /nic/update?token=${TOKEN} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(500);
    expect(r.headers.get("content-type")).toContain("text/plain");
    expect(r.body).toBe("Internal error\n");
    for (const leak of [TOKEN, "<!doctype", "__bunfallback", "cwd"]) expect(r.bytes).not.toContain(leak);
    const logged = lines.filter((l) => l.includes("request failed"));
    expect(logged.length).toBe(1);
    expect(logged[0]).toContain("boom while handling /nic/update");
    expect(lines.join("\n")).not.toContain(TOKEN);
  });
});
