#!/usr/bin/env bash
# DNS benchmark: dnsperf against the compiled ipkeep and against NSD loaded with the same
# zone (NSD gets it by AXFR from ipkeep, so both serve identical data), one after the other,
# each server pinned to the same core (taskset), dnsperf on another.
#
# Prints, per query mix and round, queries per second, server CPU seconds, loss and the ratio
# of queries per server CPU-second (ipkeep / NSD); the rounds alternate the two servers so a
# neighbour's load on a shared machine falls on both, and the median ratio is the figure.
# Then two floors against NSD on the hot mix (UDP servers doing no DNS work,
# scripts/bench/udp-floor.ts: Bun's own UDP socket, and recvmmsg/sendmmsg through bun:ffi),
# and ipkeep alone: the highest open-loop rate (dnsperf -Q) served with under 1% loss,
# p50/p99 latency at 10,000 qps, and start-up with 100,000 hostnames (time to first answer,
# memory).
#
# Usage: scripts/bench/dns.sh [SECONDS_PER_RUN=10]
# Env: MIXES (default "hot hosts nx"), ROUNDS (default 5), WARMUP (seconds per server and
# mix, default 3), SERVER_CPU (default 1), CLIENT_CPU (default 0), SKIP_STARTUP=1,
# SKIP_OPEN_LOOP=1, SKIP_FLOOR=1.
# Loopback only; every process started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/nsd.sh
source scripts/lib/nsd.sh

DURATION="${1:-10}"
ROUNDS="${ROUNDS:-5}"
WARMUP="${WARMUP:-3}"
SERVER_CPU="${SERVER_CPU:-1}"
CLIENT_CPU="${CLIENT_CPU:-0}"
ZONE=bench.example.com
HOSTS=10000
EXE="$(pwd)/dist/ipkeep"
BUN="$(pwd)/node_modules/.bin/bun"
TICK="$(getconf CLK_TCK)"

for tool in dnsperf nsd taskset dig; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install dnsperf nsd util-linux dnsutils)" >&2; exit 2; }
done
[ -x "$EXE" ] || { echo "build first: npm run build" >&2; exit 2; }

WORK="$(mktemp -d /tmp/ipkeep-bench.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT


# CPU ticks (user + system) of a process and all its descendants (NSD forks its servers).
cpu_ticks() {
  local total=0 pid kids
  for pid in "$@"; do
    if [ -r "/proc/$pid/stat" ]; then
      # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
      total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    fi
    kids="$(pgrep -P "$pid" || true)"
    if [ -n "$kids" ]; then
      # shellcheck disable=SC2086
      total=$((total + $(cpu_ticks $kids)))
    fi
  done
  echo "$total"
}

wait_answer() { # port name
  local i
  for i in $(seq 1 400); do
    if dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" A 2>/dev/null | grep -q '^[0-9]'; then return 0; fi
    sleep 0.05
  done
  echo "server on port $1 never answered $2" >&2
  return 1
}

# --- data: one ipkeep database, 10,000 hostnames -------------------------------------
"$EXE" --data "$WORK/ipkeep" init --zone "$ZONE" --ns "ns1.$ZONE=127.0.0.1" >/dev/null
"$BUN" scripts/bench/populate.ts "$WORK/ipkeep" "$ZONE" "$HOSTS" >/dev/null

IPK_PORT="$(free_port)"
# Response rate limiting off, as for NSD (rrl-ratelimit: 0 below): dnsperf is one source.
taskset -c "$SERVER_CPU" "$EXE" --data "$WORK/ipkeep" serve --dns "127.0.0.1:$IPK_PORT" --http 127.0.0.1:0 \
  --xfr-allow 127.0.0.1/32 --log-level warn --rrl-rate 0 >"$WORK/ipkeep.log" 2>&1 &
IPK_PID=$!
PIDS+=("$IPK_PID")
wait_answer "$IPK_PORT" "h1.$ZONE"

# NSD gets the very same zone by AXFR from ipkeep (the closing SOA dropped).
mkdir -p "$WORK/nsd"
dig +nocmd +nostats +nocomments +onesoa @127.0.0.1 -p "$IPK_PORT" "$ZONE" AXFR >"$WORK/nsd/$ZONE.zone"
NSD_PORT="$(free_port)"
nsd_conf "$WORK/nsd" "$NSD_PORT" "$ZONE"
taskset -c "$SERVER_CPU" nsd -d -c "$WORK/nsd/nsd.conf" >"$WORK/nsd/stdout.log" 2>&1 &
NSD_PID=$!
PIDS+=("$NSD_PID")
wait_answer "$NSD_PORT" "h1.$ZONE"

# --- query mixes -----------------------------------------------------------------------
echo "h1.$ZONE A" >"$WORK/hot.txt"
for ((i = 0; i < HOSTS; i++)); do
  printf 'h%d.%s A\nh%d.%s AAAA\nh%d.%s TXT\nh%d.%s MX\n' "$i" "$ZONE" "$i" "$ZONE" "$i" "$ZONE" "$i" "$ZONE"
