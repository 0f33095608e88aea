/**
 * dist/ipkeep serve --https on 127.0.0.1 with a self-signed certificate: real TLS, the HTTPS
 * rule over loopback, and SIGHUP picking up a renewed certificate on the same port.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, EXE, run, type ServerProcess, startServe, tempDir } from "../helpers/exe";
import { selfSigned } from "../helpers/tls";

let data: string;
let tls: string;
let server: ServerProcess;
let httpsPort: number;

function peerCN(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const cn = String(s.getPeerCertificate().subject?.CN ?? "");
      s.end();
      resolve(cn);
    });
    s.on("error", reject);
  });
}

beforeAll(async () => {
  data = tempDir();
  tls = tempDir("ipkeep-tls-");
  expect(run(["--data", data, "init", "--zone", "dyn.example.com", "--ns", "ns1.dyn.example.com=192.0.2.53"]).code).toBe(0);
  const a = selfSigned(tls, "before");
  copyFileSync(a.cert, join(tls, "cert.pem"));
  copyFileSync(a.key, join(tls, "key.pem"));
  server = await startServe(data, ["--https", "127.0.0.1:0", "--tls-cert", join(tls, "cert.pem"), "--tls-key", join(tls, "key.pem")]);
  httpsPort = Number(/msg="https listening" addr=127\.0\.0\.1:(\d+)/.exec(server.logs())?.[1]);
});

afterAll(async () => {
  await server?.stop();
  cleanup(data);
  cleanup(tls);
});

describe("serve --https", () => {
  it("answers over TLS with the configured certificate", async () => {
    expect(httpsPort).toBeGreaterThan(0);
    expect(await peerCN(httpsPort)).toBe("before");
    const res = await fetch(`https://127.0.0.1:${httpsPort}/api/v2/healthz`, { tls: { rejectUnauthorized: false } } as RequestInit);
    expect(res.status).toBe(200);
  });

  it("re-reads the certificate on SIGHUP and keeps serving on the same port", async () => {
    const b = selfSigned(tls, "after");
    copyFileSync(b.cert, join(tls, "cert.pem"));
    copyFileSync(b.key, join(tls, "key.pem"));
    process.kill(server.proc.pid!, "SIGHUP");
    const deadline = Date.now() + 5000;
    while (!/msg="tls reloaded"/.test(server.logs()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await peerCN(httpsPort)).toBe("after");
    expect(server.proc.exitCode).toBeNull();
  });

  it("refuses a second instance (another data directory) on the same --https port: exit 5 naming it", async () => {
    const other = tempDir();
    try {
      expect(run(["--data", other, "init", "--zone", "other.example.com", "--ns", "ns1.other.example.com=192.0.2.54"]).code).toBe(0);
      const tlsArgs = ["--tls-cert", join(tls, "cert.pem"), "--tls-key", join(tls, "key.pem")];
      const r = spawnSync(EXE, ["--data", other, "serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--https", `127.0.0.1:${httpsPort}`, ...tlsArgs], {
        encoding: "utf8",
        timeout: 10_000,
        killSignal: "SIGKILL",
      });
      expect(r.signal, "the second instance kept running beside the first").toBeNull();
      expect(r.status).toBe(5);
      expect(r.stderr).toContain(`cannot bind HTTPS 127.0.0.1:${httpsPort}: address in use`);
      // Every connection still reaches the first (its certificate, its answer).
      for (let i = 0; i < 10; i++) expect(await peerCN(httpsPort)).toBe("after");
    } finally {
      cleanup(other);
    }
  });

  it("refuses a second instance on the same plain --http port too", async () => {
    const other = tempDir();
    try {
      expect(run(["--data", other, "init", "--zone", "other.example.com", "--ns", "ns1.other.example.com=192.0.2.54"]).code).toBe(0);
      const r = spawnSync(EXE, ["--data", other, "serve", "--http", `127.0.0.1:${server.httpPort}`, "--dns", "127.0.0.1:0"], {
        encoding: "utf8",
        timeout: 10_000,
        killSignal: "SIGKILL",
      });
      expect(r.signal, "the second instance kept running beside the first").toBeNull();
      expect(r.status).toBe(5);
      expect(r.stderr).toContain(`cannot bind HTTP 127.0.0.1:${server.httpPort}: address in use`);
    } finally {
      cleanup(other);
    }
  });

  it("refuses to start with --https but no certificate", () => {
    const r = run(["--data", data, "serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--https", "127.0.0.1:0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tls-cert/);
  });
});
