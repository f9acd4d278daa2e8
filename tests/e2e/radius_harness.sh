#!/usr/bin/env bash
# The RADIUS and scale-out harnesses on their own, without the daemon: a real FreeRADIUS started by
# lib_radius.sh answers radclient as the daemon's RADIUS client will need (PAP, CHAP, MS-CHAPv2 with
# MPPE keys, EAP-MD5, Message-Authenticator required and sent, SQL accounting, the SQL address pool,
# Simultaneous-Use), and lib_ecmp.sh's topology sends each client's TCP 1723 and GRE to one and the same
# concentrator behind the ECMP route, with the clients spread over all of them.
# Usage: tests/e2e/radius_harness.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_radius.sh"
source "$(dirname "$0")/lib_ecmp.sh"
E2E_NEEDS_DAEMON=0 e2e_init "$@"
here=$(cd "$(dirname "$0")" && pwd)
for tool in freeradius radclient sqlite3 python3; do
  command -v "$tool" >/dev/null || e2e_fail "$tool is not installed (scripts/lib/common.sh: PPTPKIT_PACKAGES)"
done

# request KIND ATTR... / request_from NS ADDRESS KIND ATTR...: one request with the attributes given
# ("Name = value" each), from the server's namespace or from NS to ADDRESS; radclient's output in
# $E2E_WORK/reply, the reply code in $code. Access-Requests are signed (Message-Authenticator = 0x00
# has radclient compute it) unless KIND is unsigned-auth.
request() {
  request_from "" "" "$@"
}
request_from() {
  local ns=$1 address=$2 kind=$3
  shift 3
  case $kind in
    auth) set -- "$@" 'Message-Authenticator = 0x00' ;;
    unsigned-auth) kind=auth ;;
  esac
  printf '%s\n' "$@" | radius_request "$kind" "$ns" "$address" >"$E2E_WORK/reply"
  code=$(radius_reply_code <"$E2E_WORK/reply")
}
# reply_has PATTERN: a line of the reply part of the last request matches (extended regex).
reply_has() {
  sed -n '/^Received/,$p' "$E2E_WORK/reply" | grep -Eq -- "$1"
}
# signed_first: the last reply's first attribute is a Message-Authenticator (Blast-RADIUS).
signed_first() {
  sed -n '/^Received/{n;p}' "$E2E_WORK/reply" | grep -q 'Message-Authenticator = 0x'
}
# reply_value ATTR: the value of ATTR in the last reply.
reply_value() {
  sed -n '/^Received/,$p' "$E2E_WORK/reply" | sed -nE "s/^[[:space:]]+$1 = \"?([^\"]*)\"?$/\\1/p" | head -n1
}
# pap USER PASSWORD NAS_PORT: an Access-Request as a NAS (127.0.0.1) sends it, signed.
pap() {
  request auth "User-Name = \"$1\"" "User-Password = \"$2\"" 'NAS-IP-Address = 127.0.0.1' "NAS-Port = $3"
}
# acct USER STATUS SESSION NAS_PORT FRAMED_IP [ATTR = VALUE ...]
acct() {
  local user=$1 status=$2 session=$3 port=$4 ip=$5
  shift 5
  request acct "User-Name = \"$user\"" "Acct-Status-Type = $status" "Acct-Session-Id = \"$session\"" \
    'NAS-IP-Address = 127.0.0.1' "NAS-Port = $port" "Framed-IP-Address = $ip" "$@"
  [ "$code" = Accounting-Response ] || e2e_fail "$user $status: $code, not Accounting-Response"
}
hex() {
  od -An -v -tx1 | tr -d ' \n'
}

started=$SECONDS
e2e_step "topology: ECMP router, 2 concentrators on 10.60.0.1, 4 clients, RADIUS at $ECMP_RADIUS_ADDR"
ecmp_topology 2 4

e2e_step "FreeRADIUS in its namespace (users alice, bob, User, fixed; pool main 10.98.0.10-13)"
radius_user alice alice-password Class=gold Session-Timeout=600 Acct-Interim-Interval=60 Idle-Timeout=300
radius_user bob bob-password Framed-Pool=ignored-by-nas
radius_user User clientPass        # RFC 2759 §9.2's user
radius_user fixed fixed-password Framed-IP-Address=10.98.0.7 Simultaneous-Use=
radius_pool main 10.98.0.10 4
radius_start "$E2E_WORK/radius" "" "" "" "$ECMP_RADIUS_NS" || e2e_fail "radius_start"
echo "   started in $((SECONDS - started)) s, pid $RADIUS_PID, secret $RADIUS_SECRET"

