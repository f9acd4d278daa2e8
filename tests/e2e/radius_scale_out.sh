#!/usr/bin/env bash
# Scale-out with real parts: two `pptpkit server` concentrators share the anycast address 10.60.0.1
# behind a router that spreads clients over them with ECMP, hashed on layer 3 (lib_ecmp.sh says why an
# L4 hash would split a client's TCP 1723 and GRE). Both are NASes of one real FreeRADIUS, which owns
# the users, one SQL address pool, the accounting and Simultaneous-Use := 1 across both:
#   - four clients get MS-CHAPv2 sessions with MPPE-128 (keys from FreeRADIUS), each on the
#     concentrator the router's FIB picks for its address, each with its own address from the pool;
#   - a second login of a user already on one concentrator is refused by FreeRADIUS on the other one;
#   - a Disconnect-Request to the concentrator holding a session ends that session only (the other
#     concentrator NAKs it), with an accounting Stop for Admin-Reset;
#   - after clean stops every session has its Start and Stop with the bytes its pings moved, and the
#     pool has its addresses back.
# Usage: tests/e2e/radius_scale_out.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_radius.sh"
source "$(dirname "$0")/lib_ecmp.sh"
e2e_init "$@"
for tool in freeradius radclient sqlite3; do
  command -v "$tool" >/dev/null || e2e_fail "$tool is not installed (scripts/lib/common.sh: PPTPKIT_PACKAGES)"
done

N_CLIENTS=4
PINGS=20                 # per round; 56 data bytes = 84-byte IP packets, each way
POOL_FIRST=10.98.10.10   # FreeRADIUS's pool; each concentrator's own --remoteip is elsewhere
POOL_SIZE=8
started=$SECONDS

e2e_step "topology: router (ECMP, L3 hash) to 2 concentrators on $ECMP_SERVICE, $((N_CLIENTS + 1)) clients, RADIUS at $ECMP_RADIUS_ADDR"
# Clients 1..4 hold the sessions; client 5 tries a second login.
ecmp_topology 2 $((N_CLIENTS + 1))
E2E_SERVER=$ECMP_SERVICE

e2e_step "FreeRADIUS: users u1..u$N_CLIENTS, pool $POOL_FIRST +$POOL_SIZE, Simultaneous-Use := 1"
: >"$E2E_WORK/chap-secrets"
chmod 600 "$E2E_WORK/chap-secrets"
for j in $(seq 1 "$N_CLIENTS"); do
  password_file "u$j" "u$j-password"
  radius_user "u$j" "u$j-password"
done
radius_pool main "$POOL_FIRST" "$POOL_SIZE"
RADIUS_CLIENTS=10.50.0.0/16
radius_start "$E2E_WORK/radius" "$ECMP_RADIUS_ADDR" 1812 1813 "$ECMP_RADIUS_NS" || e2e_fail "FreeRADIUS did not start"
printf '%s\n' "$RADIUS_SECRET" >"$E2E_WORK/radius-secret"
chmod 600 "$E2E_WORK/radius-secret"
pool_last=$(radius_int_to_ip $(($(radius_ip_to_int "$POOL_FIRST") + POOL_SIZE - 1)))

# acct_answered N: FreeRADIUS has sent its Nth Accounting-Response, so what that request wrote (radacct,
# the lease) is in SQL before the next login is checked against it (Simultaneous-Use counts radacct
# rows): each login here waits for the accounting before it, so every check is deterministic.
acct_answered() {
  wait_until 10 eval "[ \"\$(grep -c 'Sent Accounting-Response' \"\$RADIUS_DIR/radius.log\")\" -ge $1 ]" ||
    e2e_fail "FreeRADIUS answered $(grep -c 'Sent Accounting-Response' "$RADIUS_DIR/radius.log") Accounting-Requests, not $1"
}

