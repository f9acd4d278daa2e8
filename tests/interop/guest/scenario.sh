#!/bin/bash
# One scenario, in the VM: scenario.sh WORK_DIR NAME. The outcome goes to WORK_DIR/result.
set -u
GUEST_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2034 # used by lib.sh and scenarios.sh
W=$1
NAME=$2
source "$GUEST_DIR/lib.sh"
source "$GUEST_DIR/../scenarios.sh"
fn=scenario_${NAME//-/_}
if ! declare -F "$fn" >/dev/null; then
  result status "FAIL unknown scenario"
  exit 1
fi
syslog_start
"$fn"
syslog_stop
