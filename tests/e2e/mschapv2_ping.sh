#!/usr/bin/env bash
# An MS-CHAPv2 session between a pptpkit server and client in two namespaces; ping both ways over IPv4
# and over the IPv6 link-local addresses IPV6CP negotiated. With E2E_REQUIRE_MPPE=1 the session must
# also run MPPE-128.
# Usage: tests/e2e/mschapv2_ping.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

two_namespaces
secret alice alice-password
start_server server "$SRV" --auth mschapv2
start_client client "$CLI" alice --auth mschapv2
wait_session client
wait_session server 5

e2e_step "the session lines"
grep -h -m1 'session up:' "$E2E_WORK/client.log" "$E2E_WORK/server.log" | sed 's/^/   /'
[ "$(session_field "$E2E_WORK/client.log" auth)" = MS-CHAPv2 ] || e2e_fail "client: auth is not MS-CHAPv2"
[ "$(session_field "$E2E_WORK/server.log" auth)" = MS-CHAPv2 ] || e2e_fail "server: auth is not MS-CHAPv2"
[ "$(session_field "$E2E_WORK/server.log" user)" = alice ] || e2e_fail "server: user is not alice"
if [ "${E2E_REQUIRE_MPPE:-0}" = 1 ]; then
  case $(session_field "$E2E_WORK/client.log" mppe) in 128-bit*) ;; *) e2e_fail "MPPE-128 required" ;; esac
fi
client_ip=$(session_field "$E2E_WORK/client.log" local)
server_ip=$(session_field "$E2E_WORK/client.log" remote)
client_if=$(session_field "$E2E_WORK/client.log" ifname)
server_if=$(session_field "$E2E_WORK/server.log" ifname)
[ "$server_ip" = "$SERVER_TUNNEL" ] || e2e_fail "client's remote address $server_ip is not the server's --localip"
[ "$(session_field "$E2E_WORK/server.log" remote)" = "$client_ip" ] || e2e_fail "the two sides disagree on addresses"

e2e_step "IPv4: client $client_ip -> server $server_ip and back"
ping_ok "$CLI" "$server_ip" || e2e_fail "ping client -> server: $(cat "$E2E_WORK/ping.out")"
ping_ok "$SRV" "$client_ip" || e2e_fail "ping server -> client: $(cat "$E2E_WORK/ping.out")"

e2e_step "IPv6 link-local over $client_if / $server_if"
wait_until 10 eval '[ -n "$(ipv6_link_local "$CLI" "$client_if" peer)" ]' || e2e_fail "no IPv6 link-local on $client_if"
client6=$(ipv6_link_local "$CLI" "$client_if" local)
server6=$(ipv6_link_local "$CLI" "$client_if" peer)
[ "$(ipv6_link_local "$SRV" "$server_if" local)" = "$server6" ] || e2e_fail "server's link-local is not the client's peer"
echo "   client $client6, server $server6"
ping_ok "$CLI" "$server6%$client_if" -6 || e2e_fail "ping -6 client -> server: $(cat "$E2E_WORK/ping.out")"
ping_ok "$SRV" "$client6%$server_if" -6 || e2e_fail "ping -6 server -> client: $(cat "$E2E_WORK/ping.out")"
e2e_pass
