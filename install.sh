#!/usr/bin/env bash
# ipkeep installer.
#
#   Primary (on the VPS itself, no code):
#     sudo ./install.sh --binary dist/ipkeep --zone dyn.example.com --ns ns1.dyn.example.com=203.0.113.53 [--ns NS2]
#   Agent or secondary (code from `ipkeep code issue` on the primary):
#     curl -fsSL https://PRIMARY/install.sh | sudo bash -s -- --code IPK-XXXXXX-XXXXXX-XXXXXX
#
# The code's lifecycle: precheck (binds the code to this machine), the operator confirms the
# hostname and public IP, activate, download + verify, install, start, wait for
# `ipkeep health`, confirm. Any failure before the confirmation releases the activation
# (EXIT trap) so the code can be used again. Run with --help for every option.
#
# Written for `set -euo pipefail`: one command per line, no `a && b` chains whose failure
# would be ignored.
set -euo pipefail

INSTALLER_VERSION="2026.11.23"
# The primary serving this script fills this in, so the one-liner needs no --primary.
DEFAULT_PRIMARY="__IPKEEP_PRIMARY_URL__"

ROOT=""
USE_SYSTEMD=1
YES=0
INSECURE=0
UNINSTALL=0
CODE=""
PRIMARY=""
ROLE=""
BINARY=""
HOST_NAME=""
PUBLIC_IP=""
URL=""
HTTP_LISTEN="0.0.0.0:80"
DNS_LISTEN="0.0.0.0:53"
PRIMARY_DNS=""
HEALTH_TIMEOUT=60
CERT_TIMEOUT=300
ZONES=()
NSS=()
HTTPS_LISTEN=()
ACME_DIRECTORY=""
ACME_EMAIL=""
ACME_CA=""

# State of this run, read by the EXIT trap.
ACTIVATION_ID=""
INSTALL_TOKEN=""
CONFIRMED=0
WROTE_CONFIG=""
STARTED=0
UPGRADING=0
TMP_DIR=""

usage() {
  cat <<'EOF'
Usage:
  install.sh --binary FILE --zone ZONE --ns NAME[=IPv4[,IPv6]] [--ns ...] [--url URL]   (primary)
  install.sh --code IPK-XXXXXX-XXXXXX-XXXXXX [--primary URL]                           (agent, secondary)
  install.sh --uninstall [--role primary|agent|secondary]

Options:
  --code CODE          install code from `ipkeep code issue` on the primary
  --primary URL        the primary's base URL (https://...; default: where this script came from)
  --role ROLE          agent or secondary (default: the code's role)
  --hostname NAME      the name to enroll (default: the code's, else <short hostname>.<first zone>)
  --public-ip IP       this machine's public address (default: as the primary sees it)
  --yes                do not ask for confirmation
  --insecure           allow an http:// primary (tests, private networks)
  --binary FILE        primary: the ipkeep executable to install (SHA256SUMS beside it is checked)
  --zone ZONE          primary: zone to serve (repeatable)
  --ns SPEC            primary: nameserver, with glue when inside the zone (repeatable)
  --url URL            primary: public base URL (https://ddns.example.com)
  --http ADDR:PORT     primary: HTTP listen address (default 0.0.0.0:80)
  --https ADDR:PORT    primary: HTTPS listen address, repeatable (default with an https:// --url:
                       0.0.0.0:443 and [::]:443, the certificate for --url's name by ACME)
  --acme-directory URL primary: ACME directory (default: Let's Encrypt's production directory)
  --acme-email ADDR    primary: contact address for the ACME account
  --acme-ca FILE       primary: extra trust roots for the ACME directory (a private CA such as Pebble)
  --cert-timeout SECS  primary: how long to wait for the certificate (default 300)
  --dns ADDR:PORT      primary/secondary: DNS listen address (default 0.0.0.0:53)
  --primary-dns ADDR   secondary: where to transfer zones from (default: the primary's host, port 53)
  --health-timeout S   seconds to wait for the service to become healthy (default 60)
  --uninstall          revoke this agent/secondary on its primary, remove binary and unit; keep data and configuration
  --root DIR           install below DIR instead of / (tests)
  --no-systemd         run the service in the background instead of through systemd (tests)
EOF
}

say() {
  printf 'ipkeep-install: %s\n' "$*" >&2
}

die() {
  local code="$1"
  shift
  say "error: $*"
  exit "$code"
}

need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then
    die 2 "$1 needs a value (see --help)"
  fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --code)
      need_value "$@"
      CODE="$2"
      shift 2
      ;;
    --primary)
      need_value "$@"
      PRIMARY="$2"
      shift 2
      ;;
    --role)
      need_value "$@"
      ROLE="$2"
      shift 2
      ;;
    --hostname)
      need_value "$@"
      HOST_NAME="$2"
      shift 2
      ;;
    --public-ip)
      need_value "$@"
      PUBLIC_IP="$2"
      shift 2
      ;;
    --binary)
      need_value "$@"
      BINARY="$2"
      shift 2
      ;;
    --zone)
      need_value "$@"
      ZONES+=("$2")
      shift 2
      ;;
    --ns)
      need_value "$@"
      NSS+=("$2")
      shift 2
      ;;
    --url)
      need_value "$@"
      URL="$2"
      shift 2
      ;;
    --http)
      need_value "$@"
      HTTP_LISTEN="$2"
      shift 2
      ;;
    --dns)
      need_value "$@"
      DNS_LISTEN="$2"
      shift 2
      ;;
    --https)
      need_value "$@"
      HTTPS_LISTEN+=("$2")
      shift 2
      ;;
    --acme-directory)
      need_value "$@"
      ACME_DIRECTORY="$2"
      shift 2
      ;;
    --acme-email)
      need_value "$@"
      ACME_EMAIL="$2"
      shift 2
      ;;
    --acme-ca)
      need_value "$@"
      ACME_CA="$2"
      shift 2
      ;;
    --cert-timeout)
      need_value "$@"
      CERT_TIMEOUT="$2"
      shift 2
      ;;
    --primary-dns)
      need_value "$@"
      PRIMARY_DNS="$2"
      shift 2
      ;;
    --health-timeout)
      need_value "$@"
      HEALTH_TIMEOUT="$2"
      shift 2
      ;;
    --root)
      need_value "$@"
      ROOT="${2%/}"
      shift 2
      ;;
    --yes|-y)
      YES=1
      shift
      ;;
    --insecure)
      INSECURE=1
      shift
      ;;
    --uninstall)
      UNINSTALL=1
      shift
      ;;
    --no-systemd)
      USE_SYSTEMD=0
      shift
      ;;
    --help|-h)
      usage
      exit 0
      ;;
    *)
      die 2 "unknown option $1 (see --help)"
      ;;
  esac
