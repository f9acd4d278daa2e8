// sys_bsd.cc — the real bsd_sys: the only file of pptpkit that includes BSD headers and calls the BSD
// kernel (tests/host-bsd/check_sys_boundary.sh enforces it). Compiled for FreeBSD and OpenBSD only.
//
// Each method is one system call (route_add: one routing-socket message; spawn: posix_spawn) with the
// neutral types of bsd_sys.hpp marshalled into the kernel's structs. No policy lives here: what to call
// and what an error means is decided above, in code that is tested on Linux.
//
// The constant table the logic uses (os_constants.hpp) is checked against these headers below, field
// by field, so the numbers the tests exercise are the numbers this kernel uses.

// clang-format off
// Order matters: <sys/types.h> first; <sys/ioctl.h> before <net/if_tun.h>, which uses _IOW without
// including it; <net/if.h> before the in*_var.h headers.
#include <sys/types.h>
#include <sys/event.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/stat.h>
#include <sys/sysctl.h>
#include <sys/time.h>
#include <sys/un.h>
#include <net/if.h>
#include <net/if_tun.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netinet/in_var.h>
#include <netinet6/in6_var.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
// clang-format on

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

#include "pptpkit/host_bsd/bsd_sys.hpp"

namespace pptpkit::host_bsd {

namespace {

#if defined(__FreeBSD__)
constexpr const os_constants& native = freebsd;
#elif defined(__OpenBSD__)
constexpr const os_constants& native = openbsd;
#else
#error "sys_bsd.cc is the system-call layer for FreeBSD and OpenBSD only"
#endif

// ---- the table the shared logic uses, checked against this system's headers ----
static_assert(native.af_unix == AF_UNIX && native.af_inet == AF_INET && native.af_inet6 == AF_INET6);
#ifdef PF_DIVERT
static_assert(native.pf_divert == PF_DIVERT);  // FreeBSD 14 headers
#endif
static_assert(native.sock_stream == SOCK_STREAM && native.sock_dgram == SOCK_DGRAM && native.sock_raw == SOCK_RAW);
static_assert(native.sol_socket == SOL_SOCKET && native.so_error == SO_ERROR && native.so_reuseaddr == SO_REUSEADDR);
static_assert(native.shut_rd == SHUT_RD);
static_assert(native.ipproto_gre == IPPROTO_GRE && native.ipproto_divert == IPPROTO_DIVERT);
static_assert(native.o_rdonly == O_RDONLY && native.o_rdwr == O_RDWR && native.o_nonblock == O_NONBLOCK);
static_assert(native.f_getfl == F_GETFL && native.f_setfl == F_SETFL);
static_assert(native.iff_up == IFF_UP && native.iff_pointopoint == IFF_POINTOPOINT &&
              native.iff_multicast == IFF_MULTICAST);
static_assert(native.siocgifflags == SIOCGIFFLAGS && native.siocsifflags == SIOCSIFFLAGS);
static_assert(native.siocsifmtu == SIOCSIFMTU && native.siocifdestroy == SIOCIFDESTROY);
static_assert(native.siocaifaddr == SIOCAIFADDR && native.siocaifaddr_in6 == SIOCAIFADDR_IN6);
static_assert(sizeof(struct ifreq) == sizeof_ifreq);
static_assert(sizeof(struct in_aliasreq) ==
              (native.kind == os_kind::freebsd ? freebsd_sizeof_ifaliasreq : openbsd_sizeof_ifaliasreq));
static_assert(sizeof(struct in6_aliasreq) ==
              (native.kind == os_kind::freebsd ? freebsd_sizeof_in6_aliasreq : openbsd_sizeof_in6_aliasreq));
#if defined(__FreeBSD__)
static_assert(native.siocsifname == SIOCSIFNAME);
static_assert(native.tunsifhead == TUNSIFHEAD && native.tunsifmode == TUNSIFMODE && native.tungifname == TUNGIFNAME);
static_assert(sizeof(struct in_aliasreq) == sizeof(struct ifaliasreq));  // SIOCAIFADDR is declared with the latter
#endif
static_assert(native.evfilt_read == EVFILT_READ && native.evfilt_write == EVFILT_WRITE &&
              native.evfilt_signal == EVFILT_SIGNAL);
static_assert(native.ev_add == EV_ADD && native.ev_delete == EV_DELETE && native.ev_enable == EV_ENABLE &&
              native.ev_eof == EV_EOF && native.ev_error == EV_ERROR);
static_assert(native.enoent == ENOENT && native.eintr == EINTR && native.ebusy == EBUSY && native.eexist == EEXIST &&
              native.eagain == EAGAIN && native.einprogress == EINPROGRESS &&
              native.eprotonosupport == EPROTONOSUPPORT && native.eafnosupport == EAFNOSUPPORT);
static_assert(native.enxio == ENXIO && native.ebadf == EBADF && native.enomem == ENOMEM && native.eacces == EACCES &&
              native.enodev == ENODEV && native.enfile == ENFILE && native.emfile == EMFILE &&
              native.econnaborted == ECONNABORTED && native.enobufs == ENOBUFS && native.econnrefused == ECONNREFUSED);
static_assert(native.sighup == SIGHUP && native.sigint == SIGINT && native.sigpipe == SIGPIPE &&
              native.sigterm == SIGTERM && native.sigchld == SIGCHLD && native.sigusr1 == SIGUSR1);
static_assert(sizeof(sockaddr_in) == 16 && IFNAMSIZ == 16);

constexpr std::size_t max_kevents = 64;
// ND6_INFINITE_LIFETIME of <netinet6/nd6.h>, which C++ cannot include on FreeBSD 13 (it uses struct
// prf_ra, which <netinet6/in6_var.h> declares nested in another struct: global in C, nested in C++).
constexpr std::uint32_t nd6_infinite_lifetime = 0xffffffffu;

sys_result done(long long value) {
  if (value < 0) {
    return {.value = -1, .err = errno};
  }
  return {.value = value, .err = 0};
}

sys_result failure(int err) {
  return {.value = -1, .err = err};
}

sockaddr_in to_sockaddr(inet_address a) {
  sockaddr_in sin{};
  sin.sin_len = sizeof(sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(a.port);
  sin.sin_addr.s_addr = htonl(a.address);
  return sin;
}

bool to_sockaddr(const std::string& path, sockaddr_un& sun) {
  sun = {};
  if (path.size() >= sizeof(sun.sun_path)) {
    return false;
  }
  sun.sun_len = sizeof(sun);
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  return true;
}

void to_raw(const sockaddr_storage& ss, socklen_t length, raw_sockaddr& out) {
  out = {};
  out.length = static_cast<std::uint32_t>(std::min<std::size_t>(length, out.bytes.size()));
  std::memcpy(out.bytes.data(), &ss, out.length);
  if (ss.ss_family == AF_INET && length >= sizeof(sockaddr_in)) {
    sockaddr_in sin;
    std::memcpy(&sin, &ss, sizeof(sin));
    out.inet = {.address = ntohl(sin.sin_addr.s_addr), .port = ntohs(sin.sin_port)};
  }
}

bool copy_name(char (&dst)[IFNAMSIZ], const std::string& name) {
  if (name.size() >= IFNAMSIZ) {
    return false;
  }
  std::memset(dst, 0, IFNAMSIZ);
  std::memcpy(dst, name.data(), name.size());
  return true;
}

std::string name_of(const char (&src)[IFNAMSIZ]) {
  return std::string(src, ::strnlen(src, IFNAMSIZ));
}

file_status to_status(const struct stat& st) {
  file_status out;
  out.type = S_ISREG(st.st_mode)    ? file_type::regular
             : S_ISDIR(st.st_mode)  ? file_type::directory
             : S_ISSOCK(st.st_mode) ? file_type::socket
             : S_ISLNK(st.st_mode)  ? file_type::symlink
                                    : file_type::other;
  out.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.device = static_cast<std::uint64_t>(st.st_dev);
  out.inode = static_cast<std::uint64_t>(st.st_ino);
  return out;
}

class native_sys final : public bsd_sys {
 public:
  const os_constants& constants() const noexcept override { return native; }

  sys_result open(const std::string& path, std::int32_t flags) override {
    return done(::open(path.c_str(), flags | O_CLOEXEC));
  }
  sys_result close(fd_t fd) override { return done(::close(fd)); }
  sys_result read(fd_t fd, std::span<std::uint8_t> out) override { return done(::read(fd, out.data(), out.size())); }
  sys_result write(fd_t fd, std::span<const std::uint8_t> in) override {
    return done(::write(fd, in.data(), in.size()));
  }
  sys_result fcntl(fd_t fd, std::int32_t command, std::int32_t argument) override {
    return done(::fcntl(fd, command, argument));
  }
  sys_result ioctl_int(fd_t fd, unsigned long request, std::int32_t value) override {
    int v = value;
    return done(::ioctl(fd, request, &v));
  }

  sys_result ioctl_ifreq(fd_t fd, unsigned long request, ifreq_args& args) override {
    struct ifreq ifr {};
    if (!copy_name(ifr.ifr_name, args.name)) {
      return failure(ENAMETOOLONG);
    }
    char new_name[IFNAMSIZ] = {};
    switch (args.field) {
      case ifreq_field::flags:
        ifr.ifr_flags = static_cast<short>(args.value & 0xffff);
#if defined(__FreeBSD__)
        ifr.ifr_flagshigh = static_cast<short>(args.value >> 16);
#endif
        break;
      case ifreq_field::mtu:
        ifr.ifr_mtu = args.value;
        break;
      case ifreq_field::new_name:
        if (!copy_name(new_name, args.new_name)) {
          return failure(ENAMETOOLONG);
        }
        ifr.ifr_data = new_name;
        break;
      case ifreq_field::name_out:
        break;
    }
    const sys_result r = done(::ioctl(fd, request, &ifr));
    if (r.ok()) {
      if (args.field == ifreq_field::flags) {
        args.value = ifr.ifr_flags & 0xffff;
#if defined(__FreeBSD__)
        args.value |= (ifr.ifr_flagshigh & 0xffff) << 16;
#endif
      } else if (args.field == ifreq_field::new_name) {
        args.new_name = name_of(new_name);
      } else if (args.field == ifreq_field::name_out) {
        args.name = name_of(ifr.ifr_name);
      }
    }
    return r;
  }

  sys_result ioctl_inet_alias(fd_t fd, unsigned long request, const inet_alias& alias) override {
    struct in_aliasreq ifra {};
    if (!copy_name(ifra.ifra_name, alias.ifname)) {
      return failure(ENAMETOOLONG);
    }
    ifra.ifra_addr = to_sockaddr({.address = alias.local, .port = 0});
    ifra.ifra_dstaddr = to_sockaddr({.address = alias.peer, .port = 0});
    ifra.ifra_mask = to_sockaddr({.address = alias.mask, .port = 0});
    return done(::ioctl(fd, request, &ifra));
  }

  sys_result ioctl_inet6_alias(fd_t fd, unsigned long request, const inet6_alias& alias) override {
    struct in6_aliasreq ifra {};
    if (!copy_name(ifra.ifra_name, alias.ifname)) {
      return failure(ENAMETOOLONG);
    }
    const unsigned index = ::if_nametoindex(alias.ifname.c_str());
    const auto fill = [index](sockaddr_in6& sin6, const std::array<std::uint8_t, 16>& a) {
      sin6.sin6_len = sizeof(sin6);
      sin6.sin6_family = AF_INET6;
      std::memcpy(&sin6.sin6_addr, a.data(), a.size());
      sin6.sin6_scope_id = index;  // link-local: the kernel embeds the scope
    };
    fill(ifra.ifra_addr, alias.local);
    fill(ifra.ifra_dstaddr, alias.peer);
    ifra.ifra_prefixmask.sin6_len = sizeof(ifra.ifra_prefixmask);
    ifra.ifra_prefixmask.sin6_family = AF_INET6;
    for (std::uint32_t bit = 0; bit < alias.prefix_length && bit < 128; ++bit) {
      ifra.ifra_prefixmask.sin6_addr.s6_addr[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
    }
    ifra.ifra_lifetime.ia6t_vltime = nd6_infinite_lifetime;
    ifra.ifra_lifetime.ia6t_pltime = nd6_infinite_lifetime;
    return done(::ioctl(fd, request, &ifra));
  }

  sys_result socket(std::int32_t domain, std::int32_t type, std::int32_t protocol) override {
    return done(::socket(domain, type | SOCK_CLOEXEC, protocol));
  }
  sys_result bind_inet(fd_t fd, inet_address local) override {
    const sockaddr_in sin = to_sockaddr(local);
    return done(::bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof(sin)));
  }
  sys_result bind_local(fd_t fd, const std::string& path) override {
    sockaddr_un sun;
    if (!to_sockaddr(path, sun)) {
      return failure(ENAMETOOLONG);
    }
    return done(::bind(fd, reinterpret_cast<const sockaddr*>(&sun), sizeof(sun)));
  }
  sys_result connect_inet(fd_t fd, inet_address remote) override {
    const sockaddr_in sin = to_sockaddr(remote);
    return done(::connect(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof(sin)));
  }
  sys_result connect_local(fd_t fd, const std::string& path) override {
    sockaddr_un sun;
    if (!to_sockaddr(path, sun)) {
      return failure(ENAMETOOLONG);
    }
    return done(::connect(fd, reinterpret_cast<const sockaddr*>(&sun), sizeof(sun)));
  }
  sys_result listen(fd_t fd, std::int32_t backlog) override {
    return done(::listen(fd, backlog));
  }
  sys_result accept(fd_t fd, raw_sockaddr& peer) override {
    sockaddr_storage ss{};
    socklen_t length = sizeof(ss);
    const sys_result r = done(::accept4(fd, reinterpret_cast<sockaddr*>(&ss), &length, SOCK_CLOEXEC));
    if (r.ok()) {
      to_raw(ss, length, peer);
    }
    return r;
  }
  sys_result getsockname(fd_t fd, raw_sockaddr& local) override {
    sockaddr_storage ss{};
    socklen_t length = sizeof(ss);
    const sys_result r = done(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &length));
    if (r.ok()) {
      to_raw(ss, length, local);
    }
    return r;
  }
  sys_result getsockopt_int(fd_t fd, std::int32_t level, std::int32_t name) override {
    int v = 0;
    socklen_t length = sizeof(v);
    const sys_result r = done(::getsockopt(fd, level, name, &v, &length));
    return r.ok() ? sys_result{.value = v, .err = 0} : r;
  }
  sys_result setsockopt_int(fd_t fd, std::int32_t level, std::int32_t name, std::int32_t value) override {
    const int v = value;
    return done(::setsockopt(fd, level, name, &v, sizeof(v)));
  }
  sys_result shutdown(fd_t fd, std::int32_t how) override {
    return done(::shutdown(fd, how));
  }
  sys_result recvfrom(fd_t fd, std::span<std::uint8_t> out, raw_sockaddr& from, bool& truncated) override {
    sockaddr_storage ss{};
    iovec iov{};
    iov.iov_base = out.data();
    iov.iov_len = out.size();
    msghdr msg{};
    msg.msg_name = &ss;
    msg.msg_namelen = sizeof(ss);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const sys_result r = done(::recvmsg(fd, &msg, 0));
    truncated = r.ok() && (msg.msg_flags & MSG_TRUNC) != 0;
    if (r.ok()) {
      to_raw(ss, msg.msg_namelen, from);
    }
    return r;
  }
  sys_result sendto(fd_t fd, std::span<const std::uint8_t> in, const raw_sockaddr& to) override {
    sockaddr_storage ss{};
    const std::size_t length = std::min<std::size_t>(to.length, sizeof(ss));
    std::memcpy(&ss, to.bytes.data(), length);
    return done(
        ::sendto(fd, in.data(), in.size(), 0, reinterpret_cast<const sockaddr*>(&ss), static_cast<socklen_t>(length)));
  }
  sys_result sendto_inet(fd_t fd, std::span<const std::uint8_t> in, inet_address to) override {
    const sockaddr_in sin = to_sockaddr(to);
    return done(::sendto(fd, in.data(), in.size(), 0, reinterpret_cast<const sockaddr*>(&sin), sizeof(sin)));
  }
  sys_result unlink(const std::string& path) override {
    return done(::unlink(path.c_str()));
  }
  sys_result fstat(fd_t fd, file_status& out) override {
    struct stat st {};
    const sys_result r = done(::fstat(fd, &st));
    if (r.ok()) {
      out = to_status(st);
    }
    return r;
  }
  sys_result lstat(const std::string& path, file_status& out) override {
    struct stat st {};
    const sys_result r = done(::lstat(path.c_str(), &st));
    if (r.ok()) {
      out = to_status(st);
    }
    return r;
  }

  sys_result route_add(std::uint32_t destination, std::uint32_t mask, std::uint32_t gateway) override {
    struct {
      rt_msghdr header;
      sockaddr_in destination, gateway, mask;  // RTA_DST, RTA_GATEWAY, RTA_NETMASK, in that order
    } message{};
    message.header.rtm_msglen = sizeof(message);
    message.header.rtm_version = RTM_VERSION;
    message.header.rtm_type = RTM_ADD;
    message.header.rtm_flags = RTF_UP | RTF_GATEWAY | RTF_STATIC;
    message.header.rtm_addrs = RTA_DST | RTA_GATEWAY | RTA_NETMASK;
    message.header.rtm_seq = 1;
#if defined(__OpenBSD__)
    message.header.rtm_hdrlen = sizeof(rt_msghdr);
#endif
    message.destination = to_sockaddr({.address = destination, .port = 0});
    message.gateway = to_sockaddr({.address = gateway, .port = 0});
    message.mask = to_sockaddr({.address = mask, .port = 0});
    const int fd = ::socket(PF_ROUTE, SOCK_RAW | SOCK_CLOEXEC, AF_INET);
    if (fd < 0) {
      return failure(errno);
    }
    const sys_result r = done(::write(fd, &message, sizeof(message)));
    ::close(fd);
    return r;
  }

  sys_result kqueue() override {
    return done(::kqueue());
  }

  sys_result kevent(fd_t kq, std::span<const kevent_record> changes, std::span<kevent_record> events,
                    std::int64_t timeout_ns) override {
    assert(changes.size() <= max_kevents);
    std::array<struct kevent, max_kevents> in{};
    std::array<struct kevent, max_kevents> out{};
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const kevent_record& c = changes[i];
      EV_SET(&in[i], static_cast<uintptr_t>(c.ident), c.filter, c.flags, c.fflags, c.data, nullptr);
    }
    timespec ts{};
    timespec* timeout = nullptr;
    if (timeout_ns >= 0) {
      ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
      timeout = &ts;
    }
    const int room = static_cast<int>(std::min(events.size(), max_kevents));
    const sys_result r = done(::kevent(kq, in.data(), static_cast<int>(changes.size()), out.data(), room, timeout));
    if (r.ok()) {
      for (std::int64_t i = 0; i < r.value; ++i) {
        const struct kevent& e = out[static_cast<std::size_t>(i)];
        events[static_cast<std::size_t>(i)] = {.ident = e.ident,
                                               .filter = static_cast<std::int16_t>(e.filter),
                                               .flags = static_cast<std::uint16_t>(e.flags),
                                               .fflags = static_cast<std::uint32_t>(e.fflags),
                                               .data = static_cast<std::int64_t>(e.data)};
      }
    }
    return r;
  }

