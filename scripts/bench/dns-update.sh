#!/usr/bin/env bash
# DNS UPDATE benchmark (issue 17): TSIG-signed UPDATE messages per second, one change each
# (delete + add of a host's A), 8 concurrent clients over UDP, against ipkeep and against Knot
# (Debian's knotd, with its journal) on the same zone in the same run; prints both and the ratio.
# Loopback only; both servers are stopped by PID whatever happens.
# Usage: scripts/bench/dns-update.sh [SECONDS=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh
SECONDS_PER_RUN="${1:-5}"
BUN="node_modules/.bin/bun"
EXE="$(pwd)/dist/ipkeep"
if [ ! -x "$EXE" ]; then
  "$BUN" scripts/build.ts >/dev/null
fi
command -v knotd >/dev/null || { echo "knotd is needed (apt-get install knot)" >&2; exit 2; }
WORK="$(mktemp -d)"
PID=""
KNOT_PID=""
cleanup() {
  for p in "$PID" "$KNOT_PID"; do
    if [ -n "$p" ]; then
      kill "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

ZONE=bench.example.com
CLIENTS=()
for i in $(seq 1 8); do CLIENTS+=("u$i.$ZONE"); done

# ipkeep: the zone unsigned (Knot's is too), one token with a key covering the eight hosts.
"$EXE" --data "$WORK/data" init --zone "$ZONE" --ns "ns1.$ZONE=127.0.0.1" >/dev/null
if "$EXE" domain --help 2>/dev/null | grep -q dnssec; then "$EXE" --data "$WORK/data" domain dnssec "$ZONE" off >/dev/null; fi
for h in "${CLIENTS[@]}"; do "$EXE" --data "$WORK/data" host add "$h" --owner bench@example.com >/dev/null; done
KEY_JSON="$("$EXE" --data "$WORK/data" token create --all --owner bench@example.com --tsig --json)"
read -r KEY_NAME KEY_SECRET < <(printf '%s' "$KEY_JSON" | "$BUN" -e 'const t = JSON.parse(await Bun.stdin.text()).token.tsig; console.log(t.name, t.secret)')
# Rate limits off: this measures the update path.
START_TIMEOUT=60 start_serve "$EXE" "$WORK/data" "$WORK/serve.log" --update-burst 0 --update-daily 0 --rrl-rate 0
IPKEEP="$("$BUN" scripts/bench/dns-update-load.ts "$DNS_PORT" "$ZONE" "$KEY_NAME" hmac-sha256 "$KEY_SECRET" "$SECONDS_PER_RUN" "${CLIENTS[@]}")"
kill "$PID"
wait "$PID" 2>/dev/null || true
PID=""

# Knot: the same zone and key, updates allowed with the key, journal on (one change per message).
KNOT_PORT="$("$BUN" -e 'const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }); console.log(s.port); s.stop(true)')"
mkdir -p "$WORK/knot/db" "$WORK/knot/zones"
{
  echo "\$ORIGIN $ZONE."
  echo "@ 60 IN SOA ns1.$ZONE. hostmaster.$ZONE. 1 3600 600 604800 60"
  echo "@ 60 IN NS ns1.$ZONE."
  echo "ns1 60 IN A 127.0.0.1"
  for i in $(seq 1 8); do echo "u$i 60 IN A 10.0.0.$i"; done
} >"$WORK/knot/zones/$ZONE.zone"
cat >"$WORK/knot/knot.conf" <<CONF
server:
    rundir: "$WORK/knot"
    listen: 127.0.0.1@$KNOT_PORT
database:
    storage: "$WORK/knot/db"
key:
  - id: $KEY_NAME
    algorithm: hmac-sha256
    secret: $KEY_SECRET
acl:
  - id: update
    address: 127.0.0.1
    key: $KEY_NAME
    action: update
zone:
  - domain: $ZONE
    storage: "$WORK/knot/zones"
    file: "$ZONE.zone"
    acl: update
    journal-content: changes
    zonefile-sync: -1
CONF
knotd -c "$WORK/knot/knot.conf" >"$WORK/knot.log" 2>&1 &
KNOT_PID=$!
for _ in $(seq 1 100); do
  if dig @127.0.0.1 -p "$KNOT_PORT" "$ZONE" SOA +short +time=1 +tries=1 2>/dev/null | grep -q ns1; then break; fi
  sleep 0.1
done
KNOT="$("$BUN" scripts/bench/dns-update-load.ts "$KNOT_PORT" "$ZONE" "$KEY_NAME" hmac-sha256 "$KEY_SECRET" "$SECONDS_PER_RUN" "${CLIENTS[@]}")"

echo "ipkeep $("$EXE" --version), $(knotd -V | head -1), $(nproc) CPUs, $(uname -m); 8 clients, one signed change per UPDATE, ${SECONDS_PER_RUN} s each"
echo "ipkeep: $IPKEEP"
echo "knot:   $KNOT"
awk -v a="${IPKEEP%% *}" -v b="${KNOT%% *}" 'BEGIN { if (b > 0) printf "ratio ipkeep/knot: %.2f\n", a / b; else print "ratio ipkeep/knot: n/a" }'
