// pptpkit/host_bsd/bsd_sys.hpp — the system-call layer of host-bsd: the only door to the BSD kernel.
//
// Every BSD system call host-bsd makes goes through this interface, one method per call, with
// platform-neutral argument types (no BSD header is needed to include this file). Above it, the poller,
// tun, GRE and divert logic and bsd_platform are plain C++ that compiles and is tested on Linux against
// a fake (tests/host-bsd/fake_sys). Below it, src/sys_bsd.cc — compiled only for BSD targets — is the
// single file that includes BSD headers and calls the kernel; it marshals these neutral types into
// struct ifreq, in_aliasreq, kevent, sockaddr_in and routing messages and nothing more: no decision is
// taken there.
//
// Conventions: a call returns sys_result; `err` is 0 on success and the OS errno (compare with
// constants()) on failure. Numbers the logic passes (ioctl requests, flags, families) come from
// constants(), whose values the BSD build static_asserts against the system headers.
// Ownership: descriptors returned are the caller's to close(). Threading: as the platform (one thread).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pptpkit/host_bsd/os_constants.hpp"

namespace pptpkit::host_bsd {

using fd_t = std::int32_t;

struct sys_result {
  std::int64_t value = 0;  // the call's return value when ok
  std::int32_t err = 0;    // errno when the call failed
  bool ok() const noexcept { return err == 0; }
};

struct inet_address {
  std::uint32_t address = 0;  // IPv4, host order
  std::uint16_t port = 0;
  friend bool operator==(const inet_address&, const inet_address&) = default;
};

// A socket address exactly as the kernel returned it. A divert(4) packet must go back with the very
// sockaddr it came with (FreeBSD puts the receiving interface's address in sin_addr and its name in
// sin_zero), so the logic keeps these bytes and hands them back untouched. `inet` is the decoded
// sin_addr/sin_port when the family is AF_INET.
struct raw_sockaddr {
  std::array<std::uint8_t, 32> bytes{};
  std::uint32_t length = 0;
  inet_address inet;
  friend bool operator==(const raw_sockaddr&, const raw_sockaddr&) = default;
};

// struct kevent, without the BSD header.
struct kevent_record {
  std::uint64_t ident = 0;
  std::int16_t filter = 0;
  std::uint16_t flags = 0;
  std::uint32_t fflags = 0;
  std::int64_t data = 0;
  friend bool operator==(const kevent_record&, const kevent_record&) = default;
};

// Which member of struct ifreq an ifreq ioctl reads or writes.
enum class ifreq_field : std::uint8_t {
  flags,     // ifr_flags (+ ifr_flagshigh on FreeBSD): value in/out
  mtu,       // ifr_mtu: value in
  new_name,  // ifr_data points at new_name (SIOCSIFNAME); the kernel writes the final name back
  name_out,  // the kernel fills ifr_name (TUNGIFNAME)
};
struct ifreq_args {
  std::string name;  // ifr_name
  ifreq_field field = ifreq_field::flags;
  std::int32_t value = 0;
  std::string new_name;
};

// struct in_aliasreq for SIOCAIFADDR: a point-to-point IPv4 address.
struct inet_alias {
  std::string ifname;
  std::uint32_t local = 0, peer = 0, mask = 0;  // host order
};
// struct in6_aliasreq for SIOCAIFADDR_IN6: a link-local address with its peer.
struct inet6_alias {
  std::string ifname;
  std::array<std::uint8_t, 16> local{}, peer{};
  std::uint32_t prefix_length = 64;
};

// What stat(2) says of a file, without the BSD header.
enum class file_type : std::uint8_t { regular, directory, socket, symlink, other };
struct file_status {
  file_type type = file_type::other;
  std::uint32_t mode = 0;  // permission bits, 07777
  std::uint64_t size = 0;
  std::uint64_t device = 0, inode = 0;
  friend bool operator==(const file_status&, const file_status&) = default;
};

class bsd_sys {
 public:
  virtual ~bsd_sys() = default;
  // The OS this layer talks to, and its numbers.
  virtual const os_constants& constants() const noexcept = 0;