done

if ! [[ "$HEALTH_TIMEOUT" =~ ^[0-9]+$ ]]; then
  die 2 "--health-timeout must be a number of seconds"
fi
if ! [[ "$CERT_TIMEOUT" =~ ^[0-9]+$ ]]; then
  die 2 "--cert-timeout must be a number of seconds"
fi

BIN_DIR="$ROOT/usr/local/bin"
BIN="$BIN_DIR/ipkeep"
LIB_DIR="$ROOT/usr/local/lib/ipkeep"
ETC_DIR="$ROOT/etc/ipkeep"
UNIT_DIR="$ROOT/etc/systemd/system"
RUN_DIR="$ROOT/run/ipkeep"
LOG_DIR="$ROOT/var/log/ipkeep"

unit_of() {
  case "$1" in
    primary) printf 'ipkeep.service' ;;
    agent) printf 'ipkeep-agent.service' ;;
    secondary) printf 'ipkeep-secondary.service' ;;
    *)
      die 2 "unknown role $1"
      ;;
  esac
}

state_of() {
  case "$1" in
    primary) printf '%s/var/lib/ipkeep' "$ROOT" ;;
    agent) printf '%s/var/lib/ipkeep-agent' "$ROOT" ;;
    secondary) printf '%s/var/lib/ipkeep-secondary' "$ROOT" ;;
  esac
}

config_of() {
  case "$1" in
    primary) printf '%s/ipkeep.toml' "$ETC_DIR" ;;
    agent) printf '%s/agent.json' "$ETC_DIR" ;;
    secondary) printf '%s/secondary.json' "$ETC_DIR" ;;
  esac
}

# --- HTTP with the primary ------------------------------------------------------------

CURL_OPTS=(--silent --show-error --max-time 30 --proto '=https,http')
RESPONSE=""
HTTP_STATUS=""

api() {
  local method="$1" path="$2" body="${3:-}" out
  if [ -n "$body" ]; then
    out="$(curl "${CURL_OPTS[@]}" -X "$method" -H 'content-type: application/json' --data "$body" -w '\n%{http_code}' "$PRIMARY$path")" || return 1
  else
    out="$(curl "${CURL_OPTS[@]}" -X "$method" -w '\n%{http_code}' "$PRIMARY$path")" || return 1
  fi
  HTTP_STATUS="${out##*$'\n'}"
  RESPONSE="${out%$'\n'*}"
}

# A string field of the last response (our JSON is compact; these values never hold quotes).
json_str() {
  local v
  v="$(printf '%s' "$2" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p")"
  printf '%s' "${v%%$'\n'*}"
}

api_error() {
  local code message
  code="$(json_str code "$RESPONSE")"
  message="$(json_str message "$RESPONSE")"
  printf '%s (%s, HTTP %s)' "${message:-unexpected answer}" "${code:-no code}" "$HTTP_STATUS"
}

# --- checks -----------------------------------------------------------------------------

check_root() {
  if [ -n "$ROOT" ]; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    die 1 "run me as root: curl ... | sudo bash -s -- ..."
  fi
}

