#!/usr/bin/env bash
# Row 12 of issue 14 on the real daemon: `pptpkit server --user nobody` keeps reading its chap-secrets
# on SIGHUP although the file is root's, mode 0600, in a directory only root may enter — a user added
# meanwhile logs in, while the first session stays up. The daemon holds CAP_DAC_READ_SEARCH only in its
# permitted set (never effective between reads), and warns, once per read, about a secrets file others
# can read.
# Usage: tests/e2e/sighup_after_dropping_privileges.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

two_namespaces
secret alice alice-password  # root's, 0600, in the 0700 work directory
unprivileged_tun_wrap
start_server server "$SRV" --auth mschapv2 --user nobody
wait_until 5 log_has "$E2E_WORK/server.log" 'privileges dropped: .*running as nobody' ||
  e2e_fail "the server did not drop its privileges to nobody"
uid=$(awk '/^Uid:/ { print $3 }' "/proc/$SERVER_PID/status")
[ "$uid" = 65534 ] || e2e_fail "the server runs as uid ${uid:-?}, not nobody"
# CAP_NET_ADMIN (12) and CAP_NET_RAW (13) effective; CAP_DAC_READ_SEARCH (2) permitted only.
cap_eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$SERVER_PID/status")
cap_prm=$(awk '/^CapPrm:/ { print $2 }' "/proc/$SERVER_PID/status")
echo "   CapEff=$cap_eff CapPrm=$cap_prm"
[ "$cap_eff" = 0000000000003000 ] && [ "$cap_prm" = 0000000000003004 ] ||
  e2e_fail "capabilities: effective $cap_eff, permitted $cap_prm (expected 3000 and 3004)"

start_client client "$CLI" alice --auth mschapv2
wait_session client
wait_session server 5
server_ip=$(session_field "$E2E_WORK/client.log" remote)

e2e_step "SIGHUP as nobody: bob is added to the 0600 root file"
secret bob bob-password
[ "$(stat -c '%a %U' "$E2E_WORK/chap-secrets")" = "600 root" ] || e2e_fail "chap-secrets is not 0600 root"
kill -HUP "$SERVER_PID"
wait_until 5 eval "log_has '$E2E_WORK/server.log' 're-read .*: 2 secrets' || log_has '$E2E_WORK/server.log' 'keeping the old secrets'" ||
  e2e_fail "no re-read line after SIGHUP"
log_has "$E2E_WORK/server.log" 'keeping the old secrets' &&
  e2e_fail "SIGHUP could not re-read: $(grep -m1 'keeping the old secrets' "$E2E_WORK/server.log")"
start_client client2 "$CLI" bob --auth mschapv2
wait_session client2
[ "$(grep -c 'session up: user=bob' "$E2E_WORK/server.log")" = 1 ] || e2e_fail "the server has no session of bob"
cap_eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$SERVER_PID/status")
[ "$cap_eff" = 0000000000003000 ] || e2e_fail "CAP_DAC_READ_SEARCH left effective after the read: CapEff=$cap_eff"
ping_ok "$CLI" "$server_ip" || e2e_fail "alice's session stopped carrying traffic"
grep -q 'a secrets file should be' "$E2E_WORK/server.log" && e2e_fail "a 0600 file was warned about"

e2e_step "a secrets file others can read: one warning per read"
chmod 644 "$E2E_WORK/chap-secrets"
kill -HUP "$SERVER_PID"
wait_until 5 eval "[ \$(grep -c 're-read .*: 2 secrets' '$E2E_WORK/server.log') -ge 2 ]" || e2e_fail "no second re-read"
wait_until 2 log_has "$E2E_WORK/server.log" 'chap-secrets is mode 0644 \(readable by others\)' ||
  e2e_fail "no warning about a world-readable secrets file"
grep 'a secrets file should be' "$E2E_WORK/server.log" | sed 's/^/   /'
[ "$(grep -c 'a secrets file should be' "$E2E_WORK/server.log")" = 1 ] || e2e_fail "the warning is not once per read"
alive "$SERVER_PID" || e2e_fail "the server exited"
e2e_pass
