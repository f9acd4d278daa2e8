# Shared by the scripts in scripts/: package installation and build directories.
# shellcheck shell=bash

PPTPKIT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian packages the build and the tests need. Components append theirs here.
PPTPKIT_PACKAGES=(
  # build and unit tests
  cmake ninja-build g++ clang-14 libclang-rt-14-dev libfuzzer-14-dev clang-format-14 binutils python3
  libgtest-dev libgmock-dev libbenchmark-dev libboost-dev nettle-dev pkg-config abigail-tools
  tshark                   # pptp-control: tshark decodes the pcap the tests write
  golang-golang-x-sys-dev  # host-bsd: FreeBSD/OpenBSD constants to cross-check against
  # end-to-end tests, scripts/demo, bench/e2e: namespaces, traffic, NAT with the PPTP helper
  iproute2 iputils-ping iperf3 nftables conntrack procps
  # RADIUS (tests/e2e/lib_radius.sh): a real FreeRADIUS with SQL accounting and pools, radclient, sqlite3
  freeradius freeradius-utils sqlite3
  # interop (tests/interop): a VM with Debian's kernel runs the real peers on the host's root filesystem
  qemu-system-x86 busybox-static kmod pptpd pptp-linux ppp iproute2 iputils-ping iperf3 tcpdump nftables
)

# Services that packages above install but that must never run on the host: pptpd would answer PPTP
# on every address, freeradius RADIUS on 1812/1813 with the package's sample clients and users. The
# interop tests start their own pptpd inside the VM, the e2e tests their own freeradius with a generated
# configuration.
PPTPKIT_HOST_SERVICES_OFF=(pptpd freeradius)

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
  # policy-rc.d (Debian's policy layer for maintainer scripts) keeps new services from starting during
  # the install; a machine that already has one keeps it.
  local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null && $sudo chmod 755 $policy && own_policy=1
  fi
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ $own_policy = 0 ] || $sudo rm -f $policy
  disable_host_services
  return $rc
}

# disable_host_services: stops and disables PPTPKIT_HOST_SERVICES_OFF (systemd or sysvinit).
disable_host_services() {
  local sudo="" s
  [ "$(id -u)" = 0 ] || sudo="sudo"
  for s in "${PPTPKIT_HOST_SERVICES_OFF[@]}"; do
    [ -e "/etc/init.d/$s" ] || [ -e "/lib/systemd/system/$s.service" ] || continue
    if [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now --quiet "$s" 2>/dev/null || true
    else
      $sudo update-rc.d "$s" disable >/dev/null 2>&1 || true
    fi
  done
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