e2e_step "PAP: accept with the user's reply attributes and a Message-Authenticator, first"
pap alice alice-password 5
[ "$code" = Access-Accept ] || e2e_fail "alice PAP: $code"
sed -n '/^Received/,$p' "$E2E_WORK/reply" | sed 's/^/   /'
signed_first || e2e_fail "the Access-Accept's first attribute is not a Message-Authenticator"
[ "$(reply_value Class)" = 0x676f6c64 ] || e2e_fail "no Class gold"
[ "$(reply_value Session-Timeout)" = 600 ] && [ "$(reply_value Acct-Interim-Interval)" = 60 ] &&
  [ "$(reply_value Idle-Timeout)" = 300 ] || e2e_fail "Session-Timeout/Acct-Interim-Interval/Idle-Timeout"
alice_ip=$(reply_value Framed-IP-Address)
case $alice_ip in 10.98.0.1[0-3]) ;; *) e2e_fail "alice's address '$alice_ip' is not from the pool" ;; esac

e2e_step "PAP: a wrong password is rejected, signed as well"
pap alice wrong 5
[ "$code" = Access-Reject ] || e2e_fail "wrong password: $code"
signed_first || e2e_fail "the Access-Reject's first attribute is not a Message-Authenticator"

e2e_step "Blast-RADIUS: an Access-Request without Message-Authenticator gets no answer"
request unsigned-auth 'User-Name = "alice"' 'User-Password = "alice-password"' 'NAS-IP-Address = 127.0.0.1'
[ "$code" = none ] || e2e_fail "an unsigned request was answered: $code"
wait_until 5 log_has "$RADIUS_DIR/radius.log" 'does not contain required Message-Authenticator' ||
  e2e_fail "the server did not log why it dropped the request"
grep -m1 'does not contain required Message-Authenticator' "$RADIUS_DIR/radius.log" | sed 's/^/   /'

e2e_step "CHAP: radclient computes CHAP-Password from the cleartext"
request auth 'User-Name = "bob"' 'CHAP-Password = "bob-password"' 'NAS-IP-Address = 127.0.0.1' 'NAS-Port = 6'
[ "$code" = Access-Accept ] || e2e_fail "bob CHAP: $code"
bob_ip=$(reply_value Framed-IP-Address)
[ -n "$bob_ip" ] && [ "$bob_ip" != "$alice_ip" ] || e2e_fail "bob's pool address '$bob_ip' (alice has $alice_ip)"
reply_has 'Framed-Pool = "ignored-by-nas"' || e2e_fail "no Framed-Pool in bob's reply"
echo "   alice $alice_ip, bob $bob_ip; leases: $(radius_leases | tr '\n' ' ')"

e2e_step "MS-CHAPv2 (RFC 2759 §9.2): MS-CHAP2-Success with its authenticator response, MPPE keys"
# Ident 1, flags 0, the peer challenge, 8 reserved zero octets, the NT-Response (RFC 2548 §2.3.2).
peer_challenge=21402324255E262A28295F2B3A337C7E
nt_response=82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF
request auth 'User-Name = "User"' 'MS-CHAP-Challenge = 0x5B5D7C7D7B3F2F3E3C2C602132262628' \
  "MS-CHAP2-Response = 0x0100${peer_challenge}0000000000000000$nt_response" 'NAS-IP-Address = 127.0.0.1' 'NAS-Port = 8'
[ "$code" = Access-Accept ] || e2e_fail "MS-CHAPv2: $code"
success=$(printf 'S=407A5589115FD0D6209F510FE9C04566932CDA56' | hex)
[ "$(reply_value MS-CHAP2-Success)" = "0x01$success" ] ||
  e2e_fail "MS-CHAP2-Success is '$(reply_value MS-CHAP2-Success)', not RFC 2759's S=407A5589..."
send_key=$(reply_value MS-MPPE-Send-Key)
recv_key=$(reply_value MS-MPPE-Recv-Key)
echo "   MS-MPPE-Send-Key $send_key, MS-MPPE-Recv-Key $recv_key"
# RFC 3079 §3.5.3 (the same user, challenges and response): the 128-bit send start key, 8B7CDC14...,
# is the server's, so the MS-MPPE-Send-Key (the key the NAS sends with).
[ "${send_key,,}" = 0x8b7cdc149b993a1ba118cb153f56dccb ] ||
  e2e_fail "MS-MPPE-Send-Key is not RFC 3079's SendStartKey128 8B7CDC14..."
[[ ${recv_key,,} =~ ^0x[0-9a-f]{32}$ ]] && [ "$recv_key" != "$send_key" ] || e2e_fail "MS-MPPE-Recv-Key"
reply_has 'MS-MPPE-Encryption-Policy' && reply_has 'MS-MPPE-Encryption-Types' || e2e_fail "no MPPE policy/types"

