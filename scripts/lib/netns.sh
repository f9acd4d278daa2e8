# Network namespace helpers shared by scripts/demo, bench/e2e/run and tests/e2e/*.
# shellcheck shell=bash
#
# Everything made here is registered and removed by netns_cleanup, which the caller installs once:
#   trap netns_cleanup EXIT
# Names carry the caller's pid, so several scripts (or ctest -j) can run side by side. Every wait is
# bounded.

NETNS_TAG=${NETNS_TAG:-pk$$}
NETNS_CREATED=()
NETNS_PIDS=()
NETNS_LAST_PID=

# netns_require_root: exits 77 (ctest's skip code) with one line when not root.
netns_require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (network namespaces, TUN, raw GRE)"
    exit 77
  fi
}

# netns_name SUFFIX: this run's name for a namespace.
netns_name() {
  echo "$NETNS_TAG-$1"
}

# netns_add NS: creates the namespace with lo up.
netns_add() {
  ip netns add "$1" || return 1
  NETNS_CREATED+=("$1")
  ip -n "$1" link set lo up
}

# netns_link NS1 IF1 ADDR1/LEN NS2 IF2 ADDR2/LEN: a veth pair between two namespaces, addressed and up.
# An empty address leaves that end unaddressed (e.g. to enslave it to a bridge).
netns_link() {
  local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6
  ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" || return 1
  [ -z "$a1" ] || ip -n "$ns1" addr add "$a1" dev "$if1" || return 1
  [ -z "$a2" ] || ip -n "$ns2" addr add "$a2" dev "$if2" || return 1
  ip -n "$ns1" link set "$if1" up && ip -n "$ns2" link set "$if2" up
}

# netns_spawn LOG NS CMD...: runs CMD in NS in the background, output to LOG; its pid in NETNS_LAST_PID.
netns_spawn() {
  local log=$1 ns=$2
  shift 2
  ip netns exec "$ns" "$@" >"$log" 2>&1 &
  NETNS_LAST_PID=$!
  NETNS_PIDS+=("$NETNS_LAST_PID")
}

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds; fails after SECONDS.
wait_until() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}

# log_has FILE PATTERN: the file has a line matching the extended regular expression.
log_has() {
  grep -Eq -- "$2" "$1" 2>/dev/null
}

# alive PID
alive() {
  kill -0 "$1" 2>/dev/null
}

# netns_stop PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 5) if still running.
netns_stop() {
  local pid=$1 grace=${2:-5}
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  wait_until "$grace" eval "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

# netns_cleanup: stops what netns_spawn started, kills anything left inside our namespaces, deletes
# them (with them go their veths, bridges, TUNs and nftables rules). Safe to call more than once.
netns_cleanup() {
  local pid ns
  for pid in "${NETNS_PIDS[@]}"; do
    alive "$pid" && kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${NETNS_PIDS[@]}"; do
    wait_until 3 eval "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
  done
  for ns in "${NETNS_CREATED[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null
    done
    ip netns del "$ns" 2>/dev/null
  done
  NETNS_PIDS=()
  NETNS_CREATED=()
}

# iperf3_mbits NS SERVER SECONDS: TCP throughput from NS to an iperf3 server at SERVER, in Mbit/s
# (receiver side), printed with one decimal; fails when iperf3 does.
iperf3_mbits() {
  local ns=$1 server=$2 seconds=$3 json
  json=$(timeout $((seconds + 20)) ip netns exec "$ns" iperf3 -c "$server" -t "$seconds" -J 2>/dev/null) || return 1
  # An interrupted or failed run still prints JSON, with an "error" member: that is a failure, not a figure.
  python3 -c '
import json, sys
r = json.load(sys.stdin)
if r.get("error"):
    sys.exit("iperf3: " + r["error"])
print("%.1f" % (r["end"]["sum_received"]["bits_per_second"] / 1e6))' <<<"$json"
}

# iperf3_server NS ADDRESS LOG: starts an iperf3 server bound to ADDRESS in NS and waits until it listens.
iperf3_server() {
  local ns=$1 address=$2 log=$3
  netns_spawn "$log" "$ns" iperf3 -s -B "$address" -1
  wait_until 5 eval "ip netns exec $ns ss -ltn 2>/dev/null | grep -q '$address:5201'"
}
