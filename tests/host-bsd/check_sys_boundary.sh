#!/usr/bin/env bash
# Proves that host-bsd's system-call layer (host-bsd/src/sys_bsd.cc) is the only place with BSD system
# calls and BSD/POSIX system headers:
#   1. no file of the repository but sys_bsd.cc includes a BSD-only header (kqueue, tun, divert, ...);
#   2. no file of host-bsd/ or tests/host-bsd/ but sys_bsd.cc includes a POSIX system header — without
#      those headers no system call can even be declared there;
#   3. no file of host-bsd/ or tests/host-bsd/ but sys_bsd.cc calls a system call by name (calls through
#      the bsd_sys interface, `sys.open(` / `sys_->kevent(`, and its declarations are fine).
# Usage: check_sys_boundary.sh REPO_ROOT     (exit 0 clean, 1 with the offending lines listed)
#        check_sys_boundary.sh --self-test   (plants violations in a scratch tree; fails if any is missed)
set -uo pipefail

bsd_only_headers='sys/event\.h|net/if_tun\.h|netinet/ip_divert\.h|netinet/in_var\.h|netinet6/in6_var\.h|sys/sockio\.h|net/if_var\.h|net/if_dl\.h|sys/sysctl\.h'
posix_headers='sys/[a-z_]+\.h|net/[a-z_]+\.h|netinet6?/[a-z_]+\.h|arpa/[a-z_]+\.h|unistd\.h|fcntl\.h|signal\.h|csignal|spawn\.h|pwd\.h|grp\.h|ifaddrs\.h|netdb\.h|poll\.h|termios\.h|dlfcn\.h'
syscalls='open|openat|close|read|write|readv|writev|ioctl|fcntl|socket|bind|connect|listen|accept|accept4|getsockname|getpeername|getsockopt|setsockopt|shutdown|recv|recvfrom|recvmsg|send|sendto|sendmsg|kqueue|kevent|sigaction|signal|posix_spawn|fork|vfork|execve|execv|setuid|setgid|setgroups|arc4random_buf|clock_gettime|unlink|stat|lstat|fstat|sysctl|fdevname_r|getpwnam'

check() {
  local root=$1 bad=0 out
  # 1. BSD-only headers, anywhere in the sources.
  out=$(cd "$root" && grep -rnE "^\s*#\s*include\s*[<\"]($bsd_only_headers)[>\"]" \
        --include='*.c' --include='*.cc' --include='*.h' --include='*.hpp' . 2>/dev/null |
        grep -v '^\./host-bsd/src/sys_bsd\.cc:' | grep -v '^\./build')
  if [ -n "$out" ]; then echo "BSD-only header outside host-bsd/src/sys_bsd.cc:"; echo "$out"; bad=1; fi
  # 2. + 3. inside host-bsd and its tests.
  local dirs=()
  for d in host-bsd tests/host-bsd; do [ -d "$root/$d" ] && dirs+=("$d"); done
  [ ${#dirs[@]} -eq 0 ] && { echo "no host-bsd sources under $root"; return 1; }
  out=$(cd "$root" && grep -rnE "^\s*#\s*include\s*<($posix_headers)>" \
        --include='*.cc' --include='*.hpp' --include='*.h' "${dirs[@]}" | grep -v '^host-bsd/src/sys_bsd\.cc:')
  if [ -n "$out" ]; then echo "system header outside host-bsd/src/sys_bsd.cc:"; echo "$out"; bad=1; fi
  # String literals and // comments are blanked first: "kevent(...)" in an error message is no call.
  out=$(cd "$root" && find "${dirs[@]}" -type f \( -name '*.cc' -o -name '*.hpp' -o -name '*.h' \) \
        ! -path 'host-bsd/src/sys_bsd.cc' -print0 | sort -z |
        xargs -0 -r perl -ne '
          my $l = $_;
          $l =~ s/"(?:\\.|[^"\\])*"/""/g;
          $l =~ s{//.*$}{};
          next if $l =~ /(sys_result|virtual|void|bool|std::uint64_t|std::string)\s+([A-Za-z_]+::)*('"$syscalls"')\s*\(/;
          print "$ARGV:$.: $_" if $l =~ /(^|[^.>:A-Za-z0-9_])(::)?('"$syscalls"')\s*\(/;
          close ARGV if eof;')
  if [ -n "$out" ]; then echo "system call outside host-bsd/src/sys_bsd.cc:"; echo "$out"; bad=1; fi
  return $bad
}

if [ "${1:-}" = "--self-test" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/host-bsd/src" "$scratch/tests/host-bsd" "$scratch/runtime/src"
  printf '#include <sys/event.h>\nint f() { return ::kevent(0, 0, 0, 0, 0, 0); }\n' >"$scratch/host-bsd/src/sys_bsd.cc"
  echo 'int g(bsd_sys& sys) { return sys.kevent(1); }' >"$scratch/host-bsd/src/ok.cc"
  check "$scratch" >/dev/null || { echo "self-test: a clean tree was flagged"; check "$scratch"; exit 1; }
  planted=(
    "runtime/src/a.cc|#include <net/if_tun.h>"
    "host-bsd/src/b.cc|#include <unistd.h>"
    "host-bsd/src/c.cc|int x = ::socket(2, 3, 47);"
    "host-bsd/src/d.cc|  if (kevent(kq, nullptr, 0, ev, 1, nullptr) < 0) {"
    "tests/host-bsd/e.cc|  int fd = open(\"/dev/tun\", 2);"
  )
  for p in "${planted[@]}"; do
    file=${p%%|*}
    echo "${p#*|}" >"$scratch/$file"
    if check "$scratch" >/dev/null; then echo "self-test: missed a violation in $file: ${p#*|}"; exit 1; fi
    rm "$scratch/$file"
  done
  echo "self-test: ${#planted[@]} planted violations caught, clean tree accepted"
  exit 0
fi

root=${1:?usage: check_sys_boundary.sh REPO_ROOT | --self-test}
if check "$root"; then
  echo "ok: BSD system calls and system headers appear only in host-bsd/src/sys_bsd.cc"
else
  exit 1
fi
