#!/usr/bin/env bash
# Issue 14 row 10 on the real daemons: the Linux kernel's PPTP sender displaces runs of a few hundred
# GRE packets under load, and a receiver must ride that out. A pptpkit client sends a TCP transfer
# (iperf3, paced by its socket at E2E_RATE, 30 Mbit/s: no catching up after a stall) and a steady UDP
# stream (3750 small datagrams a second: the packet clock) through an MPPE-128 tunnel to a pptpkit
# server. 10 s in, a run A of about E2E_BURST (370) GRE packets is held back on the client's egress
# and let go right after the run B that followed it, so the server receives N+371..N+740 before
# N+1..N+370. Run once with stateless MPPE and once with stateful.
# Passes when, in each run, the burst was made as meant and:
# - the session stays up and carries pings afterwards;
# - the TCP throughput after the burst is within 10 % of the throughput before it;
# - the burst costs a bounded number of frames: at most 2 * E2E_BURST UDP datagrams lost in all;
# - the server's CPU after the burst is at most twice what it was before, plus 10 points of a core
#   (MPPE key work per frame back within its budget).
#
# How the burst is made (this needs no netem, which some kernels lack): the client's eth0 has an HTB
# root whose class 1:10 carries GRE (a u32 filter on IP protocol 47) and 1:20 everything else; a third
# class, 1:30, ends in a TBF "gate" at 8 bit/s. At s1 a second GRE filter, of higher priority, sends
# GRE to the gate: run A queues there. At s2 = s1 + W that filter goes: run B flows through 1:10. At
# s3 = s2 + W the gate opens (a TBF change to 10 Gbit/s; a ping on the link makes the qdisc run) and A
# leaves at line rate, after B. TCP stops sending while A is held (no acknowledgements come back), so
# the UDP stream is what makes B as long as A: W = E2E_BURST / 3750 s. A is counted at the gate, B by
# an nftables counter on GRE. (One packet of A may pass the closed gate: its bucket starts full.)
# Usage: [E2E_RATE=30] [E2E_BURST=370] [E2E_MPPE="stateless stateful"] tests/e2e/reorder_burst.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
rate_mbit=${E2E_RATE:-30}
burst=${E2E_BURST:-370}
read -r -a modes <<<"${E2E_MPPE:-stateless stateful}"
transfer_s=24 burst_at=10  # the transfers run 24 s; the burst starts 10 s in
before=(3 9) after=(14 24) # the seconds of the transfer compared
max_drop_percent=10
udp_pps=3750 udp_bytes=100 # the packet clock: 3 Mbit/s of 100-byte datagrams
window_ms=$((burst * 1000 / udp_pps))
[ "$window_ms" -ge 20 ] && [ "$window_ms" -le 2000 ] || e2e_fail "E2E_BURST=$burst: W=$window_ms ms, out of 20-2000 ms"

two_namespaces
secret alice alice-password
failures=()
figures=()

holds() { awk "BEGIN { exit !($1) }"; }
seconds() { awk "BEGIN { print $1 / 1000 }"; }

# gre_sent: GRE packets the client's stack has sent so far (counted before the qdiscs).
gre_sent() {
  ip netns exec "$CLI" nft list counter ip pptpkit_burst gre 2>/dev/null | awk '/packets/ { print $2 }'
}
# gate open|closed: the gate's rate (10 Gbit/s, or 8 bit/s with a bucket of one packet). A TBF
# change refills the bucket.
gate() {
  if [ "$1" = open ]; then
    tc -n "$CLI" qdisc change dev eth0 parent 1:30 handle 30: tbf rate 10gbit burst 1mb limit 8mb
  else
    tc -n "$CLI" qdisc change dev eth0 parent 1:30 handle 30: tbf rate 8bit burst 1600 limit 8mb
  fi
}
# gate_backlog: packets waiting at the gate.
gate_backlog() {
  tc -n "$CLI" -s qdisc show dev eth0 handle 30: | sed -nE 's/^ *backlog [0-9]+b ([0-9]+)p.*/\1/p'
}
# divert on|off: GRE to the gate (a filter before the usual one), or the usual way.
divert() {
  if [ "$1" = on ]; then
    tc -n "$CLI" filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip protocol 47 0xff flowid 1:30
  else
    tc -n "$CLI" filter del dev eth0 parent 1: protocol ip prio 1
  fi
}
# cpu_ticks PID: user + system time in clock ticks (proc(5): stat fields 14 and 15).
cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

