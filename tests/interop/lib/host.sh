# Host side of the interop harness: the cached VM kernel and initramfs, and booting the VM.
# shellcheck shell=bash
#
# Everything downloaded or generated lives in the cache (never in the source tree), keyed by the
# kernel package version and a hash of what went into the initramfs, so a second run only boots.

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INTEROP_CACHE=${PPTPKIT_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pptpkit-interop}

# Modules the initramfs loads to reach the host's root filesystem (their dependencies are added).
INTEROP_INITRD_MODULES=(virtio_pci 9pnet_virtio 9p overlay)

# The emulator; another build of it can be named here.
INTEROP_QEMU=${PPTPKIT_INTEROP_QEMU:-qemu-system-x86_64}

# Exit status that ctest counts as SKIPPED (SKIP_RETURN_CODE in CMakeLists.txt).
INTEROP_SKIP=77

interop_log() { echo "interop: $*" >&2; }

# interop_skip REASON: the one clear line, then the skip status.
interop_skip() {
  echo "interop: SKIPPED: $*"
  exit "$INTEROP_SKIP"
}

# interop_kernel_package: prints "NAME VERSION" of Debian 12's generic kernel that apt offers.
interop_kernel_package() {
  local name version
  name=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -nE 's/^ *Depends: (linux-image-6\.1\.0-[0-9]+-amd64)$/\1/p' | awk 'NR == 1')
  [ -n "$name" ] || return 1
  version=$(apt-cache policy "$name" 2>/dev/null | sed -nE 's/^ *Candidate: (.*)$/\1/p')
  [ -n "$version" ] && [ "$version" != "(none)" ] || return 1
  echo "$name $version"
}

