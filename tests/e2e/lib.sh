# Shared by the end-to-end scenarios: real pptpkit processes in network namespaces.
# shellcheck shell=bash
# shellcheck disable=SC2034  # SERVER_PID, CLIENT_PID, EXIT_STATUS... are set here for the scenarios
#
# A scenario script is run as `tests/e2e/<name>.sh BUILD_DIR` (ctest does this). It sources this file,
# calls e2e_init "$@", builds its topology with the helpers below and ends with e2e_pass, or stops at
# the first e2e_fail (which prints the daemons' last log lines). Exit 0 = pass, 1 = fail, 77 = skipped
# (not root). Everything it made is removed on exit, whatever happens (netns_cleanup in the EXIT trap).
# Every wait is bounded.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/lib/common.sh
source "$E2E_ROOT/scripts/lib/common.sh"
source "$E2E_ROOT/scripts/lib/netns.sh"
source "$E2E_ROOT/scripts/lib/pptpkit.sh"

E2E_NAME=$(basename "$0" .sh)
SERVER_WAN=10.210.0.1  # the server's address on the shared link
SERVER_TUNNEL=10.98.0.1
POOL=10.98.0.100-199

# e2e_init [BUILD_DIR]: root check, the daemon's binaries, a work directory, the cleanup trap.
e2e_init() {
  netns_require_root
  E2E_BUILD=$(cd "${1:-$E2E_ROOT/build/release}" 2>/dev/null && pwd) || {
    echo "$E2E_NAME: no build directory ${1:-}"
    exit 1
  }
  PPTPKIT=$E2E_BUILD/bin/pptpkit
  if [ "${E2E_NEEDS_DAEMON:-1}" = 1 ] && ! pptpkit_available "$E2E_BUILD"; then
    echo "$E2E_NAME: pptpkit or a plugin is not built in $E2E_BUILD"
    exit 1
  fi
  E2E_WORK=$(mktemp -d "/tmp/pptpkit-e2e-$E2E_NAME.XXXXXX")
  trap 'netns_cleanup; [ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E_WORK"' EXIT
  trap 'exit 130' INT TERM
  E2E_LOGS=()
  echo "== $E2E_NAME (work dir $E2E_WORK)"
}

e2e_step() {
  echo "-- $*"
}

# e2e_fail MESSAGE: prints it and the daemons' logs, exits 1.
e2e_fail() {
  echo "FAIL $E2E_NAME: $*"
  local log
  for log in "${E2E_LOGS[@]}"; do
    show_log "$(basename "$log" .log)" "$log" 30
  done
  exit 1
}

e2e_pass() {
  echo "PASS $E2E_NAME"
  exit 0
}

# password_file USER PASSWORD: writes USER's password file (0600), which start_client gives the client.
password_file() {
  printf '%s\n' "$2" >"$E2E_WORK/$1.password"
  chmod 600 "$E2E_WORK/$1.password"
}

# secret USER PASSWORD [ADDRESS]: adds a chap-secrets line, and writes USER's password file.
secret() {
  printf '%s * %s %s\n' "$1" "$2" "${3:-*}" >>"$E2E_WORK/chap-secrets"
  chmod 600 "$E2E_WORK/chap-secrets"
  password_file "$1" "$2"
}

# two_namespaces: server and client namespaces joined by a veth (server 10.210.0.1, client .2).
two_namespaces() {
  SRV=$(netns_name srv)
  CLI=$(netns_name cli)
  netns_add "$SRV" && netns_add "$CLI" &&
    netns_link "$SRV" eth0 "$SERVER_WAN/16" "$CLI" eth0 10.210.0.2/16 || e2e_fail "could not create the namespaces"
}

# start_server NAME NS ARGS...: `pptpkit server` in NS with the common options plus ARGS; waits until it
# listens on TCP 1723. Its log is $E2E_WORK/NAME.log, its pid in SERVER_PID. E2E_SERVER_WRAP (an array),
# when set, is a command that execs the daemon (e.g. unprivileged_tun_wrap).
start_server() {
  local name=$1 ns=$2
  shift 2
  E2E_LOGS+=("$E2E_WORK/$name.log")
  netns_spawn "$E2E_WORK/$name.log" "$ns" ${E2E_SERVER_WRAP[@]+"${E2E_SERVER_WRAP[@]}"} "$PPTPKIT" server \
    --listen "$SERVER_WAN" --localip "$SERVER_TUNNEL" --remoteip "$POOL" --secrets "$E2E_WORK/chap-secrets" \
    --log-level debug "$@"
  SERVER_PID=$NETNS_LAST_PID
  wait_until 10 eval "! alive $SERVER_PID || ip netns exec $ns ss -ltn 2>/dev/null | grep -q ':1723 '" &&
    alive "$SERVER_PID" || e2e_fail "server $name did not start listening on TCP 1723"
}

# unprivileged_tun_wrap: sets E2E_SERVER_WRAP so that a daemon started with --user finds /dev/net/tun
# read-write, as Debian's udev leaves it (0666); some hosts keep it 0600. The daemon gets, in a mount
# namespace of its own, a node with Debian's mode bind-mounted over /dev/net/tun (the host's is not
# touched), and execs in place so SERVER_PID stays its pid.
unprivileged_tun_wrap() {
  mknod -m 0666 "$E2E_WORK/tun" c 10 200 || e2e_fail "mknod $E2E_WORK/tun"
  # shellcheck disable=SC2016  # $0 and $@ are the inner shell's
  E2E_SERVER_WRAP=(unshare --mount --propagation private sh -c 'mount --bind "$0" /dev/net/tun && exec "$@"'
    "$E2E_WORK/tun")
}

