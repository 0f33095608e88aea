/**
 * ipkeep secondary: the second nameserver. Settings come from the config file that install.sh
 * writes from the activation (primary, tsig-key, zone, dns), or from plain flags so that it
 * also runs without enrollment.
 */
import type { Command } from "commander";
import { IpkeepError } from "../core/errors";
import { parseServer } from "../dns/client";
import { dnsLimits, formatListen, parseListen } from "../dns/server";
import { parseKeySpec } from "../dns/tsig";
import { log, setLogLevel } from "../log";
import { Secondary } from "../secondary/secondary";
import { collect, configFrom, reportError, stopOnSignal } from "./common";

export function registerSecondary(program: Command): void {
  program
    .command("secondary")
    .description("run a secondary nameserver: pull the primary's zones by AXFR, refresh on NOTIFY and SOA timers, answer DNS")
    .option("--primary <host:port>", "the primary's DNS address (port 53 when left out)")
    .option("--tsig-key <name:base64>", "TSIG key for transfers and NOTIFY (HMAC-SHA256)", collect)
    .option("--zone <zone>", "zone to pull (repeatable)", collect)
    .option("--dns <addr:port>", "DNS listen address, UDP and TCP (repeatable; default 127.0.0.1:5300)", collect)
    .option("--dns-thread <yes|no>", "answer UDP in a thread of its own (default yes)")
    .option("--dns-tcp-max <count>", "DNS over TCP: open connections in all (default 200)")
    .option("--dns-tcp-per-source <count>", "DNS over TCP: open connections per IPv4 address or IPv6 /64 (default 20)")
    .option("--rrl-rate <count>", "UDP answers per second per source prefix and answer class (default 200; 0: no rate limiting)")
    .option("--rrl-slip <n>", "every Nth answer over the rate goes out truncated, so resolvers retry over TCP (default 2; 0: none)")
    .option("--rrl-ipv4-prefix <bits>", "IPv4 prefix length of one source for rate limiting (default 24)")
    .option("--rrl-ipv6-prefix <bits>", "IPv6 prefix length of one source for rate limiting (default 56)")
    .option("--log-level <level>", "debug, info, warn or error")
    .action(async (_opts: unknown, cmd: Command) => {
      const signals = stopOnSignal();
      try {
        const config = configFrom(cmd);
        setLogLevel(config.logLevel);
        if (!config.primary) throw new IpkeepError("invalid_input", 'No primary: pass --primary HOST:PORT (or primary = "HOST:PORT" in the config file)');
        if (config.zone.length === 0) throw new IpkeepError("invalid_input", "No zones: pass --zone ZONE (repeatable) or zone = [...] in the config file");
        if (config.tsigKey.length > 1) throw new IpkeepError("invalid_input", "A secondary uses one TSIG key: give --tsig-key once");
        const primary = parseServer(config.primary);
        const key = config.tsigKey[0] ? parseKeySpec(config.tsigKey[0]) : undefined;
        const secondary = new Secondary({
          primary,
          key,
          zones: config.zone,
          dns: config.dns.map((s) => parseListen(s, 53)),
          dataDir: config.data,
          thread: config.dnsThread,
          limits: dnsLimits(config),
          log,
        });
        await secondary.start();
        for (const l of secondary.addresses)
          log("info", "dns listening", { addr: formatListen(l), transports: "udp,tcp", udp: secondary.udpThread ? "thread" : "main" });
        log("info", "ipkeep secondary started", { primary: formatListen(primary), zones: config.zone.join(","), tsig: key ? key.name : "none" });
        signals.running(() => secondary.stop());
      } catch (e) {
        reportError(e);
        process.exit();
      }
    });
}