check_systemd() {
  if [ "$USE_SYSTEMD" = 0 ]; then
    return 0
  fi
  if ! command -v systemctl >/dev/null 2>&1; then
    die 1 "systemd is required (systemctl not found); --no-systemd runs the service without it"
  fi
  if [ ! -d /run/systemd/system ]; then
    die 1 "systemd is not running on this machine; --no-systemd runs the service without it"
  fi
}

ARCH=""
check_arch() {
  ARCH="$(uname -m)"
  case "$ARCH" in
    x86_64|amd64|aarch64|arm64) ;;
    *)
      die 1 "unsupported architecture $ARCH (ipkeep runs on x86_64 and aarch64)"
      ;;
  esac
}

port_of() {
  printf '%s' "${1##*:}"
}

# Refuses a listen port somebody else holds; port 53 held by systemd-resolved gets the fix.
check_port() {
  local port="$1" users
  if [ "$port" = 0 ]; then
    return 0
  fi
  if ! command -v ss >/dev/null 2>&1; then
    say "warning: ss not found; not checking whether port $port is free"
    return 0
  fi
  users="$(ss -Hlntup "sport = :$port" 2>/dev/null || true)"
  if [ -z "$users" ]; then
    return 0
  fi
  if [ "$port" = 53 ] && printf '%s' "$users" | grep -q 'systemd-resolve'; then
    say "port 53 is taken by systemd-resolved's stub listener (127.0.0.53). To free it:"
    say "  set DNSStubListener=no in /etc/systemd/resolved.conf, then: systemctl restart systemd-resolved"
    say "  and point /etc/resolv.conf at /run/systemd/resolve/resolv.conf"
    die 1 "port 53 is in use"
  fi
  die 1 "port $port is in use: $(printf '%s' "$users" | head -n 1)"
}

service_running() {
  local role="$1" pid_file
  if [ "$USE_SYSTEMD" = 1 ]; then
    systemctl is-active --quiet "$(unit_of "$role")"
    return
  fi
  pid_file="$RUN_DIR/$(unit_of "$role").pid"
  if [ ! -f "$pid_file" ]; then
    return 1
  fi
  kill -0 "$(cat "$pid_file")" 2>/dev/null
}

# --- service control ----------------------------------------------------------------------

install_unit() {
  local role="$1" unit file
  unit="$(unit_of "$role")"
  file="$UNIT_DIR/$unit"
  mkdir -p "$UNIT_DIR"
  "$BIN" print-unit "$role" >"$file.new"
  if [ -f "$file" ] && cmp -s "$file.new" "$file"; then
    rm -f "$file.new"
    return 0
  fi
  mv -f "$file.new" "$file"
  say "installed $file"
  if [ "$USE_SYSTEMD" = 1 ]; then
    systemctl daemon-reload
  fi
}

stop_service() {
  local role="$1" pid_file pid
  if [ "$USE_SYSTEMD" = 1 ]; then
    systemctl stop "$(unit_of "$role")" 2>/dev/null || true
    return 0
  fi
  pid_file="$RUN_DIR/$(unit_of "$role").pid"
  if [ ! -f "$pid_file" ]; then
    return 0
  fi
  pid="$(cat "$pid_file")"
  kill "$pid" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pid_file"
}

start_service() {
  local role="$1" unit state config
  unit="$(unit_of "$role")"
  state="$(state_of "$role")"
  config="$(config_of "$role")"
  STARTED=1
  if [ "$USE_SYSTEMD" = 1 ]; then
    systemctl enable --quiet "$unit"
    systemctl restart "$unit"
    return 0
  fi
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$state"
  case "$role" in
    primary)
      nohup "$BIN" --config "$config" serve --data "$state" </dev/null >>"$LOG_DIR/$unit.log" 2>&1 &
      ;;
    agent)
      IPKEEP_NODE_CONFIG="$config" nohup "$BIN" agent --state "$state" </dev/null >>"$LOG_DIR/$unit.log" 2>&1 &
      ;;
    secondary)
      IPKEEP_CONFIG="$ETC_DIR/secondary.toml" IPKEEP_NODE_CONFIG="$config" nohup "$BIN" secondary --data "$state" </dev/null >>"$LOG_DIR/$unit.log" 2>&1 &
      ;;
  esac
  printf '%s\n' "$!" >"$RUN_DIR/$unit.pid"
}

health_once() {
  local role="$1"
  # Fault injection for the installer's own tests: a health check that never passes.
  if [ "${IPKEEP_INSTALL_FAULT:-}" = "health" ]; then
    return 1
  fi
  if [ "$role" = primary ]; then
    "$BIN" --config "$(config_of primary)" --data "$(state_of primary)" health --role primary >/dev/null 2>&1
    return
  fi
  IPKEEP_NODE_CONFIG="$(config_of "$role")" "$BIN" health --role "$role" >/dev/null 2>&1
}

