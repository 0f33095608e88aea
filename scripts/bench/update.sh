#!/usr/bin/env bash
# Update benchmark (issue 12): dyndns2 updates per second over keep-alive HTTP (nochg, and
# real changes, each durable before its answer) at 8 and 64 connections, the time from an
# update's response to the new DNS answer, RSS at rest and after the storms, DNS latency and
# throughput during a storm against idle, and IXFR bytes per change, for a zone of HOSTS
# hostnames; then DNS UPDATE messages per second against Knot (scripts/bench/dns-update.sh).
# Loopback only; the servers are stopped by PID whatever happens.
# Usage: HOSTS=100000 scripts/bench/update.sh [SECONDS=5]   (HOSTS: 8 by default; SERVE_ARGS: extra
# flags; SIGNED=1: keep the zone signed)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh
SECONDS_PER_PHASE="${1:-5}"
ZONE_SIZE="${HOSTS:-8}"
BUN="node_modules/.bin/bun"
EXE="$(pwd)/dist/ipkeep"
if [ ! -x "$EXE" ]; then
  "$BUN" scripts/build.ts >/dev/null
fi
WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ZONE=bench.example.com
"$EXE" --data "$WORK/data" init --zone "$ZONE" --ns "ns1.$ZONE=127.0.0.1" >/dev/null
# The benchmark's own hosts (one per connection) are u1..u64; the rest of the zone is hN.
UPDATERS=()
for i in $(seq 1 64); do UPDATERS+=("u$i.$ZONE"); done
"$BUN" scripts/bench/populate.ts "$WORK/data" "$ZONE" "$ZONE_SIZE" "${UPDATERS[@]}" >/dev/null
# Unsigned unless SIGNED=1 (issue 12's targets are for unsigned zones; a signed one also pays its signatures).
if [ "${SIGNED:-0}" != 1 ] && "$EXE" domain --help 2>/dev/null | grep -q dnssec; then
  "$EXE" --data "$WORK/data" domain dnssec "$ZONE" off >/dev/null
fi
TOKEN="$("$EXE" --data "$WORK/data" token create --all --owner bench@example.com --json | "$BUN" -e 'console.log(JSON.parse(await Bun.stdin.text()).token.tokenValue)')"

# Rate limits are switched off: this measures the update path. The DNS probe asks far above
# any real resolver's rate from one address, so response rate limiting is off too.
# SERVE_ARGS: more flags for serve (e.g. "--dns-thread no").
read -ra EXTRA <<<"${SERVE_ARGS:-}"
START_TIMEOUT=120 start_serve "$EXE" "$WORK/data" "$WORK/serve.log" --update-burst 0 --update-daily 0 --rrl-rate 0 --xfr-allow 127.0.0.1/32 "${EXTRA[@]}"

echo "ipkeep $("$EXE" --version), $(nproc) CPUs, $(uname -m), zone of $ZONE_SIZE hostnames + 64 updaters, SQLite WAL + synchronous=FULL on $(df -T "$WORK" | awk 'NR==2 {print $2}')"
"$BUN" scripts/bench/update-load.ts "http://127.0.0.1:$HTTP_PORT" "$DNS_PORT" "$TOKEN" "$SECONDS_PER_PHASE" "$PID" "$ZONE" "$ZONE_SIZE" "${UPDATERS[@]}"

# DNS UPDATE (RFC 2136) messages per second against Knot in the same run (issue 17), unless
# SKIP_DNS_UPDATE=1 or knotd is missing.
if [ "${SKIP_DNS_UPDATE:-0}" != 1 ] && command -v knotd >/dev/null; then
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
  bash scripts/bench/dns-update.sh "$SECONDS_PER_PHASE"
fi
