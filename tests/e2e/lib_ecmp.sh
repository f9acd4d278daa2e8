# The scale-out topology: several concentrators behind one ECMP route to a shared (anycast) address.
# shellcheck shell=bash
# shellcheck disable=SC2034  # ECMP_* are set here for the scenarios
#
# Sourced after lib.sh (and lib_radius.sh when the scenario runs a RADIUS server in ECMP_RADIUS_NS).
#
#   client 1 (10.70.1.x) --c1-+                 +-s1-- server 1 (10.50.1.2, lo 10.60.0.1/32)
#   client 2 (10.70.2.x) --c2-+-- router ------+-s2-- server 2 (10.50.2.2, lo 10.60.0.1/32)
#   ...                       |   (ECMP to      |  ...
#                             |    10.60.0.1)   +-rad- RADIUS (10.50.0.2)
#
# The router reaches 10.60.0.1 through one multipath route with a next hop per server, hashed on layer
# 3 only: net.ipv4.fib_multipath_hash_policy = 0 (source and destination address).
#
# Why not layer 4 (policy 1, the 5-tuple): a PPTP session is two flows between the same two addresses,
# the TCP 1723 control connection and its GRE packets (IP protocol 47, which has no ports). An L4 hash
# folds the TCP ports into the control connection's hash but has no ports for GRE, so the two hash
# differently: a client's GRE can reach another concentrator than the one holding its control
# connection and call, which drops it as an unknown call. With L3 hashing both flows of one client
# address take the same next hop. (Clients behind one NAT share an address and so a concentrator,
# which the NAT's PPTP helper needs anyway.)
#
# The hash seed is fixed (fib_multipath_hash_seed, Linux 6.11+) so a run maps the same addresses to the
# same servers; on older kernels the mapping is still stable for the life of the router namespace.
# Either way each client's address is chosen, from its subnet, by asking the router's FIB where it would
# send it (`ip route get ... from ... iif`): client j goes to server ((j - 1) mod N) + 1, so any
# N_CLIENTS >= N_SERVERS clients cover every server and the expected mapping is known in advance.

ECMP_SERVICE=10.60.0.1
ECMP_RADIUS_ADDR=10.50.0.2
ECMP_HASH_SEED=${ECMP_HASH_SEED:-1723}

# ecmp_topology N_SERVERS N_CLIENTS: creates the namespaces above. Sets ECMP_ROUTER, ECMP_SERVER_NS[i],
# ECMP_SERVER_ADDR[i] (its link address), ECMP_CLIENT_NS[j], ECMP_CLIENT_ADDR[j], ECMP_EXPECTED[j] (the
# server index the router's FIB picks for client j), ECMP_RADIUS_NS. Fails (e2e_fail) on any error.
ecmp_topology() {
  local n_servers=$1 n_clients=$2 i j h nexthops=() want got
  ECMP_ROUTER=$(netns_name rt)
  ECMP_RADIUS_NS=$(netns_name rad)
  netns_add "$ECMP_ROUTER" && netns_add "$ECMP_RADIUS_NS" || e2e_fail "ecmp: router and RADIUS namespaces"
  ip netns exec "$ECMP_ROUTER" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=0 ||
    e2e_fail "ecmp: router sysctls"
  [ ! -e /proc/sys/net/ipv4/fib_multipath_hash_seed ] ||
    ip netns exec "$ECMP_ROUTER" sysctl -qw net.ipv4.fib_multipath_hash_seed="$ECMP_HASH_SEED" ||
    e2e_fail "ecmp: hash seed"
  netns_link "$ECMP_ROUTER" rad 10.50.0.1/24 "$ECMP_RADIUS_NS" eth0 "$ECMP_RADIUS_ADDR/24" &&
    ip -n "$ECMP_RADIUS_NS" route add default via 10.50.0.1 || e2e_fail "ecmp: RADIUS link"

  ECMP_SERVER_NS=()
  ECMP_SERVER_ADDR=()
  for i in $(seq 1 "$n_servers"); do
    ECMP_SERVER_NS[i]=$(netns_name "s$i")
    ECMP_SERVER_ADDR[i]=10.50.$i.2
    netns_add "${ECMP_SERVER_NS[i]}" &&
      netns_link "$ECMP_ROUTER" "s$i" "10.50.$i.1/24" "${ECMP_SERVER_NS[i]}" eth0 "${ECMP_SERVER_ADDR[i]}/24" &&
      ip -n "${ECMP_SERVER_NS[i]}" addr add "$ECMP_SERVICE/32" dev lo &&
      ip -n "${ECMP_SERVER_NS[i]}" route add default via "10.50.$i.1" || e2e_fail "ecmp: server $i"
    nexthops+=(nexthop via "${ECMP_SERVER_ADDR[i]}" dev "s$i")
  done
  ip -n "$ECMP_ROUTER" route add "$ECMP_SERVICE/32" "${nexthops[@]}" || e2e_fail "ecmp: the multipath route"

  ECMP_CLIENT_NS=()
  ECMP_CLIENT_ADDR=()
  ECMP_EXPECTED=()
  for j in $(seq 1 "$n_clients"); do
    ECMP_CLIENT_NS[j]=$(netns_name "c$j")
    netns_add "${ECMP_CLIENT_NS[j]}" &&
      netns_link "$ECMP_ROUTER" "c$j" "10.70.$j.1/24" "${ECMP_CLIENT_NS[j]}" eth0 "" ||
      e2e_fail "ecmp: client $j link"
    want=$(((j - 1) % n_servers + 1))
    ECMP_CLIENT_ADDR[j]=
    for h in $(seq 2 254); do
      got=$(ecmp_route_server "10.70.$j.$h" "c$j") || e2e_fail "ecmp: ip route get from 10.70.$j.$h"
      if [ "$got" = "$want" ]; then
        ECMP_CLIENT_ADDR[j]=10.70.$j.$h
        break
      fi
    done
    [ -n "${ECMP_CLIENT_ADDR[j]}" ] || e2e_fail "ecmp: no address in 10.70.$j.0/24 hashes to server $want"
    ECMP_EXPECTED[j]=$want
    ip -n "${ECMP_CLIENT_NS[j]}" addr add "${ECMP_CLIENT_ADDR[j]}/24" dev eth0 &&
      ip -n "${ECMP_CLIENT_NS[j]}" route add default via "10.70.$j.1" || e2e_fail "ecmp: client $j address"
  done
}

# ecmp_route_server SOURCE IIF: the index of the server the router's FIB sends SOURCE -> ECMP_SERVICE
# to, for a packet arriving on IIF (the multipath hash is computed as for a forwarded packet).
ecmp_route_server() {
  local route
  route=$(ip -n "$ECMP_ROUTER" route get "$ECMP_SERVICE" from "$1" iif "$2" 2>/dev/null) || return 1
  sed -nE 's/.* via 10\.50\.([0-9]+)\.2 .*/\1/p' <<<"$route" | head -n1 | grep .
}
