// pptpkit/testing/sim_platform.hpp — a deterministic simulated network that implements
// runtime::platform, for running whole daemons (server + clients) in one test process, without root.
//
//   sim_network: virtual time, a seeded random source, a schedule of deliveries, the hosts.
//   sim_host:    one machine's platform: TCP streams (in order, with a delay), a raw GRE socket whose
//                datagrams cross a pluggable per-packet link_model (loss, delay, reordering), tun
//                devices as in-memory queues the test reads and writes, local (unix) stream sockets,
//                files, recorded hooks and signals the test raises — and the faults a test injects, each
//                as host-linux shows it: accepts out of descriptors, a tun whose interface was deleted,
//                a tiny packet pool, an unreadable file.
//
// Time never passes by itself: wait() reports what is ready now and records the caller's deadline;
// the test's driver steps every daemon, then calls sim_network::advance_to(min(next event, every
// deadline)). Everything random comes from the network's seed (printed by tests on failure), so a run
// replays exactly.
//
// link_model is the per-packet hook; seeded_link is the default (seeded loss, delay, jitter that
// reorders). A shared link model can replace it with set_link() without touching the rest.
// Threading: one thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::testing {

// What happens to one datagram on the simulated link.
class link_model {
 public:
  struct verdict {
    bool drop = false;
    std::uint64_t delay_ns = 0;  // from the send until delivery
  };
  virtual ~link_model() = default;
  virtual verdict on_packet(std::uint32_t from, std::uint32_t to, std::size_t bytes, std::uint64_t now_ns) = 0;
};

// Seeded loss and delay; `reorder` of the packets get `reorder_extra_ns` more delay, so later ones
// overtake them.
class seeded_link final : public link_model {
 public:
  struct config {
    std::uint64_t delay_ns = 1'000'000;
    double loss = 0.0;
    double reorder = 0.0;
    std::uint64_t reorder_extra_ns = 3'000'000;
  };
  seeded_link(std::uint64_t seed, config c) : rng_(seed), config_(c) {}
  verdict on_packet(std::uint32_t from, std::uint32_t to, std::size_t bytes, std::uint64_t now_ns) override;
  config& settings() noexcept { return config_; }

 private:
  std::mt19937_64 rng_;
  config config_;
};

struct hook_call {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string env_value(const std::string& key) const;  // "" when absent
};

struct sim_log_line {
  std::uint32_t level;
  std::string component;
  std::string text;
};

class sim_network;

// A tun device of a sim_host: the test injects packets "from the host's stack" and reads what the
// daemon wrote.
struct sim_tun {
  runtime::tun_config config;
  std::string name;
  bool open = true;
  std::uint64_t ipv6_local = 0;
  std::uint64_t ipv6_peer = 0;
  std::vector<runtime::route> routes;
  std::deque<std::vector<std::uint8_t>> from_stack;  // to be read by the daemon (tun_read)
  std::vector<std::vector<std::uint8_t>> to_stack;   // written by the daemon (tun_write)
  // The interface was deleted under the daemon (`ip link del`): as on Linux, reads and writes fail with
  // "File descriptor in bad state" (batch_status::failed) and wait() reports the handle failed.
  bool gone = false;
  std::uint64_t reads = 0;  // tun_read calls on this device, to prove that a caller does not spin
};

class sim_host final : public runtime::platform {
 public:
  sim_host(sim_network& net, std::string name, std::uint32_t address, std::uint64_t seed);

  const std::string& name() const noexcept { return name_; }
  std::uint32_t address() const noexcept { return address_; }

  // --- test controls ---
  void raise(std::uint32_t signals) { signals_ |= signals; }
  // Kills every stream of this host abruptly (like kill -9 of the process): peers read a reset.
  void crash();
  // The device named `name` (the latest one), or nullptr.
  sim_tun* tun(const std::string& name);
  const std::vector<hook_call>& hooks() const noexcept { return hooks_; }
  const std::vector<sim_log_line>& logs() const noexcept { return logs_; }
  // Log lines containing `needle`.
  std::size_t count_logs(const std::string& needle) const;
  bool logged(const std::string& needle) const { return count_logs(needle) > 0; }
  std::string dropped_privileges_to;
  bool privileges_dropped = false;
  bool echo_logs = false;
  std::size_t last_ready = 0;  // readiness entries the last wait() reported
  // Whether a wait() now would return at once (a watched handle is ready, or a signal is pending), as
  // epoll would for a handle watched again while readable: a driver must not let time pass then.
  bool would_wake() const;
  std::uint64_t last_deadline = UINT64_MAX;  // what the last wait() was asked for
  std::function<void()> on_wait;             // called at the start of wait() (lets a blocking caller pump)
  std::uint32_t stream_window = 65536;       // bytes in flight or unread by the peer before writes are partial
  bool fail_tun_open = false;
  // Files on this host, by path: read_private_file reads one (and warns about its mode, as the real
  // hosts do), local_listen refuses to replace one. A path not listed here is read from the real file
  // system (tests write their secrets to temporary files). `readable = false` answers "Permission
  // denied", as a 0600 root file does to a daemon that dropped privileges on a host without a way back.
  struct sim_file {
    std::string content;
    std::uint32_t mode = 0600;  // POSIX permission bits
    bool readable = true;
  };
  std::map<std::string, sim_file> files;
  std::uint64_t private_reads = 0;  // read_private_file calls
  // Descriptor exhaustion: while `accept_emfile` is set, tcp_accept and local_accept find a pending
  // connection but cannot take it ({error, "accept: Too many open files"}): it stays queued and the
  // listener stays readable, as on a host without a reserve descriptor. With `accept_sheds` as well,
  // each such call closes the first pending connection (its peer reads EOF) and reports it as shed, as
  // host-linux and host-bsd do. `accept_calls` counts every accept call, so a test can prove that a
  // caller backs off instead of spinning.
  bool accept_emfile = false;
  bool accept_sheds = false;
  std::uint64_t accept_calls = 0;
  // A tiny packet pool: at each receive call (gre_receive, tun_read) the host takes free packets out of
  // the pool it is given until at most `pool_cap` are left, and keeps them; when the cap is raised they
  // go back at the next receive call. 0 is an empty pool, as when every packet is in flight. Held
  // packets must be back before the pool's owner is destroyed: release_pool() returns them all.
  std::uint32_t pool_cap = UINT32_MAX;
  void release_pool();
  std::uint64_t gre_receive_calls = 0;  // to prove that a reader is not polled in a loop
  // Allocation accounting: when set (e.g. to testing::allocations_on_this_thread), the heap
  // allocations the simulation itself makes inside platform calls are added to own_allocations, so a
  // test can tell the daemon's allocations from the simulator's.
  std::uint64_t (*allocation_probe)() noexcept = nullptr;
  std::uint64_t own_allocations = 0;

