// pptpkit/host_linux/linux_platform.hpp — the Linux platform: epoll, signalfd, TCP/unix sockets, one raw
// GRE socket, TUN devices, rtnetlink, capabilities, hooks.
//
// Implements pptpkit::runtime::platform (see its header for the contract of every call). What is Linux
// specific:
//  - create() blocks SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGCHLD in the calling thread and receives them
//    through a signalfd that wait() polls next to the watched handles; take_signals() reports the first
//    four, SIGCHLD reaps hook processes. SIGPIPE is ignored (stream writes use MSG_NOSIGNAL anyway).
//  - gre_receive()/gre_send() move whole batches with recvmmsg()/sendmmsg() straight into and out of the
//    pool's buffers: the kernel writes the IP datagram at the packet's headroom, the platform then pulls
//    the outer IP header (IHL, checked against the bytes actually received). No payload copy.
//  - tun_open() creates an IFF_TUN | IFF_NO_PI device and configures it over rtnetlink: MTU, the IPv4
//    point-to-point address pair, no kernel-generated IPv6 link-local (the PPP peer negotiates one),
//    then up. tun_set_ipv6() and tun_add_route() are rtnetlink too, so they keep working after
//    drop_privileges() (CAP_NET_ADMIN is kept; no file under /proc/sys is written).
//  - drop_privileges() keeps CAP_DAC_READ_SEARCH permitted but not effective; read_private_file()
//    raises it around one open() of a file a plain open() was refused (the secrets file on SIGHUP).
//  - Every descriptor is non-blocking and close-on-exec; hooks run with posix_spawn() and are reaped
//    without waiting.
//  - One descriptor (/dev/null) is held in reserve: when accept() fails with EMFILE or ENFILE, it is
//    closed, the pending connection is accepted and closed at once (its peer sees a clean close rather
//    than hanging in the backlog), and the reserve is opened again (accept_result::shed).
// Drops a platform cannot hand to the runtime (a truncated datagram, a send error) are counted in
// linux_counters, the first of each kind is logged, and all of them are logged in one line when
// take_signals() reports signal_status (SIGUSR1: the runtime's statistics dump).
// Threading: one thread creates and drives a linux_platform (the signal mask is that thread's).
#pragma once

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pptpkit/core/counters.hpp"
#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::host_linux {

#define PPTPKIT_HOST_LINUX_COUNTERS(X)                                                     \
  X(gre_rx_packets, "GRE datagrams received and handed to the runtime")                    \
  X(gre_rx_truncated, "GRE datagrams larger than a pool buffer (dropped)")                 \
  X(gre_rx_bad_ip_header, "received datagrams whose IPv4 header is malformed (dropped)")   \
  X(gre_rx_pool_exhausted, "GRE receive batches cut short because the pool was empty")     \
  X(gre_tx_packets, "GRE packets sent")                                                    \
  X(gre_tx_errors, "GRE packets the kernel refused (dropped)")                             \
  X(gre_tx_would_block, "GRE packets dropped because the socket buffer was full")          \
  X(tun_rx_packets, "IP packets read from TUN devices")                                    \
  X(tun_rx_truncated, "TUN packets larger than a pool buffer (dropped)")                   \
  X(tun_rx_bad_version, "TUN packets neither IPv4 nor IPv6 (dropped)")                     \
  X(tun_rx_pool_exhausted, "TUN reads cut short because the pool was empty")               \
  X(tun_tx_packets, "IP packets written to TUN devices")                                   \
  X(tun_tx_errors, "IP packets a TUN device refused (dropped)")                            \
  X(tun_failed, "TUN reads or writes that found the interface gone (the session is over)") \
  X(accept_exhausted, "accepts refused for want of descriptors or memory")                 \
  X(accept_shed, "connections closed at once while out of descriptors (reserve)")          \
  X(hooks_started, "hook scripts started")                                                 \
  X(hooks_failed, "hook scripts that could not start or exited non-zero")

PPTPKIT_DEFINE_COUNTERS(linux_counters, PPTPKIT_HOST_LINUX_COUNTERS);

// Removes the outer IPv4 header of a datagram a raw socket delivered at p's data start, `received` bytes
// long: checks version 4 and 20 <= IHL*4 <= received, then pulls IHL*4 bytes. The header's total-length
// field is not trusted. Returns false (packet unchanged) for a malformed header.
bool strip_ipv4_header(pptpkit_packet& p, std::uint32_t received) noexcept;

// The default plugin directory of an executable at `exe_path`: <dir>/../plugins when it exists (the build
// tree), else <dir>/../lib/pptpkit (an installed tree).
std::string default_plugin_dir(const std::string& exe_path);
// The same for the running program (/proc/self/exe).
std::string default_plugin_dir();

struct linux_platform_options {
  std::uint32_t log_level = 7;  // PPTPKIT_LOG_*: lines above it are not printed
  int log_fd = 2;               // where log lines go (stderr)
};

