#!/usr/bin/env bash
# 1400-byte IP packets through the tunnel both ways, none lost: the interface MTU follows the
# negotiated MRU and nothing on the path silently drops what it should carry or fragment.
# Usage: tests/e2e/big_ping.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

two_namespaces
secret alice alice-password
start_server server "$SRV"
start_client client "$CLI" alice
wait_session client
wait_session server 5
client_if=$(session_field "$E2E_WORK/client.log" ifname)
server_if=$(session_field "$E2E_WORK/server.log" ifname)
echo "   MTU client $client_if $(ip netns exec "$CLI" cat "/sys/class/net/$client_if/mtu"), server $server_if $(ip netns exec "$SRV" cat "/sys/class/net/$server_if/mtu")"

e2e_step "1400-byte pings (1372 bytes of ICMP data), 10 each way"
big() {  # NS ADDRESS
  ip netns exec "$1" ping -q -c 10 -i 0.1 -W 2 -s 1372 "$2" >"$E2E_WORK/ping.out" 2>&1 &&
    grep -q ' 0% packet loss' "$E2E_WORK/ping.out"
}
big "$CLI" "$(session_field "$E2E_WORK/client.log" remote)" || e2e_fail "client -> server: $(grep loss "$E2E_WORK/ping.out")"
big "$SRV" "$(session_field "$E2E_WORK/client.log" local)" || e2e_fail "server -> client: $(grep loss "$E2E_WORK/ping.out")"
e2e_pass
