// linux_platform.cc — the poller, signals, clock, randomness, logs, stream sockets and hooks.
// GRE and TUN are in datapath.cc, privileges in privileges.cc.
#include "pptpkit/host_linux/linux_platform.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "pptpkit/abi.h"

extern char** environ;

namespace pptpkit::host_linux {
namespace {

using runtime::accept_result;
using runtime::endpoint;
using runtime::handle;
using runtime::invalid_handle;
using runtime::io_result;
using runtime::io_status;

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

std::string endpoint_text(endpoint e) {
  const in_addr a{htonl(e.address)};
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, text, sizeof(text));
  return std::string(text) + ":" + std::to_string(e.port);
}

sockaddr_in to_sockaddr(endpoint e) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(e.address);
  sa.sin_port = htons(e.port);
  return sa;
}

endpoint from_sockaddr(const sockaddr_in& sa) {
  return {ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
}

bool unix_address(const std::string& path, sockaddr_un& sa, std::string& error) {
  sa = sockaddr_un{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path)) {
    error = "unix socket path '" + path + "': empty or longer than " + std::to_string(sizeof(sa.sun_path) - 1);
    return false;
  }
  std::memcpy(sa.sun_path, path.data(), path.size());
  return true;
}

// accept(2) errors that concern one pending connection only ("Error handling" in accept(2): Linux
// passes a new connection's pending network errors to accept; EPERM is a firewall's refusal): the next
// pending connection may be fine.
bool one_connection_error(int err) {
  switch (err) {
    case ECONNABORTED:
    case EPERM:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EOPNOTSUPP:
      return true;
    default:
      return false;
  }
}

// Makes `path` free for bind(): true when nothing is there, or when a socket is there that nobody
// answers on (a crashed daemon's leftover), which is removed. Refuses everything else, with the reason:
// a regular file, a directory or a symlink (never followed) is not ours to delete, and a socket that
// accepts a connection belongs to a running daemon.
bool clear_stale_socket(const std::string& path, const sockaddr_un& sa, const std::string& what, std::string& error) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return true;
    }
    error = errno_text(what, errno);
    return false;
  }
  if (!S_ISSOCK(st.st_mode)) {
    error = what + ": " + path + " exists and is not a socket (refusing to replace it)";
    return false;
  }
  // Non-blocking, so a live daemon whose backlog is full answers EAGAIN instead of holding us.
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) {
    error = errno_text(what, errno);
    return false;
  }
  const int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
  const int err = errno;
  ::close(probe);
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
    error = what + ": another process is listening there";
    return false;
  }
  if (err != ECONNREFUSED) {  // EACCES and the like: we cannot tell, so we do not touch it
    error = errno_text(what + ": cannot tell whether the socket is in use", err);
    return false;
  }
  // Stale. Remove it only if it is still the file we probed.
  struct stat again {};
  if (::lstat(path.c_str(), &again) != 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
    error = what + ": " + path + " changed while it was checked";
    return false;
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    error = errno_text(what + ": remove the stale socket", errno);
    return false;
  }
  return true;
}

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD};

}  // namespace

std::unique_ptr<linux_platform> linux_platform::create(const linux_platform_options& options) {
  return std::unique_ptr<linux_platform>(new linux_platform(options));
}

linux_platform::linux_platform(const linux_platform_options& options) : options_(options) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_create1");
  }
  sigset_t set;
  ::sigemptyset(&set);
  for (int s : kSignals) {
    ::sigaddset(&set, s);
  }
  // Blocked, so they queue for the signalfd instead of interrupting anything (signalfd(2)).
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    ::close(epoll_fd_);
    throw std::system_error(errno, std::generic_category(), "pthread_sigmask");
  }
  ::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) {
    const int err = errno;
    ::close(epoll_fd_);
    throw std::system_error(err, std::generic_category(), "signalfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = signal_fd_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev) != 0) {
    const int err = errno;
    ::close(signal_fd_);
    ::close(epoll_fd_);
    throw std::system_error(err, std::generic_category(), "epoll_ctl(signalfd)");
  }
  children_.reserve(16);
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

linux_platform::~linux_platform() {
  reap_children();
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
  }
  ::close(signal_fd_);
  ::close(epoll_fd_);
}

