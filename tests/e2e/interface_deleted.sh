#!/usr/bin/env bash
# Row 7 of issue 14 on the real daemon: a session's interface deleted under the server (`ip link del
# pptp0`, as a network manager or a script may do). From then on the kernel reports EPOLLERR and EBADFD
# on that descriptor for ever; the server used to read and log it at 100 % CPU (44 MB of log in 4 s)
# while `pptpkit status` still showed the session. Now that session ends, once: the client is told
# (Call-Disconnect-Notify) and exits, ip-down runs, the address goes back to the pool (one address here:
# a new login needs it), and one "session down" line says why. The test prints the server's CPU time and
# log growth over the 3 s after the delete.
# Usage: tests/e2e/interface_deleted.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

two_namespaces
secret alice alice-password
# shellcheck disable=SC2034  # read by start_server
POOL=10.98.0.100  # a single address
cat >"$E2E_WORK/ip-down" <<HOOK
#!/bin/sh
echo "\$1 \$5" >>"$E2E_WORK/ip-down.calls"
HOOK
chmod 755 "$E2E_WORK/ip-down"
sock=$E2E_WORK/status.sock
start_server server "$SRV" --auth mschapv2 --status-socket "$sock" --ip-down "$E2E_WORK/ip-down"
start_client client "$CLI" alice --auth mschapv2
wait_session client
wait_session server 5
"$PPTPKIT" status --status-socket "$sock" >"$E2E_WORK/status.out" 2>&1 || e2e_fail "status failed"
grep -qF "pptpkit server: 1 session" "$E2E_WORK/status.out" || e2e_fail "status: $(head -n 1 "$E2E_WORK/status.out")"

e2e_step "ip link del pptp0 under the server"
cpu_before=$(cpu_ms "$SERVER_PID")
log_before=$(stat -c %s "$E2E_WORK/server.log")
ip -n "$SRV" link del pptp0 || e2e_fail "could not delete pptp0"
sleep 3
alive "$SERVER_PID" || e2e_fail "the server exited"
cpu_used=$(($(cpu_ms "$SERVER_PID") - cpu_before))
log_growth=$(($(stat -c %s "$E2E_WORK/server.log") - log_before))
echo "   server over 3 s: ${cpu_used} ms of CPU, log +${log_growth} bytes (bounds: 300 ms, 16384 bytes)"
[ "$cpu_used" -le 300 ] || e2e_fail "the server used ${cpu_used} ms of CPU in 3 s after the delete"
[ "$log_growth" -le 16384 ] || e2e_fail "the server's log grew by ${log_growth} bytes in 3 s after the delete"
grep 'session down' "$E2E_WORK/server.log" | sed 's/^/   /'
[ "$(grep -c 'session down: interface pptp0 failed' "$E2E_WORK/server.log")" = 1 ] ||
  e2e_fail "not one 'session down: interface pptp0 failed' line"
"$PPTPKIT" status --status-socket "$sock" >"$E2E_WORK/status.out" 2>&1 || e2e_fail "status failed"
grep -qF "pptpkit server: 0 sessions" "$E2E_WORK/status.out" ||
  e2e_fail "status still shows: $(head -n 1 "$E2E_WORK/status.out")"
wait_until 5 grep -qx 'pptp0 10.98.0.100' "$E2E_WORK/ip-down.calls" 2>/dev/null || e2e_fail "no ip-down for pptp0"
exit_status "$CLIENT_PID" 10
[ "$EXIT_STATUS" = 0 ] || e2e_fail "the client was not told (exit status $EXIT_STATUS)"

e2e_step "the address is back in the pool: alice logs in again"
start_client client2 "$CLI" alice --auth mschapv2
wait_session client2
ping_ok "$CLI" "$(session_field "$E2E_WORK/client2.log" remote)" || e2e_fail "ping: $(cat "$E2E_WORK/ping.out")"
e2e_pass
