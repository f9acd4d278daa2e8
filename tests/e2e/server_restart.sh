#!/usr/bin/env bash
# A persist client (pppd's persist/holdoff) outlives its server: the server stops cleanly (SIGTERM:
# call clear and StopCCRQ), comes back, and the client reconnects by itself and passes traffic again.
# Usage: tests/e2e/server_restart.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

two_namespaces
secret alice alice-password
start_server server "$SRV"
start_client client "$CLI" alice --persist --holdoff 1 --maxfail 0
wait_session client
ping_ok "$CLI" "$(session_field "$E2E_WORK/client.log" remote)" || e2e_fail "first session: ping"

e2e_step "stop the server (SIGTERM)"
kill -TERM "$SERVER_PID"
exit_status "$SERVER_PID" 10
[ "$EXIT_STATUS" = 0 ] || e2e_fail "the server did not exit cleanly on SIGTERM (status $EXIT_STATUS)"
wait_until 10 log_has "$E2E_WORK/client.log" 'session down' || e2e_fail "the client did not see its session end"
alive "$CLIENT_PID" || e2e_fail "the persist client exited"

e2e_step "start it again; the client reconnects"
start_server server-again "$SRV"
wait_until 30 eval "[ \$(session_count '$E2E_WORK/client.log') -ge 2 ]" || e2e_fail "no second session within 30 s"
ping_ok "$CLI" "$(grep 'session up:' "$E2E_WORK/client.log" | tail -n1 | grep -oE 'remote=[^ ]+' | cut -d= -f2)" ||
  e2e_fail "second session: ping"
e2e_pass