wait_healthy() {
  local role="$1" tries
  tries=$((HEALTH_TIMEOUT * 2))
  while [ "$tries" -gt 0 ]; do
    if health_once "$role"; then
      return 0
    fi
    sleep 0.5
    tries=$((tries - 1))
  done
  if health_once "$role"; then
    return 0
  fi
  # Once more, showing why.
  if [ "$role" = primary ]; then
    "$BIN" --config "$(config_of primary)" --data "$(state_of primary)" health --role primary || true
  else
    IPKEEP_NODE_CONFIG="$(config_of "$role")" "$BIN" health --role "$role" || true
  fi
  return 1
}

# --- binary, upgrade, rollback --------------------------------------------------------------

BACKUPS=()

# Copies every database of the role aside before a new binary opens it (migrations run at start).
backup_databases() {
  local state="$1" db
  BACKUPS=()
  for db in "$state"/*.db; do
    if [ ! -f "$db" ]; then
      continue
    fi
    cp -p "$db" "$db.pre-upgrade"
    if [ -f "$db-wal" ]; then
      cp -p "$db-wal" "$db-wal.pre-upgrade"
    fi
    BACKUPS+=("$db")
    say "database copied aside: $db.pre-upgrade"
  done
}

restore_databases() {
  local db
  for db in "${BACKUPS[@]}"; do
    cp -p "$db.pre-upgrade" "$db"
    rm -f "$db-shm"
    if [ -f "$db-wal.pre-upgrade" ]; then
      cp -p "$db-wal.pre-upgrade" "$db-wal"
    else
      rm -f "$db-wal"
    fi
    say "database restored: $db"
  done
}

# Installs $1 as $BIN atomically; keeps the old one for a rollback. Sets BINARY_CHANGED.
BINARY_CHANGED=0
install_binary() {
  local src="$1"
  mkdir -p "$BIN_DIR"
  if [ -f "$BIN" ] && cmp -s "$src" "$BIN"; then
    BINARY_CHANGED=0
    return 0
  fi
  BINARY_CHANGED=1
  if [ -f "$BIN" ]; then
    cp -p "$BIN" "$BIN.previous"
  fi
  install -m 0755 "$src" "$BIN.new"
  mv -f "$BIN.new" "$BIN"
  say "installed $BIN"
}

rollback() {
  local role="$1"
  say "rolling back to the previous binary and database"
  stop_service "$role"
  if [ -f "$BIN.previous" ]; then
    mv -f "$BIN.previous" "$BIN"
  fi
  restore_databases
  start_service "$role"
}

# --- EXIT trap -------------------------------------------------------------------------------

on_exit() {
  local rc=$?
  set +e
  if [ "$rc" -ne 0 ] && [ "$CONFIRMED" = 0 ]; then
    if [ -n "$ACTIVATION_ID" ]; then
      say "install failed: releasing activation $ACTIVATION_ID so the code can be used again"
      if api POST /api/v2/install/release "{\"activation_id\":\"$ACTIVATION_ID\"}" && [ "$HTTP_STATUS" = 200 ]; then
        say "released; the install code is usable again on this machine"
      else
        say "release failed: $(api_error)"
      fi
    fi
    if [ "$UPGRADING" = 1 ] && [ -n "$ROLE" ]; then
      rollback "$ROLE"
    elif [ "$STARTED" = 1 ] && [ -n "$ROLE" ]; then
      stop_service "$ROLE"
    fi
    if [ -n "$WROTE_CONFIG" ]; then
      rm -f "$WROTE_CONFIG"
      if [ "$ROLE" = secondary ]; then
        rm -f "$ETC_DIR/secondary.toml"
      fi
    fi
  fi
  if [ -n "$TMP_DIR" ]; then
    rm -rf "$TMP_DIR"
  fi
  exit "$rc"
}
trap on_exit EXIT

TMP_DIR="$(mktemp -d)"

# --- uninstall -----------------------------------------------------------------------------

# An enrolled node takes itself out on the primary before it goes (POST /revoke with its node
# token): its TSIG key, node and update tokens stop working, and a secondary leaves the NS sets
# and NOTIFY targets. The primary being unreachable does not stop the uninstall: say what to do.
revoke_self() {
  local config="$1" content primary token status
  content="$(cat "$config" 2>/dev/null || true)"
  primary="$(json_str primary_url "$content")"
  token="$(json_str node_token "$content")"
  if [ -z "$primary" ] || [ -z "$token" ]; then
    say "warning: $config names no primary or node token; revoke this machine there (ipkeep node revoke ID)"
    return 0
  fi
  # The token goes in a header read from stdin, not on the command line (ps would show it).
  status="$(curl "${CURL_OPTS[@]}" -o /dev/null -w '%{http_code}' -X POST -H @- -H 'content-type: application/json' --data '{}' "$primary/revoke" <<<"authorization: Bearer $token")" || status=""
  case "$status" in
    200) say "revoked this machine on $primary" ;;
    403) say "this machine was already revoked on $primary" ;;
    *) say "warning: could not revoke this machine on $primary (HTTP ${status:-none}); run ipkeep node list / node revoke ID there" ;;
  esac
}

do_uninstall() {
  local roles=() role unit
  if [ -n "$ROLE" ]; then
    roles=("$ROLE")
  else
    roles=(primary agent secondary)
  fi
  for role in "${roles[@]}"; do
    unit="$(unit_of "$role")"
    if [ ! -f "$UNIT_DIR/$unit" ] && [ ! -f "$(config_of "$role")" ]; then
      continue
    fi
    stop_service "$role"
    if [ "$role" != primary ] && [ -f "$(config_of "$role")" ]; then
      revoke_self "$(config_of "$role")"
    fi
    if [ "$USE_SYSTEMD" = 1 ]; then
      systemctl disable --quiet "$unit" 2>/dev/null || true
    fi
    rm -f "$UNIT_DIR/$unit"
    say "removed $unit (data in $(state_of "$role") and $(config_of "$role") kept)"
  done
  if [ "$USE_SYSTEMD" = 1 ]; then
    systemctl daemon-reload
  fi
  rm -f "$BIN" "$BIN.previous" "$BIN.new"
  rm -rf "$LIB_DIR"
  say "removed $BIN"
}

if [ "$UNINSTALL" = 1 ]; then
  check_root
  do_uninstall
  exit 0
fi

# --- primary -------------------------------------------------------------------------------

install_primary() {
  local dir state config upgrade=0 f
  ROLE=primary
  if [ -z "$BINARY" ] || [ ! -f "$BINARY" ]; then
    die 2 "--binary FILE: the ipkeep executable to install (from npm run build)"
  fi
  if [ "${#ZONES[@]}" -eq 0 ] || [ "${#NSS[@]}" -eq 0 ]; then
    die 2 "a primary needs --zone ZONE and --ns NAME[=IP] (repeatable)"
  fi
  check_root
  check_systemd
  check_arch
  dir="$(cd "$(dirname "$BINARY")" && pwd)"
  if [ -f "$dir/SHA256SUMS" ]; then
    if ! (cd "$dir" && grep " $(basename "$BINARY")\$" SHA256SUMS | sha256sum --check --status); then
      die 1 "$BINARY does not match $dir/SHA256SUMS"
    fi
  fi
  state="$(state_of primary)"
  config="$(config_of primary)"
  # An https:// --url gets HTTPS of its own: a certificate for its name by ACME (DNS-01 from its
  # own nameserver when the name is in a served zone), HTTP stays for routers.
  if [[ "$URL" == https://* ]] && [ "${#HTTPS_LISTEN[@]}" -eq 0 ]; then
    HTTPS_LISTEN=("0.0.0.0:443" "[::]:443")
  fi
  if [ -n "$ACME_CA" ] && [ ! -f "$ACME_CA" ]; then
    die 2 "--acme-ca $ACME_CA: no such file"
  fi
  if ! service_running primary; then
    check_port "$(port_of "$HTTP_LISTEN")"
    check_port "$(port_of "$DNS_LISTEN")"
    for f in "${HTTPS_LISTEN[@]}"; do
      check_port "$(port_of "$f")"
    done
  fi
  if [ -f "$BIN" ] && ! cmp -s "$BINARY" "$BIN"; then
    upgrade=1
  fi
  if [ "$upgrade" = 1 ]; then
    say "upgrading: stopping the running primary and copying its database aside"
    stop_service primary
    backup_databases "$state"
    UPGRADING=1
  fi
  install_binary "$BINARY"
  # What this primary hands to agents and secondaries, where `serve` looks for it.
  mkdir -p "$LIB_DIR"
  for f in "$dir"/ipkeep-linux-* "$dir/SHA256SUMS" "$dir/install.sh"; do
    if [ -f "$f" ] && ! cmp -s "$f" "$LIB_DIR/$(basename "$f")"; then
      install -m 0755 "$f" "$LIB_DIR/$(basename "$f").new"
      mv -f "$LIB_DIR/$(basename "$f").new" "$LIB_DIR/$(basename "$f")"
    fi
  done
  mkdir -p "$ETC_DIR" "$state"
  chmod 0700 "$state"
  if [ ! -f "$config" ]; then
    {
      printf '# ipkeep primary (written by install.sh; never overwritten by it)\n'
      printf 'http = ["%s"]\n' "$HTTP_LISTEN"
      printf 'dns = ["%s"]\n' "$DNS_LISTEN"
      if [ -n "$URL" ]; then
        printf 'url = "%s"\n' "$URL"
      fi
      if [ "${#HTTPS_LISTEN[@]}" -gt 0 ]; then
        printf 'https = [%s]\n' "$(printf '"%s", ' "${HTTPS_LISTEN[@]}" | sed 's/, $//')"
      fi
      if [ -n "$ACME_DIRECTORY" ]; then
        printf 'acme-directory = "%s"\n' "$ACME_DIRECTORY"
      fi
      if [ -n "$ACME_EMAIL" ]; then
        printf 'acme-email = "%s"\n' "$ACME_EMAIL"
      fi
      if [ -n "$ACME_CA" ]; then
        printf 'acme-ca = "%s"\n' "$(cd "$(dirname "$ACME_CA")" && pwd)/$(basename "$ACME_CA")"
      fi
    } >"$config.new"
    chmod 0644 "$config.new"
    mv -f "$config.new" "$config"
    say "wrote $config"
  fi
  local init_args=(--config "$config" --data "$state" init)
  for f in "${ZONES[@]}"; do
    init_args+=(--zone "$f")
  done
  for f in "${NSS[@]}"; do
    init_args+=(--ns "$f")
  done
  if [ -n "$URL" ]; then
    init_args+=(--url "$URL")
  fi
  local init_out link=""
  init_out="$("$BIN" "${init_args[@]}")"
  printf '%s\n' "$init_out"
  link="$(printf '%s\n' "$init_out" | grep -o 'https://[^[:space:]]*/setup#[^[:space:]]*' | head -n 1 || true)"
  install_unit primary
  if [ "$BINARY_CHANGED" = 1 ] || ! service_running primary; then
    start_service primary
  fi
  if ! wait_healthy primary; then
    die 1 "the primary did not become healthy within ${HEALTH_TIMEOUT}s"
  fi
  UPGRADING=0
  rm -f "$BIN.previous"
  say "primary healthy: HTTP on $HTTP_LISTEN, DNS on $DNS_LISTEN"
  if [ "${#HTTPS_LISTEN[@]}" -gt 0 ] && [[ "$URL" == https://* ]]; then
    wait_certificate
  fi
  if [ -n "$link" ]; then
    say "open this link (once, within 30 minutes) to create the first admin: $link"
  fi
}

# The primary opens HTTPS when its certificate has arrived: asked here on its own address
# (-k: only whether the listener answers; nothing secret is sent).
https_up() {
  local listen="${HTTPS_LISTEN[0]}" host port name
  port="$(port_of "$listen")"
  host="${listen%:*}"
  host="${host#[}"
  host="${host%]}"
  case "$host" in
    0.0.0.0 | "") host=127.0.0.1 ;;
    ::) host=::1 ;;
  esac
  name="${URL#https://}"
  name="${name%%/*}"
  name="${name%:*}"
  curl -ks --max-time 3 -o /dev/null --resolve "$name:$port:$host" "https://$name:$port/api/v2/healthz"
}