// --- time, randomness, logs ---

std::uint64_t linux_platform::now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void linux_platform::random_bytes(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      // getrandom(2) with flags 0 only fails for bad arguments; never hand out predictable bytes.
      log(PPTPKIT_LOG_ERROR, "host", errno_text("getrandom", errno));
      std::abort();
    }
    done += static_cast<std::size_t>(n);
  }
}

void linux_platform::log(std::uint32_t level, std::string_view component, std::string_view text) {
  if (level > options_.log_level) {
    return;
  }
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  ::gmtime_r(&ts.tv_sec, &t);
  char stamp[40];
  const int n =
      std::snprintf(stamp, sizeof(stamp), "%02d:%02d:%02d.%03ld ", t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
  std::string line(stamp, static_cast<std::size_t>(std::max(n, 0)));
  line += runtime::log_level_name(level);
  line += ' ';
  line += component;
  line += ": ";
  line += text;
  line += '\n';
  // One write per line so lines from several processes (tests run many) never interleave mid-line.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t w = ::write(options_.log_fd, p, left);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return;
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
}

void linux_platform::log_first(std::uint64_t count, std::string_view what, int err) {
  if (count == 1) {
    std::string text(what);
    if (err != 0) {
      text += ": ";
      text += std::strerror(err);
    }
    text += " (logged once; see the counters)";
    log(PPTPKIT_LOG_WARNING, "host", text);
  }
}

// --- stream sockets ---

handle linux_platform::tcp_listen(endpoint local, std::string& error) {
  const std::string what = "listen " + endpoint_text(local);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text(what, errno);
    return invalid_handle;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const sockaddr_in sa = to_sockaddr(local);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    error = errno_text(what, errno);
    ::close(fd);
    return invalid_handle;
  }
  return fd;
}

accept_result linux_platform::tcp_accept(handle listener) {
  return accept_next(listener, true);
}

accept_result linux_platform::accept_next(handle listener, bool tcp) {
  // Errors of one pending connection are skipped; bounded, so a flood of them cannot hold us here.
  for (int attempt = 0; attempt < 64; ++attempt) {
    sockaddr_in sa{};
    socklen_t len = sizeof(sa);
    const int fd = ::accept4(listener, tcp ? reinterpret_cast<sockaddr*>(&sa) : nullptr, tcp ? &len : nullptr,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        return {};
      }
      if (err == EINTR || one_connection_error(err)) {
        continue;
      }
      if (err == EMFILE || err == ENFILE) {
        return shed_pending(listener, err);
      }
      // ENOBUFS, ENOMEM, or a bug (EBADF, EINVAL): it will repeat.
      ++counters_.accept_exhausted;
      return {io_status::error, invalid_handle, {}, {}, errno_text("accept", err), false};
    }
    accept_result r{io_status::ok, fd, {}, {}, {}, false};
    if (tcp) {
      r.peer = from_sockaddr(sa);
      sockaddr_in ours{};
      len = sizeof(ours);
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ours), &len);
      r.local = from_sockaddr(ours);
      // Control messages are small and answer each other (RFC 2637 §2): do not hold them back (Nagle).
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return r;
  }
  return {};  // every one was a dead connection; the listener reports again if more are waiting
}

