# Guest-side helpers: namespaces, the peers (pptpd, pptp-linux + pppd, pptpkit), traffic, log checks.
# shellcheck shell=bash
#
# A scenario runs in WORK_DIR ($W): every log, the capture and the `result` file (key=value lines read
# by the host's matrix) live there. Addresses come from the documentation ranges (RFC 5737) and the
# tunnel pool from 10.0.0.0/24, as a pptpd user would configure it.

SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-150}
PPTPKIT=${PPTPKIT:-}     # the daemon, <build>/bin/pptpkit (set by run.sh)
PLUGIN_DIR=${PLUGIN_DIR:-}

SRV_ADDR=192.0.2.1 # the server's address on the "internet" link
CLI_ADDR=192.0.2.2
TUN_LOCAL=10.0.0.1 # the server's tunnel address (pptpd localip)
TUN_POOL=10.0.0.100-149
TUN_USER=alice
TUN_SERVER_NAME=pptpd # pppd's `name` on the server side
TUN_PASSWORD=interop-Secret-1
TUN_WRONG_PASSWORD=interop-Wrong-2

say() { echo "[$(date +%T)] $*"; }

# result KEY VALUE...: one line of the scenario's outcome.
result() {
  local key=$1
  shift
  echo "$key=$*" >>"$W/result"
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.2 s; 0 when it succeeded in time.
wait_until() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

guest_prepare() {
  local m
  # Loaded up front: the kernel cannot autoload modules here (its modprobe helper runs in the
  # initramfs' root, which has no /sbin/modprobe).
  for m in ppp_generic ppp_async ppp_synctty ppp_mppe pptp gre veth sch_netem tun nf_conntrack_pptp nf_nat_pptp \
    nf_tables nft_ct nft_nat nft_masq nft_chain_nat nft_objref; do
    modprobe "$m" || { echo "modprobe $m failed"; return 1; }
  done
  mkdir -p /var/run /var/log /run/pptp
  ip link set lo up
  # pppd's options file for pptpd sessions on Debian is /etc/ppp/pptpd-options; ours are per scenario.
  : >/etc/ppp/chap-secrets
  : >/etc/ppp/pap-secrets
  chmod 600 /etc/ppp/chap-secrets /etc/ppp/pap-secrets
}

# guest_cleanup: ends every process a scenario left in its namespaces and deletes them.
guest_cleanup() {
  local ns pid i
  for ns in $(ip netns list | awk '{print $1}'); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
  done
  for ((i = 0; i < 25; i++)); do
    [ -z "$(for ns in $(ip netns list | awk '{print $1}'); do ip netns pids "$ns"; done 2>/dev/null)" ] && break
    sleep 0.2
  done
  for ns in $(ip netns list | awk '{print $1}'); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$ns"
  done
  : >/etc/ppp/chap-secrets
  : >/etc/ppp/pap-secrets
}

syslog_start() {
  # pptpd and pptp-linux log only to syslog (facility daemon).
  busybox syslogd -n -O "$W/syslog.log" &
  SYSLOGD_PID=$!
  echo "$SYSLOGD_PID" >"$W/syslogd.pid" # for main.sh, should the scenario be stopped by its timeout
  wait_until 5 test -S /dev/log
}
syslog_stop() {
  kill "$SYSLOGD_PID" 2>/dev/null
  wait "$SYSLOGD_PID" 2>/dev/null
  rm -f /dev/log "$W/syslogd.pid"
}

# ns_new NAME...
ns_new() {
  local ns
  for ns in "$@"; do
    ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
  done
}

# ns_link NS1 IF1 ADDR1/LEN NS2 IF2 ADDR2/LEN: a veth pair between two namespaces.
ns_link() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" &&
    ip -n "$1" addr add "$3" dev "$2" && ip -n "$1" link set "$2" up &&
    ip -n "$4" addr add "$6" dev "$5" && ip -n "$4" link set "$5" up
}

# topology_pair: ns srv (192.0.2.1) and cli (192.0.2.2), one link.
topology_pair() {
  ns_new srv cli && ns_link srv v-srv "$SRV_ADDR/24" cli v-cli "$CLI_ADDR/24"
}