wait_certificate() {
  local waited=0 name why
  name="${URL#https://}"
  name="${name%%/*}"
  name="${name%:*}"
  while ! https_up; do
    if [ "$waited" -ge "$CERT_TIMEOUT" ]; then
      why=""
      if [ "$USE_SYSTEMD" = 1 ]; then
        why="$(journalctl -u ipkeep.service -n 200 --no-pager 2>/dev/null | grep -o 'could not get a certificate[^"]*' | tail -n 1 || true)"
      else
        why="$(grep -o 'could not get a certificate[^"]*' "$LOG_DIR/ipkeep.service.log" 2>/dev/null | tail -n 1 || true)"
      fi
      say "no certificate for $name after ${CERT_TIMEOUT}s${why:+: $why}"
      say "the primary keeps trying in the background and HTTP keeps serving routers; the usual cause is"
      say "a delegation that is not in place yet (the NS and glue lines above, at your registrar): check it with"
      say "  ipkeep doctor --data $(state_of primary)"
      say "and run this installer again (it changes nothing else) to wait for the certificate."
      if [ -n "$link" ]; then
        say "the setup link works once the certificate is there: $link"
      fi
      # Installed and healthy: the EXIT trap must not stop it.
      STARTED=0
      exit 3
    fi
    if [ $((waited % 5)) -eq 0 ]; then
      say "waiting for the certificate for $name from the CA (${waited}s of ${CERT_TIMEOUT}s)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "HTTPS ready: $URL has its certificate"
}