accept_result linux_platform::shed_pending(handle listener, int err) {
  accept_result r{io_status::error, invalid_handle, {}, {}, errno_text("accept", err), false};
  if (reserve_fd_ < 0) {
    // Spent and not regained (another process took the system's last file): try again for next time.
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ++counters_.accept_exhausted;
    return r;
  }
  ::close(reserve_fd_);
  const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  const int accept_err = errno;
  if (fd >= 0) {
    ::close(fd);  // nothing was read: the peer gets a FIN, a clean close
  }
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0 && (accept_err == EAGAIN || accept_err == EWOULDBLOCK)) {
    // accept(2) takes a descriptor before it looks at the queue, so EMFILE did not mean that a
    // connection was waiting; none was.
    return {};
  }
  ++counters_.accept_exhausted;
  if (fd >= 0) {
    ++counters_.accept_shed;
    r.shed = true;
  }
  return r;
}

handle linux_platform::tcp_connect(endpoint remote, std::string& error) {
  const std::string what = "connect " + endpoint_text(remote);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text(what, errno);
    return invalid_handle;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const sockaddr_in sa = to_sockaddr(remote);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 && errno != EINPROGRESS) {
    error = errno_text(what, errno);
    ::close(fd);
    return invalid_handle;
  }
  return fd;
}

bool linux_platform::tcp_connected(handle h, endpoint& local, std::string& error) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(h, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  sockaddr_in peer{};
  socklen_t peer_len = sizeof(peer);
  if (err == 0 && ::getpeername(h, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
    err = errno == ENOTCONN ? EINPROGRESS : errno;  // not finished yet: writable was not reported
  }
  if (err != 0) {
    error = errno_text("connect", err);
    return false;
  }
  sockaddr_in ours{};
  len = sizeof(ours);
  ::getsockname(h, reinterpret_cast<sockaddr*>(&ours), &len);
  local = from_sockaddr(ours);
  return true;
}

handle linux_platform::local_listen(const std::string& path, std::string& error) {
  sockaddr_un sa{};
  if (!unix_address(path, sa, error)) {
    return invalid_handle;
  }
  const std::string what = "listen on " + path;
  if (!clear_stale_socket(path, sa, what, error)) {
    return invalid_handle;
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text(what, errno);
    return invalid_handle;
  }
  // The status socket shows user names and addresses: owner only, 0600 (umask applies to bind's file).
  // bind() never replaces a file: whatever appeared since the check makes it fail with EADDRINUSE.
  const mode_t old = ::umask(0177);
  const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
  const int err = errno;
  ::umask(old);
  if (rc != 0 || ::listen(fd, 16) != 0) {
    error = errno_text(what, rc != 0 ? err : errno);
    ::close(fd);
    return invalid_handle;
  }
  return fd;
}

handle linux_platform::local_connect(const std::string& path, std::string& error) {
  sockaddr_un sa{};
  if (!unix_address(path, sa, error)) {
    return invalid_handle;
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("connect to " + path, errno);
    return invalid_handle;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
    error = errno_text("connect to " + path, errno);
    ::close(fd);
    return invalid_handle;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

accept_result linux_platform::local_accept(handle listener) {
  return accept_next(listener, false);
}

io_result linux_platform::stream_read(handle h, std::span<std::uint8_t> out) {
  for (;;) {
    const ssize_t n = ::recv(h, out.data(), out.size(), 0);
    if (n > 0) {
      return {io_status::ok, static_cast<std::uint32_t>(n), {}};
    }
    if (n == 0) {
      return {out.empty() ? io_status::ok : io_status::closed, 0, {}};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {io_status::would_block, 0, {}};
    }
    return {io_status::error, 0, errno_text("read", errno)};
  }
}

io_result linux_platform::stream_write(handle h, std::span<const std::uint8_t> in) {
  for (;;) {
    const ssize_t n = ::send(h, in.data(), in.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      return {io_status::ok, static_cast<std::uint32_t>(n), {}};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {io_status::would_block, 0, {}};
    }
    if (errno == EPIPE) {
      return {io_status::closed, 0, {}};
    }
    return {io_status::error, 0, errno_text("write", errno)};
  }
}

// --- datagram sockets ---

handle linux_platform::udp_open(endpoint local, std::string& error) {
  const std::string what = "udp " + endpoint_text(local);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text(what, errno);
    return invalid_handle;
  }
  const sockaddr_in sa = to_sockaddr(local);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
    error = errno_text(what, errno);
    ::close(fd);
    return invalid_handle;
  }
  return fd;
}

io_result linux_platform::udp_receive(handle h, std::span<std::uint8_t> out, endpoint& from) {
  for (;;) {
    sockaddr_in sa{};
    socklen_t len = sizeof(sa);
    // MSG_TRUNC: the datagram's real length, so one that did not fit is told from one that did.
    const ssize_t n = ::recvfrom(h, out.data(), out.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&sa), &len);
    if (n >= 0) {
      from = from_sockaddr(sa);
      const bool fits = static_cast<std::size_t>(n) <= out.size();
      return {io_status::ok, fits ? static_cast<std::uint32_t>(n) : 0u, {}};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {io_status::would_block, 0, {}};
    }
    // ECONNREFUSED and the like: an ICMP error about an earlier datagram; the socket is still fine.
    return {io_status::error, 0, errno_text("udp receive", errno)};
  }
}