# capture_start NS IF: tcpdump of the control connection and of GRE except bulk data (datagrams of
# 400 bytes or more: the TCP transfer), into $W/capture.pcap. It writes to the VM's tmpfs: written
# straight over 9p, tcpdump falls behind and loses the teardown when it is stopped.
capture_start() {
  CAPTURE_TMP=$(mktemp /tmp/capture.XXXXXX)
  ip netns exec "$1" tcpdump -i "$2" -Z root -s 0 -U -n -w "$CAPTURE_TMP" \
    'tcp port 1723 or (ip proto 47 and less 400)' >"$W/tcpdump.log" 2>&1 &
  CAPTURE_PID=$!
  wait_until 5 grep -q listening "$W/tcpdump.log"
}
capture_stop() {
  [ -n "${CAPTURE_PID:-}" ] || return 0
  sleep 1
  kill -INT "$CAPTURE_PID" 2>/dev/null
  wait "$CAPTURE_PID" 2>/dev/null
  mv "$CAPTURE_TMP" "$W/capture.pcap"
  CAPTURE_PID=
}

# --- authentication / encryption profiles ------------------------------------------------------------
# profile_set NAME [pppd-both]: sets, for the profile a matrix row names,
#   PPPD_SERVER_OPTS  pppd options of the server side (pptpd's pppd)
#   PPPD_CLIENT_OPTS  pppd options of the client side (pptp-linux's pppd)
#   PPTPKIT_OPTS      pptpkit options (both roles)
#   EXPECT_AUTH EXPECT_MPPE  what both sides must report (MPPE as pppd words: "128-bit stateless")
#   EXPECT_MPPE_PPPD         what a pppd side must report, where it differs (default: EXPECT_MPPE)
#   EXPECT_UP         yes, or no for the wrong-password rows
profile_set() {
  EXPECT_UP=yes
  EXPECT_MPPE_PPPD=
  case $1 in
    mppe128 | wrong-password | netem | nat)
      PPPD_SERVER_OPTS="refuse-pap refuse-chap refuse-mschap require-mschap-v2 require-mppe-128"
      PPPD_CLIENT_OPTS="refuse-pap refuse-chap refuse-mschap require-mppe-128"
      PPTPKIT_OPTS="--auth mschapv2 --mppe required --mppe-bits 128"
      EXPECT_AUTH=MS-CHAPv2 EXPECT_MPPE="128-bit stateless"
      [ "$1" != wrong-password ] || EXPECT_UP=no
      ;;
    mppe128-stateful)
      PPPD_SERVER_OPTS="refuse-pap refuse-chap refuse-mschap require-mschap-v2 require-mppe-128 mppe-stateful"
      PPPD_CLIENT_OPTS="refuse-pap refuse-chap refuse-mschap require-mppe-128 mppe-stateful"
      PPTPKIT_OPTS="--auth mschapv2 --mppe required --mppe-bits 128 --mppe-stateful"
      EXPECT_AUTH=MS-CHAPv2 EXPECT_MPPE="128-bit stateful"
      # pppd's mppe-stateful only allows stateful mode: pppd always asks for stateless itself, so two
      # pppds end up stateless. Stateful needs a peer that asks for it (pptpkit --mppe-stateful). CCP
      # negotiates each direction on its own and each side reports the mode it receives in (pppd's
      # "MPPE 128-bit stateless compression enabled"): pptpkit receives stateful, pppd stateless.
      EXPECT_MPPE_PPPD="128-bit stateless"
      [ "${2:-}" != pppd-both ] || EXPECT_MPPE="128-bit stateless"
      ;;
    mppe40)
      PPPD_SERVER_OPTS="refuse-pap refuse-chap refuse-mschap require-mschap-v2 require-mppe-40 nomppe-128"
      PPPD_CLIENT_OPTS="refuse-pap refuse-chap refuse-mschap require-mppe-40 nomppe-128"
      PPTPKIT_OPTS="--auth mschapv2 --mppe required --mppe-bits 40"
      EXPECT_AUTH=MS-CHAPv2 EXPECT_MPPE="40-bit stateless"
      ;;
    mschapv2)
      PPPD_SERVER_OPTS="refuse-pap refuse-chap refuse-mschap require-mschap-v2 nomppe"
      PPPD_CLIENT_OPTS="refuse-pap refuse-chap refuse-mschap nomppe"
      PPTPKIT_OPTS="--auth mschapv2 --mppe refused"
      EXPECT_AUTH=MS-CHAPv2 EXPECT_MPPE=none
      ;;
    chap-md5)
      PPPD_SERVER_OPTS="refuse-pap refuse-mschap refuse-mschap-v2 require-chap nomppe"
      PPPD_CLIENT_OPTS="refuse-pap refuse-mschap refuse-mschap-v2 nomppe"
      PPTPKIT_OPTS="--auth chap --mppe refused"
      EXPECT_AUTH=CHAP-MD5 EXPECT_MPPE=none
      ;;
    pap)
      PPPD_SERVER_OPTS="refuse-chap refuse-mschap refuse-mschap-v2 require-pap nomppe"
      PPPD_CLIENT_OPTS="refuse-chap refuse-mschap refuse-mschap-v2 nomppe"
      PPTPKIT_OPTS="--auth pap --mppe refused"
      EXPECT_AUTH=PAP EXPECT_MPPE=none
      ;;
    *)
      echo "unknown profile $1"
      return 1
      ;;
  esac
  PROFILE=$1
  EXPECT_MPPE_PPPD=${EXPECT_MPPE_PPPD:-$EXPECT_MPPE}
  result expect "up=$EXPECT_UP auth=$EXPECT_AUTH mppe=$EXPECT_MPPE"
}