class linux_platform final : public runtime::platform {
 public:
  // Throws std::system_error when epoll or the signalfd cannot be created.
  static std::unique_ptr<linux_platform> create(const linux_platform_options& options = {});
  ~linux_platform() override;
  linux_platform(const linux_platform&) = delete;
  linux_platform& operator=(const linux_platform&) = delete;

  const linux_counters& counters() const noexcept { return counters_; }
  void set_log_level(std::uint32_t level) noexcept { options_.log_level = level; }
  // Hooks started and not reaped yet.
  std::size_t running_hooks() const noexcept { return children_.size(); }

  // --- runtime::platform ---
  std::uint64_t now_ns() override;
  void random_bytes(std::span<std::uint8_t> out) override;
  void log(std::uint32_t level, std::string_view component, std::string_view text) override;

  runtime::handle tcp_listen(runtime::endpoint local, std::string& error) override;
  runtime::accept_result tcp_accept(runtime::handle listener) override;
  runtime::handle tcp_connect(runtime::endpoint remote, std::string& error) override;
  bool tcp_connected(runtime::handle h, runtime::endpoint& local, std::string& error) override;
  runtime::handle local_listen(const std::string& path, std::string& error) override;
  runtime::handle local_connect(const std::string& path, std::string& error) override;
  runtime::accept_result local_accept(runtime::handle listener) override;
  runtime::io_result stream_read(runtime::handle h, std::span<std::uint8_t> out) override;
  runtime::io_result stream_write(runtime::handle h, std::span<const std::uint8_t> in) override;
  void close(runtime::handle h) override;
  runtime::handle udp_open(runtime::endpoint local, std::string& error) override;
  runtime::io_result udp_receive(runtime::handle h, std::span<std::uint8_t> out, runtime::endpoint& from) override;
  runtime::io_result udp_send(runtime::handle h, runtime::endpoint to, std::span<const std::uint8_t> bytes) override;

  runtime::handle gre_open(std::uint32_t local_address, std::string& error) override;
  runtime::batch_result gre_receive(runtime::handle h, core::packet_pool& pool, core::packet_list& out,
                                    std::uint32_t max) override;
  std::uint32_t gre_send(runtime::handle h, core::packet_list& in) override;

  runtime::handle tun_open(const runtime::tun_config& config, std::string& actual_name, std::string& error) override;
  bool tun_set_ipv6(runtime::handle h, std::uint64_t local_interface_id, std::uint64_t peer_interface_id,
                    std::string& error) override;
  bool tun_add_route(runtime::handle h, const runtime::route& r, std::string& error) override;
  runtime::batch_result tun_read(runtime::handle h, core::packet_pool& pool, core::packet_list& out,
                                 std::uint32_t max) override;
  runtime::batch_result tun_write(runtime::handle h, core::packet_list& in) override;

  void watch(runtime::handle h, bool readable, bool writable) override;
  void unwatch(runtime::handle h) override;
  void wait(std::uint64_t deadline_ns, std::vector<runtime::readiness>& ready) override;
  std::uint32_t take_signals() override;

  bool read_private_file(const std::string& path, std::string& content, std::string& warning,
                         std::string& error) override;
  void run_hook(const std::string& path, const std::vector<std::string>& args,
                const std::vector<std::string>& env) override;
  bool drop_privileges(const std::string& user, std::string& error) override;

 private:
  explicit linux_platform(const linux_platform_options& options);
  void drain_signals();
  void reap_children();
  // Logs `what` once per counter (the first occurrence), so a flood of drops cannot flood the log.
  void log_first(std::uint64_t count, std::string_view what, int err);
  int tun_ifindex(runtime::handle h, std::string& error);
  runtime::accept_result accept_next(runtime::handle listener, bool tcp);
  // EMFILE/ENFILE: spends the reserve descriptor on the next pending connection and closes it.
  runtime::accept_result shed_pending(runtime::handle listener, int err);

  static constexpr std::uint32_t batch_max = 64;  // PPTPKIT_BATCH_MAX

  linux_platform_options options_;
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  int reserve_fd_ = -1;  // /dev/null, given up to accept one connection when descriptors run out
  std::uint32_t pending_signals_ = 0;
  linux_counters counters_;
  std::vector<std::pair<int, std::string>> children_;  // running hooks: pid, path
  std::vector<std::pair<int, int>> tun_ifindex_;       // tun handle -> interface index

  // recvmmsg/sendmmsg scratch, preallocated so the data path allocates nothing.
  std::array<struct mmsghdr, batch_max> msgs_{};
  std::array<struct iovec, batch_max> iovs_{};
  std::array<struct sockaddr_in, batch_max> addrs_{};
  std::array<pptpkit_packet*, batch_max> packets_{};
  std::array<struct epoll_event, batch_max> events_{};
};

}  // namespace pptpkit::host_linux