e2e_step "a gate for GRE on the client's egress (HTB, TBF), and a GRE counter"
tc -n "$CLI" qdisc add dev eth0 root handle 1: htb default 20 r2q 1000 2>"$E2E_WORK/tc.err" &&
  tc -n "$CLI" class add dev eth0 parent 1: classid 1:10 htb rate 10gbit burst 1mb 2>>"$E2E_WORK/tc.err" &&
  tc -n "$CLI" class add dev eth0 parent 1: classid 1:20 htb rate 10gbit burst 1mb 2>>"$E2E_WORK/tc.err" &&
  tc -n "$CLI" class add dev eth0 parent 1: classid 1:30 htb rate 10gbit burst 1mb 2>>"$E2E_WORK/tc.err" &&
  tc -n "$CLI" qdisc add dev eth0 parent 1:30 handle 30: tbf rate 10gbit burst 1mb limit 8mb 2>>"$E2E_WORK/tc.err" &&
  tc -n "$CLI" filter add dev eth0 parent 1: protocol ip prio 2 u32 match ip protocol 47 0xff flowid 1:10 \
    2>>"$E2E_WORK/tc.err" || e2e_fail "tc: HTB, TBF and the GRE filter: $(cat "$E2E_WORK/tc.err")"
ip netns exec "$CLI" nft -f - <<'NFT' || e2e_fail "nftables: the GRE counter"
table ip pptpkit_burst {
  counter gre {
  }
  chain output {
    type filter hook output priority filter; policy accept;
    ip protocol gre counter name "gre"
  }
}
NFT