# --- agent / secondary ---------------------------------------------------------------------

machine_id() {
  local f="$ROOT/etc/machine-id"
  if [ ! -s "$f" ]; then
    die 1 "$f is missing: cannot identify this machine"
  fi
  tr -d '[:space:]' <"$f"
}

ssh_fingerprint() {
  local root_etc="$ROOT/etc/ssh" key
  if ! command -v ssh-keygen >/dev/null 2>&1; then
    return 0
  fi
  for key in "$root_etc/ssh_host_ed25519_key.pub" "$root_etc/ssh_host_ecdsa_key.pub" "$root_etc/ssh_host_rsa_key.pub"; do
    if [ -f "$key" ]; then
      ssh-keygen -E sha256 -lf "$key" | awk '{print $2}'
      return 0
    fi
  done
}

# `ipkeep secondary` reads its settings (primary, TSIG key, zones, listen address) from a TOML
# config; the node credentials stay in secondary.json.
write_secondary_toml() {
  local data="$1" file="$ETC_DIR/secondary.toml" zones tsig_name tsig_secret from host
  if [ -f "$file" ]; then
    say "keeping the existing $file"
    return 0
  fi
  zones="$(printf '%s' "$data" | sed -n 's/.*"zones":\(\[[^]]*\]\).*/\1/p')"
  tsig_name="$(json_str name "$data")"
  tsig_secret="$(json_str secret "$data")"
  from="$PRIMARY_DNS"
  if [ -z "$from" ]; then
    host="${PRIMARY#*://}"
    host="${host%%/*}"
    host="${host%:*}"
    from="$host:53"
  fi
  (
    umask 077
    {
      printf '# ipkeep secondary (written by install.sh; never overwritten by it)\n'
      printf 'primary = "%s"\n' "$from"
      printf 'tsig-key = ["%s:%s"]\n' "$tsig_name" "$tsig_secret"
      printf 'zone = %s\n' "${zones:-[]}"
      printf 'dns = ["%s"]\n' "$DNS_LISTEN"
    } >"$file.new"
  )
  mv -f "$file.new" "$file"
  say "wrote $file"
}

