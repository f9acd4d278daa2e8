#!/usr/bin/env bash
# What an operator does to a running server, on the real daemon: `pptpkit status` over its local socket
# (sessions, user, addresses, counters), SIGUSR1 (the same report into the log) and SIGHUP (re-read
# chap-secrets: a user added meanwhile can log in, the running session stays up). The second client
# runs beside the first, so its pptp0 is taken: it moves on to pptp1, as pppd does.
# Usage: tests/e2e/status_and_signals.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

two_namespaces
secret alice alice-password
sock=$E2E_WORK/status.sock
start_server server "$SRV" --auth mschapv2 --status-socket "$sock"
start_client client "$CLI" alice --auth mschapv2
wait_session client
wait_session server 5
server_ip=$(session_field "$E2E_WORK/client.log" remote)
client_ip=$(session_field "$E2E_WORK/client.log" local)
ping_ok "$CLI" "$server_ip" || e2e_fail "ping client -> server: $(cat "$E2E_WORK/ping.out")"

e2e_step "pptpkit status"
"$PPTPKIT" status --status-socket "$sock" >"$E2E_WORK/status.out" 2>&1 || e2e_fail "status failed: $(cat "$E2E_WORK/status.out")"
sed 's/^/   /' "$E2E_WORK/status.out"
for field in "pptpkit server: 1 session" "user=alice" "auth=MS-CHAPv2" "local=$SERVER_TUNNEL" "remote=$client_ip" \
  "peer=10.210.0.2" "state=up" "log_lines_suppressed="; do
  grep -qF -- "$field" "$E2E_WORK/status.out" || e2e_fail "status has no '$field'"
done
# The three pings (and IPV6CP's traffic) were counted both ways.
rx=$(sed -nE 's/.* rx_packets=([0-9]+).*/\1/p' "$E2E_WORK/status.out" | head -n 1)
tx=$(sed -nE 's/.* tx_packets=([0-9]+).*/\1/p' "$E2E_WORK/status.out" | head -n 1)
[ "${rx:-0}" -ge 3 ] && [ "${tx:-0}" -ge 3 ] || e2e_fail "status counted rx_packets=${rx:-?} tx_packets=${tx:-?}, expected >= 3"
if "$PPTPKIT" status --status-socket "$E2E_WORK/nothing.sock" >"$E2E_WORK/status-none.out" 2>&1; then
  e2e_fail "status on a socket nobody listens on succeeded"
fi
grep -q "cannot reach the server" "$E2E_WORK/status-none.out" || e2e_fail "no clear error: $(cat "$E2E_WORK/status-none.out")"

e2e_step "SIGUSR1: the report in the log"
kill -USR1 "$SERVER_PID"
wait_until 5 log_has "$E2E_WORK/server.log" 'status: .*user=alice' || e2e_fail "no status lines in the log after SIGUSR1"
grep -m3 'status: ' "$E2E_WORK/server.log" | sed 's/^/   /'

e2e_step "SIGHUP: chap-secrets re-read, the running session kept"
secret bob bob-password
kill -HUP "$SERVER_PID"
wait_until 5 log_has "$E2E_WORK/server.log" 're-read .*: 2 secrets' || e2e_fail "no re-read line after SIGHUP"
start_client client2 "$CLI" bob --auth mschapv2  # pptp0 is alice's: it takes pptp1
wait_session client2
[ "$(session_field "$E2E_WORK/client2.log" ifname)" = pptp1 ] || e2e_fail "bob's client did not move on to pptp1"
alive "$SERVER_PID" || e2e_fail "the server exited"
ping_ok "$CLI" "$server_ip" || e2e_fail "alice's session stopped carrying traffic"
"$PPTPKIT" status --status-socket "$sock" >"$E2E_WORK/status.out" 2>&1 || e2e_fail "status failed"
grep -qF "pptpkit server: 2 sessions" "$E2E_WORK/status.out" || e2e_fail "status: $(head -n 1 "$E2E_WORK/status.out")"
grep -qF "user=bob" "$E2E_WORK/status.out" || e2e_fail "status has no session of bob"
e2e_pass