io_result linux_platform::udp_send(handle h, endpoint to, std::span<const std::uint8_t> bytes) {
  const sockaddr_in sa = to_sockaddr(to);
  for (;;) {
    const ssize_t n =
        ::sendto(h, bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
    if (n >= 0) {
      return {io_status::ok, static_cast<std::uint32_t>(n), {}};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      return {io_status::would_block, 0, {}};
    }
    return {io_status::error, 0, errno_text("udp send to " + endpoint_text(to), errno)};
  }
}

void linux_platform::close(handle h) {
  if (h < 0) {
    return;
  }
  unwatch(h);
  tun_ifindex_.erase(std::remove_if(tun_ifindex_.begin(), tun_ifindex_.end(),
                                    [h](const std::pair<int, int>& e) { return e.first == h; }),
                     tun_ifindex_.end());
  ::close(h);
}

// --- poller ---

void linux_platform::watch(handle h, bool readable, bool writable) {
  epoll_event ev{};
  ev.events = (readable ? EPOLLIN | EPOLLRDHUP : 0u) | (writable ? EPOLLOUT : 0u);
  ev.data.fd = h;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, h, &ev) != 0 && errno == ENOENT) {
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, h, &ev) != 0) {
      log(PPTPKIT_LOG_ERROR, "host", errno_text("epoll_ctl add " + std::to_string(h), errno));
    }
  }
}

void linux_platform::unwatch(handle h) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, h, nullptr);
}

void linux_platform::wait(std::uint64_t deadline_ns, std::vector<runtime::readiness>& ready) {
  int timeout_ms = 0;
  if (pending_signals_ == 0) {
    const std::uint64_t now = now_ns();
    if (deadline_ns == PPTPKIT_NO_DEADLINE) {
      timeout_ms = -1;
    } else if (deadline_ns > now) {
      // Rounded up: waking before the deadline would only make the caller wait again.
      const std::uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
      timeout_ms = static_cast<int>(std::min<std::uint64_t>(ms, 24u * 3600u * 1000u));
    }
  }
  const int n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  if (n < 0) {
    if (errno != EINTR) {
      log(PPTPKIT_LOG_ERROR, "host", errno_text("epoll_wait", errno));
    }
    return;
  }
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = events_[static_cast<std::size_t>(i)];
    if (ev.data.fd == signal_fd_) {
      drain_signals();
      continue;
    }
    runtime::readiness r;
    r.h = ev.data.fd;
    r.readable = (ev.events & (EPOLLIN | EPOLLRDHUP)) != 0;
    r.writable = (ev.events & EPOLLOUT) != 0;
    r.failed = (ev.events & (EPOLLERR | EPOLLHUP)) != 0;
    ready.push_back(r);
  }
}