install_node() {
  local mid fp body product bound first_zone detected data sha got config state unit
  check_root
  check_systemd
  check_arch
  PRIMARY="${PRIMARY:-$DEFAULT_PRIMARY}"
  if [ -z "$PRIMARY" ] || [ "$PRIMARY" = "__IPKEEP_PRIMARY""_URL__" ]; then
    die 2 "--primary URL is required (the primary's https:// address)"
  fi
  PRIMARY="${PRIMARY%/}"
  case "$PRIMARY" in
    https://*) ;;
    http://*)
      if [ "$INSECURE" != 1 ]; then
        die 2 "refusing the plain-http primary $PRIMARY: codes and tokens would cross the network in clear (--insecure to insist)"
      fi
      ;;
    *)
      die 2 "--primary must be an https:// URL"
      ;;
  esac
  if ! [[ "$CODE" =~ ^[A-Za-z0-9-]{10,40}$ ]]; then
    die 2 "--code must look like IPK-XXXXXX-XXXXXX-XXXXXX"
  fi
  if [ -n "$ROLE" ] && [ "$ROLE" != agent ] && [ "$ROLE" != secondary ]; then
    die 2 "--role must be agent or secondary"
  fi

  # Re-running on an enrolled machine changes nothing.
  for product in agent secondary; do
    if [ -f "$(config_of "$product")" ] && [ -x "$BIN" ]; then
      if [ -z "$ROLE" ] || [ "$ROLE" = "$product" ]; then
        ROLE="$product"
        say "this machine is already enrolled as $product ($(config_of "$product")); nothing to do"
        say "(install.sh --uninstall removes it; its data stays)"
        if ! service_running "$product"; then
          say "warning: the $product service is not running"
        fi
        exit 0
      fi
    fi
  done

  mid="$(machine_id)"
  fp="$(ssh_fingerprint)"
  if [ -z "$fp" ]; then
    say "no SSH host key found: the code is bound to /etc/machine-id alone"
  fi
  body="{\"install_code\":\"$CODE\",\"machine_id\":\"$mid\",\"ssh_fingerprint\":\"$fp\",\"installer_version\":\"$INSTALLER_VERSION\""
  if [ -n "$ROLE" ]; then
    body="$body,\"product\":\"$ROLE\""
  fi
  body="$body}"
  if ! api POST /api/v2/install/precheck "$body"; then
    die 1 "cannot reach the primary at $PRIMARY"
  fi
  if [ "$HTTP_STATUS" != 200 ]; then
    die 1 "precheck refused: $(api_error)"
  fi
  PRECHECK_TOKEN="$(json_str precheck_token "$RESPONSE")"
  ROLE="$(json_str product "$RESPONSE")"
  bound="$(json_str hostname "$RESPONSE")"
  detected="$(json_str detected_public_ip "$RESPONSE")"
  first_zone="$(printf '%s' "$RESPONSE" | sed -n 's/.*"zones":\["\([^"]*\)".*/\1/p')"
  say "code valid for a $ROLE; bound to this machine"

  if [ -n "$ROLE" ] && [ "$ROLE" = secondary ]; then
    check_port "$(port_of "$DNS_LISTEN")"
  fi
  if [ -z "$HOST_NAME" ]; then
    if [ -n "$bound" ]; then
      HOST_NAME="$bound"
    elif [ -n "$first_zone" ]; then
      HOST_NAME="$(hostname -s).$first_zone"
    else
      die 1 "the primary serves no zone yet; pass --hostname"
    fi
  fi
  HOST_NAME="$(printf '%s' "$HOST_NAME" | tr '[:upper:]' '[:lower:]')"
  if ! [[ "$HOST_NAME" =~ ^[a-z0-9.-]{1,253}$ ]]; then
    die 2 "invalid hostname $HOST_NAME"
  fi
  PUBLIC_IP="${PUBLIC_IP:-$detected}"
  if ! [[ "$PUBLIC_IP" =~ ^[0-9A-Fa-f:.]{2,45}$ ]]; then
    die 2 "could not detect this machine's public IP; pass --public-ip"
  fi

  say "hostname:  $HOST_NAME"
  say "public IP: $PUBLIC_IP"
  if [ "$YES" != 1 ]; then
    if ! (: </dev/tty) 2>/dev/null; then
      say "no terminal to ask on, and --yes not given: stopping after the precheck."
      say "re-run with --yes to accept the above (or --hostname / --public-ip to change it)"
      exit 2
    fi
    local answer=""
    printf 'Enroll this machine as %s %s with public IP %s? [y/N] ' "$ROLE" "$HOST_NAME" "$PUBLIC_IP" >/dev/tty
    read -r answer </dev/tty || answer=""
    case "$answer" in
      y|Y|yes|YES) ;;
      *) die 1 "cancelled by the operator" ;;
    esac
  fi

  body="{\"install_code\":\"$CODE\",\"precheck_token\":\"$PRECHECK_TOKEN\",\"hostname\":\"$HOST_NAME\",\"public_ip\":\"$PUBLIC_IP\",\"machine_id\":\"$mid\",\"ssh_fingerprint\":\"$fp\",\"arch\":\"$ARCH\",\"installer_version\":\"$INSTALLER_VERSION\""
  if [ "$ROLE" = secondary ] && [[ "$(port_of "$DNS_LISTEN")" =~ ^[0-9]+$ ]]; then
    body="$body,\"dns_port\":$(port_of "$DNS_LISTEN")"
  fi
  body="$body}"
  if ! api POST /api/v2/install/activate "$body"; then
    die 1 "cannot reach the primary at $PRIMARY"
  fi
  if [ "$HTTP_STATUS" != 200 ]; then
    die 1 "activation refused: $(api_error)"
  fi
  ACTIVATION_ID="$(json_str activation_id "$RESPONSE")"
  INSTALL_TOKEN="$(json_str install_token "$RESPONSE")"
  sha="$(json_str sha256 "$RESPONSE")"
  # The activation's data object, kept whole as the node's configuration.
  data="${RESPONSE#\{\"data\":}"
  data="${data%,\"meta\":*}"
  say "activated ($ACTIVATION_ID)"

  if ! curl "${CURL_OPTS[@]}" --fail --location -o "$TMP_DIR/ipkeep" "$PRIMARY/download/ipkeep?arch=$ARCH"; then
    die 1 "download of the ipkeep executable failed"
  fi
  got="$(sha256sum "$TMP_DIR/ipkeep" | cut -d' ' -f1)"
  if [ -z "$sha" ] || [ "$got" != "$sha" ]; then
    die 1 "checksum mismatch for the downloaded executable (expected ${sha:-none}, got $got)"
  fi
  say "downloaded and verified the executable (sha256 $got)"

  state="$(state_of "$ROLE")"
  config="$(config_of "$ROLE")"
  unit="$(unit_of "$ROLE")"
  if service_running "$ROLE"; then
    stop_service "$ROLE"
  fi
  if [ -f "$BIN" ] && ! cmp -s "$TMP_DIR/ipkeep" "$BIN"; then
    backup_databases "$state"
    UPGRADING=1
  fi
  install_binary "$TMP_DIR/ipkeep"
  mkdir -p "$ETC_DIR" "$state"
  chmod 0700 "$state"
  if [ -f "$config" ]; then
    say "keeping the existing $config"
  else
    (
      umask 077
      printf '{"role":"%s","primary_url":"%s","primary_dns":"%s","dns_listen":"%s","installed_by":"install.sh %s","activation":%s}\n' \
        "$ROLE" "$PRIMARY" "$PRIMARY_DNS" "$DNS_LISTEN" "$INSTALLER_VERSION" "$data" >"$config.new"
    )
    mv -f "$config.new" "$config"
    WROTE_CONFIG="$config"
    say "wrote $config"
  fi
  if [ "$ROLE" = secondary ]; then
    write_secondary_toml "$data"
  fi
  install_unit "$ROLE"
  start_service "$ROLE"
  say "started $unit; waiting for it to become healthy"
  if ! wait_healthy "$ROLE"; then
    die 1 "the $ROLE did not become healthy within ${HEALTH_TIMEOUT}s"
  fi
  if ! api POST /api/v2/install/confirm "{\"activation_id\":\"$ACTIVATION_ID\",\"install_token\":\"$INSTALL_TOKEN\"}"; then
    die 1 "cannot reach the primary to confirm"
  fi
  if [ "$HTTP_STATUS" != 200 ]; then
    die 1 "confirmation refused: $(api_error)"
  fi
  CONFIRMED=1
  UPGRADING=0
  rm -f "$BIN.previous"
  say "enrolled as $ROLE $HOST_NAME; $unit is running"
}

if [ -n "$BINARY" ] || [ "${#ZONES[@]}" -gt 0 ]; then
  install_primary
elif [ -n "$CODE" ]; then
  install_node
else
  usage >&2
  exit 2
fi
