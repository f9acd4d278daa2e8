#!/usr/bin/env bash
# The NAT harness on its own, without the daemon: two clients behind a router namespace doing nftables
# masquerade with the kernel's PPTP conntrack helper attached to TCP 1723. Checks that both clients'
# TCP 1723 connections cross the router, arrive masqueraded (from the router's address) and carry the
# pptp helper in the router's conntrack table. nat_two_clients.sh builds on this topology.
# Usage: tests/e2e/nat_helper_setup.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
E2E_NEEDS_DAEMON=0 e2e_init "$@"

e2e_step "topology: server, NAT router (masquerade + pptp helper), 2 clients"
nat_topology 2

e2e_step "a TCP 1723 listener on the server; each client connects through the router"
E2E_LOGS+=("$E2E_WORK/listener.log")
netns_spawn "$E2E_WORK/listener.log" "$SRV" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("203.0.113.1", 1723))
s.listen(4)
s.settimeout(20)
for _ in range(2):
    c, peer = s.accept()
    c.settimeout(5)
    print(peer[0], c.recv(64).decode(), flush=True)
    c.sendall(b"ok")
    c.close()
'
wait_until 10 eval "ip netns exec $SRV ss -ltn | grep -q ':1723 '" || e2e_fail "the listener did not start"
for i in 1 2; do
  out=$(ip netns exec "${CLIENT_NS[i]}" timeout 10 python3 -c '
import socket, sys
c = socket.create_connection(("203.0.113.1", 1723), timeout=5)
c.sendall(sys.argv[1].encode())
print(c.recv(2).decode())
c.shutdown(socket.SHUT_WR)
' "client$i") || e2e_fail "client $i could not reach the server through the router"
  [ "$out" = ok ] || e2e_fail "client $i: unexpected answer '$out'"
done

e2e_step "the server saw both from the router's address; the router tracked both with the pptp helper"
wait_until 5 eval "[ \$(grep -c . '$E2E_WORK/listener.log') -ge 2 ]" || e2e_fail "the listener did not log both"
grep -q '^203.0.113.254 client1$' "$E2E_WORK/listener.log" && grep -q '^203.0.113.254 client2$' "$E2E_WORK/listener.log" ||
  e2e_fail "connections not masqueraded: $(tr '\n' ';' <"$E2E_WORK/listener.log")"
helped=$(helped_connections "$ROUTER")
[ "$helped" = 2 ] || e2e_fail "expected 2 TCP 1723 connections with helper=pptp in the router, found $helped"
e2e_pass
