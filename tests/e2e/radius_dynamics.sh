#!/usr/bin/env bash
# pptpkit server as a RADIUS NAS against a real FreeRADIUS, over a session's life: failover from a
# server that never answers to the next one, Interim-Update, CoA (Session-Timeout) and Disconnect
# (RFC 5176, sent with radclient), and a login while no server answers at all — which fails in the
# configured time while the session already up keeps passing traffic.
# Usage: tests/e2e/radius_dynamics.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_radius.sh"
e2e_init "$@"
command -v freeradius >/dev/null || { echo "freeradius is not installed (scripts/test installs it)"; exit 1; }

two_namespaces
: >"$E2E_WORK/chap-secrets"
chmod 600 "$E2E_WORK/chap-secrets"
for user in alice bob carol; do
  password_file "$user" "$user-password"
  radius_user "$user" "$user-password"
done
radius_pool main 10.98.0.160 10
RADIUS_CLIENTS=10.210.0.0/16
radius_start "$E2E_WORK/radius" "$SERVER_WAN" 1812 1813 "$SRV" || e2e_fail "FreeRADIUS did not start"
printf '%s\n' "$RADIUS_SECRET" >"$E2E_WORK/radius-secret"
chmod 600 "$E2E_WORK/radius-secret"

# The first server is a port where nothing answers (a blackholed one: its datagrams are dropped).
ip netns exec "$SRV" nft add table inet blackhole &&
  ip netns exec "$SRV" nft add chain inet blackhole input '{ type filter hook input priority 0; }' &&
  ip netns exec "$SRV" nft add rule inet blackhole input udp dport '{ 21812, 21813 }' drop || e2e_fail "nft"
start_server server "$SRV" --radius-server "$SERVER_WAN:21812" --radius-server "$SERVER_WAN" \
  --radius-secrets "$E2E_WORK/radius-secret" --radius-timeout 1 --radius-tries 2 --radius-interim 2 \
  --radius-dae "$SERVER_WAN" --radius-dae-client "$SERVER_WAN" --status-socket "$E2E_WORK/status.sock"
dae() { "radius_$1" "$SERVER_WAN" 3799 "$RADIUS_SECRET" "${@:2}"; }

e2e_step "failover: the first server never answers, the second one lets alice in"
start_client alice "$CLI" alice
ALICE_PID=$CLIENT_PID
wait_session alice 20
log_has "$E2E_WORK/server.log" 'RADIUS accepted user alice' || e2e_fail "alice was not accepted by RADIUS"
alice_ip=$(session_field "$E2E_WORK/alice.log" local)
ping_ok "$CLI" "$SERVER_TUNNEL" || e2e_fail "ping through alice's tunnel: $(cat "$E2E_WORK/ping.out")"
status=$("$PPTPKIT" status --status-socket "$E2E_WORK/status.sock" 2>/dev/null || true)
echo "$status" | grep '^radius ' | sed 's/^/   /'
echo "$status" | grep -q "^radius $SERVER_WAN:1812/1813 alive .* bad_replies=0 " ||
  e2e_fail "FreeRADIUS's replies were not all taken (Message-Authenticator on every reply)"

e2e_step "Interim-Update every 2 s carries the octets so far"
wait_until 10 eval '[ "$(radius_sql "SELECT acctinputoctets FROM radacct WHERE username = '"'alice'"' AND acctstoptime IS NULL")" -ge 84 ] 2>/dev/null' ||
  e2e_fail "no Interim-Update with alice's octets: $(radius_acct_rows alice)"
echo "   $(radius_acct_rows alice)"

e2e_step "CoA: Session-Timeout for bob ends his session in time, with cause Session-Timeout"
start_client bob "$CLI" bob
BOB_PID=$CLIENT_PID
wait_session bob 20
[ "$(dae coa User-Name=bob Session-Timeout=1)" = CoA-ACK ] || e2e_fail "CoA not acknowledged"
wait_until 10 log_has "$E2E_WORK/server.log" 'Session-Timeout of 1 s reached' || e2e_fail "bob's session did not time out"
wait_until 10 eval '[ "$(radius_sql "SELECT acctterminatecause FROM radacct WHERE username = '"'bob'"'")" = Session-Timeout ]' ||
  e2e_fail "bob: no Stop with Session-Timeout: $(radius_acct_rows bob)"
exit_status "$BOB_PID" 15

e2e_step "Disconnect: a user with no session is NAKed; carol's session is ended, with cause Admin-Reset"
[ "$(dae disconnect User-Name=nobody)" = Disconnect-NAK ] || e2e_fail "no NAK for an unknown user"
start_client carol "$CLI" carol
CAROL_PID=$CLIENT_PID
wait_session carol 20
sid=$(radius_sql "SELECT acctsessionid FROM radacct WHERE username = 'carol' AND acctstoptime IS NULL")
[ -n "$sid" ] || e2e_fail "carol: no open accounting session"
[ "$(dae disconnect "Acct-Session-Id=$sid")" = Disconnect-ACK ] || e2e_fail "Disconnect not acknowledged"
wait_until 10 eval '[ "$(radius_sql "SELECT acctterminatecause FROM radacct WHERE username = '"'carol'"'")" = Admin-Reset ]' ||
  e2e_fail "carol: no Stop with Admin-Reset: $(radius_acct_rows carol)"
exit_status "$CAROL_PID" 15
ping_ok "$CLI" "$SERVER_TUNNEL" || e2e_fail "alice's tunnel stopped after the Disconnect of carol"

e2e_step "no RADIUS server answers: bob's login fails in time, alice's session keeps passing traffic"
radius_stop
start=$(date +%s%N)
start_client bob2 "$CLI" bob
BOB_PID=$CLIENT_PID
for _ in 1 2 3; do
  ping_ok "$CLI" "$SERVER_TUNNEL" || e2e_fail "alice's tunnel stalled while RADIUS was down: $(cat "$E2E_WORK/ping.out")"
done
wait_until 20 log_has "$E2E_WORK/server.log" 'no RADIUS server answered for user bob' || e2e_fail "bob's login did not fail"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "   bob refused after ${elapsed_ms} ms (two servers x (1 s + 2 s))"
[ "$elapsed_ms" -le 15000 ] || e2e_fail "the login took ${elapsed_ms} ms to fail"
ping_ok "$CLI" "$SERVER_TUNNEL" || e2e_fail "alice's tunnel after bob's failed login"
exit_status "$BOB_PID" 15
kill -TERM "$ALICE_PID"
exit_status "$ALICE_PID" 15
[ "$EXIT_STATUS" = 0 ] || e2e_fail "alice's client exit status $EXIT_STATUS"
e2e_pass
