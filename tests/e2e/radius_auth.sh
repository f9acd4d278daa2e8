#!/usr/bin/env bash
# pptpkit server as a RADIUS NAS against a real FreeRADIUS (started here with a generated raddb):
# MS-CHAPv2 with MPPE-128 keys from the Access-Accept, CHAP-MD5, PAP and EAP (relayed: FreeRADIUS runs
# EAP-MD5), a wrong password, an address
# and a Class from RADIUS, and accounting Start/Stop with the byte counts the sessions moved.
# The server's chap-secrets holds no user at all: every login is RADIUS's.
# Usage: tests/e2e/radius_auth.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_radius.sh"
e2e_init "$@"
command -v freeradius >/dev/null || { echo "freeradius is not installed (scripts/test installs it)"; exit 1; }

two_namespaces
: >"$E2E_WORK/chap-secrets"
chmod 600 "$E2E_WORK/chap-secrets"
password_file alice alice-password
password_file bob bob-password
password_file carol carol-password
password_file dave not-daves-password
password_file erin erin-password

radius_user alice alice-password Class=gold
radius_user bob bob-password
radius_user carol carol-password Framed-IP-Address=10.98.0.150 Framed-MTU=1300
radius_user dave dave-password
radius_user erin erin-password
radius_pool main 10.98.0.160 10
RADIUS_CLIENTS=127.0.0.0/8
radius_start "$E2E_WORK/radius" 127.0.0.1 1812 1813 "$SRV" || e2e_fail "FreeRADIUS did not start"
printf '%s\n' "$RADIUS_SECRET" >"$E2E_WORK/radius-secret"
chmod 600 "$E2E_WORK/radius-secret"

start_server server "$SRV" --radius-server 127.0.0.1 --radius-secrets "$E2E_WORK/radius-secret" \
  --auth mschapv2,chap,pap,eap --mppe optional

# session NAME USER ARGS...: a client session in the client namespace, a ping each way, then a clean
# disconnect; prints the client's tunnel address.
session() {
  local name=$1 user=$2
  shift 2
  start_client "$name" "$CLI" "$user" "$@"
  wait_session "$name"
  local ours theirs
  ours=$(session_field "$E2E_WORK/$name.log" local)
  theirs=$(session_field "$E2E_WORK/$name.log" remote)
  ping_ok "$CLI" "$theirs" || e2e_fail "$name: ping client -> server: $(cat "$E2E_WORK/ping.out")"
  ping_ok "$SRV" "$ours" || e2e_fail "$name: ping server -> client: $(cat "$E2E_WORK/ping.out")"
  [ -z "${SESSION_CHECK:-}" ] || eval "$SESSION_CHECK" || e2e_fail "$name: $SESSION_CHECK"
  kill -TERM "$CLIENT_PID"
  exit_status "$CLIENT_PID" 15
  [ "$EXIT_STATUS" = 0 ] || e2e_fail "$name: client exit status $EXIT_STATUS"
  SESSION_ADDRESS=$ours
}

e2e_step "MS-CHAPv2 with MPPE-128: the keys come from FreeRADIUS (MS-MPPE-Send-Key/Recv-Key)"
session alice alice --auth mschapv2 --mppe required
case $(session_field "$E2E_WORK/alice.log" mppe) in 128-bit*) ;; *) e2e_fail "alice: no MPPE-128" ;; esac
[ "$(session_field "$E2E_WORK/server.log" auth)" = MS-CHAPv2 ] || e2e_fail "server: alice's auth is not MS-CHAPv2"
alice_ip=$SESSION_ADDRESS
echo "   alice $alice_ip, $(session_field "$E2E_WORK/alice.log" mppe)"

e2e_step "CHAP-MD5 (CHAP-Password, CHAP-Challenge), Framed-IP-Address and Framed-MTU from the users file"
server_mtu() {
  local ifname
  ifname=$(sed -n 's/.*session up: user=carol .*ifname=\([^ ]*\).*/\1/p' "$E2E_WORK/server.log" | tail -n1)
  ip -n "$SRV" link show "$ifname" | grep -o 'mtu [0-9]*'
}
SESSION_CHECK='[ "$(server_mtu)" = "mtu 1300" ]' session carol carol --auth chap --mppe refused
[ "$SESSION_ADDRESS" = 10.98.0.150 ] || e2e_fail "carol got $SESSION_ADDRESS, not her Framed-IP-Address"

e2e_step "PAP (User-Password hidden with the shared secret)"
session bob bob --auth pap --mppe refused
echo "   bob $SESSION_ADDRESS"

e2e_step "EAP relayed to FreeRADIUS (EAP-Message, State): EAP-MD5 runs there, not here"
session erin erin --auth eap --mppe refused
log_has "$E2E_WORK/server.log" 'RADIUS accepted user erin' || e2e_fail "erin was not accepted by RADIUS"
grep -q 'EAP-MD5\|eap_md5' "$RADIUS_DIR/radius.log" || e2e_fail "FreeRADIUS did not run EAP-MD5 for erin"
[ "$(sed -n 's/.*session up: user=erin auth=\([^ ]*\).*/\1/p' "$E2E_WORK/server.log")" = EAP ] ||
  e2e_fail "server: erin's session does not say auth=EAP (the method was FreeRADIUS's)"

e2e_step "a wrong password is rejected by RADIUS"
start_client dave "$CLI" dave --auth mschapv2
wait_until 15 log_has "$E2E_WORK/server.log" 'RADIUS rejected user dave' || e2e_fail "no RADIUS reject for dave"
kill -TERM "$CLIENT_PID"
exit_status "$CLIENT_PID" 15
! log_has "$E2E_WORK/dave.log" 'session up:' || e2e_fail "dave got a session"

e2e_step "accounting: Start and Stop for each session, with Class and the bytes moved"
wait_until 10 eval '[ "$(radius_sql "SELECT COUNT(*) FROM radacct WHERE acctstoptime IS NOT NULL")" = 4 ]' ||
  e2e_fail "FreeRADIUS has not 4 stopped sessions: $(radius_sql 'SELECT username, acctstoptime FROM radacct')"
for user in alice carol bob erin; do
  row=$(radius_acct_rows "$user")
  echo "   $user: $row"
  IFS='|' read -r _sid _nas _port _start _upd stop _time in_octets out_octets framed cause class <<<"$row"
  [ -n "$stop" ] || e2e_fail "$user: no Stop"
  [ "${in_octets:-0}" -ge 84 ] && [ "${out_octets:-0}" -ge 84 ] || e2e_fail "$user: octets $in_octets/$out_octets"
  [ "$cause" = User-Request ] || e2e_fail "$user: terminate cause '$cause', not User-Request"
  case $user in
    alice) [ "$class" = 0x676f6c64 ] || e2e_fail "alice: Class '$class' (FreeRADIUS keeps it in hex) is not gold" ;;
    carol) [ "$framed" = 10.98.0.150 ] || e2e_fail "carol: Framed-IP-Address '$framed'" ;;
  esac
done
[ "$(radius_sql "SELECT framedipaddress FROM radacct WHERE username = 'alice'")" = "$alice_ip" ] ||
  e2e_fail "alice's accounting address is not her session's"
e2e_pass
