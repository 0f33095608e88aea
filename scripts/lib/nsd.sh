# shellcheck shell=bash
# Sourced by the benchmarks that run NSD beside ipkeep: `nsd_conf DIR PORT ZONE` writes
# DIR/nsd.conf for NSD serving DIR/ZONE.zone on 127.0.0.1:PORT, unprivileged, one server
# process, without response rate limiting (as ipkeep runs with --rrl-rate 0 there).
nsd_conf() {
  local dir="$1" port="$2" zone="$3"
  cat >"$dir/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1
  port: $port
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$dir"
  database: ""
  pidfile: "$dir/nsd.pid"
  xfrdfile: "$dir/xfrd.state"
  zonelistfile: "$dir/zone.list"
  logfile: "$dir/nsd.log"
  server-count: 1
  hide-version: yes
  hide-identity: yes
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: $zone
  zonefile: "$zone.zone"
CONF
}

# A UDP and TCP port nothing on this machine listens on.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    if ! ss -Hlnu "sport = :$p" | grep -q . && ! ss -Hlnt "sport = :$p" | grep -q .; then
      echo "$p"
      return
    fi
  done
}
