# shellcheck shell=bash
# Sourced by scripts that start the executable: `start_serve EXE DATA LOG [ARGS...]` runs
# `EXE --data DATA serve` on free loopback ports and sets PID, HTTP_PORT and DNS_PORT from its
# log. It fails (with the log) when the server has not announced both listeners in
# START_TIMEOUT seconds (default 10; a zone of a million hosts takes longer).
# The caller stops the server by $PID.
start_serve() {
  local exe="$1" data="$2" logfile="$3"
  shift 3
  "$exe" --data "$data" serve --http 127.0.0.1:0 --dns 127.0.0.1:0 "$@" >"$logfile" 2>&1 &
  # shellcheck disable=SC2034 # read by the sourcing script
  PID=$!
  for _ in $(seq 1 $((${START_TIMEOUT:-10} * 10))); do
    if grep -q 'msg="http listening"' "$logfile" && grep -q 'msg="dns listening"' "$logfile"; then break; fi
    sleep 0.1
  done
  HTTP_PORT="$(sed -n 's/.*msg="http listening" addr=127.0.0.1:\([0-9]*\).*/\1/p' "$logfile" | head -1)"
  DNS_PORT="$(sed -n 's/.*msg="dns listening" addr=127.0.0.1:\([0-9]*\).*/\1/p' "$logfile" | head -1)"
  if [ -z "$HTTP_PORT" ] || [ -z "$DNS_PORT" ]; then
    cat "$logfile" >&2
    echo "$(basename "$0"): server did not start" >&2
    return 1
  fi
}