# The password a client side uses: the wrong one in the wrong-password rows.
client_password() {
  if [ "$PROFILE" = wrong-password ]; then echo "$TUN_WRONG_PASSWORD"; else echo "$TUN_PASSWORD"; fi
}

# --- servers -----------------------------------------------------------------------------------------
# server_start KIND NS: pptpd (+ pppd per call) or `pptpkit server`, listening on SRV_ADDR.
server_start() {
  local kind=$1 ns=$2
  case $kind in
    pptpd)
      # pppd reads the server's secrets from /etc/ppp/*-secrets (the overlay keeps them in the VM).
      printf '%s %s "%s" *\n' "$TUN_USER" "$TUN_SERVER_NAME" "$TUN_PASSWORD" >/etc/ppp/chap-secrets
      printf '%s %s "%s" *\n' "$TUN_USER" "$TUN_SERVER_NAME" "$TUN_PASSWORD" >/etc/ppp/pap-secrets
      cat >"$W/pptpd-options" <<EOF
name $TUN_SERVER_NAME
$PPPD_SERVER_OPTS
ms-dns $TUN_LOCAL
nodefaultroute
nobsdcomp
nodeflate
debug
logfile $W/pppd-server.log
EOF
      cat >"$W/pptpd.conf" <<EOF
option $W/pptpd-options
localip $TUN_LOCAL
remoteip $TUN_POOL
EOF
      ip netns exec "$ns" pptpd --fg --debug --conf "$W/pptpd.conf" --pidfile "$W/pptpd.pid" \
        >"$W/pptpd.out" 2>&1 &
      ;;
    pptpkit)
      printf '# client server secret IPs\n%s * "%s" *\n' "$TUN_USER" "$TUN_PASSWORD" >"$W/secrets"
      chmod 600 "$W/secrets"
      # shellcheck disable=SC2086
      ip netns exec "$ns" "$PPTPKIT" server --listen "$SRV_ADDR" --localip "$TUN_LOCAL" \
        --remoteip "$TUN_POOL" --secrets "$W/secrets" --dns "$TUN_LOCAL" $PPTPKIT_OPTS \
        --plugin-dir "$PLUGIN_DIR" --log-level debug 2>"$W/pptpkit-server.log" &
      ;;
  esac
  SERVER_PID=$!
  SERVER_KIND=$kind
  if ! wait_until 10 sh -c "ip netns exec $ns ss -Hltn 'sport = :1723' | grep -q LISTEN"; then
    say "server $kind is not listening on port 1723"
    return 1
  fi
}

# --- clients -----------------------------------------------------------------------------------------
# client_start KIND NS TAG: pptp-linux + pppd, or `pptpkit client`, to SRV_ADDR; logs tagged TAG.
client_start() {
  local kind=$1 ns=$2 tag=$3 pid
  case $kind in
    pptp-linux)
      cat >"$W/pppd-$tag-options" <<EOF
