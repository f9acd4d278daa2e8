# The interop scenarios: one function per matrix row, run inside the VM by guest/scenario.sh.
# shellcheck shell=bash
#
#   ref-*  pptp-linux + pppd -> pptpd + pppd: the real peers against each other. They prove the
#          harness and every peer configuration the pptpkit rows reuse (and produce the golden captures).
#   srv-*  pptp-linux + pppd -> `pptpkit server`
#   cli-*  `pptpkit client`  -> pptpd + pppd
# Profiles (guest/lib.sh profile_set): mppe128 (MS-CHAPv2 + MPPE-128 stateless), mppe128-stateful,
# mppe40, mschapv2 (no MPPE), chap-md5, pap, wrong-password; netem (2% loss + reordering on the link);
# nat (two pptp-linux clients behind one NAT with the PPTP conntrack/NAT helper).

TCP_AMOUNT=${TCP_AMOUNT:--n 2M}

# Every scenario name, in the order a full run goes through them.
scenario_list() {
  local p
  for p in mppe128 mppe128-stateful mppe40 mschapv2 chap-md5 pap wrong-password netem nat; do
    echo "ref-$p"
  done
  for p in mppe128 mppe128-stateful mppe40 mschapv2 chap-md5 pap wrong-password netem nat; do
    echo "srv-$p"
  done
  for p in mppe128 mppe128-stateful mppe40 mschapv2 chap-md5 pap wrong-password netem; do
    echo "cli-$p"
  done
}

