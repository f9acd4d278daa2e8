#!/usr/bin/env bash
# A client that stops answering: the server must notice within its LCP echo timeout
# (--echo-interval x --echo-failure) and free the session and its interface once LCP's termination
# to the silent peer has run out. First a frozen client
# (SIGSTOP: its TCP connection stays up, so only the echo can tell), then a killed one (kill -9).
# Usage: tests/e2e/kill_client.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
interval=1
failures=3
# The echo timeout (declared at the deadline after the last unanswered request), then LCP's
# Terminate-Request to the dead peer: Max-Terminate 2 transmissions, 3 s Restart timer (the defaults
# of RFC 1661 §4.6), then 3 s of slack.
limit=$((interval * (failures + 1) + 2 * 3 + 3))

two_namespaces
secret alice alice-password
start_server server "$SRV" --echo-interval "$interval" --echo-failure "$failures"

# session_freed LOG_BEFORE_COUNT IFNAME: the server logged one more "session down" and IFNAME is gone.
session_freed() {
  [ "$(grep -c 'session down' "$E2E_WORK/server.log")" -gt "$1" ] && ! ip -n "$SRV" link show "$2" >/dev/null 2>&1
}

for how in frozen killed; do
  e2e_step "$how client"
  : >"$E2E_WORK/client.log"
  start_client client "$CLI" alice --echo-interval "$interval" --echo-failure "$failures"
  wait_until 20 eval "[ \$(session_count '$E2E_WORK/server.log') -gt \${ups:-0} ]" || e2e_fail "no session"
  # shellcheck disable=SC2034  # read inside the eval above, on the next round
  ups=$(session_count "$E2E_WORK/server.log")
  wait_session client 5
  server_if=$(grep 'session up:' "$E2E_WORK/server.log" | tail -n1 | grep -oE 'ifname=[^ ]+' | cut -d= -f2)
  ip -n "$SRV" link show "$server_if" >/dev/null || e2e_fail "no $server_if on the server"
  downs=$(grep -c 'session down' "$E2E_WORK/server.log")
  start=$SECONDS
  if [ $how = frozen ]; then
    kill -STOP "$CLIENT_PID"
  else
    kill -KILL "$CLIENT_PID"
  fi
  wait_until "$limit" session_freed "$downs" "$server_if" ||
    e2e_fail "$how client: the server did not free the session within $limit s"
  echo "   freed after $((SECONDS - start)) s: $(grep 'session down' "$E2E_WORK/server.log" | tail -n1 | sed 's/.*session down/session down/')"
  kill -KILL "$CLIENT_PID" 2>/dev/null
  kill -CONT "$CLIENT_PID" 2>/dev/null
  wait "$CLIENT_PID" 2>/dev/null
done
alive "$SERVER_PID" || e2e_fail "the server exited"
e2e_pass
