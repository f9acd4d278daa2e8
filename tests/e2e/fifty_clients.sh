#!/usr/bin/env bash
# 50 clients at once against one server, each in its own namespace on a shared bridge, each pinging the
# server through its own tunnel. E2E_CLIENTS overrides the count.
# Usage: tests/e2e/fifty_clients.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
n=${E2E_CLIENTS:-50}

e2e_step "server namespace with a bridge, $n client namespaces"
SRV=$(netns_name srv)
netns_add "$SRV" || e2e_fail "namespace"
ip -n "$SRV" link add br0 type bridge && ip -n "$SRV" addr add "$SERVER_WAN/16" dev br0 &&
  ip -n "$SRV" link set br0 up || e2e_fail "bridge"
declare -a ns
for i in $(seq 1 "$n"); do
  ns[i]=$(netns_name "c$i")
  netns_add "${ns[i]}" && netns_link "${ns[i]}" eth0 "10.210.$((i / 200 + 1)).$((i % 200 + 1))/16" "$SRV" "p$i" "" &&
    ip -n "$SRV" link set "p$i" master br0 || e2e_fail "client namespace $i"
  secret "user$i" "password-$i"
done

start_server server "$SRV" --auth mschapv2 --max-connections $((n + 10))
e2e_step "$n clients connect at once"
declare -a pid
for i in $(seq 1 "$n"); do
  start_client "client$i" "${ns[i]}" "user$i" --ifname pptp0
  pid[i]=$CLIENT_PID
done
all_up() {
  local i
  for i in $(seq 1 "$n"); do
    log_has "$E2E_WORK/client$i.log" 'session up:' || return 1
  done
}
wait_until 90 all_up || {
  missing=$(for i in $(seq 1 "$n"); do log_has "$E2E_WORK/client$i.log" 'session up:' || echo -n "$i "; done)
  # shellcheck disable=SC2034  # read by e2e_fail
  E2E_LOGS=("$E2E_WORK/server.log" "$E2E_WORK/client${missing%% *}.log")
  e2e_fail "clients without a session after 90 s: $missing"
}
[ "$(session_count "$E2E_WORK/server.log")" = "$n" ] || e2e_fail "the server reports $(session_count "$E2E_WORK/server.log") sessions, not $n"
addresses=$(for i in $(seq 1 "$n"); do session_field "$E2E_WORK/client$i.log" local; done | sort -u | wc -l)
[ "$addresses" = "$n" ] || e2e_fail "only $addresses distinct client addresses for $n clients"

e2e_step "each client pings the server through its own tunnel, all at once"
pings=()
for i in $(seq 1 "$n"); do
  ip netns exec "${ns[i]}" ping -q -c 3 -i 0.2 -W 3 "$(session_field "$E2E_WORK/client$i.log" remote)" \
    >"$E2E_WORK/ping$i.out" 2>&1 &
  pings+=($!)
done
wait "${pings[@]}"  # the pings only (the daemons run in the background too)
failed=$(for i in $(seq 1 "$n"); do grep -q ' 0% packet loss' "$E2E_WORK/ping$i.out" || echo -n "$i "; done)
[ -z "$failed" ] || e2e_fail "pings lost through the tunnels of clients: $failed"
for i in $(seq 1 "$n"); do
  alive "${pid[i]}" || e2e_fail "client $i exited"
done
e2e_pass
