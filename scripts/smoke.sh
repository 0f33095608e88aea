#!/usr/bin/env bash
# Smoke test of a built executable: version, init, host add, serve on free ports, one update
# over HTTP, the new address seen by dig. Stops the server by PID whatever happens.
set -euo pipefail
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

"$EXE" --data "$WORK/data" serve --http 127.0.0.1:0 --dns 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  if grep -q 'msg="http listening"' "$WORK/serve.log" && grep -q 'msg="dns listening"' "$WORK/serve.log"; then break; fi
  sleep 0.1
done
HTTP_PORT="$(sed -n 's/.*msg="http listening" addr=127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/serve.log" | head -1)"
DNS_PORT="$(sed -n 's/.*msg="dns listening" addr=127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/serve.log" | head -1)"
if [ -z "$HTTP_PORT" ] || [ -z "$DNS_PORT" ]; then
  cat "$WORK/serve.log" >&2
  echo "smoke: server did not start" >&2
  exit 1
fi

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
HEALTH="$(curl -sS "http://127.0.0.1:$HTTP_PORT/api/v2/healthz")"
case "$HEALTH" in
  *'"status":"ok"'*) ;;
  *) echo "smoke: healthz answered '$HEALTH'" >&2; exit 1 ;;
esac
kill -TERM "$PID"
wait "$PID"
PID=""
echo "smoke: update answered '$BODY', dig answered '$ANSWER', clean shutdown"
