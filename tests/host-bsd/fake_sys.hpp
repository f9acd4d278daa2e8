// fake_sys — a scripted bsd_sys for the host-bsd tests on Linux.
//
// Descriptors are numbers handed out from 10 upwards. Tests queue what the kernel would return (frames
// for read/recvfrom, kevent batches, failures for a named call) and inspect what was asked of it
// (ioctls with their request numbers and arguments, kevent changes, sends with their addresses and the
// exact buffer pointers, so "no copy" can be checked). Nothing here allocates on the read/write paths
// unless `record_payloads` is on.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pptpkit/host_bsd/bsd_sys.hpp"

namespace pptpkit::host_bsd::testing {

struct ioctl_call {
  fd_t fd;
  unsigned long request;
  std::int32_t int_value = 0;  // ioctl_int
  std::optional<ifreq_args> ifreq;
  std::optional<inet_alias> alias;
  std::optional<inet6_alias> alias6;
};

struct sent {
  fd_t fd;
  const std::uint8_t* data;  // the caller's buffer, to prove nothing was copied
  std::vector<std::uint8_t> bytes;
  std::optional<raw_sockaddr> to;
  std::optional<inet_address> to_inet;
};

struct datagram {
  std::vector<std::uint8_t> bytes;
  raw_sockaddr from;
};

struct socket_call {
  std::int32_t domain, type, protocol;
};

class fake_sys final : public bsd_sys {
 public:
  explicit fake_sys(const os_constants& c) : c_(c) {}
  const os_constants& constants() const noexcept override { return c_; }

  // --- scripting ---
  // The next call named `name` ("open", "socket", "bind", "ioctl", "kevent", "sendto", ...) fails with
  // err; `match` narrows it (a path for open, a request number for ioctl, a domain for socket).
  void fail(const std::string& name, std::int32_t err, std::int64_t match = -1) {
    failures_.push_back({name, err, match});
  }
  void fail_open(const std::string& path, std::int32_t err) { open_failures_[path].push_back(err); }
  std::deque<datagram>& inbox(fd_t fd) { return inbox_[fd]; }
  std::deque<std::vector<kevent_record>> kevent_batches;
  std::string tun_name = "tun0";  // what TUNGIFNAME answers
  std::uint64_t now = 0;
  bool record_payloads = true;
  std::string executable;                       // what executable_path answers
  std::vector<std::string> existing;            // paths exists() knows
  std::map<std::string, file_status> paths;     // what lstat() finds (ENOENT for the rest)
  std::map<std::string, std::string> contents;  // what read() gives for a file of `paths` opened by name

  // --- what happened ---
  std::vector<std::string> opened;
  std::vector<fd_t> closed;
  std::vector<socket_call> sockets;
  std::vector<std::pair<fd_t, inet_address>> binds;
  std::vector<ioctl_call> ioctls;
  std::vector<kevent_record> changes;
  std::vector<std::int64_t> timeouts;
  std::vector<sent> writes, sends;
  std::vector<std::int32_t> ignored_signals;
  std::vector<std::pair<fd_t, std::int32_t>> shutdowns;
  std::vector<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>> routes;
  std::vector<std::string> logs;  // lines written to descriptor 2
  std::map<fd_t, std::int32_t> fd_flags;
  std::vector<std::string> unlinked;

  bool is_closed(fd_t fd) const;

  // --- bsd_sys ---
  sys_result open(const std::string& path, std::int32_t flags) override;
  sys_result close(fd_t fd) override;
  sys_result read(fd_t fd, std::span<std::uint8_t> out) override;
  sys_result write(fd_t fd, std::span<const std::uint8_t> in) override;
  sys_result fcntl(fd_t fd, std::int32_t command, std::int32_t argument) override;
  sys_result ioctl_int(fd_t fd, unsigned long request, std::int32_t value) override;
  sys_result ioctl_ifreq(fd_t fd, unsigned long request, ifreq_args& args) override;
  sys_result ioctl_inet_alias(fd_t fd, unsigned long request, const inet_alias& alias) override;
  sys_result ioctl_inet6_alias(fd_t fd, unsigned long request, const inet6_alias& alias) override;
  sys_result socket(std::int32_t domain, std::int32_t type, std::int32_t protocol) override;
  sys_result bind_inet(fd_t fd, inet_address local) override;
  sys_result bind_local(fd_t fd, const std::string& path) override;
  sys_result connect_inet(fd_t fd, inet_address remote) override;
  sys_result connect_local(fd_t fd, const std::string& path) override;
  sys_result listen(fd_t fd, std::int32_t backlog) override;
  sys_result accept(fd_t fd, raw_sockaddr& peer) override;
  sys_result getsockname(fd_t fd, raw_sockaddr& local) override;
  sys_result getsockopt_int(fd_t fd, std::int32_t level, std::int32_t name) override;
  sys_result setsockopt_int(fd_t fd, std::int32_t level, std::int32_t name, std::int32_t value) override;
  sys_result shutdown(fd_t fd, std::int32_t how) override;
  sys_result recvfrom(fd_t fd, std::span<std::uint8_t> out, raw_sockaddr& from, bool& truncated) override;
  sys_result sendto(fd_t fd, std::span<const std::uint8_t> in, const raw_sockaddr& to) override;
  sys_result sendto_inet(fd_t fd, std::span<const std::uint8_t> in, inet_address to) override;
  sys_result unlink(const std::string& path) override;
  sys_result lstat(const std::string& path, file_status& out) override;
  sys_result fstat(fd_t fd, file_status& out) override;
  sys_result route_add(std::uint32_t destination, std::uint32_t mask, std::uint32_t gateway) override;
  sys_result kqueue() override;
  sys_result kevent(fd_t kq, std::span<const kevent_record> changes, std::span<kevent_record> events,
                    std::int64_t timeout_ns) override;
  sys_result ignore_signal(std::int32_t signal) override;
  std::uint64_t monotonic_ns() override { return now; }
  void random_bytes(std::span<std::uint8_t> out) override;
  sys_result spawn(const std::string& path, const std::vector<std::string>& args,
                   const std::vector<std::string>& env) override;
  std::string executable_path() override { return executable; }
  bool exists(const std::string& path) override {
    return std::find(existing.begin(), existing.end(), path) != existing.end();
  }
  std::string error_text(std::int32_t err) override { return "error " + std::to_string(err); }

 private:
  struct failure {
    std::string name;
    std::int32_t err;
    std::int64_t match;
  };
  // The error queued for this call, or 0.
  std::int32_t failing(const std::string& name, std::int64_t key);
  sys_result new_fd();

  const os_constants& c_;
  fd_t next_fd_ = 10;
  std::vector<failure> failures_;
  std::map<std::string, std::deque<std::int32_t>> open_failures_;
  std::map<fd_t, std::deque<datagram>> inbox_;
  std::map<fd_t, std::pair<std::string, std::size_t>> open_files_;  // fd -> path of `paths`, read offset
};

}  // namespace pptpkit::host_bsd::testing