e2e_step "EAP-MD5: identity, challenge, response"
request auth 'User-Name = "bob"' "EAP-Message = 0x0201000801$(printf bob | hex)" 'NAS-IP-Address = 127.0.0.1' 'NAS-Port = 9'
[ "$code" = Access-Challenge ] || e2e_fail "EAP identity: $code"
signed_first || e2e_fail "the Access-Challenge's first attribute is not a Message-Authenticator"
eap=$(reply_value EAP-Message)
state=$(reply_value State)
[[ ${eap,,} =~ ^0x01([0-9a-f]{2})[0-9a-f]{4}0410([0-9a-f]{32}) ]] || e2e_fail "not an EAP-MD5 challenge: $eap"
eap_id=${BASH_REMATCH[1]}
md5=$(python3 -c 'import hashlib, sys
print(hashlib.md5(bytes.fromhex(sys.argv[1]) + b"bob-password" + bytes.fromhex(sys.argv[2])).hexdigest())' \
  "$eap_id" "${BASH_REMATCH[2]}")
request auth 'User-Name = "bob"' "EAP-Message = 0x02${eap_id}00160410$md5" "State = $state" \
  'NAS-IP-Address = 127.0.0.1' 'NAS-Port = 9'
[ "$code" = Access-Accept ] || e2e_fail "EAP-MD5 response: $code"
[[ $(reply_value EAP-Message) == 0x03* ]] || e2e_fail "no EAP-Success in the Access-Accept"

e2e_step "accounting: Start, Interim-Update, Stop reach the detail file and radacct"
acct alice Start pk-0001 5 "$alice_ip" 'Class = "gold"'
acct bob Start pk-0002 6 "$bob_ip"
acct alice Interim-Update pk-0001 5 "$alice_ip" 'Class = "gold"' 'Acct-Session-Time = 30' \
  'Acct-Input-Octets = 1000' 'Acct-Output-Octets = 2000'
row=$(radius_acct_rows alice)
echo "   after Interim: $row"
IFS='|' read -r sid nas port start _ stop stime in out ip cause class <<<"$row"
[ "$sid" = pk-0001 ] && [ "$nas" = 127.0.0.1 ] && [ "$port" = 5 ] && [ -n "$start" ] && [ -z "$stop" ] &&
  [ "$stime" = 30 ] && [ "$in" = 1000 ] && [ "$out" = 2000 ] && [ "$ip" = "$alice_ip" ] && [ "$class" = 0x676f6c64 ] ||
  e2e_fail "alice's radacct row after the Interim-Update: $row"

e2e_step "Simultaneous-Use: a second login of alice while her session is open is rejected"
[ "$(radius_open_sessions alice)" = 1 ] || e2e_fail "alice has $(radius_open_sessions alice) open sessions, not 1"
pap alice alice-password 7
[ "$code" = Access-Reject ] || e2e_fail "second login of alice: $code"
reply_has 'already logged in' || e2e_fail "no Reply-Message saying why"
pap fixed fixed-password 10
[ "$code" = Access-Accept ] && [ "$(reply_value Framed-IP-Address)" = 10.98.0.7 ] || e2e_fail "fixed: $code"
pap fixed fixed-password 11
[ "$code" = Access-Accept ] || e2e_fail "fixed has no Simultaneous-Use, still: $code"

e2e_step "Stop: 64-bit byte counts (gigawords), the session closed, the lease freed"
acct alice Stop pk-0001 5 "$alice_ip" 'Class = "gold"' 'Acct-Session-Time = 45' 'Acct-Input-Octets = 5000' \
  'Acct-Output-Octets = 7000' 'Acct-Input-Gigawords = 1' 'Acct-Terminate-Cause = User-Request'
row=$(radius_acct_rows alice)
echo "   after Stop: $row"
IFS='|' read -r sid nas port start _ stop stime in out ip cause class <<<"$row"
[ -n "$stop" ] && [ "$stime" = 45 ] && [ "$in" = $((4294967296 + 5000)) ] && [ "$out" = 7000 ] &&
  [ "$cause" = User-Request ] || e2e_fail "alice's radacct row after the Stop: $row"
[ "$(radius_acct_rows alice | wc -l)" = 1 ] || e2e_fail "alice has more than one radacct row"
leases=$(radius_leases | tr '\n' ' ')
echo "   leases: $leases"
[[ " $leases" != *"|alice "* && " $leases" == *" $bob_ip|bob "* ]] ||
  e2e_fail "after alice's Stop her lease should be free and bob's $bob_ip kept: $leases"
for kind in Start Interim-Update Stop; do
  [ "$(grep -c "Acct-Status-Type = $kind" "$RADIUS_DIR/detail")" -ge 1 ] || e2e_fail "no $kind in the detail file"
done
pap alice alice-password 12
[ "$code" = Access-Accept ] || e2e_fail "alice after her Stop: $code"

e2e_step "the pool (4 addresses) is full now: a login that needs an address is rejected"
leases=$(radius_leases | wc -l)
[ "$leases" = 4 ] || e2e_fail "$leases leases, not 4: $(radius_leases | tr '\n' ' ')"
pap User clientPass 13
[ "$code" = Access-Reject ] || e2e_fail "a login with the pool full: $code"

e2e_step "clients in 10.0.0.0/8: concentrator 1 (${ECMP_SERVER_ADDR[1]}) authenticates across the router"
request_from "${ECMP_SERVER_NS[1]}" "$ECMP_RADIUS_ADDR" auth 'User-Name = "fixed"' 'User-Password = "fixed-password"' \
  "NAS-IP-Address = ${ECMP_SERVER_ADDR[1]}" 'NAS-Port = 1'
[ "$code" = Access-Accept ] && [ "$(reply_value Framed-IP-Address)" = 10.98.0.7 ] ||
  e2e_fail "fixed from concentrator 1: $code"

e2e_step "Disconnect-Request / CoA-Request to a NAS port where nothing listens: a clean timeout"
t0=$SECONDS
answer=$(radius_disconnect "${ECMP_SERVER_ADDR[1]}" 3799 "$RADIUS_SECRET" User-Name=bob Acct-Session-Id=pk-0002)
[ "$answer" = timeout ] || e2e_fail "Disconnect-Request: '$answer'"
answer=$(radius_coa "${ECMP_SERVER_ADDR[1]}" 3799 "$RADIUS_SECRET" User-Name=bob Session-Timeout=60)
[ "$answer" = timeout ] || e2e_fail "CoA-Request: '$answer'"
echo "   both: timeout, in $((SECONDS - t0)) s"

e2e_step "ECMP (L3 hash): each client's TCP 1723 and GRE reach the same one concentrator"
for i in 1 2; do
  E2E_LOGS+=("$E2E_WORK/probe-s$i.log")
  netns_spawn "$E2E_WORK/probe-s$i.log" "${ECMP_SERVER_NS[i]}" python3 "$here/ecmp_probe.py" listen \
    --name "s$i" --address "$ECMP_SERVICE" --timeout 30
done
for i in 1 2; do
  wait_until 5 log_has "$E2E_WORK/probe-s$i.log" '^listening' || e2e_fail "the listener in server $i did not start"
done
declare -A used=()
for j in 1 2 3 4; do
  got=$(ip netns exec "${ECMP_CLIENT_NS[j]}" timeout 10 python3 "$here/ecmp_probe.py" tcp --to "$ECMP_SERVICE") ||
    e2e_fail "client $j: no TCP connection to $ECMP_SERVICE:1723"
  ip netns exec "${ECMP_CLIENT_NS[j]}" python3 "$here/ecmp_probe.py" gre --to "$ECMP_SERVICE" --call-id "$j" ||
    e2e_fail "client $j: could not send GRE"
  echo "   client $j ${ECMP_CLIENT_ADDR[j]} -> TCP answered by $got (the FIB said s${ECMP_EXPECTED[j]})"
  [ "$got" = "s${ECMP_EXPECTED[j]}" ] || e2e_fail "client $j reached $got, the router's FIB said s${ECMP_EXPECTED[j]}"
  used[$got]=1
done
[ "${#used[@]}" = 2 ] || e2e_fail "the 4 clients did not use both concentrators"
for j in 1 2 3 4; do
  want=s${ECMP_EXPECTED[j]}
  wait_until 5 log_has "$E2E_WORK/probe-$want.log" "^gre ${ECMP_CLIENT_ADDR[j]//./\\.} $j\$" ||
    e2e_fail "client $j's GRE did not reach $want, where its TCP went"
  for i in 1 2; do
    [ "s$i" = "$want" ] && continue
    ! log_has "$E2E_WORK/probe-s$i.log" "^(tcp|gre) ${ECMP_CLIENT_ADDR[j]//./\\.} " ||
      e2e_fail "client $j's packets also reached s$i"
  done
done
sed 's/^/   /' "$E2E_WORK"/probe-s1.log "$E2E_WORK"/probe-s2.log | grep -v listening

radius_stop
echo "   $((SECONDS - started)) s"
e2e_pass