pty "pptp $SRV_ADDR --nolaunchpppd --logstring $tag"
name $TUN_USER
remotename $TUN_SERVER_NAME
password "$(client_password)"
$PPPD_CLIENT_OPTS
refuse-eap
noauth
nodetach
nodefaultroute
nobsdcomp
nodeflate
debug
logfile $W/pppd-$tag.log
ipparam $tag
EOF
      # pptp-linux shares one control connection per server between its instances through a socket
      # in /var/run/pptp: give each client (a separate machine in the scenario) its own.
      ip netns exec "$ns" sh -c 'mount -t tmpfs tmpfs /run/pptp && exec pppd file "$1"' sh \
        "$W/pppd-$tag-options" >"$W/pppd-$tag.out" 2>&1 &
      ;;
    pptpkit)
      client_password >"$W/password-$tag"
      chmod 600 "$W/password-$tag"
      # shellcheck disable=SC2086
      ip netns exec "$ns" "$PPTPKIT" client --server "$SRV_ADDR" --user "$TUN_USER" \
        --password-file "$W/password-$tag" $PPTPKIT_OPTS --ifname pptp0 --plugin-dir "$PLUGIN_DIR" \
        --log-level debug 2>"$W/pptpkit-$tag.log" &
      ;;
  esac
  pid=$!
  eval "CLIENT_PID_${tag//-/_}=$pid"
}
client_pid() { eval "echo \${CLIENT_PID_${1//-/_}:-}"; }

# tunnel_count NS: how many point-to-point tunnel addresses the namespace has.
tunnel_count() { ip -n "$1" -4 -o addr show 2>/dev/null | grep -c ' peer '; }

# side_endpoint KIND NS TAG: "LOCAL PEER IFNAME" of one side's tunnel, empty while it is not up. A
# pppd side: its point-to-point interface. A pptpkit side: its "session up:" line, once the namespace
# has the address on the interface the line names.
side_endpoint() {
  local kind=$1 ns=$2 tag=$3 s l r ifname
  if [ "$kind" = pptpkit ]; then
    s=$(grep -oE 'session up: .*' "$W/pptpkit-$tag.log" 2>/dev/null | sed -n "${4:-1}p")
    l=$(echo "$s" | sed -nE 's/.* local=([^ ]+).*/\1/p')
    r=$(echo "$s" | sed -nE 's/.* remote=([^ ]+).*/\1/p')
    ifname=$(echo "$s" | sed -nE 's/.* ifname=([^ ]+).*/\1/p')
    [ -n "$l" ] && [ -n "$ifname" ] || return 0
    ip -n "$ns" -4 -o addr show dev "$ifname" 2>/dev/null | grep -q " inet ${l}[/ ]" && echo "$l $r $ifname"
  else
    ip -n "$ns" -4 -o addr show 2>/dev/null | awk '$0 ~ / peer / {sub(/\/.*/, "", $6); print $4, $6, $2; exit}'
  fi
}

# --- traffic -----------------------------------------------------------------------------------------
# ping_check NS DEST COUNT MIN_REPLIES: prints "received/sent".
ping_check() {
  local out got
  out=$(ip netns exec "$1" ping -n -q -c "$3" -i 0.2 -W 3 "$2" 2>&1)
  got=$(echo "$out" | sed -nE 's/.* ([0-9]+) received.*/\1/p')
  echo "${got:-0}/$3"
  [ "${got:-0}" -ge "$4" ]
}

# tcp_check CLIENT_NS SERVER_NS SERVER_ADDR AMOUNT: iperf3 both directions; AMOUNT "-n 4M" or "-t 5".
# Prints "up X Mbit/s, down Y Mbit/s" (client's view). Each direction has its own one-off server on its
# own port: an iperf3 server that is still winding up a test run over a lossy link resets the next
# test's control connection ("unable to receive control message"), which says nothing about the tunnel.
tcp_check() {
  local cns=$1 sns=$2 saddr=$3 amount=$4 up down rc=0
  up=$(tcp_one_way "$cns" "$sns" "$saddr" "$amount" up) || rc=1
  down=$(tcp_one_way "$cns" "$sns" "$saddr" "$amount" down -R) || rc=1
  echo "up ${up:-failed}, down ${down:-failed}"
  [ $rc = 0 ]
}

# tcp_one_way CLIENT_NS SERVER_NS SERVER_ADDR AMOUNT NAME [-R]: one iperf3 run against a one-off server;
# prints the receiver's rate ("X Mbits/sec"), fails without one.
tcp_one_way() {
  local cns=$1 sns=$2 saddr=$3 amount=$4 name=$5 reverse=${6:-} port=$((5201 + RANDOM % 200)) pid rc=0 rate
  ip netns exec "$sns" iperf3 -s -1 -B "$saddr" -p "$port" >"$W/iperf3-server-$name-$port.log" 2>&1 &
  pid=$!
  wait_until 5 sh -c "ip netns exec $sns ss -Hltn 'sport = :$port' | grep -q LISTEN"
  # shellcheck disable=SC2086
  ip netns exec "$cns" timeout 60 iperf3 -c "$saddr" -p "$port" $amount -f m --connect-timeout 5000 $reverse \
    >"$W/iperf3-$port-$name.log" 2>&1 || rc=1
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rate=$(awk '/receiver/ {print $(NF-2), $(NF-1); exit}' "$W/iperf3-$port-$name.log")
  echo "$rate"
  [ $rc = 0 ] && [ -n "$rate" ]
}

