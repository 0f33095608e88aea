#!/usr/bin/env bash
# Update benchmark: dyndns2 updates per second over keep-alive HTTP (nochg, and real changes,
# each durable before its answer), and the time from an update's response to the new DNS
# answer (p50/p99). Loopback only; the server is stopped by PID whatever happens.
# Usage: scripts/bench/update.sh [SECONDS=5] [CONCURRENCY=8]
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh
SECONDS_PER_PHASE="${1:-5}"
CONCURRENCY="${2:-8}"
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
HOSTS=()
for i in $(seq 1 "$CONCURRENCY"); do
  "$EXE" --data "$WORK/data" host add "h$i.$ZONE" --owner bench@example.com --json >/dev/null
  HOSTS+=("h$i.$ZONE")
done
TOKEN="$("$EXE" --data "$WORK/data" token create --all --owner bench@example.com --json | "$BUN" -e 'console.log(JSON.parse(await Bun.stdin.text()).token.tokenValue)')"

# Rate limits, when this build has them, are switched off: this measures the update path.
EXTRA=()
if "$EXE" serve --help | grep -q -- "--update-burst"; then EXTRA+=(--update-burst 0); fi
if "$EXE" serve --help | grep -q -- "--update-daily"; then EXTRA+=(--update-daily 0); fi
# The DNS side polls one name from one address far above any real resolver's rate.
if "$EXE" serve --help | grep -q -- "--rrl-rate"; then EXTRA+=(--rrl-rate 0); fi

start_serve "$EXE" "$WORK/data" "$WORK/serve.log" "${EXTRA[@]}"

echo "ipkeep $("$EXE" --version), $(nproc) CPUs, $(uname -m), SQLite WAL + synchronous=FULL on $(df -T "$WORK" | awk 'NR==2 {print $2}')"
"$BUN" scripts/bench/update-load.ts "http://127.0.0.1:$HTTP_PORT" "$DNS_PORT" "$TOKEN" "$SECONDS_PER_PHASE" "$CONCURRENCY" "${HOSTS[@]}"
