#!/usr/bin/env bash
# Two clients behind one NAT (a router namespace with nftables masquerade and the kernel's PPTP
# conntrack/NAT helper on TCP 1723) connected to the same server at the same time, both passing traffic
# at once. Without the helper the second client's GRE could not be told apart from the first's.
# Usage: tests/e2e/nat_two_clients.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

e2e_step "topology: server 203.0.113.1, NAT router (masquerade + pptp helper), clients 192.168.77.2-3"
nat_topology 2
secret alice alice-password
secret bob bob-password
start_server server "$SRV" --auth mschapv2

e2e_step "both clients connect through the NAT"
start_client alice "${CLIENT_NS[1]}" alice
start_client bob "${CLIENT_NS[2]}" bob
wait_session alice 30
wait_session bob 30
[ "$(session_count "$E2E_WORK/server.log")" = 2 ] || e2e_fail "the server does not have 2 sessions"
helped=$(helped_connections "$ROUTER")
[ "$helped" -ge 2 ] || e2e_fail "the router tracks $helped control connections with the pptp helper, not 2"

e2e_step "both ping through their tunnels at the same time"
ip netns exec "${CLIENT_NS[1]}" ping -q -c 10 -i 0.1 -W 2 "$(session_field "$E2E_WORK/alice.log" remote)" \
  >"$E2E_WORK/ping-alice.out" 2>&1 &
a=$!
ip netns exec "${CLIENT_NS[2]}" ping -q -c 10 -i 0.1 -W 2 "$(session_field "$E2E_WORK/bob.log" remote)" \
  >"$E2E_WORK/ping-bob.out" 2>&1 &
b=$!
wait "$a" "$b"
grep -q ' 0% packet loss' "$E2E_WORK/ping-alice.out" || e2e_fail "alice: $(grep loss "$E2E_WORK/ping-alice.out")"
grep -q ' 0% packet loss' "$E2E_WORK/ping-bob.out" || e2e_fail "bob: $(grep loss "$E2E_WORK/ping-bob.out")"
e2e_step "and the server reaches each of them"
ping_ok "$SRV" "$(session_field "$E2E_WORK/alice.log" local)" || e2e_fail "server -> alice"
ping_ok "$SRV" "$(session_field "$E2E_WORK/bob.log" local)" || e2e_fail "server -> bob"
e2e_pass