# interop_setup_kernel: sets KERNEL_DIR (unpacked package, depmod done), KERNEL_RELEASE, KERNEL_IMAGE.
# Downloads and unpacks once per package version; offline, falls back to the newest cached kernel.
interop_setup_kernel() {
  local pkg version dir
  if read -r pkg version < <(interop_kernel_package); then
    dir=$INTEROP_CACHE/kernel/${pkg}_$version
    if [ ! -e "$dir/.complete" ]; then
      interop_log "downloading $pkg $version"
      rm -rf "$dir" "$dir.tmp"
      mkdir -p "$dir.tmp/deb" "$dir.tmp/root"
      chmod 777 "$dir.tmp/deb" # apt-get download drops privileges to _apt when it can
      (cd "$dir.tmp/deb" && apt-get download -qq "$pkg=$version" >/dev/null 2>&1) ||
        { rm -rf "$dir.tmp"; return 1; }
      dpkg-deb -x "$dir.tmp"/deb/*.deb "$dir.tmp/root" || { rm -rf "$dir.tmp"; return 1; }
      rm -rf "$dir.tmp/deb"
      mv "$dir.tmp/root" "$dir" && rmdir "$dir.tmp"
    fi
  else
    dir=$(find "$INTEROP_CACHE/kernel" -mindepth 2 -maxdepth 2 -name .complete -printf '%h\n' 2>/dev/null |
      sort -V | awk 'END {print}')
    [ -n "$dir" ] || return 1
    interop_log "apt offers no kernel package; using the cached $(basename "$dir")"
  fi
  KERNEL_DIR=$dir
  KERNEL_RELEASE=$(basename "$(find "$dir/lib/modules" -mindepth 1 -maxdepth 1 -type d -print -quit)")
  KERNEL_IMAGE=$dir/boot/vmlinuz-$KERNEL_RELEASE
  [ -n "$KERNEL_RELEASE" ] && [ -f "$KERNEL_IMAGE" ] || return 1
  if [ ! -e "$dir/.complete" ]; then
    # The package ships no modules.dep: generate it.
    depmod -b "$dir" "$KERNEL_RELEASE" || return 1
    touch "$dir/.complete"
  fi
}

# interop_module_closure MODULE...: module files (relative to the modules dir) in load order.
interop_module_closure() {
  python3 - "$KERNEL_DIR/lib/modules/$KERNEL_RELEASE/modules.dep" "$@" <<'PY'
import os, sys
deps = {}
for line in open(sys.argv[1]):
    path, _, rest = line.partition(":")
    deps[path] = rest.split()
by_name = {os.path.basename(p)[:-3].replace("-", "_"): p for p in deps}
order, seen = [], set()
def visit(path):
    if path in seen:
        return
    seen.add(path)
    for d in reversed(deps[path]):  # modules.dep lists the deepest dependency last
        visit(d)
    order.append(path)
for name in sys.argv[2:]:
    if name not in by_name:
        sys.exit(f"module {name} not found (built in?)")
    visit(by_name[name])
print("\n".join(order))
PY
}

# interop_setup_initramfs: sets INITRAMFS, built once per kernel and per content of guest/init.
interop_setup_initramfs() {
  local busybox=/bin/busybox
  [ -x "$busybox" ] && "$busybox" --list | grep -x cpio >/dev/null || return 1
  local key
  key=$(cat "$INTEROP_DIR/guest/init" "$busybox" <(echo "$KERNEL_RELEASE ${INTEROP_INITRD_MODULES[*]}") |
    sha256sum | cut -c1-16)
  INITRAMFS=$INTEROP_CACHE/initramfs/$KERNEL_RELEASE-$key.cpio.gz
  [ -s "$INITRAMFS" ] && return 0
  interop_log "building initramfs $(basename "$INITRAMFS")"
  local tmp
  tmp=$(mktemp -d) || return 1
  local modules
  modules=$(interop_module_closure "${INTEROP_INITRD_MODULES[@]}") || { rm -rf "$tmp"; return 1; }
  mkdir -p "$tmp"/{bin,dev,proc,sys,lower,rw,newroot,modules}
  cp "$busybox" "$tmp/bin/busybox"
  cp "$INTEROP_DIR/guest/init" "$tmp/init"
  chmod 755 "$tmp/init"
  local m
  for m in $modules; do
    cp "$KERNEL_DIR/lib/modules/$KERNEL_RELEASE/$m" "$tmp/modules/"
    basename "$m" >>"$tmp/modules/load-order"
  done
  mkdir -p "$(dirname "$INITRAMFS")"
  (cd "$tmp" && find . -mindepth 1 | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$INITRAMFS.tmp" &&
    mv "$INITRAMFS.tmp" "$INITRAMFS"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}

# interop_setup: kernel + initramfs, under a lock so parallel runs share one download.
interop_setup() {
  mkdir -p "$INTEROP_CACHE" || return 1
  exec 9>"$INTEROP_CACHE/.lock"
  flock -w 600 9 || return 1
  interop_setup_kernel && interop_setup_initramfs
  local rc=$?
  flock -u 9
  exec 9>&-
  return $rc
}

# interop_boot BUILD_DIR GUEST_SCRIPT TIMEOUT_S CONSOLE_LOG [ARGS...]
# Boots the VM: the host root read-only, BUILD_DIR writable at the same path; the guest runs
# GUEST_SCRIPT ARGS... (a path visible on the host) chrooted, then powers off. Returns qemu's status
# (124 on timeout).
interop_boot() {
  local build=$1 script=$2 limit=$3 console=$4
  shift 4
  local accel=(-accel tcg,thread=multi -cpu max)
  if [ "${PPTPKIT_INTEROP_KVM:-0}" = 1 ]; then
    accel=(-accel kvm -cpu host)
  fi
  local cmdline="console=ttyS0 quiet panic=-1 pptpkit.build=$build pptpkit.run=$script"
  cmdline+=" pptpkit.modules=$KERNEL_DIR/lib/modules/$KERNEL_RELEASE"
  local args="$*"
  [ -z "$args" ] || cmdline+=" pptpkit.args=${args// /,}"
  timeout --kill-after=10 "$limit" "$INTEROP_QEMU" "${accel[@]}" -smp 2 -m 2048 -nographic \
    -no-reboot -nic none -kernel "$KERNEL_IMAGE" -initrd "$INITRAMFS" -append "$cmdline" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$build,mount_tag=build,security_model=none,multidevs=remap" \
    </dev/null >"$console" 2>&1
}
