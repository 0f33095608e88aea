#!/usr/bin/env bash
# Footprint benchmark (issue 12): start-up time (spawn to the first answer for the zone's last
# host) and RSS at rest of the compiled ipkeep serving a zone of HOSTS hostnames, with and
# without the DNS thread, against NSD serving the very same zone (ipkeep's `zone export`), in
# the same run; prints the ratios. NSD's RSS is the sum over its processes.
# Usage: HOSTS=100000 [SIGNED=1] scripts/bench/footprint.sh
# Loopback only; every process started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/nsd.sh
source scripts/lib/nsd.sh
ZONE_SIZE="${HOSTS:-100000}"
ZONE=bench.example.com
EXE="$(pwd)/dist/ipkeep"
BUN="$(pwd)/node_modules/.bin/bun"
command -v nsd >/dev/null || { echo "needs nsd (apt-get install nsd)" >&2; exit 2; }
[ -x "$EXE" ] || "$BUN" scripts/build.ts >/dev/null
WORK="$(mktemp -d /tmp/ipkeep-footprint.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
# RSS in MiB of a process and all its descendants.
rss_tree() { echo $(($(rss_tree_kb "$@") / 1024)); }
rss_tree_kb() {
  local total=0 pid kids
  for pid in "$@"; do
    [ -r "/proc/$pid/status" ] && total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")))
    kids="$(pgrep -P "$pid" || true)"
    # shellcheck disable=SC2086
    [ -n "$kids" ] && total=$((total + $(rss_tree_kb $kids)))
  done
  echo "$total"
}
# Milliseconds from now until the server on port answers name.
first_answer() { # pid port name t0
  until dig +short +time=1 +tries=1 @127.0.0.1 -p "$2" "$3" A 2>/dev/null | grep -q '^[0-9]'; do
    kill -0 "$1" 2>/dev/null || { echo "server died" >&2; exit 1; }
    sleep 0.02
  done
  echo $((($(date +%s%N) - $4) / 1000000))
}

"$EXE" --data "$WORK/data" init --zone "$ZONE" --ns "ns1.$ZONE=127.0.0.1" >/dev/null
"$BUN" scripts/bench/populate.ts "$WORK/data" "$ZONE" "$ZONE_SIZE" >/dev/null
# Unsigned unless SIGNED=1: NSD serves the zone file as exported (signed too, then).
if [ "${SIGNED:-0}" != 1 ] && "$EXE" domain --help 2>/dev/null | grep -q dnssec; then
  "$EXE" --data "$WORK/data" domain dnssec "$ZONE" off >/dev/null
fi
LAST="h$((ZONE_SIZE - 1)).$ZONE"
echo "ipkeep $("$EXE" --version) vs $(nsd -v 2>&1 | head -1), $(nproc) CPUs, a zone of $ZONE_SIZE hostnames (A and AAAA; TXT on every 4th, MX on every 10th)"

declare -A START RSS
for thread in yes no; do
  port="$(free_port)"
  t0="$(date +%s%N)"
  "$EXE" --data "$WORK/data" serve --dns "127.0.0.1:$port" --http 127.0.0.1:0 --log-level warn --dns-thread "$thread" --rrl-rate 0 >"$WORK/ipkeep.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  START[$thread]="$(first_answer "$pid" "$port" "$LAST" "$t0")"
  sleep 3
  RSS[$thread]="$(rss_tree "$pid")"
  echo "ipkeep (--dns-thread $thread): first answer after ${START[$thread]} ms, RSS at rest ${RSS[$thread]} MiB"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done

mkdir -p "$WORK/nsd"
"$EXE" --data "$WORK/data" zone export "$ZONE" >"$WORK/nsd/$ZONE.zone"
port="$(free_port)"
nsd_conf "$WORK/nsd" "$port" "$ZONE"
t0="$(date +%s%N)"
nsd -d -c "$WORK/nsd/nsd.conf" >"$WORK/nsd/stdout.log" 2>&1 &
pid=$!
PIDS+=("$pid")
NSD_START="$(first_answer "$pid" "$port" "$LAST" "$t0")"
sleep 3
NSD_RSS="$(rss_tree "$pid")"
echo "NSD: first answer after ${NSD_START} ms, RSS at rest ${NSD_RSS} MiB (all its processes)"
for thread in yes no; do
  echo "ratio ipkeep (--dns-thread $thread) / NSD: start-up $(awk -v a="${START[$thread]}" -v b="$NSD_START" 'BEGIN {printf "%.2f", a / b}'), RSS $(awk -v a="${RSS[$thread]}" -v b="$NSD_RSS" 'BEGIN {printf "%.2f", a / b}')"
done
