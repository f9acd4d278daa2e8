#!/usr/bin/env bash
# Authentication that must fail, and say why on both sides (the CLI contract's "authentication failed:"
# line), with the client exiting non-zero: a wrong password, an unknown user, and a client that refuses
# the only protocol the server offers.
# Usage: tests/e2e/auth_failures.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

two_namespaces
secret alice alice-password
printf 'not-the-password\n' >"$E2E_WORK/alice-wrong.password"
secret mallory mallory-password
sed -i '/^mallory /d' "$E2E_WORK/chap-secrets"  # mallory has a password but no secret on the server

# expect_failure NAME SERVER_LOG PASSWORD_FILE CLIENT_REASON SERVER_REASON CLIENT_ARGS...
# (reasons are regular expressions for what follows "authentication failed:" on each side)
expect_failure() {
  local name=$1 server_log=$2 password=$3 client_reason=$4 server_reason=$5
  shift 5
  E2E_LOGS+=("$E2E_WORK/$name.log")
  netns_spawn "$E2E_WORK/$name.log" "$CLI" "$PPTPKIT" client --server "$SERVER_WAN" --user "${USER_NAME}" \
    --password-file "$password" --log-level debug "$@"
  exit_status "$NETNS_LAST_PID" 30
  [ "$EXIT_STATUS" != running ] || e2e_fail "$name: the client did not give up within 30 s"
  [ "$EXIT_STATUS" != 0 ] || e2e_fail "$name: the client exited 0 after a failed authentication"
  log_has "$E2E_WORK/$name.log" "authentication failed:.*$client_reason" ||
    e2e_fail "$name: the client did not log 'authentication failed: ...$client_reason'"
  wait_until 5 log_has "$server_log" "authentication failed:.*$server_reason" ||
    e2e_fail "$name: the server did not log 'authentication failed: ...$server_reason'"
  log_has "$E2E_WORK/$name.log" 'session up:' && e2e_fail "$name: a session came up"
  echo "   client exit $EXIT_STATUS; client: $(grep -m1 -o 'authentication failed:.*' "$E2E_WORK/$name.log")"
  echo "   server: $(grep -o 'authentication failed:.*' "$server_log" | tail -n1)"
}

start_server server "$SRV" --auth mschapv2
e2e_step "wrong password"
USER_NAME=alice expect_failure wrong-password "$E2E_WORK/server.log" "$E2E_WORK/alice-wrong.password" \
  'wrong password' 'wrong password' --auth mschapv2
e2e_step "unknown user"
USER_NAME=mallory expect_failure unknown-user "$E2E_WORK/server.log" "$E2E_WORK/mallory.password" \
  'unknown user' 'unknown user' --auth mschapv2
netns_stop "$SERVER_PID"

e2e_step "refused auth protocol: the server offers only PAP, the client accepts only MS-CHAPv2"
start_server server-pap "$SRV" --auth pap --mppe refused
# (--mppe optional: with MPPE required, the default, the client ends the link itself as soon as LCP
# opens without MS-CHAPv2 — no keys — before the server's refusal reaches it.)
USER_NAME=alice expect_failure refused "$E2E_WORK/server-pap.log" "$E2E_WORK/alice.password" \
  '' 'refused auth protocol' --auth mschapv2 --mppe optional
e2e_pass