done | shuf --random-source=<(yes) >"$WORK/hosts.txt"
# Unique random names, more than a run sends: the answer cache cannot help here.
"$BUN" -e "
  const n = 1500000, out = [];
  for (let i = 0; i < n; i++) out.push('x' + Math.random().toString(36).slice(2, 12) + '.$ZONE A');
  await Bun.write('$WORK/nx.txt', out.join('\n') + '\n');
  const warm = [];
  for (let i = 0; i < 500000; i++) warm.push('w' + Math.random().toString(36).slice(2, 12) + '.$ZONE A');
  await Bun.write('$WORK/nx-warm.txt', warm.join('\n') + '\n');
"

# run_perf SERVER_PID PORT FILE [dnsperf args...] -> "completed qps cpu_s lost_pct"
run_perf() {
  local pid="$1" port="$2" file="$3"
  shift 3
  local before after out
  before="$(cpu_ticks "$pid")"
  out="$(taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$DURATION" -c 8 -T 1 -q 500 -t 2 "$@" 2>&1)"
  after="$(cpu_ticks "$pid")"
  local completed qps lost
  completed="$(awk '/Queries completed:/ {print $3}' <<<"$out")"
  qps="$(awk '/Queries per second:/ {printf "%d", $4}' <<<"$out")"
  lost="$(awk -F'[()%]' '/Queries lost:/ {print $2}' <<<"$out")"
  echo "$completed $qps $(awk -v t=$((after - before)) -v hz="$TICK" 'BEGIN {printf "%.2f", t / hz}') $lost"
}

ratio_of() { # completed_a cpu_a completed_b cpu_b
  awk -v ic="$1" -v icpu="$2" -v nc="$3" -v ncpu="$4" 'BEGIN { if (icpu > 0 && ncpu > 0 && nc > 0) printf "%.2f", (ic / icpu) / (nc / ncpu); else print "n/a" }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "n/a") }'; }

echo
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "ipkeep $("$EXE" --version) vs $(nsd -v 2>&1 | head -1), ${DURATION}s per run, $ROUNDS rounds, servers on CPU $SERVER_CPU, dnsperf on CPU $CLIENT_CPU (closed loop, 500 outstanding)"
printf '%-10s | %-26s | %-26s | %s\n' "mix/round" "ipkeep qps / cpu s / loss%" "NSD qps / cpu s / loss%" "ratio (queries per CPU-s)"
SUMMARY=()
for mix in ${MIXES-hot hosts nx}; do
  # Steady state, as a server is after minutes of service: a few seconds of the mix first
  # for both servers (the JIT has compiled the paths the mix takes, the answer cache holds
  # the names asked again and again). The random names warm up on names of their own, so
  # none of the measured ones was ever asked before.
  warm="$WORK/$mix.txt"
  if [ "$mix" = nx ]; then warm="$WORK/nx-warm.txt"; fi
  for port in "$IPK_PORT" "$NSD_PORT"; do
    taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$warm" -l "$WARMUP" -c 8 -q 500 -t 2 >/dev/null 2>&1
  done
  ratios=()
  worst_loss=0
  for ((round = 1; round <= ROUNDS; round++)); do
    read -r ic iq icpu il <<<"$(run_perf "$IPK_PID" "$IPK_PORT" "$WORK/$mix.txt")"
    read -r nc nq ncpu nl <<<"$(run_perf "$NSD_PID" "$NSD_PORT" "$WORK/$mix.txt")"
    ratio="$(ratio_of "$ic" "$icpu" "$nc" "$ncpu")"
    ratios+=("$ratio")
    worst_loss="$(awk -v a="$worst_loss" -v b="$il" 'BEGIN { print (b > a ? b : a) }')"
    printf '%-10s | %7s / %6s / %6s%%   | %7s / %6s / %6s%%   | %s\n' "$mix $round" "$iq" "$icpu" "$il" "$nq" "$ncpu" "$nl" "$ratio"
  done
  SUMMARY+=("$(printf '%-10s median ratio %s (rounds: %s), worst ipkeep loss %s%%' "$mix" "$(printf '%s\n' "${ratios[@]}" | median)" "${ratios[*]}" "$worst_loss")")
done
echo
printf '%s\n' "${SUMMARY[@]}"

