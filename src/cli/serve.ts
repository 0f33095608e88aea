import type { Command } from "commander";
import { log, setLogLevel } from "../log";
import { startServer } from "../server";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { IpkeepError } from "../core/errors";
import { collect, configFrom, DB_FILE, reportError, stopOnSignal } from "./common";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the primary: HTTP API and authoritative DNS (UDP and TCP)")
    .option("--http <addr:port>", "HTTP listen address (repeatable; default 127.0.0.1:8080)", collect)
    .option("--dns <addr:port>", "DNS listen address, UDP and TCP (repeatable; default 127.0.0.1:5300)", collect)
    .option("--url <base>", "public base URL used in links")
    .option("--trusted-proxy <cidr>", "proxy whose X-Forwarded-For is believed (repeatable)", collect)
    .option(
      "--https <addr:port>",
      "HTTPS listen address (repeatable); its certificate comes by ACME for --url's name unless --tls-cert and --tls-key are given",
      collect,
    )
    .option("--tls-cert <file>", "TLS certificate chain (PEM), re-read on SIGHUP")
    .option("--tls-key <file>", "TLS private key (PEM), re-read on SIGHUP")
    .option("--acme [yes|no]", "get the HTTPS certificate for --url's name from an ACME CA (default: yes when --https has no --tls-cert)")
    .option("--acme-directory <url>", "ACME directory (default: Let's Encrypt's production directory)")
    .option("--acme-email <addr>", "contact address for the ACME account (expiry notices)")
    .option("--acme-ca <file>", "extra trust roots (PEM) for talking to the ACME directory, for a private CA such as Pebble")
    .option("--metrics-allow <cidr>", "address range besides loopback that may read /metrics (repeatable)", collect)
    .option("--allow-insecure-http", "allow the account and install APIs over plain HTTP from other machines")
    .option("--update-burst <count/seconds>", "update requests per token (default 5/10; 0: off)")
    .option("--update-daily <count>", "address changes per token per day (default 1440; 0: off)")
    .option("--demo", "create a demo zone on first start when none exists")
    .option("--log-level <level>", "debug, info, warn or error")
    .option("--xfr-allow <cidr>", "address range allowed to AXFR/IXFR without TSIG (repeatable)", collect)
    .option("--notify <addr:port>", 'secondary to NOTIFY on every change, optionally "ADDR:PORT KEYNAME" to sign (repeatable)', collect)
    .option("--tsig-key <name:secret>", "TSIG key accepted for transfers, NAME:BASE64 (HMAC-SHA256; repeatable)", collect)
    .option("--catalog <name>", "serve a catalog zone (RFC 9432) of this name listing every served zone, for secondaries such as Knot")
    .option("--resolver <addr:port>", "resolver asked for custom-domain delegation checks (default: /etc/resolv.conf)")
    .option("--dns-thread <yes|no>", "answer UDP in a thread of its own (default yes; no: on the main thread, half the memory for zones)")
    .option("--dns-tcp-max <count>", "DNS over TCP: open connections in all (default 200)")
    .option("--dns-tcp-per-source <count>", "DNS over TCP: open connections per IPv4 address or IPv6 /64 (default 20)")
    .option("--rrl-rate <count>", "UDP answers per second per source prefix and answer class (default 200; 0: no rate limiting)")
    .option("--rrl-slip <n>", "every Nth answer over the rate goes out truncated, so resolvers retry over TCP (default 2; 0: none)")
    .option("--rrl-ipv4-prefix <bits>", "IPv4 prefix length of one source for rate limiting (default 24)")
    .option("--rrl-ipv6-prefix <bits>", "IPv6 prefix length of one source for rate limiting (default 56)")
    .option("--ixfr-journal-changes <count>", "IXFR: deltas kept per zone (default 10000; 0: none, IXFR sends the whole zone)")
    .option("--ixfr-journal-bytes <bytes>", "IXFR: bytes of records kept per zone (default 16777216)")
    .action(async (_opts: unknown, cmd: Command) => {
      const signals = stopOnSignal();
      let server: Awaited<ReturnType<typeof startServer>> | null = null;
      // Certificates renewed on disk; before start-up there is nothing to reload (and SIGHUP must not kill).
      process.on("SIGHUP", () => server?.reloadTls());
      try {
        const config = configFrom(cmd);
        setLogLevel(config.logLevel);
        // A typo in --data must not serve an empty database; --demo is for trying it out.
        if (!config.demo && !existsSync(join(config.data, DB_FILE))) {
          throw new IpkeepError(
            "invalid_input",
            `No ipkeep database in ${config.data}: run ipkeep init --data ${config.data} first (or pass the right --data; --demo serves a demo zone)`,
          );
        }
        const started = await startServer(config);
        server = started;
        log("info", "ipkeep started", { data: config.data, version: program.version() });
        signals.running(() => started.stop());
      } catch (e) {
        reportError(e);
        process.exit();
      }
    });
}