  sys_result ignore_signal(std::int32_t signal) override {
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    return done(::sigaction(signal, &sa, nullptr));
  }

  std::uint64_t monotonic_ns() override {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
  }

  void random_bytes(std::span<std::uint8_t> out) override {
    ::arc4random_buf(out.data(), out.size());
  }

  sys_result spawn(const std::string& path, const std::vector<std::string>& args,
                   const std::vector<std::string>& env) override {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const std::string& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& e : env) {
      envp.push_back(const_cast<char*>(e.c_str()));
    }
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int err = ::posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv.data(), envp.data());
    return err == 0 ? sys_result{.value = pid, .err = 0} : failure(err);
  }

  std::string executable_path() override {
#if defined(__FreeBSD__)
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PATHNAME, -1};
    char buffer[1024];
    std::size_t length = sizeof(buffer);
    if (::sysctl(mib, 4, buffer, &length, nullptr, 0) == 0 && length > 0) {
      return std::string(buffer, ::strnlen(buffer, length));
    }
#endif
    return {};  // OpenBSD has no reliable way: the caller falls back to argv[0]
  }

  bool exists(const std::string& path) override {
    return ::access(path.c_str(), F_OK) == 0;
  }

  std::string error_text(std::int32_t err) override {
    return ::strerror(err);
  }
};

}  // namespace

std::unique_ptr<bsd_sys> create_native_sys() {
  return std::make_unique<native_sys>();
}

}  // namespace pptpkit::host_bsd