# --- the runtime's floors ------------------------------------------------------------------
if [ "${SKIP_FLOOR:-}" != 1 ]; then
  for floor in bun ffi; do
    FLOOR_PORT="$(free_port)"
    taskset -c "$SERVER_CPU" "$BUN" scripts/bench/udp-floor.ts "$FLOOR_PORT" "$floor" >"$WORK/floor.log" 2>&1 &
    FLOOR_PID=$!
    PIDS+=("$FLOOR_PID")
    for _ in $(seq 1 100); do grep -q listening "$WORK/floor.log" && break; sleep 0.1; done
    taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$FLOOR_PORT" -d "$WORK/hot.txt" -l "$WARMUP" -c 8 -q 500 -t 2 >/dev/null 2>&1
    ratios=()
    for ((round = 1; round <= ROUNDS; round++)); do
      read -r fc _fq fcpu _fl <<<"$(run_perf "$FLOOR_PID" "$FLOOR_PORT" "$WORK/hot.txt")"
      read -r nc _nq ncpu _nl <<<"$(run_perf "$NSD_PID" "$NSD_PORT" "$WORK/hot.txt")"
      ratios+=("$(ratio_of "$fc" "$fcpu" "$nc" "$ncpu")")
    done
    kill "$FLOOR_PID"
    wait "$FLOOR_PID" 2>/dev/null || true
    echo "floor: UDP echo without DNS work over the $floor path / NSD, hot mix: median ratio $(printf '%s\n' "${ratios[@]}" | median) (rounds: ${ratios[*]})"
  done
fi

# --- open loop (ipkeep) ------------------------------------------------------------------
if [ "${SKIP_OPEN_LOOP:-}" != 1 ]; then
  echo
  echo "open loop (dnsperf -Q), hosts mix:"
  best=0
  for rate in 10000 20000 30000 40000 50000 60000 80000 100000; do
    read -r _c q cpu lost <<<"$(run_perf "$IPK_PID" "$IPK_PORT" "$WORK/hosts.txt" -Q "$rate")"
    printf '  offered %6d qps: served %6s qps, loss %s%%, server CPU %s s\n' "$rate" "$q" "$lost" "$cpu"
    if ! awk -v l="$lost" 'BEGIN { exit !(l < 1) }'; then break; fi
    best="$q"
    # dnsperf itself could not offer the rate: the client is the limit, not the server.
    if awk -v q="$q" -v r="$rate" 'BEGIN { exit !(q < 0.9 * r) }'; then
      echo "  (dnsperf reached only $q of $rate qps: client-bound from here on)"
      break
    fi
  done
  echo "  highest rate served under 1% loss: $best qps"
  for server in ipkeep NSD; do
    port="$IPK_PORT"
    if [ "$server" = NSD ]; then port="$NSD_PORT"; fi
    out="$(taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/hosts.txt" -l 5 -Q 10000 -c 8 -q 500 -v 2>&1)"
    grep '^> NOERROR' <<<"$out" | awk '{print $NF}' | sort -n >"$WORK/lat.txt"
    n="$(wc -l <"$WORK/lat.txt")"
    p50="$(awk -v n="$n" 'NR == int(n * 0.50) + 1 {printf "%.3f", $1 * 1000}' "$WORK/lat.txt")"
    p99="$(awk -v n="$n" 'NR == int(n * 0.99) + 1 {printf "%.3f", $1 * 1000}' "$WORK/lat.txt")"
    echo "  $server latency at 10,000 qps offered: p50 ${p50} ms, p99 ${p99} ms ($n answers in 5 s)"
  done
fi

kill "$IPK_PID" "$NSD_PID"
wait "$IPK_PID" "$NSD_PID" 2>/dev/null || true

# --- start-up with 100,000 hostnames -------------------------------------------------------
if [ "${SKIP_STARTUP:-}" != 1 ]; then
  "$EXE" --data "$WORK/big" init --zone "$ZONE" --ns "ns1.$ZONE=127.0.0.1" >/dev/null
  "$BUN" scripts/bench/populate.ts "$WORK/big" "$ZONE" 100000 >/dev/null
  echo
  # The DNS thread holds a copy of the zones of its own: both ways, so the cost shows.
  for thread in yes no; do
    BIG_PORT="$(free_port)"
    t0="$(date +%s%N)"
    taskset -c "$SERVER_CPU" "$EXE" --data "$WORK/big" serve --dns "127.0.0.1:$BIG_PORT" --http 127.0.0.1:0 --log-level warn \
      --dns-thread "$thread" --rrl-rate 0 >"$WORK/big.log" 2>&1 &
    BIG_PID=$!
    PIDS+=("$BIG_PID")
    until dig +short +time=1 +tries=1 @127.0.0.1 -p "$BIG_PORT" "h99999.$ZONE" A 2>/dev/null | grep -q '^[0-9]'; do
      kill -0 "$BIG_PID" || { echo "ipkeep died" >&2; exit 1; }
    done
    t1="$(date +%s%N)"
    rss="$(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$BIG_PID/status")"
    echo "start-up with 100,000 hostnames (--dns-thread $thread): first answer after $(((t1 - t0) / 1000000)) ms, RSS ${rss} MiB"
    kill "$BIG_PID"
    wait "$BIG_PID" 2>/dev/null || true
  done
fi