# --- log checks --------------------------------------------------------------------------------------
# The logs of one side: pppd's log file for pppd sides, pptpkit's stderr for ours.
# pppd_auth LOG ROLE: the authentication pppd reports: MS-CHAPv2, CHAP-MD5, PAP, failed or none.
# (pppd's debug log names the protocol in the LCP auth option; success and failure lines differ by
# role: the authenticator sends CHAP Success/Failure, the peer logs "CHAP authentication succeeded".)
pppd_auth() {
  local log=$1 role=$2 ok fail
  [ -f "$log" ] || { echo none; return; }
  if [ "$role" = server ]; then
    ok='sent \[CHAP Success|PAP peer authentication succeeded'
    fail='sent \[CHAP Failure|PAP peer authentication failed'
  else
    ok='CHAP authentication succeeded|PAP authentication succeeded'
    fail='CHAP authentication failed|PAP authentication failed'
  fi
  if grep -qE "$fail" "$log"; then
    echo failed
  elif ! grep -qE "$ok" "$log"; then
    echo none
  elif grep -qE 'PAP (peer )?authentication succeeded' "$log"; then
    echo PAP
  elif grep -q 'auth chap MS-v2' "$log"; then
    echo MS-CHAPv2
  elif grep -q 'auth chap MD5' "$log"; then
    echo CHAP-MD5
  else
    echo unknown
  fi
}
# pppd_mppe LOG: "128-bit stateless" etc., or none.
pppd_mppe() {
  local line
  line=$(grep -oE 'MPPE [0-9]+-bit [a-z]+ compression enabled' "$1" 2>/dev/null | head -n 1)
  if [ -n "$line" ]; then echo "$line" | awk '{print $2, $3}'; else echo none; fi
}
# pptpkit_session LOG [N]: the N-th (default 1st) "session up:" line's fields as "auth mppe local remote".
pptpkit_session() {
  grep -oE 'session up: .*' "$1" 2>/dev/null | sed -n "${2:-1}p" |
    sed -nE 's/.* auth=([^ ]+) mppe=([^ ]+) local=([^ ]+) remote=([^ ]+).*/\1 \2 \3 \4/p'
}
# The contract's mppe= word in pppd's words: 128-bit-stateless -> "128-bit stateless".
pptpkit_mppe_words() { echo "$1" | sed -E 's/^([0-9]+-bit)-(stateless|stateful)$/\1 \2/'; }

# side_report KIND ROLE TAG: "AUTH|MPPE" of one side from its logs.
side_report() {
  local kind=$1 role=$2 tag=$3 log s
  case $kind in
    pptpd | pptp-linux)
      log=$W/pppd-$tag.log
      echo "$(pppd_auth "$log" "$role")|$(pppd_mppe "$log")"
      ;;
    pptpkit)
      log=$W/pptpkit-$tag.log
      if grep -q 'authentication failed:' "$log" 2>/dev/null; then
        echo "failed|none"
        return
      fi
      s=$(pptpkit_session "$log" "${4:-1}")
      if [ -n "$s" ]; then
        read -r a m _ _ <<<"$s"
        echo "$a|$(pptpkit_mppe_words "$m")"
      else
        echo "none|none"
      fi
      ;;
  esac
}

# relevant_logs: the lines a reader needs when a row fails, into the scenario log.
relevant_logs() {
  local f
  for f in "$W"/pppd-*.log "$W"/pptpkit-*.log "$W"/syslog.log "$W"/pptpd.out "$W"/pppd-*.out; do
    [ -s "$f" ] || continue
    echo "---- $(basename "$f") (relevant lines)"
    grep -E 'session up|authentication|auth|MPPE|mppe|CCP|IP address|error|Error|fail|refus|Reject|Terminat|Connect|Modem hangup|exit|warn' "$f" |
      tail -n 40
  done
}
