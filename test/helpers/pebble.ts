/**
 * Debian's Pebble (ACME test CA) on loopback, resolving through a DNS port we name (ipkeep's
 * own). Its HTTPS listener gets a certificate from a throwaway CA made here with openssl
 * (`ca`, passed to ipkeep as --acme-ca); the root that signs what Pebble issues is fetched
 * from its management endpoint (`issuingRoot()`), for curl --cacert.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { freeDnsPort } from "./ports";

export const PEBBLE = "/usr/bin/pebble";

function openssl(args: string[], cwd: string): void {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** A CA and a certificate for 127.0.0.1/localhost signed by it; returns the CA's PEM file. */
export function pebbleTls(dir: string): { ca: string; cert: string; key: string } {
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=pebble test ca",
    ],
    dir,
  );
  openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=localhost"], dir);
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    ["x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf"],
    dir,
  );
  return { ca: join(dir, "ca.pem"), cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
}

export interface Pebble {
  proc: ChildProcess;
  port: number;
  directory: string;
  /** The CA that signed Pebble's own HTTPS certificate (for --acme-ca). */
  ca: string;
  logs(): string;
  /** The root of the certificates Pebble issues (PEM), written to a file; returns its path. */
  issuingRoot(): Promise<string>;
  stop(): Promise<void>;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(ca), timeout: 3000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

export interface PebbleOptions {
  /** Where Pebble asks DNS (ipkeep's own port). */
  dnsPort: number;
  /** Port Pebble connects to for HTTP-01 (default 5002). */
  httpPort?: number;
  /** Lifetime of issued certificates in seconds (Pebble's default: about five years). */
  validitySeconds?: number;
  /** Reuse this port (a restart after stop()). */
  port?: number;
  managementPort?: number;
  tls?: { ca: string; cert: string; key: string };
}

export async function startPebble(dir: string, o: PebbleOptions): Promise<Pebble> {
  const tls = o.tls ?? pebbleTls(dir);
  const port = o.port ?? (await freeDnsPort());
  const mport = o.managementPort ?? (await freeDnsPort());
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${mport}`,
      certificate: tls.cert,
      privateKey: tls.key,
      httpPort: o.httpPort ?? 5002,
      tlsPort: 5001,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
      ...(o.validitySeconds ? { certificateValidityPeriod: o.validitySeconds } : {}),
    },
  };
  const file = join(dir, `pebble-${port}.json`);
  writeFileSync(file, JSON.stringify(config));
  const proc = spawn(PEBBLE, ["-config", file, "-dnsserver", `127.0.0.1:${o.dnsPort}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0", PEBBLE_VA_ALWAYS_VALID: "0" },
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const directory = `https://127.0.0.1:${port}/dir`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pebble exited:\n${out}`);
    try {
      if ((await get(directory, tls.ca)).status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`pebble did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc,
    port,
    directory,
    ca: tls.ca,
    logs: () => out,
    async issuingRoot() {
      const r = await get(`https://127.0.0.1:${mport}/roots/0`, tls.ca);
      if (r.status !== 200) throw new Error(`pebble roots: ${r.status}`);
      const path = join(dir, `pebble-root-${port}.pem`);
      writeFileSync(path, r.body);
      return path;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const t = setTimeout(() => process.kill(proc.pid!, "SIGKILL"), 5000);
        proc.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
        process.kill(proc.pid!, "SIGTERM");
      }),
  };
}

/** curl over HTTPS to a name pinned to 127.0.0.1, trusting only the given root. */
export function curlHttps(name: string, port: number, path: string, cacert: string, extra: string[] = []): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(
    "curl",
    ["-sS", "--max-time", "5", "--cacert", cacert, "--resolve", `${name}:${port}:127.0.0.1`, ...extra, `https://${name}:${port}${path}`],
    { encoding: "utf8" },
  );
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Pebble as the ACME clients' tests run it: its HTTPS listener on a self-signed certificate for
 * 127.0.0.1 (`ca`, what lego's LEGO_CA_CERTIFICATES and certbot's REQUESTS_CA_BUNDLE trust),
 * resolving through dnsPort; no random sleeps and no rejected nonces. The caller stops `proc`.
 */
export async function startSelfSignedPebble(dir: string, dnsPort: number): Promise<{ url: string; ca: string; proc: ChildProcess }> {
  mkdirSync(dir, { recursive: true });
  const ca = join(dir, "pebble-cert.pem");
  const key = join(dir, "pebble-key.pem");
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      ca,
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    dir,
  );
  const [listen, management] = [await freeDnsPort(), await freeDnsPort()];
  const config = join(dir, "pebble.json");
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: ca,
        privateKey: key,
        httpPort: 5002,
        tlsPort: 5001,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const proc = spawn("pebble", ["-config", config, "-dnsserver", `127.0.0.1:${dnsPort}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!out.includes("ACME directory available")) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      throw new Error(`pebble did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `https://127.0.0.1:${listen}/dir`, ca, proc };
}
