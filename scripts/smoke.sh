#!/usr/bin/env bash
# Smoke test of a built executable: version, init, host add, serve on free ports, one update
# over HTTP, the new address seen by dig. Stops the server by PID whatever happens.
set -euo pipefail
# shellcheck source=scripts/lib/serve.sh
source "$(dirname "$0")/lib/serve.sh"
EXE="$(realpath "${1:-dist/ipkeep}")"
WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$EXE" --version
"$EXE" --data "$WORK/data" init --zone smoke.example.com --ns ns1.smoke.example.com=127.0.0.1 >/dev/null
TOKEN="$("$EXE" --data "$WORK/data" host add home.smoke.example.com --owner smoke@example.com --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token.tokenValue))')"

start_serve "$EXE" "$WORK/data" "$WORK/serve.log"

BODY="$(curl -sS -u "token:$TOKEN" "http://127.0.0.1:$HTTP_PORT/nic/update?hostname=home.smoke.example.com&myip=203.0.113.77")"
if [ "$BODY" != "good 203.0.113.77" ]; then
  echo "smoke: update answered '$BODY'" >&2
  exit 1
fi
ANSWER="$(dig @127.0.0.1 -p "$DNS_PORT" home.smoke.example.com A +short +time=2 +tries=1)"
if [ "$ANSWER" != "203.0.113.77" ]; then
  echo "smoke: dig answered '$ANSWER'" >&2
  exit 1
fi
# UDP came from the DNS thread (its entry point is inside the executable).
if ! grep -q 'msg="dns listening".*udp=thread' "$WORK/serve.log"; then
  echo "smoke: UDP is not served by the DNS thread:" >&2
  cat "$WORK/serve.log" >&2
  exit 1
fi
HEALTH="$(curl -sS "http://127.0.0.1:$HTTP_PORT/api/v2/healthz")"
case "$HEALTH" in
  *'"status":"ok"'*) ;;
  *) echo "smoke: healthz answered '$HEALTH'" >&2; exit 1 ;;
esac
kill -TERM "$PID"
wait "$PID"
PID=""
echo "smoke: update answered '$BODY', dig answered '$ANSWER' (DNS thread), clean shutdown"