# start_client NAME NS USER ARGS...: `pptpkit client` in NS as USER (password from its file) plus ARGS.
# Its log is $E2E_WORK/NAME.log, its pid in CLIENT_PID.
start_client() {
  local name=$1 ns=$2 user=$3
  shift 3
  E2E_LOGS+=("$E2E_WORK/$name.log")
  netns_spawn "$E2E_WORK/$name.log" "$ns" "$PPTPKIT" client --server "${E2E_SERVER:-$SERVER_WAN}" --user "$user" \
    --password-file "$E2E_WORK/$user.password" --log-level debug "$@"
  CLIENT_PID=$NETNS_LAST_PID
}

# wait_session NAME [SECONDS]: until NAME's log has its "session up:" line (default 20 s).
wait_session() {
  wait_until "${2:-20}" log_has "$E2E_WORK/$1.log" 'session up:' || e2e_fail "$1: no session up within ${2:-20} s"
}

# exit_status PID SECONDS: waits (bounded) for a process we started to end and sets EXIT_STATUS to its
# exit status, or to "running" when it did not end in time. (Not a $(...) function: a subshell cannot
# wait for the script's children.)
exit_status() {
  local pid=$1
  if wait_until "$2" eval "! kill -0 $pid 2>/dev/null"; then
    wait "$pid" 2>/dev/null
    EXIT_STATUS=$?
  else
    EXIT_STATUS=running
  fi
}

# cpu_ms PID: the CPU time a process has used so far (utime + stime, fields 14 and 15 of /proc/PID/stat),
# in milliseconds. For "does not spin" bounds: compare two readings.
cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"
}

# ping_ok NS ADDRESS [ping options...]: 3 pings, all answered.
ping_ok() {
  local ns=$1 address=$2
  shift 2
  ip netns exec "$ns" ping -q -c 3 -i 0.2 -W 2 "$@" "$address" >"$E2E_WORK/ping.out" 2>&1 &&
    grep -q ' 0% packet loss' "$E2E_WORK/ping.out"
}

# ipv6_link_local NS IFNAME local|peer: the interface's IPv6 link-local address or its peer's.
ipv6_link_local() {
  local line
  line=$(ip -n "$1" -6 -o addr show dev "$2" scope link 2>/dev/null | head -n1)
  if [ "$3" = local ]; then
    sed -nE 's/.* inet6 ([0-9a-f:]+).*/\1/p' <<<"$line"
  else
    sed -nE 's/.* peer ([0-9a-f:]+)\/.*/\1/p' <<<"$line"
  fi
}

# nat_topology: a server on the "internet" (203.0.113.1), a router namespace with nftables masquerade
# and the kernel's PPTP conntrack/NAT helper on TCP 1723, and NAT_CLIENTS client namespaces behind it on
# 192.168.77.0/24 (a bridge in the router). Sets SRV, ROUTER and CLIENT_NS[1..n]; E2E_SERVER.
nat_topology() {
  local n=${1:-2} i
  SRV=$(netns_name srv)
  ROUTER=$(netns_name nat)
  netns_add "$SRV" && netns_add "$ROUTER" &&
    netns_link "$SRV" eth0 203.0.113.1/24 "$ROUTER" wan 203.0.113.254/24 || e2e_fail "namespaces"
  SERVER_WAN=203.0.113.1
  E2E_SERVER=$SERVER_WAN
  ip -n "$ROUTER" link add lan type bridge && ip -n "$ROUTER" addr add 192.168.77.1/24 dev lan &&
    ip -n "$ROUTER" link set lan up || e2e_fail "router bridge"
  ip netns exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=1 || e2e_fail "ip_forward"
  CLIENT_NS=()
  for i in $(seq 1 "$n"); do
    CLIENT_NS[i]=$(netns_name "c$i")
    netns_add "${CLIENT_NS[i]}" &&
      netns_link "${CLIENT_NS[i]}" eth0 "192.168.77.$((i + 1))/24" "$ROUTER" "lan$i" "" &&
      ip -n "$ROUTER" link set "lan$i" master lan &&
      ip -n "${CLIENT_NS[i]}" route add default via 192.168.77.1 || e2e_fail "client namespace $i"
  done
  # Since Linux 6.0 no helper is attached automatically (nf_conntrack_helper=0 is gone): attach the
  # PPTP helper to TCP 1723 explicitly, as a router would. The modules are built in on some kernels.
  modprobe -q nf_conntrack_pptp 2>/dev/null || true
  modprobe -q nf_nat_pptp 2>/dev/null || true
  ip netns exec "$ROUTER" nft -f - <<'NFT' || e2e_fail "nftables: masquerade and the pptp conntrack helper"
table ip pptpkit_nat {
  ct helper pptp {
    type "pptp" protocol tcp;
  }
  chain prerouting {
    type filter hook prerouting priority filter; policy accept;
    tcp dport 1723 ct helper set "pptp"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade
  }
}
NFT
}

# helped_connections NS: TCP 1723 connections in NS's conntrack table that carry the pptp helper
# (conntrack(8): the procfs table does not show helpers).
helped_connections() {
  ip netns exec "$1" conntrack -L -p tcp --dport 1723 2>/dev/null | grep -c 'helper=pptp' || true
}