# run MODE: one session, the transfers, one burst; appends to figures and failures.
run() {
  local mode=$1 extra=()
  [ "$mode" = stateful ] && extra=(--mppe-stateful)
  e2e_step "MPPE-128 $mode: TCP at $rate_mbit Mbit/s and UDP at $udp_pps datagrams/s for $transfer_s s; burst at $burst_at s"
  start_server "server-$mode" "$SRV" --auth mschapv2 --log-level info --status-socket "$E2E_WORK/status.sock" \
    "${extra[@]}"
  local server=$SERVER_PID
  start_client "client-$mode" "$CLI" alice --auth mschapv2 "${extra[@]}"
  local client=$CLIENT_PID
  wait_session "client-$mode"
  local tunnel
  tunnel=$(session_field "$E2E_WORK/client-$mode.log" remote)
  grep -q "mppe=128-bit-$mode" "$E2E_WORK/client-$mode.log" ||
    e2e_fail "$mode: the session is not MPPE-128 $mode: $(grep -m1 'session up' "$E2E_WORK/client-$mode.log")"
  iperf3_server "$SRV" "$tunnel" "$E2E_WORK/iperf3-tcp-$mode.log" || e2e_fail "$mode: no iperf3 server"
  netns_spawn "$E2E_WORK/iperf3-udp-$mode.log" "$SRV" iperf3 -s -B "$tunnel" -p 5202 -1
  wait_until 5 eval "ip netns exec $SRV ss -ltn 2>/dev/null | grep -q '$tunnel:5202'" || e2e_fail "$mode: no second iperf3 server"
  local tcp_json=$E2E_WORK/tcp-$mode.json udp_json=$E2E_WORK/udp-$mode.json
  ip netns exec "$CLI" timeout $((transfer_s + 20)) iperf3 -c "$tunnel" -t "$transfer_s" -i 1 --fq-rate "${rate_mbit}M" -J \
    >"$tcp_json" 2>&1 &
  local tcp=$!
  ip netns exec "$CLI" timeout $((transfer_s + 20)) iperf3 -c "$tunnel" -p 5202 -u -l "$udp_bytes" \
    -b $((udp_pps * udp_bytes * 8)) -t "$transfer_s" -J >"$udp_json" 2>&1 &
  local udp=$!

  sleep $((burst_at - 4))
  local cpu0 cpu1 cpu2 cpu3
  cpu0=$(cpu_ticks "$server")
  sleep 4
  cpu1=$(cpu_ticks "$server")
  local held passed b0 b1 t1 t2
  gate closed || e2e_fail "tc: close the gate"
  t1=$(date +%s%N)
  divert on || e2e_fail "tc: divert GRE to the gate"
  sleep "$(seconds "$window_ms")"
  divert off || e2e_fail "tc: GRE back to its class"
  t2=$(date +%s%N)
  b0=$(gre_sent)
  held=$(gate_backlog)
  sleep "$(seconds "$window_ms")"
  b1=$(gre_sent)
  gate open || e2e_fail "tc: open the gate"
  ip netns exec "$CLI" ping -q -c 1 -W 1 "$SERVER_WAN" >/dev/null 2>&1  # a packet on the link runs the qdisc
  sleep 0.2
  passed=$(gate_backlog)
  sleep $((after[0] - burst_at))
  cpu2=$(cpu_ticks "$server")
  sleep 4
  cpu3=$(cpu_ticks "$server")
  wait "$tcp" "$udp"

  local rates
  rates=$(python3 - "$tcp_json" "$udp_json" "${before[@]}" "${after[@]}" <<'PY'
import json, sys
tcp = json.load(open(sys.argv[1]))
udp = json.load(open(sys.argv[2]))
for r in (tcp, udp):
    if r.get("error"):
        sys.exit("iperf3: " + r["error"])
b0, b1, a0, a1 = (float(x) for x in sys.argv[3:7])
def mean(lo, hi):
    v = [i["sum"]["bits_per_second"] for i in tcp["intervals"]
         if i["sum"]["start"] >= lo - 0.01 and i["sum"]["end"] <= hi + 0.01]
    return sum(v) / len(v) / 1e6 if v else 0.0
low = min(i["sum"]["bits_per_second"] for i in tcp["intervals"]) / 1e6
lost = udp["end"]["sum"].get("lost_packets", -1)
print("%.1f %.1f %.1f %d %d" % (mean(b0, b1), mean(a0, a1), low, tcp["end"]["sum_sent"].get("retransmits", -1), lost))
PY
  ) || failures+=("$mode: no throughput figures: $(tail -c 200 "$tcp_json" | tr '\n' ' ')")
  local rate_before rate_after lowest retransmits udp_lost
  read -r rate_before rate_after lowest retransmits udp_lost <<<"${rates:-0 0 0 -1 -1}"

  ping_ok "$CLI" "$tunnel" || failures+=("$mode: no pings through the tunnel after the burst")
  "$PPTPKIT" status --status-socket "$E2E_WORK/status.sock" >"$E2E_WORK/status-$mode.out" 2>&1
  local counters hz
  counters=$(grep -oE '[a-z_]*(resync|reorder|rekey|late|stale|duplicate|undecryptable|mppe_rx_dropped|reset_requests)[a-z_]*=[0-9]+' \
    "$E2E_WORK/status-$mode.out" | grep -v '=0$' | sort -u | tr '\n' ' ')
  hz=$(getconf CLK_TCK)

  figures+=("$mode: run A ${held:-?} GRE packets held $(((t2 - t1) / 1000000)) ms, let go after run B of $((b1 - b0)) packets (${passed:-?} left at the gate)")
  figures+=("$mode: TCP ${before[0]}-${before[1]} s $rate_before Mbit/s, ${after[0]}-${after[1]} s $rate_after Mbit/s (bound: $((100 - max_drop_percent)) % of before); lowest second $lowest Mbit/s; retransmits $retransmits; UDP datagrams lost $udp_lost")
  figures+=("$mode: server CPU, 4 s before the burst: $(awk "BEGIN { printf \"%.0f\", 100 * ($cpu1 - $cpu0) / $hz / 4 }") %, 4 s from ${after[0]} s: $(awk "BEGIN { printf \"%.0f\", 100 * ($cpu3 - $cpu2) / $hz / 4 }") % of a core")
  figures+=("$mode: server: $(grep -c 'resynchronis' "$E2E_WORK/server-$mode.log") resynchronising lines; status counters: ${counters:-none of note}")
  if [ "${held:-0}" -lt $((burst * 2 / 3)) ] || [ "${passed:-1}" != 0 ] || [ $((b1 - b0)) -lt $((burst * 2 / 3)) ]; then
    failures+=("$mode: the burst was not made as meant: run A ${held:-?} packets, run B $((b1 - b0)), ${passed:-?} left at the gate (a loaded machine?)")
  fi
  if [ "$udp_lost" -lt 0 ] || [ "$udp_lost" -gt $((2 * burst)) ]; then
    failures+=("$mode: $udp_lost UDP datagrams lost, bound $((2 * burst))")
  fi
  if [ $((cpu3 - cpu2)) -gt $((2 * (cpu1 - cpu0) + 4 * hz / 10)) ]; then
    failures+=("$mode: server CPU after the burst $(((cpu3 - cpu2) * 100 / hz / 4)) % of a core, before $(((cpu1 - cpu0) * 100 / hz / 4)) %: more than twice, plus 10 points")
  fi
  if ! holds "$rate_before > 0 && $rate_after >= $rate_before * (100 - $max_drop_percent) / 100"; then
    failures+=("$mode: TCP after the burst $rate_after Mbit/s, before $rate_before Mbit/s: more than $max_drop_percent % lower")
  fi
  alive "$server" || failures+=("$mode: the server exited")
  alive "$client" || failures+=("$mode: the client exited")
  log_has "$E2E_WORK/client-$mode.log" 'session down' &&
    failures+=("$mode: the session ended: $(grep -m1 'session down' "$E2E_WORK/client-$mode.log")")
  netns_stop "$client"
  netns_stop "$server"
}

for mode in "${modes[@]}"; do
  run "$mode"
done

echo "== $E2E_NAME figures (E2E_RATE=$rate_mbit Mbit/s, E2E_BURST=$burst packets, W=$window_ms ms)"
printf '   %s\n' "${figures[@]}"
if [ ${#failures[@]} -gt 0 ]; then
  # The logs first, so that the verdicts are the last lines (what a CI summary shows).
  for mode in "${modes[@]}"; do
    show_log "server-$mode" "$E2E_WORK/server-$mode.log" 10
    show_log "client-$mode" "$E2E_WORK/client-$mode.log" 10
  done
  # shellcheck disable=SC2034  # read by e2e_fail: the logs are shown above
  E2E_LOGS=()
  e2e_fail "${#failures[@]} check(s) failed:$(printf '\n  - %s' "${failures[@]}")"
fi
e2e_pass
