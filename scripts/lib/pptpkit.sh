# Helpers to build and drive the pptpkit daemon from scripts (demo, bench/e2e, tests/e2e).
# shellcheck shell=bash
# Needs scripts/lib/netns.sh sourced first.

PPTPKIT_PLUGIN_TARGETS=(pptp-control gre-tunnel ppp-bridge)

# pptpkit_build BUILD_DIR TARGET...: configures a Release build in BUILD_DIR when needed and builds those
# of TARGETs the project defines (the daemon and plugins may not exist on every branch). Quiet; shows
# the errors on failure.
pptpkit_build() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    mkdir -p "$dir"
    cmake -S "$PPTPKIT_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$dir.configure.log" 2>&1 || {
      tail -n 30 "$dir.configure.log"
      return 1
    }
  fi
  local have=() t
  local targets
  targets=$(ninja -C "$dir" -t targets all 2>/dev/null | sed -E 's/:.*//')
  for t in "$@"; do
    grep -qx -- "$t" <<<"$targets" && have+=("$t")
  done
  [ ${#have[@]} -eq 0 ] && return 0
  ninja -C "$dir" -j"$(nproc)" "${have[@]}" >"$dir.build.log" 2>&1 || {
    grep -E 'error|FAILED' -A5 "$dir.build.log" | head -n 40
    return 1
  }
}

# pptpkit_available BUILD_DIR: the daemon and its three plugins are built.
pptpkit_available() {
  local dir=$1 p
  [ -x "$dir/bin/pptpkit" ] || return 1
  for p in "${PPTPKIT_PLUGIN_TARGETS[@]}"; do
    [ -f "$dir/plugins/$p.so" ] || return 1
  done
}

# session_field LOG FIELD: a field (user, auth, mppe, local, remote, ifname) of the first
# "session up:" line in LOG (the CLI contract's one-line session summary).
session_field() {
  grep -m1 -E 'session up:' "$1" 2>/dev/null | grep -oE "(^| )$2=[^ ]+" | head -n1 | sed -E "s/^ ?$2=//"
}

# session_count LOG: how many "session up:" lines LOG has.
session_count() {
  grep -cE 'session up:' "$1" 2>/dev/null || true
}

# show_log NAME LOG: the last lines of a daemon's log, for a failure report.
show_log() {
  echo "--- last lines of the $1 log ($2):"
  tail -n "${3:-25}" "$2" 2>/dev/null | sed 's/^/    /'
}