# detail_has STATUS ATTRIBUTE: the detail file has an Accounting-Request of Acct-Status-Type STATUS with
# the line ATTRIBUTE (e.g. 'NAS-IP-Address = 10.50.1.2').
detail_has() {
  awk -v RS= -v status="Acct-Status-Type = $1\n" -v attr="$2\n" \
    'index($0 "\n", status) && index($0 "\n", attr) { found = 1 } END { exit !found }' "$RADIUS_DIR/detail"
}

# in_pool ADDRESS: inside FreeRADIUS's pool.
in_pool() {
  local n first
  n=$(radius_ip_to_int "$1")
  first=$(radius_ip_to_int "$POOL_FIRST")
  [ "$n" -ge "$first" ] && [ "$n" -lt $((first + POOL_SIZE)) ]
}

e2e_step "concentrators: conc1 (${ECMP_SERVER_ADDR[1]}) and conc2 (${ECMP_SERVER_ADDR[2]}), logins and addresses from RADIUS"
for i in 1 2; do
  SERVER_WAN=$ECMP_SERVICE SERVER_TUNNEL=10.98.$i.1 POOL=10.98.20$i.10-19 start_server "conc$i" "${ECMP_SERVER_NS[i]}" \
    --radius-server "$ECMP_RADIUS_ADDR" --radius-secrets "$E2E_WORK/radius-secret" \
    --nas-ip-address "${ECMP_SERVER_ADDR[i]}" --nas-identifier "conc$i" \
    --radius-dae "${ECMP_SERVER_ADDR[i]}" --radius-dae-client "$ECMP_RADIUS_ADDR" \
    --auth mschapv2 --status-socket "$E2E_WORK/conc$i.sock"
  CONC_PID[i]=$SERVER_PID
  acct_answered "$i" # its Accounting-On
done

e2e_step "$N_CLIENTS clients connect to $ECMP_SERVICE, one after another (see acct_answered)"
for j in $(seq 1 "$N_CLIENTS"); do
  start_client "u$j" "${ECMP_CLIENT_NS[j]}" "u$j" --auth mschapv2 --mppe required
  CLIENT[j]=$CLIENT_PID
  PINGED[j]=0
  wait_session "u$j" 20
  acct_answered $((2 + j)) # its Start
done