  // --- platform ---
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

  // Datagrams (RADIUS): delivered after the network's tcp_delay_ns to the socket bound to the
  // destination's address and port (or to any address), or dropped when there is none. While
  // `udp_deaf` is set this host drops every datagram that reaches it (a RADIUS server that never
  // answers); `udp_received` counts the ones its sockets took.
  bool udp_deaf = false;
  std::uint64_t udp_received = 0;
  std::uint64_t gre_sent = 0;
  std::uint64_t gre_dropped_by_link = 0;

 private:
  friend class sim_network;
  struct probe_scope {
    explicit probe_scope(sim_host& h) noexcept : host(h), start(h.allocation_probe ? h.allocation_probe() : 0) {}
    ~probe_scope() {
      if (host.allocation_probe != nullptr) {
        host.own_allocations += host.allocation_probe() - start;
      }
    }
    sim_host& host;
    std::uint64_t start;
  };
  sim_network& net_;
  std::string name_;
  std::uint32_t address_;
  std::mt19937_64 rng_;
  std::uint32_t signals_ = 0;
  std::map<runtime::handle, std::pair<bool, bool>> watched_;
  std::vector<hook_call> hooks_;
  std::vector<sim_log_line> logs_;
  runtime::handle gre_ = runtime::invalid_handle;
  std::deque<std::pair<std::uint32_t, std::vector<std::uint8_t>>> gre_rx_;
  std::map<runtime::handle, std::unique_ptr<sim_tun>> tuns_;
  std::set<runtime::handle> handles_;  // every handle this host owns
  void apply_pool_cap(core::packet_pool& pool);
  void collect_ready(std::vector<runtime::readiness>& ready) const;
  core::packet_list held_;  // packets taken out of the daemon's pool for pool_cap
};

class sim_network {
 public:
  explicit sim_network(std::uint64_t seed);
  ~sim_network();

  sim_host& add_host(const std::string& name, std::uint32_t address);
  sim_host* host_at(std::uint32_t address);
  void set_link(std::unique_ptr<link_model> link) { link_ = std::move(link); }
  link_model& link() { return *link_; }

  std::uint64_t now() const noexcept { return now_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::uint64_t tcp_delay_ns = 1'000'000;
  // The time of the next scheduled delivery, or UINT64_MAX.
  std::uint64_t next_event() const;
  // Runs every delivery due up to t and sets the clock to t (never backwards).
  void advance_to(std::uint64_t t);

 private:
  friend class sim_host;
  struct stream {
    sim_host* host = nullptr;
    runtime::handle peer = runtime::invalid_handle;
    runtime::endpoint local, remote;
    std::deque<std::uint8_t> rx;
    bool connected = false;
    bool connecting = false;
    bool connect_failed = false;
    bool eof = false;    // the peer closed: reads return closed after rx drains
    bool reset = false;  // the peer crashed: reads return an error
    bool closed = false;
    std::uint32_t in_flight = 0;
    std::uint64_t last_delivery = 0;
  };
  struct datagram_socket {
    sim_host* host = nullptr;
    runtime::endpoint local;
    std::deque<std::pair<runtime::endpoint, std::vector<std::uint8_t>>> rx;
  };
  struct listener {
    sim_host* host = nullptr;
    runtime::endpoint local;
    std::string path;  // local sockets
    std::deque<runtime::handle> pending;
  };
  struct scheduled {
    std::uint64_t at;
    std::uint64_t seq;
    std::function<void()> fn;
    bool operator>(const scheduled& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void schedule(std::uint64_t at, std::function<void()> fn);
  runtime::handle new_handle() { return next_handle_++; }
  stream* find_stream(runtime::handle h);
  const stream* find_stream(runtime::handle h) const;
  void deliver_bytes(runtime::handle to, std::vector<std::uint8_t> bytes, runtime::handle from);

  std::uint64_t seed_;
  std::uint64_t now_ = 1'000'000'000;
  std::uint64_t seq_ = 0;
  runtime::handle next_handle_ = 3;
  std::priority_queue<scheduled, std::vector<scheduled>, std::greater<>> schedule_;
  std::vector<std::unique_ptr<sim_host>> hosts_;
  std::map<runtime::handle, stream> streams_;
  std::map<runtime::handle, listener> listeners_;
  std::map<runtime::handle, datagram_socket> datagrams_;
  std::uint16_t next_ephemeral_port_ = 40000;
  std::unique_ptr<link_model> link_;
};

}  // namespace pptpkit::testing
