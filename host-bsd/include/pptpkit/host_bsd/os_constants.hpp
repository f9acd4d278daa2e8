// pptpkit/host_bsd/os_constants.hpp — the BSD constants the host's shared logic uses, as plain numbers.
//
// The logic above the system-call layer (tun address-family header, divert fallback, kqueue event
// translation, errno handling) runs — and is tested — on Linux, where no BSD header exists. It reads its
// constants from these tables instead. They are not a second source of truth:
//   - the FreeBSD build of the system-call layer (src/sys_bsd.cc) static_asserts every field of
//     `freebsd` against the real <sys/...>, <net/...> and <netinet/...> headers (and the OpenBSD build
//     every field of `openbsd`), so a wrong number cannot compile there;
//   - tests/host-bsd cross-checks both tables on Linux against an independent source, the zerrors/ztypes
//     files that golang.org/x/sys generates from the FreeBSD and OpenBSD headers.
// Ioctl request numbers are never written by hand: they are encoded here the way <sys/ioccom.h> does
// (_IOW(group, number, type)) from the group, number and argument size the headers give.
#pragma once

#include <cstdint>

namespace pptpkit::host_bsd {

enum class os_kind : std::uint8_t { freebsd, openbsd };

// <sys/ioccom.h>: IOC_IN | (sizeof(type) & IOCPARM_MASK) << 16 | group << 8 | number.
constexpr unsigned long ioc_in = 0x80000000ul;
constexpr unsigned long ioc_out = 0x40000000ul;
constexpr unsigned long iocparm_mask = 0x1fff;
constexpr unsigned long ioc_encode(unsigned long direction, char group, unsigned number, unsigned long size) {
  return direction | ((size & iocparm_mask) << 16) | (static_cast<unsigned long>(group) << 8) | number;
}
constexpr unsigned long iow(char group, unsigned number, unsigned long size) {
  return ioc_encode(ioc_in, group, number, size);
}
constexpr unsigned long iowr(char group, unsigned number, unsigned long size) {
  return ioc_encode(ioc_in | ioc_out, group, number, size);
}
constexpr unsigned long ior(char group, unsigned number, unsigned long size) {
  return ioc_encode(ioc_out, group, number, size);
}

// Argument sizes on amd64 (the system-call layer static_asserts them against the structs).
constexpr unsigned long sizeof_int = 4;
constexpr unsigned long sizeof_ifreq = 32;
constexpr unsigned long freebsd_sizeof_ifaliasreq = 68;     // FreeBSD appends ifra_vhid
constexpr unsigned long freebsd_sizeof_in6_aliasreq = 136;  // ditto
constexpr unsigned long openbsd_sizeof_ifaliasreq = 64;
constexpr unsigned long openbsd_sizeof_in6_aliasreq = 128;

struct os_constants {
  os_kind kind;
  // <sys/socket.h>
  std::int32_t af_unix, af_inet, af_inet6;
  std::int32_t pf_divert;  // FreeBSD 14's divert(4) family; 0 where the OS has none
  std::int32_t sock_stream, sock_dgram, sock_raw;
  std::int32_t sol_socket, so_error, so_reuseaddr, shut_rd;
  // <netinet/in.h>
  std::int32_t ipproto_gre, ipproto_divert;
  // <fcntl.h>
  std::int32_t o_rdonly, o_rdwr, o_nonblock, f_getfl, f_setfl;
  // <net/if.h>, <sys/sockio.h>, <net/if_tun.h>, <netinet6/in6_var.h>
  std::int32_t iff_up, iff_pointopoint, iff_multicast;
  unsigned long siocgifflags, siocsifflags, siocsifmtu, siocsifname, siocifdestroy, siocaifaddr, siocaifaddr_in6;
  unsigned long tunsifhead, tunsifmode, tungifname;  // 0 where the OS has none
  // <sys/event.h>
  std::int16_t evfilt_read, evfilt_write, evfilt_signal;
  std::uint16_t ev_add, ev_delete, ev_enable, ev_eof, ev_error;
  // <sys/errno.h>
  std::int32_t enoent, eintr, ebusy, eexist, eagain, einprogress, eprotonosupport, eafnosupport;
  std::int32_t enxio, ebadf, enomem, eacces, enodev, enfile, emfile, econnaborted, enobufs, econnrefused;
  // <signal.h>
  std::int32_t sighup, sigint, sigpipe, sigterm, sigchld, sigusr1;
};

// FreeBSD 13.5 amd64 (and 14: PF_DIVERT appeared there, see src/sys_bsd.cc).
inline constexpr os_constants freebsd{
    .kind = os_kind::freebsd,
    .af_unix = 1,
    .af_inet = 2,
    .af_inet6 = 28,
    .pf_divert = 44,
    .sock_stream = 1,
    .sock_dgram = 2,
    .sock_raw = 3,
    .sol_socket = 0xffff,
    .so_error = 0x1007,
    .so_reuseaddr = 0x4,
    .shut_rd = 0,
    .ipproto_gre = 47,
    .ipproto_divert = 258,
    .o_rdonly = 0x0,
    .o_rdwr = 0x2,
    .o_nonblock = 0x4,
    .f_getfl = 3,
    .f_setfl = 4,
    .iff_up = 0x1,
    .iff_pointopoint = 0x10,
    .iff_multicast = 0x8000,
    .siocgifflags = iowr('i', 17, sizeof_ifreq),
    .siocsifflags = iow('i', 16, sizeof_ifreq),
    .siocsifmtu = iow('i', 52, sizeof_ifreq),
    .siocsifname = iow('i', 40, sizeof_ifreq),
    .siocifdestroy = iow('i', 121, sizeof_ifreq),
    .siocaifaddr = iow('i', 43, freebsd_sizeof_ifaliasreq),
    .siocaifaddr_in6 = iow('i', 27, freebsd_sizeof_in6_aliasreq),
    .tunsifhead = iow('t', 96, sizeof_int),
    .tunsifmode = iow('t', 94, sizeof_int),
    .tungifname = ior('t', 93, sizeof_ifreq),
    .evfilt_read = -1,
    .evfilt_write = -2,
    .evfilt_signal = -6,
    .ev_add = 0x1,
    .ev_delete = 0x2,
    .ev_enable = 0x4,
    .ev_eof = 0x8000,
    .ev_error = 0x4000,
    .enoent = 2,
    .eintr = 4,
    .ebusy = 16,
    .eexist = 17,
    .eagain = 35,
    .einprogress = 36,
    .eprotonosupport = 43,
    .eafnosupport = 47,
    .enxio = 6,
    .ebadf = 9,
    .enomem = 12,
    .eacces = 13,
    .enodev = 19,
    .enfile = 23,
    .emfile = 24,
    .econnaborted = 53,
    .enobufs = 55,
    .econnrefused = 61,
    .sighup = 1,
    .sigint = 2,
    .sigpipe = 13,
    .sigterm = 15,
    .sigchld = 20,
    .sigusr1 = 30,
};

// OpenBSD amd64: tun(4) always carries the address-family header and has no TUNSIFHEAD; tun units are
// not cloned from /dev/tun but opened by name (/dev/tunN); divert sockets are IPPROTO_DIVERT only.
inline constexpr os_constants openbsd{
    .kind = os_kind::openbsd,
    .af_unix = 1,
    .af_inet = 2,
    .af_inet6 = 24,
    .pf_divert = 0,
    .sock_stream = 1,
    .sock_dgram = 2,
    .sock_raw = 3,
    .sol_socket = 0xffff,
    .so_error = 0x1007,
    .so_reuseaddr = 0x4,
    .shut_rd = 0,
    .ipproto_gre = 47,
    .ipproto_divert = 258,
    .o_rdonly = 0x0,
    .o_rdwr = 0x2,
    .o_nonblock = 0x4,
    .f_getfl = 3,
    .f_setfl = 4,
    .iff_up = 0x1,
    .iff_pointopoint = 0x10,
    .iff_multicast = 0x8000,
    .siocgifflags = iowr('i', 17, sizeof_ifreq),
    .siocsifflags = iow('i', 16, sizeof_ifreq),
    .siocsifmtu = iow('i', 127, sizeof_ifreq),
    .siocsifname = 0,
    .siocifdestroy = iow('i', 121, sizeof_ifreq),
    .siocaifaddr = iow('i', 26, openbsd_sizeof_ifaliasreq),
    .siocaifaddr_in6 = iow('i', 26, openbsd_sizeof_in6_aliasreq),
    .tunsifhead = 0,
    .tunsifmode = 0,
    .tungifname = 0,
    .evfilt_read = -1,
    .evfilt_write = -2,
    .evfilt_signal = -6,
    .ev_add = 0x1,
    .ev_delete = 0x2,
    .ev_enable = 0x4,
    .ev_eof = 0x8000,
    .ev_error = 0x4000,
    .enoent = 2,
    .eintr = 4,
    .ebusy = 16,
    .eexist = 17,
    .eagain = 35,
    .einprogress = 36,
    .eprotonosupport = 43,
    .eafnosupport = 47,
    .enxio = 6,
    .ebadf = 9,
    .enomem = 12,
    .eacces = 13,
    .enodev = 19,
    .enfile = 23,
    .emfile = 24,
    .econnaborted = 53,
    .enobufs = 55,
    .econnrefused = 61,
    .sighup = 1,
    .sigint = 2,
    .sigpipe = 13,
    .sigterm = 15,
    .sigchld = 20,
    .sigusr1 = 30,
};

}  // namespace pptpkit::host_bsd
