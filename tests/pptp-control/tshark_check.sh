#!/usr/bin/env bash
# Usage: tshark_check.sh TSHARK PCAP TEST_PROGRAM
# tshark's PPTP dissector (an independent reader) must decode every control message of the session the
# tests wrote: no malformed packet, no unknown field or message, no expert warning or error, and the
# message types and call ids it reads must be the ones we sent (PCAP.expect).
set -euo pipefail
tshark=$1 pcap=$2 tests=$3
PPTPKIT_PCAP_OUT=$pcap "$tests" --gtest_filter='pcap.*' >/dev/null || { echo "the pcap test failed"; exit 1; }
[ -s "$pcap" ] || { echo "no pcap at $pcap"; exit 1; }
out=$("$tshark" -r "$pcap" -V -o tcp.desegment_tcp_streams:TRUE 2>&1)
if grep -nE 'Malformed|Unknown|\[Expert Info \((Warning|Error)' <<<"$out"; then
  echo "tshark reported the lines above"
  exit 1
fi
got=$("$tshark" -r "$pcap" -Y pptp -T fields -E occurrence=f \
  -e pptp.control_message_type -e pptp.call_id -e pptp.peer_call_id 2>/dev/null |
  awk -F'\t' '{ printf "%s %s %s\n", $1, ($2 == "" ? "-" : $2), ($3 == "" ? "-" : $3) }')
if [ "$got" != "$(cat "$pcap.expect")" ]; then
  echo "tshark decoded:"; echo "$got"; echo "we sent:"; cat "$pcap.expect"
  exit 1
fi
echo "tshark decoded $(wc -l <<<"$got") PPTP control messages, all as sent"