  // --- descriptors ---
  virtual sys_result open(const std::string& path, std::int32_t flags) = 0;
  virtual sys_result close(fd_t fd) = 0;
  virtual sys_result read(fd_t fd, std::span<std::uint8_t> out) = 0;
  virtual sys_result write(fd_t fd, std::span<const std::uint8_t> in) = 0;
  virtual sys_result fcntl(fd_t fd, std::int32_t command, std::int32_t argument) = 0;
  virtual sys_result ioctl_int(fd_t fd, unsigned long request, std::int32_t value) = 0;
  virtual sys_result ioctl_ifreq(fd_t fd, unsigned long request, ifreq_args& args) = 0;
  virtual sys_result ioctl_inet_alias(fd_t fd, unsigned long request, const inet_alias& alias) = 0;
  virtual sys_result ioctl_inet6_alias(fd_t fd, unsigned long request, const inet6_alias& alias) = 0;

  // --- sockets ---
  virtual sys_result socket(std::int32_t domain, std::int32_t type, std::int32_t protocol) = 0;
  virtual sys_result bind_inet(fd_t fd, inet_address local) = 0;
  virtual sys_result bind_local(fd_t fd, const std::string& path) = 0;
  virtual sys_result connect_inet(fd_t fd, inet_address remote) = 0;
  virtual sys_result connect_local(fd_t fd, const std::string& path) = 0;
  virtual sys_result listen(fd_t fd, std::int32_t backlog) = 0;
  virtual sys_result accept(fd_t fd, raw_sockaddr& peer) = 0;
  virtual sys_result getsockname(fd_t fd, raw_sockaddr& local) = 0;
  virtual sys_result getsockopt_int(fd_t fd, std::int32_t level, std::int32_t name) = 0;  // value = option
  virtual sys_result setsockopt_int(fd_t fd, std::int32_t level, std::int32_t name, std::int32_t value) = 0;
  virtual sys_result shutdown(fd_t fd, std::int32_t how) = 0;
  // recvmsg(2) of one datagram; `truncated` when it was longer than `out` (MSG_TRUNC).
  virtual sys_result recvfrom(fd_t fd, std::span<std::uint8_t> out, raw_sockaddr& from, bool& truncated) = 0;
  virtual sys_result sendto(fd_t fd, std::span<const std::uint8_t> in, const raw_sockaddr& to) = 0;
  virtual sys_result sendto_inet(fd_t fd, std::span<const std::uint8_t> in, inet_address to) = 0;
  virtual sys_result unlink(const std::string& path) = 0;
  virtual sys_result lstat(const std::string& path, file_status& out) = 0;  // a symlink describes itself
  virtual sys_result fstat(fd_t fd, file_status& out) = 0;
  // Writes one RTM_ADD message (destination/mask via gateway) to a PF_ROUTE socket it opens and closes.
  virtual sys_result route_add(std::uint32_t destination, std::uint32_t mask, std::uint32_t gateway) = 0;

  // --- kqueue ---
  virtual sys_result kqueue() = 0;
  // kevent(2): applies `changes`, then waits up to timeout_ns (negative = forever) for `events`;
  // value = how many events were filled.
  virtual sys_result kevent(fd_t kq, std::span<const kevent_record> changes, std::span<kevent_record> events,
                            std::int64_t timeout_ns) = 0;
  virtual sys_result ignore_signal(std::int32_t signal) = 0;  // sigaction(SIG_IGN)

  // --- time, randomness, processes ---
  virtual std::uint64_t monotonic_ns() = 0;                    // clock_gettime(CLOCK_MONOTONIC)
  virtual void random_bytes(std::span<std::uint8_t> out) = 0;  // arc4random_buf
  virtual sys_result spawn(const std::string& path, const std::vector<std::string>& args,
                           const std::vector<std::string>& env) = 0;  // posix_spawn; value = pid
  // The running program's path (FreeBSD: sysctl KERN_PROC_PATHNAME); empty when the OS cannot say.
  virtual std::string executable_path() = 0;
  virtual bool exists(const std::string& path) = 0;      // access(F_OK)
  virtual std::string error_text(std::int32_t err) = 0;  // strerror
};

// Sets O_NONBLOCK: fcntl F_GETFL, then F_SETFL (portable logic over the layer, not a call of its own).
sys_result set_nonblocking(bsd_sys& sys, fd_t fd);

// The real layer for the OS this was compiled for (defined only in BSD builds, by src/sys_bsd.cc).
std::unique_ptr<bsd_sys> create_native_sys();

}  // namespace pptpkit::host_bsd
