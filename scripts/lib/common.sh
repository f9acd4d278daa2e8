# Shared by the scripts in scripts/: package installation and build directories.
# shellcheck shell=bash

PPTPKIT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian packages the build and the tests need. Components append theirs here.
PPTPKIT_PACKAGES=(
  cmake ninja-build g++ clang-14 libclang-rt-14-dev libfuzzer-14-dev clang-format-14 binutils python3
  libgtest-dev libgmock-dev libbenchmark-dev libboost-dev nettle-dev pkg-config abigail-tools
)

# ensure_packages PKG...: installs the ones not installed yet (apt-get update once, then install).
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# configure_build DIR ARGS...: configures (once) a Ninja build of the whole project in DIR.
configure_build() {
  local dir=$1
  shift
  cmake -S "$PPTPKIT_ROOT" -B "$dir" -G Ninja "$@" >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log"
    return 1
  }
}
