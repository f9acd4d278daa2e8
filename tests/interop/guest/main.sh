#!/bin/bash
# Runs inside the VM (chrooted into the host's root under an overlay): the scenarios named on the
# command line, one after the other, each in fresh network namespaces and under its own time limit.
# Usage: main.sh RESULTS_DIR SCENARIO...
# Writes RESULTS_DIR/<scenario>/{result,*.log,capture.pcap} and RESULTS_DIR/guest.done.
set -u
GUEST_DIR=$(cd "$(dirname "$0")" && pwd)
results=$1
shift
source "$GUEST_DIR/lib.sh"

guest_prepare || { echo "interop-guest: preparation failed" >"$results/guest.done"; exit 1; }
for name in "$@"; do
  echo "interop-guest: $name"
  mkdir -p "$results/$name"
  start=$(date +%s)
  timeout --kill-after=5 "$SCENARIO_TIMEOUT" bash "$GUEST_DIR/scenario.sh" "$results/$name" "$name" \
    >"$results/$name/scenario.log" 2>&1
  rc=$?
  [ $rc -ne 124 ] && [ $rc -ne 137 ] || echo "status=FAIL timed out after ${SCENARIO_TIMEOUT}s" >>"$results/$name/result"
  echo "seconds=$(($(date +%s) - start))" >>"$results/$name/result"
  if [ -f "$results/$name/syslogd.pid" ]; then
    kill "$(cat "$results/$name/syslogd.pid")" 2>/dev/null
    rm -f /dev/log
  fi
  guest_cleanup
done
echo ok >"$results/guest.done"