e2e_step "each session: MPPE-128, on the concentrator the FIB picked, its own address from the pool"
declare -A owner=()
for j in $(seq 1 "$N_CLIENTS"); do
  i=${ECMP_EXPECTED[j]}
  other=$((3 - i))
  log=$E2E_WORK/u$j.log
  addr=$(session_field "$log" local)
  case $(session_field "$log" mppe) in 128-bit*) ;; *) e2e_fail "u$j: no MPPE-128 ($(session_field "$log" mppe))" ;; esac
  [ "$(session_field "$log" remote)" = "10.98.$i.1" ] ||
    e2e_fail "u$j: the tunnel's far end is $(session_field "$log" remote), not conc$i's 10.98.$i.1"
  in_pool "$addr" || e2e_fail "u$j: address $addr is not from the pool $POOL_FIRST-$pool_last"
  [ -z "${owner[$addr]:-}" ] || e2e_fail "u$j and ${owner[$addr]} both have $addr"
  owner[$addr]=u$j
  line=$(grep -E "session up: user=u$j " "$E2E_WORK/conc$i.log") ||
    e2e_fail "u$j (client ${ECMP_CLIENT_ADDR[j]}) has no session on conc$i, where the router's FIB sends it"
  ! log_has "$E2E_WORK/conc$other.log" "session up: user=u$j " || e2e_fail "u$j also has a session on conc$other"
  [[ $line == *"remote=$addr "* ]] || e2e_fail "conc$i's session for u$j is not $addr: $line"
  CALL[j]=$(sed -nE 's/.*\[c[0-9]+ s([0-9]+)\] session up:.*/\1/p' <<<"$line")
  # The open radacct row is the Start: on the same concentrator (NAS-IP-Address), call and address.
  row=$(radius_sql "SELECT acctsessionid, nasipaddress, nasportid, framedipaddress FROM radacct
    WHERE username = 'u$j' AND acctstoptime IS NULL")
  IFS='|' read -r sid nas port framed <<<"$row"
  [ -n "$sid" ] && [ "$nas" = "${ECMP_SERVER_ADDR[i]}" ] && [ "$port" = "${CALL[j]}" ] && [ "$framed" = "$addr" ] ||
    e2e_fail "u$j: the open radacct row '$row' is not conc$i's (${ECMP_SERVER_ADDR[i]}) call ${CALL[j]} with $addr"
  SID[j]=$sid
  ADDR[j]=$addr
done
accepts=$(grep -c 'Sent Access-Accept' "$RADIUS_DIR/radius.log")
keys=$(grep -c 'MS-MPPE-Send-Key = 0x' "$RADIUS_DIR/radius.log")
[ "$accepts" -ge "$N_CLIENTS" ] && [ "$keys" -ge "$N_CLIENTS" ] ||
  e2e_fail "FreeRADIUS sent $accepts Access-Accepts with $keys MPPE keys, not $N_CLIENTS"
for i in 1 2; do
  status=$("$PPTPKIT" status --status-socket "$E2E_WORK/conc$i.sock" 2>/dev/null || true)
  echo "$status" | grep -q "^radius $ECMP_RADIUS_ADDR:1812/1813 alive .* bad_replies=0 " ||
    e2e_fail "conc$i: FreeRADIUS's replies were not all taken: $(grep '^radius ' <<<"$status")"
done
leases=$(radius_leases | tr '\n' ' ')
echo "   leases: $leases"

# ping_all J...: PINGS pings from each client J to its concentrator's tunnel address, all at once,
# every one answered.
ping_all() {
  local j pids=()
  for j in "$@"; do
    ip netns exec "${ECMP_CLIENT_NS[j]}" ping -q -c "$PINGS" -i 0.05 -W 2 "10.98.${ECMP_EXPECTED[j]}.1" \
      >"$E2E_WORK/ping-u$j.out" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  for j in "$@"; do
    grep -q " $PINGS received, 0% packet loss" "$E2E_WORK/ping-u$j.out" ||
      e2e_fail "u$j: ping through the tunnel to 10.98.${ECMP_EXPECTED[j]}.1: $(grep -E 'loss|error' "$E2E_WORK/ping-u$j.out")"
    PINGED[j]=$((PINGED[j] + PINGS))
  done
}
e2e_step "every client pings its concentrator through its tunnel ($PINGS x 84 bytes each way)"
ping_all $(seq 1 "$N_CLIENTS")

# A second login of a user whose session is on the concentrator that client 5 does not reach.
e2e_step "Simultaneous-Use: a second login, through the other concentrator, is refused by FreeRADIUS"
again=$((N_CLIENTS + 1))
dup=
for j in $(seq 1 "$N_CLIENTS"); do
  [ "${ECMP_EXPECTED[j]}" = "${ECMP_EXPECTED[again]}" ] || { dup=$j; break; }
done
[ -n "$dup" ] || e2e_fail "no session on the concentrator that client $again does not reach"
i=${ECMP_EXPECTED[again]}
[ "$(radius_open_sessions "u$dup")" = 1 ] || e2e_fail "u$dup has $(radius_open_sessions "u$dup") open sessions, not 1"
start_client "u$dup-again" "${ECMP_CLIENT_NS[again]}" "u$dup" --auth mschapv2 --mppe required
wait_until 20 log_has "$E2E_WORK/conc$i.log" "RADIUS rejected user u$dup" ||
  e2e_fail "conc$i: no RADIUS reject for u$dup's second login"
grep -m1 "RADIUS rejected user u$dup" "$E2E_WORK/conc$i.log" | sed 's/^/   /'
log_has "$RADIUS_DIR/radius.log" "Multiple logins.*u$dup|u$dup.*Multiple logins" ||
  e2e_fail "FreeRADIUS did not log the reject as Simultaneous-Use (Multiple logins)"
exit_status "$CLIENT_PID" 15
[ "$EXIT_STATUS" != running ] || { kill -TERM "$CLIENT_PID"; exit_status "$CLIENT_PID" 5; }
[ "$EXIT_STATUS" = 1 ] || e2e_fail "u$dup's second client: exit status $EXIT_STATUS, not 1 (no session)"
! log_has "$E2E_WORK/u$dup-again.log" 'session up:' || e2e_fail "u$dup's second login got a session"
n1=$(grep -cE "session up: user=u$dup " "$E2E_WORK/conc${ECMP_EXPECTED[dup]}.log" || true)
n2=$(grep -cE "session up: user=u$dup " "$E2E_WORK/conc$i.log" || true)
[ "$n1" = 1 ] && [ "$n2" = 0 ] || e2e_fail "u$dup has $n1 sessions on conc${ECMP_EXPECTED[dup]}, $n2 on conc$i"
[ "$(radius_open_sessions "u$dup")" = 1 ] || e2e_fail "u$dup has $(radius_open_sessions "u$dup") open sessions now"

# The first session on concentrator 1 is disconnected.
e2e_step "Disconnect-Request: the other concentrator NAKs it, the holding one ends that session only"
gone=
for j in $(seq 1 "$N_CLIENTS"); do
  [ "${ECMP_EXPECTED[j]}" != 1 ] || { gone=$j; break; }
done
[ -n "$gone" ] || e2e_fail "no session on conc1"
i=${ECMP_EXPECTED[gone]}
answer=$(radius_disconnect "${ECMP_SERVER_ADDR[3 - i]}" 3799 "$RADIUS_SECRET" "User-Name=u$gone" "Acct-Session-Id=${SID[gone]}")
[ "$answer" = Disconnect-NAK ] || e2e_fail "conc$((3 - i)), which does not hold u$gone's session, answered '$answer'"
alive "${CLIENT[gone]}" || e2e_fail "u$gone's client ended after a NAKed Disconnect-Request"
answer=$(radius_disconnect "${ECMP_SERVER_ADDR[i]}" 3799 "$RADIUS_SECRET" "User-Name=u$gone" "Acct-Session-Id=${SID[gone]}")
[ "$answer" = Disconnect-ACK ] || e2e_fail "conc$i answered '$answer' to the Disconnect-Request for u$gone"
wait_until 10 log_has "$E2E_WORK/conc$i.log" "s${CALL[gone]}\] session down: Disconnect-Request" ||
  e2e_fail "conc$i did not end u$gone's session (call ${CALL[gone]})"
grep -m1 "s${CALL[gone]}\] session down" "$E2E_WORK/conc$i.log" | sed 's/^/   /'
wait_until 10 eval '[ "$(radius_sql "SELECT acctterminatecause FROM radacct WHERE acctsessionid = '"'${SID[gone]}'"'")" = Admin-Reset ]' ||
  e2e_fail "u$gone: no Stop with Admin-Reset: $(radius_acct_rows "u$gone")"
acct_answered $((2 + N_CLIENTS + 1))
exit_status "${CLIENT[gone]}" 15
[ "$EXIT_STATUS" != running ] || e2e_fail "u$gone's client is still running after its session was disconnected"
echo "   u$gone's client exited with $EXIT_STATUS"
[ "$(cat "$E2E_WORK/conc1.log" "$E2E_WORK/conc2.log" | grep -c 'session down:')" = 2 ] ||
  e2e_fail "more sessions went down than u$dup's refused login and u$gone's"
survivors=()
for j in $(seq 1 "$N_CLIENTS"); do
  [ "$j" = "$gone" ] || survivors+=("$j")
done
ping_all "${survivors[@]}"
echo "   still up and passing traffic: $(printf 'u%s ' "${survivors[@]}")"

e2e_step "the other clients stop cleanly, one after another"
stops=$((2 + N_CLIENTS + 1))
for j in "${survivors[@]}"; do
  kill -TERM "${CLIENT[j]}"
  exit_status "${CLIENT[j]}" 15
  [ "$EXIT_STATUS" = 0 ] || e2e_fail "u$j: client exit status $EXIT_STATUS"
  stops=$((stops + 1))
  acct_answered "$stops" # its Stop
done

e2e_step "accounting: a Start and a Stop per session, with the bytes the pings moved; the pool is free"
wait_until 10 eval '[ "$(radius_sql "SELECT COUNT(*) FROM radacct WHERE acctstoptime IS NULL")" = 0 ]' ||
  e2e_fail "sessions without a Stop: $(radius_sql 'SELECT username, nasipaddress FROM radacct WHERE acctstoptime IS NULL')"
[ "$(radius_sql 'SELECT COUNT(*) FROM radacct')" = "$N_CLIENTS" ] ||
  e2e_fail "radacct has $(radius_sql 'SELECT COUNT(*) FROM radacct') sessions, not $N_CLIENTS"
for j in $(seq 1 "$N_CLIENTS"); do
  i=${ECMP_EXPECTED[j]}
  row=$(radius_acct_rows "u$j")
  echo "   u$j: $row"
  IFS='|' read -r sid nas port start _upd stop _time in_octets out_octets framed cause _class <<<"$row"
  want=$((PINGED[j] * 84))
  cause_want=User-Request
  [ "$j" != "$gone" ] || cause_want=Admin-Reset
  [ "$sid" = "${SID[j]}" ] && [ "$nas" = "${ECMP_SERVER_ADDR[i]}" ] && [ "$port" = "${CALL[j]}" ] &&
    [ "$framed" = "${ADDR[j]}" ] || e2e_fail "u$j: the row is not conc$i's call ${CALL[j]} with ${ADDR[j]}"
  [ -n "$start" ] && [ -n "$stop" ] || e2e_fail "u$j: Start '$start', Stop '$stop'"
  [ "${in_octets:-0}" -ge "$want" ] && [ "${out_octets:-0}" -ge "$want" ] ||
    e2e_fail "u$j: octets in $in_octets, out $out_octets; the pings moved $want each way"
  [ "$cause" = "$cause_want" ] || e2e_fail "u$j: terminate cause '$cause', not $cause_want"
  for kind in Start Stop; do
    detail_has "$kind" "Acct-Session-Id = \"$sid\"" || e2e_fail "u$j: no $kind for $sid in the detail file"
  done
done
wait_until 5 eval '[ -z "$(radius_leases)" ]' || e2e_fail "leases left after every Stop: $(radius_leases | tr '\n' ' ')"

e2e_step "the concentrators stop, each with an Accounting-Off"
for i in 1 2; do
  alive "${CONC_PID[i]}" || e2e_fail "conc$i exited"
  kill -TERM "${CONC_PID[i]}"
  exit_status "${CONC_PID[i]}" 10
  [ "$EXIT_STATUS" = 0 ] || e2e_fail "conc$i: exit status $EXIT_STATUS"
  acct_answered $((stops + i))
  detail_has Accounting-Off "NAS-IP-Address = ${ECMP_SERVER_ADDR[i]}" || e2e_fail "conc$i: no Accounting-Off"
done

e2e_step "summary"
for j in $(seq 1 "$N_CLIENTS"); do
  i=${ECMP_EXPECTED[j]}
  note=
  [ "$j" != "$gone" ] || note=", disconnected by RADIUS"
  printf '   client %s %-12s u%s -> conc%s (%s) call %s, address %s%s\n' "$j" "${ECMP_CLIENT_ADDR[j]}" "$j" "$i" \
    "${ECMP_SERVER_ADDR[i]}" "${CALL[j]}" "${ADDR[j]}" "$note"
done
printf '   client %s %-12s u%s -> conc%s: refused (Simultaneous-Use)\n' "$again" "${ECMP_CLIENT_ADDR[again]}" "$dup" \
  "${ECMP_EXPECTED[again]}"
radius_stop
echo "   $((SECONDS - started)) s"
e2e_pass
