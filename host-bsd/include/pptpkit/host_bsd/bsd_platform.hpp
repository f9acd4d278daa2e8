// pptpkit/host_bsd/bsd_platform.hpp — runtime::platform for FreeBSD and OpenBSD.
//
//   runtime ──platform.hpp──> bsd_platform ──> kqueue_poller, tun_*, gre_*/divert_* ──> bsd_sys ──> kernel
//
// Everything here is portable C++ over a bsd_sys; only the bsd_sys given to the constructor decides
// whether it talks to a BSD kernel (create_native_sys()) or to the tests' fake. Handles are the
// kernel's descriptors; the platform remembers which ones are tun interfaces and GRE endpoints so that
// close() tears them down properly. One descriptor (/dev/null) is kept in reserve: when accept fails
// with EMFILE or ENFILE it is closed, the pending connection accepted and closed at once (a clean close
// for the peer instead of a wait in the backlog), and the reserve opened again.
// Ownership: the platform owns the bsd_sys and every descriptor it returned until close().
// Threading: one thread drives it (runtime/platform.hpp).
#pragma once

#include <memory>
#include <unordered_map>

#include "pptpkit/host_bsd/bsd_sys.hpp"
#include "pptpkit/host_bsd/gre.hpp"
#include "pptpkit/host_bsd/kqueue_poller.hpp"
#include "pptpkit/host_bsd/tun.hpp"
#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::host_bsd {

struct platform_options {
  capture_options capture;
};

class bsd_platform final : public runtime::platform {
 public:
  // Creates the kqueue and the signal registrations; throws std::runtime_error when that fails.
  static std::unique_ptr<bsd_platform> create(std::unique_ptr<bsd_sys> sys, const platform_options& options);
  ~bsd_platform() override;

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

  const host_counters& counters() const noexcept { return counters_; }

 private:
  bsd_platform(std::unique_ptr<bsd_sys> sys, const platform_options& options);
  std::string text(const std::string& what, const sys_result& r);
  // A non-blocking AF_INET socket of `type` bound to `local`; with `backlog` > 0 it has SO_REUSEADDR and
  // listens. invalid_handle + error ("WHERE: reason") on failure, nothing left open.
  runtime::handle open_bound(std::int32_t type, runtime::endpoint local, std::int32_t backlog, const std::string& where,
                             std::string& error);
  runtime::accept_result accept_next(runtime::handle listener, bool tcp);
  runtime::accept_result shed_pending(runtime::handle listener, const sys_result& failed);
  void open_reserve();
  // local_listen's check of its path: free, or a stale socket (removed); anything else is refused.
  bool clear_stale_socket(const std::string& path, std::string& error);

  struct tun_entry {
    tun_state state;
    std::uint32_t peer = 0;  // the point-to-point peer: the gateway of routes through this interface
  };

  std::unique_ptr<bsd_sys> sys_;
  platform_options options_;
  kqueue_poller poller_;
  host_counters counters_;
  fd_t reserve_fd_ = -1;  // /dev/null, given up to accept one connection when descriptors run out
  std::unordered_map<runtime::handle, tun_entry> tuns_;
  std::unordered_map<runtime::handle, gre_state> gres_;
};

}  // namespace pptpkit::host_bsd