void linux_platform::drain_signals() {
  signalfd_siginfo info[8];
  for (;;) {
    const ssize_t n = ::read(signal_fd_, info, sizeof(info));
    if (n <= 0) {
      return;
    }
    const auto count = static_cast<std::size_t>(n) / sizeof(info[0]);
    for (std::size_t i = 0; i < count; ++i) {
      switch (info[i].ssi_signo) {
        case SIGTERM:
        case SIGINT:
          pending_signals_ |= runtime::signal_stop;
          break;
        case SIGHUP:
          pending_signals_ |= runtime::signal_reload;
          break;
        case SIGUSR1:
          pending_signals_ |= runtime::signal_status;
          break;
        case SIGCHLD:
          reap_children();
          break;
        default:
          break;
      }
    }
  }
}

std::uint32_t linux_platform::take_signals() {
  drain_signals();  // also catches signals that arrived while nobody waited
  const std::uint32_t s = pending_signals_;
  pending_signals_ = 0;
  if ((s & runtime::signal_status) != 0) {
    // The runtime dumps its statistics on SIGUSR1; the drops only the platform sees go with them.
    pptpkit_stat stats[linux_counters::count];
    counters_.export_to(stats, linux_counters::count);
    std::string line = "host counters:";
    for (const pptpkit_stat& st : stats) {
      line += ' ';
      line += st.name;
      line += '=';
      line += std::to_string(st.value);
    }
    log(PPTPKIT_LOG_NOTICE, "host", line);
  }
  return s;
}

// --- processes ---

void linux_platform::run_hook(const std::string& path, const std::vector<std::string>& args,
                              const std::vector<std::string>& env) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  // pppd runs its scripts with a fixed, minimal environment; so do we, plus a PATH when none is given.
  std::vector<char*> envp;
  bool has_path = false;
  for (const auto& e : env) {
    has_path = has_path || e.rfind("PATH=", 0) == 0;
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  static char default_path[] = "PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (!has_path) {
    envp.push_back(default_path);
  }
  envp.push_back(nullptr);

  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t defaults;
  ::sigemptyset(&none);
  ::sigemptyset(&defaults);
  for (int s : kSignals) {
    ::sigaddset(&defaults, s);
  }
  ::sigaddset(&defaults, SIGPIPE);
  // The child must not inherit our blocked signals nor our SIGPIPE disposition.
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);

  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    ++counters_.hooks_failed;
    log(PPTPKIT_LOG_WARNING, "host", errno_text("hook " + path, rc));
    return;
  }
  ++counters_.hooks_started;
  children_.emplace_back(pid, path);
  log(PPTPKIT_LOG_DEBUG, "host", "hook " + path + " started, pid " + std::to_string(pid));
}

void linux_platform::reap_children() {
  // Only our hooks, by pid: a program embedding the platform may have children of its own.
  for (std::size_t i = 0; i < children_.size();) {
    int status = 0;
    const pid_t pid = ::waitpid(children_[i].first, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      ++i;
      continue;
    }
    const std::string path = children_[i].second;
    children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
    if (pid < 0) {
      continue;  // ECHILD: someone else reaped it
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      log(PPTPKIT_LOG_DEBUG, "host", "hook " + path + " finished");
    } else {
      ++counters_.hooks_failed;
      log(PPTPKIT_LOG_WARNING, "host",
          "hook " + path +
              (WIFEXITED(status) ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                 : " killed by signal " + std::to_string(WTERMSIG(status))));
    }
  }
}

std::string default_plugin_dir(const std::string& exe_path) {
  const auto slash = exe_path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : exe_path.substr(0, slash);
  struct stat st {};
  if (::stat((dir + "/../plugins").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return dir + "/../plugins";
  }
  return dir + "/../lib/pptpkit";
}

std::string default_plugin_dir() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) {
    return "plugins";
  }
  return default_plugin_dir(std::string(path, static_cast<std::size_t>(n)));
}

}  // namespace pptpkit::host_linux