# checks_begin / check OK NAME DETAIL / checks_end: collects failures into status=.
checks_begin() { FAILURES=(); }
check() {
  local ok=$1 name=$2
  shift 2
  [ "$ok" = 0 ] || FAILURES+=("$name: $*")
}
checks_end() {
  if [ ${#FAILURES[@]} -eq 0 ]; then
    result status PASS
  else
    result status "FAIL $(
      IFS=';'
      echo "${FAILURES[*]}"
    )"
    relevant_logs
  fi
}

# agree ROLE_A VALUE_A ROLE_B VALUE_B: "VALUE" when both sides say the same, else both.
agree() {
  if [ "$2" = "$4" ]; then echo "$2"; else echo "$1:$2 $3:$4"; fi
}

# netem_on NS IF...: 2% loss and reordering (a quarter of the packets overtake delayed ones).
netem_on() {
  local ns=$1 dev
  shift
  for dev in "$@"; do
    ip netns exec "$ns" tc qdisc add dev "$dev" root netem delay 10ms 5ms reorder 25% 50% loss 2% || return 1
  done
}

# stop_client TAG: SIGTERM, then waits up to 15 s for the client to exit.
stop_client() {
  local pid
  pid=$(client_pid "$1")
  kill -TERM "$pid" 2>/dev/null
  wait_until 15 sh -c "! kill -0 $pid"
}

# run_pair CLIENT_KIND SERVER_KIND PROFILE [netem]
run_pair() {
  local ckind=$1 skind=$2 profile=$3 variant=${4:-}
  local both=
  [ "$ckind" != pptp-linux ] || [ "$skind" != pptpd ] || both=pppd-both
  profile_set "$profile" $both || return
  result peers "$ckind -> $skind"
  checks_begin
  if ! topology_pair; then
    check 1 setup "network namespaces"
    checks_end
    return
  fi
  local count=5 min=5 amount=$TCP_AMOUNT
  if [ "$variant" = netem ]; then
    netem_on srv v-srv && netem_on cli v-cli || check 1 setup "netem"
    count=30 min=20 amount="-t 5"
  fi
  capture_start srv v-srv
  if ! server_start "$skind" srv; then
    check 1 up "server did not start"
    result up no
    capture_stop
    checks_end
    return
  fi
  say "server $skind up; starting client $ckind"
  client_start "$ckind" cli client
  local cpid
  cpid=$(client_pid client)
  # Up when both ends have their tunnel; over when the client gave up.
  pair_settled() {
    { [ -n "$(side_endpoint "$ckind" cli client)" ] && [ -n "$(side_endpoint "$skind" srv server)" ]; } ||
      ! kill -0 "$cpid" 2>/dev/null
  }
  wait_until 60 pair_settled
  local cend send
  cend=$(side_endpoint "$ckind" cli client)
  send=$(side_endpoint "$skind" srv server)
  say "client tunnel: ${cend:-none}; server tunnel: ${send:-none}"
  local srep crep
  if [ "$EXPECT_UP" = yes ]; then
    [ -n "$cend" ] && [ -n "$send" ] && result up yes || { result up no; check 1 up "tunnel not up"; }
    srep=$(side_report "$skind" server server)
    crep=$(side_report "$ckind" client client)
    result auth "$(agree server "${srep%|*}" client "${crep%|*}")"
    result mppe "$(agree server "${srep#*|}" client "${crep#*|}")"
    check "$([ "${srep%|*}" = "$EXPECT_AUTH" ] && [ "${crep%|*}" = "$EXPECT_AUTH" ]; echo $?)" auth \
      "expected $EXPECT_AUTH on both sides, got server ${srep%|*}, client ${crep%|*}"
    # Each side reports the MPPE mode it receives in; a pppd side may differ (EXPECT_MPPE_PPPD).
    local smppe=$EXPECT_MPPE cmppe=$EXPECT_MPPE
    [ "$skind" = pptpkit ] || smppe=$EXPECT_MPPE_PPPD
    [ "$ckind" = pptpkit ] || cmppe=$EXPECT_MPPE_PPPD
    check "$([ "${srep#*|}" = "$smppe" ] && [ "${crep#*|}" = "$cmppe" ]; echo $?)" mppe \
      "expected $smppe on the server and $cmppe on the client, got server ${srep#*|}, client ${crep#*|}"
    local kind tag
    for kind in "$skind server" "$ckind client"; do
      read -r kind tag <<<"$kind"
      [ "$kind" != pptpkit ] || grep -q "session up: user=$TUN_USER " "$W/pptpkit-$tag.log" ||
        check 1 user "pptpkit $tag: no 'session up: user=$TUN_USER' line"
    done
    if [ -n "$cend" ] && [ -n "$send" ]; then
      local c_local s_local p1 p2 r1=0 r2=0 t rt=0
      read -r c_local _ _ <<<"$cend"
      read -r s_local _ _ <<<"$send"
      p1=$(ping_check cli "$s_local" $count $min) || r1=1
      p2=$(ping_check srv "$c_local" $count $min) || r2=1
      result ping "c->s $p1, s->c $p2"
      check $r1 ping "client -> server $p1 (need $min)"
      check $r2 ping "server -> client $p2 (need $min)"
      t=$(tcp_check cli srv "$s_local" "$amount") || rt=1
      result tcp "$t"
      check $rt tcp "$t"
    else
      result ping -
      result tcp -
    fi
    # Teardown: the client hangs up; the server must clean the session up on what the client sends.
    stop_client client
    say "client stopped"
    local s_if
    read -r _ _ s_if <<<"$send"
    if [ -z "$s_if" ]; then
      result teardown -
    elif wait_until 20 sh -c "! ip -n srv link show dev $s_if"; then
      result teardown ok
    else
      result teardown "server kept the session"
      check 1 teardown "the server's tunnel interface $s_if is still there 20 s after the client left"
    fi
  else
    # Wrong password: no tunnel, both sides say authentication failed, the client gives up by itself.
    [ -z "$cend" ] && result up no || { result up yes; check 1 up "tunnel came up with a wrong password"; }
    wait_until 30 sh -c "! kill -0 $cpid"
    local st=running
    if ! kill -0 "$cpid" 2>/dev/null; then
      wait "$cpid" 2>/dev/null
      st=$?
    fi
    srep=$(side_report "$skind" server server)
    crep=$(side_report "$ckind" client client)
    if [ "${srep%|*}" = failed ] && [ "${crep%|*}" = failed ]; then
      result auth rejected
    else
      result auth "$(agree server "${srep%|*}" client "${crep%|*}")"
      check 1 auth "both sides must report the failure: server ${srep%|*}, client ${crep%|*}"
    fi
    result mppe -
    result ping -
    result tcp -
    if [ "$st" = running ] || [ "$st" = 0 ]; then
      check 1 client "the client must exit non-zero after the failure (status $st)"
      kill "$cpid" 2>/dev/null
    fi
  fi
  server_alive_check
  capture_stop
  checks_end
}

# server_alive_check: the server must survive every scenario, a failed one included.
server_alive_check() {
  kill -0 "$SERVER_PID" 2>/dev/null || check 1 server "the $SERVER_KIND server exited during the scenario"
}

# run_nat SERVER_KIND: two pptp-linux clients behind one masquerading router with the PPTP helper.
#   cli1 10.1.1.2 ─┐
#                  nat (nftables masquerade + ct helper pptp) 192.0.2.2 ── srv 192.0.2.1
#   cli2 10.1.2.2 ─┘
run_nat() {
  local skind=$1
  profile_set nat || return
  result peers "2 x pptp-linux -> NAT -> $skind"
  checks_begin
  if ! { ns_new srv nat cli1 cli2 && ns_link srv v-srv "$SRV_ADDR/24" nat v-nat "$CLI_ADDR/24" &&
    ns_link nat v-n1 10.1.1.1/24 cli1 v-c1 10.1.1.2/24 && ns_link nat v-n2 10.1.2.1/24 cli2 v-c2 10.1.2.2/24 &&
    ip -n cli1 route add default via 10.1.1.1 && ip -n cli2 route add default via 10.1.2.1 &&
    ip netns exec nat sysctl -qw net.ipv4.ip_forward=1 &&
    ip netns exec nat nft -f - <<EOF; }; then
table ip nat {
  # Helpers are no longer attached automatically (nf_conntrack_helper=0 since Linux 4.7).
  ct helper pptp { type "pptp" protocol tcp; }
  chain prerouting {
    type filter hook prerouting priority filter; policy accept;
    tcp dport 1723 ct helper set "pptp"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "v-nat" masquerade
  }
}
EOF
    check 1 setup "NAT topology"
    checks_end
    return
  fi
  capture_start srv v-srv
  if ! server_start "$skind" srv; then
    check 1 up "server did not start"
    capture_stop
    checks_end
    return
  fi
  client_start pptp-linux cli1 cli1
  client_start pptp-linux cli2 cli2
  nat_settled() {
    [ -n "$(side_endpoint pptp-linux cli1 cli1)" ] && [ -n "$(side_endpoint pptp-linux cli2 cli2)" ] || return 1
    if [ "$skind" = pptpkit ]; then
      [ -n "$(side_endpoint pptpkit srv server 2)" ]
    else
      [ "$(tunnel_count srv)" = 2 ]
    fi
  }
  wait_until 60 nat_settled
  local up=0 tag e pings=() tcps=() p1 p2 t auths=() mppes=() rep c_local s_local
  for tag in cli1 cli2; do
    e=$(side_endpoint pptp-linux $tag $tag)
    if [ -z "$e" ]; then
      check 1 up "$tag: no tunnel"
      continue
    fi
    up=$((up + 1))
    read -r c_local s_local _ <<<"$e"
    p1=$(ping_check $tag "$s_local" 5 5) || check 1 ping "$tag -> server $p1"
    p2=$(ping_check srv "$c_local" 5 5) || check 1 ping "server -> $tag $p2"
    pings+=("$tag $p1 $p2")
    t=$(tcp_check $tag srv "$s_local" "-n 2M") || check 1 tcp "$tag: $t"
    tcps+=("$tag $t")
    rep=$(side_report pptp-linux client $tag)
    auths+=("${rep%|*}")
    mppes+=("${rep#*|}")
  done
  result up "$up/2 clients"
  # The server side: two sessions, both with the expected result.
  local i srv_auth=() srv_mppe=()
  if [ "$skind" = pptpkit ]; then
    for i in 1 2; do
      rep=$(side_report pptpkit server server $i)
      srv_auth+=("${rep%|*}")
      srv_mppe+=("${rep#*|}")
    done
  else
    # One pppd per call, all logging to the same file.
    rep=$(side_report pptpd server server)
    for ((i = 0; i < $(grep -c 'remote IP address' "$W/pppd-server.log"); i++)); do srv_auth+=("${rep%|*}"); done
    for ((i = 0; i < $(grep -c "MPPE $EXPECT_MPPE compression enabled" "$W/pppd-server.log"); i++)); do
      srv_mppe+=("$EXPECT_MPPE")
    done
  fi
  local all_auth all_mppe
  all_auth=$(printf '%s\n' "${auths[@]}" "${srv_auth[@]}" | sort -u | paste -sd' ')
  all_mppe=$(printf '%s\n' "${mppes[@]}" "${srv_mppe[@]}" | sort -u | paste -sd' ')
  result auth "$all_auth"
  result mppe "$all_mppe"
  [ "$all_auth" = "$EXPECT_AUTH" ] && [ ${#srv_auth[@]} = 2 ] || check 1 auth "expected $EXPECT_AUTH for 2 clients on both sides: got $all_auth"
  [ "$all_mppe" = "$EXPECT_MPPE" ] && [ ${#srv_mppe[@]} = 2 ] || check 1 mppe "expected $EXPECT_MPPE for 2 clients on both sides: got $all_mppe"
  result ping "$(printf '%s\n' "${pings[@]}" | paste -sd';' | sed 's/;/; /g')"
  result tcp "$(printf '%s\n' "${tcps[@]}" | paste -sd';' | sed 's/;/; /g')"
  stop_client cli1
  stop_client cli2
  server_alive_check
  capture_stop
  checks_end
}

scenario_ref_mppe128() { run_pair pptp-linux pptpd mppe128; }
scenario_ref_mppe128_stateful() { run_pair pptp-linux pptpd mppe128-stateful; }
scenario_ref_mppe40() { run_pair pptp-linux pptpd mppe40; }
scenario_ref_mschapv2() { run_pair pptp-linux pptpd mschapv2; }
scenario_ref_chap_md5() { run_pair pptp-linux pptpd chap-md5; }
scenario_ref_pap() { run_pair pptp-linux pptpd pap; }
scenario_ref_wrong_password() { run_pair pptp-linux pptpd wrong-password; }
scenario_ref_netem() { run_pair pptp-linux pptpd netem netem; }
scenario_ref_nat() { run_nat pptpd; }

scenario_srv_mppe128() { run_pair pptp-linux pptpkit mppe128; }
scenario_srv_mppe128_stateful() { run_pair pptp-linux pptpkit mppe128-stateful; }
scenario_srv_mppe40() { run_pair pptp-linux pptpkit mppe40; }
scenario_srv_mschapv2() { run_pair pptp-linux pptpkit mschapv2; }
scenario_srv_chap_md5() { run_pair pptp-linux pptpkit chap-md5; }
scenario_srv_pap() { run_pair pptp-linux pptpkit pap; }
scenario_srv_wrong_password() { run_pair pptp-linux pptpkit wrong-password; }
scenario_srv_netem() { run_pair pptp-linux pptpkit netem netem; }
scenario_srv_nat() { run_nat pptpkit; }

scenario_cli_mppe128() { run_pair pptpkit pptpd mppe128; }
scenario_cli_mppe128_stateful() { run_pair pptpkit pptpd mppe128-stateful; }
scenario_cli_mppe40() { run_pair pptpkit pptpd mppe40; }
scenario_cli_mschapv2() { run_pair pptpkit pptpd mschapv2; }
scenario_cli_chap_md5() { run_pair pptpkit pptpd chap-md5; }
scenario_cli_pap() { run_pair pptpkit pptpd pap; }
scenario_cli_wrong_password() { run_pair pptpkit pptpd wrong-password; }
scenario_cli_netem() { run_pair pptpkit pptpd netem netem; }
