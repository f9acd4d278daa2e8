#include "pptpkit/runtime/engine.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "pptpkit/control.h"
#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/counters.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/gre.h"
#include "pptpkit/ppp.h"
#include "pptpkit/runtime/log_limiter.hpp"
#include "pptpkit/runtime/plugin_loader.hpp"

namespace pptpkit::runtime {

namespace {

// The runtime's own counters (the plugins count their protocol's).
#define PPTPKIT_RUNTIME_COUNTERS(X)                                                     \
  X(connections_accepted, "control connections accepted or established")                \
  X(connections_refused_limit, "connections closed at once: --max-connections reached") \
  X(connect_failed, "client: TCP connect to the server failed")                         \
  X(sessions_started, "calls that got a GRE and PPP session")                           \
  X(sessions_up, "sessions whose IPv4 came up")                                         \
  X(sessions_ended, "sessions torn down")                                               \
  X(auth_failures, "authentication failures (either side)")                             \
  X(address_pool_exhausted, "calls refused: no free address in --remoteip")             \
  X(address_in_use, "logins refused: the user's chap-secrets address is taken")         \
  X(tun_open_failed, "sessions ended: the tunnel interface could not be made")          \
  X(control_output_overflow, "connections closed: the peer stopped reading")            \
  X(control_alloc_failed, "control bytes dropped: packet pool exhausted")               \
  X(drop_no_interface, "IP packets from PPP for a session without an interface")        \
  X(no_gre_warnings, "sessions with control up but no GRE from the peer")               \
  X(plugin_errors, "plugin calls that returned an error")                               \
  X(plugin_stuck_deadlines, "ticks after which a plugin's deadline was still due")      \
  X(drop_tun_write, "IP packets the interface did not take")                            \
  X(drop_gre_send, "GRE packets the raw socket did not send")                           \
  X(status_requests, "status socket requests answered")                                 \
  X(status_refused_limit, "status requests refused: too many at once")                  \
  X(hooks_run, "ip-up / ip-down scripts started")
PPTPKIT_DEFINE_COUNTERS(runtime_counters, PPTPKIT_RUNTIME_COUNTERS);

constexpr std::uint32_t batch_max = PPTPKIT_BATCH_MAX;
constexpr std::uint32_t control_output_limit = 64 * 1024;  // bytes queued per connection
constexpr std::uint32_t max_status_clients = 8;
constexpr std::uint32_t held_packets_max = 64;
constexpr std::uint64_t seconds = 1'000'000'000;
constexpr std::uint64_t stop_bound_ns = 5 * seconds;        // SIGTERM: calls get this long to clear
constexpr std::uint64_t connect_timeout_ns = 30 * seconds;  // client TCP connect
constexpr int max_drain_rounds = 64;
constexpr std::uint32_t max_reads_per_ready = 8;  // batches per readiness, so one peer cannot starve others

std::string auth_name(std::uint64_t protocol) {
  switch (protocol) {
    case PPTPKIT_PPP_AUTH_MSCHAP_V2:
      return "MS-CHAPv2";
    case PPTPKIT_PPP_AUTH_CHAP_MD5:
      return "CHAP-MD5";
    case PPTPKIT_PPP_AUTH_PAP:
      return "PAP";
    case PPTPKIT_PPP_AUTH_EAP:
      return "EAP-MD5";
    default:
      return "none";
  }
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) {
      out += sep;
    }
    out += p;
  }
  return out;
}

std::string error_name(std::int32_t rc) {
  switch (rc) {
    case PPTPKIT_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case PPTPKIT_ERR_NO_MEMORY:
      return "out of memory";
    case PPTPKIT_ERR_NOT_SUPPORTED:
      return "not supported";
    case PPTPKIT_ERR_CONFIG:
      return "configuration rejected";
    case PPTPKIT_ERR_NOT_FOUND:
      return "no such channel";
    case PPTPKIT_ERR_STATE:
      return "wrong state";
    case PPTPKIT_ERR_LIMIT:
      return "limit reached";
    case PPTPKIT_ERR_NO_SPACE:
      return "no space";
    case PPTPKIT_ERR_FATAL:
      return "fatal error";
    default:
      return "error " + std::to_string(rc);
  }
}

// One plugin instance and the module it came from; the instance dies before its module is closed
// (also when the engine's constructor throws half way).
struct plugin_instance {
  plugin_instance() = default;
  plugin_instance(const plugin_instance&) = delete;
  plugin_instance& operator=(const plugin_instance&) = delete;
  ~plugin_instance() {
    if (inst != nullptr) {
      module->ops().destroy(inst);
    }
  }
  std::unique_ptr<loaded_plugin> module;
  pptpkit_instance* inst = nullptr;
  const char* kind = "";
  // The last tick left the plugin's deadline due: it is polled at most every stuck_retry_ns, not in a
  // busy loop, until its deadline moves.
  bool stuck = false;
  std::uint64_t stuck_since = 0;
  const pptpkit_plugin_ops& ops() const { return module->ops(); }
};

constexpr std::uint64_t stuck_retry_ns = 10'000'000;
// Interface names tried for one session before it is given up (pppd falls back to any free unit).
constexpr std::uint32_t max_interface_attempts = 16;

using entry_list = std::vector<std::pair<std::string, std::string>>;

enum class owner_kind { listener, connection, gre, tun, status_listener, status_client };
struct owner {
  owner_kind kind;
  std::uint32_t id = 0;
};

struct connection {
  std::uint32_t id = 0;
  handle h = invalid_handle;
  endpoint peer;
  bool connecting = false;  // client: TCP connect in progress
  std::uint64_t connect_deadline = 0;
  bool up = false;        // CONNECTION_UP seen
  bool down = false;      // CONNECTION_DOWN seen: close once the output is written
  bool stopping = false;  // CONNECTION_STOP sent
  core::packet_list out;  // one control message per packet, in order
  std::uint32_t out_bytes = 0;
  bool flush_listed = false;  // in the engine's to_flush_ list
  bool watching_write = false;
  std::vector<std::uint32_t> sessions;
};

struct session {
  std::uint32_t id = 0;  // our call id = GRE channel = PPP session id
  std::uint32_t connection = 0;
  std::uint32_t peer_call_id = 0;
  std::uint32_t peer_address = 0;
  std::uint64_t started_ns = 0;
  std::uint64_t up_ns = 0;
  bool gre_open = false;
  bool ppp_open = false;
  bool call_cleared = false;
  bool tearing_down = false;  // teardown() is running: re-entrant calls leave it alone
  bool up = false;
  bool hook_up_run = false;
  handle tun = invalid_handle;
  std::string ifname;
  std::int32_t unit = -1;  // server: the N of PREFIXN
  std::uint32_t local = 0;
  std::uint32_t remote = 0;
  bool remote_held = false;  // `remote` is marked used in the pool
  std::uint32_t dns1 = 0;
  std::uint32_t dns2 = 0;
  std::string user;
  std::string auth = "none";
  std::string mppe = "none";
  std::uint64_t ipv6_local = 0;
  std::uint64_t ipv6_peer = 0;
  // IP packets PPP delivered before IPV4_UP was handled (both come out of one drain round): written
  // when the interface opens; at most held_packets_max.
  core::packet_list held;
  std::uint64_t rx_packets = 0;  // from the peer, written to the interface
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;  // read from the interface, towards the peer
  std::uint64_t tx_bytes = 0;
};

struct status_client {
  handle h = invalid_handle;
  std::string text;
  std::size_t written = 0;
};

class engine_impl final : public engine {
 public:
  engine_impl(platform& p, const daemon_options& o) : p_(p), o_(o), server_(o.mode == daemon_mode::server) {
    started_ns_ = p_.now_ns();
    core::pool_config pc;
    pc.packets = server_ ? 8192 : 2048;
    pool_ = core::packet_pool::create(pc);
    services_ = pptpkit_host_services PPTPKIT_HOST_SERVICES_INIT;
    services_.host_ctx = this;
    services_.log = &engine_impl::service_log;
    services_.now_ns = &engine_impl::service_now;
    services_.random_bytes = &engine_impl::service_random;
    services_.packet_alloc = &engine_impl::service_alloc;
    services_.packet_free = &engine_impl::service_free;
    if (server_) {
      secrets_ = chap_secrets::load(o_.secrets_path);
      pool4_ = address_pool(o_.remoteip);
    }
    const std::string dir = o_.plugin_dir.empty() ? std::string(".") : o_.plugin_dir;
    load(control_, dir + "/" + control_plugin_file, PPTPKIT_KIND_CONTROL, "control",
         {{"role", server_ ? "pac" : "pns"},
          {"max_connections", std::to_string(server_ ? o_.max_connections : 1)},
          {"host_name", "pptpkit"},
          {"vendor", "pptpkit"}});
    load(gre_, dir + "/" + gre_plugin_file, PPTPKIT_KIND_GRE, "gre", {});
    load(ppp_, dir + "/" + ppp_plugin_file, PPTPKIT_KIND_PPP, "ppp", {});
  }

  ~engine_impl() override {
    for (auto& [id, c] : connections_) {
      release_socket(c);
    }
    for (auto& [id, s] : sessions_) {
      pool_->free_list(s.held);
      if (s.tun != invalid_handle) {
        p_.close(s.tun);
      }
    }
    for (handle h : {listener_, gre_h_, status_listener_}) {
      if (h != invalid_handle) {
        p_.close(h);
      }
    }
    for (status_client& sc : status_clients_) {
      p_.close(sc.h);
    }
    for (plugin_instance* pi : {&ppp_, &gre_, &control_}) {
      if (pi->inst != nullptr) {
        pi->ops().destroy(pi->inst);
        pi->inst = nullptr;
      }
    }
  }

  bool start(std::string& error) override {
    if (server_) {
      listener_ = p_.tcp_listen(o_.listen, error);
      if (listener_ == invalid_handle) {
        return false;
      }
      owners_[listener_] = {owner_kind::listener};
      p_.watch(listener_, true, false);
      gre_h_ = p_.gre_open(o_.listen.address, error);
      if (gre_h_ == invalid_handle) {
        return false;
      }
      if (!o_.status_socket.empty()) {
        std::string status_error;
        status_listener_ = p_.local_listen(o_.status_socket, status_error);
        if (status_listener_ == invalid_handle) {
          log(PPTPKIT_LOG_WARNING, 0, 0, "status socket unavailable (pptpkit status will not work): " + status_error);
        } else {
          owners_[status_listener_] = {owner_kind::status_listener};
          p_.watch(status_listener_, true, false);
        }
      }
      log(PPTPKIT_LOG_NOTICE, 0, 0,
          "server listening on " + format_ipv4(o_.listen.address) + ":" + std::to_string(o_.listen.port) +
              ", local address " + format_ipv4(o_.localip) + ", " + std::to_string(pool4_.size()) +
              " client addresses, " + std::to_string(secrets_.entries().size()) + " secrets");
    } else {
      gre_h_ = p_.gre_open(0, error);
      if (gre_h_ == invalid_handle) {
        return false;
      }
      connect_to_server();
    }
    owners_[gre_h_] = {owner_kind::gre};
    p_.watch(gre_h_, true, false);
    return true;
  }

  void step() override {
    ready_.clear();
    p_.wait(next_deadline(), ready_);
    now_ = p_.now_ns();
    if (const std::uint32_t signals = p_.take_signals(); signals != 0) {
      on_signals(signals);
    }
    for (const readiness& r : ready_) {
      dispatch(r);
    }
    tick_due();
    drain();
    timers();
  }

  int run() override {
    while (!finished()) {
      step();
    }
    return exit_status();
  }

  bool finished() const override { return finished_; }
  int exit_status() const override { return exit_status_; }
  std::size_t session_count() const override { return sessions_.size(); }

  std::uint64_t next_deadline() const override {
    std::uint64_t d = PPTPKIT_NO_DEADLINE;
    for (const plugin_instance* pi : {&control_, &gre_, &ppp_}) {
      const std::uint64_t pd = pi->ops().next_deadline(pi->inst);
      d = std::min(d, pi->stuck && pd <= now_ ? pi->stuck_since + stuck_retry_ns : pd);
    }
    if (stopping_) {
      d = std::min(d, stop_deadline_);
    }
    if (reconnect_at_ != 0) {
      d = std::min(d, reconnect_at_);
    }
    if (!server_) {  // only a client connects (one connection): a server never walks its thousands here
      for (const auto& [id, c] : connections_) {
        if (c.connecting) {
          d = std::min(d, c.connect_deadline);
        }
      }
    }
    return d;
  }

  std::string status_report() const override {
    std::string out = std::string("pptpkit ") + (server_ ? "server" : "client") + ": " +
                      std::to_string(sessions_.size()) + " session" + (sessions_.size() == 1 ? "" : "s") + ", " +
                      std::to_string(connections_.size()) + " control connection" +
                      (connections_.size() == 1 ? "" : "s") + ", uptime " +
                      std::to_string((p_.now_ns() - started_ns_) / seconds) + "s\n";
    for (const auto& [id, s] : sessions_) {
      const auto [drops, reorders] = plugin_drops(id);
      out += "session " + std::to_string(id) + " connection " + std::to_string(s.connection) +
             ": user=" + (s.user.empty() ? "-" : s.user) + " auth=" + s.auth + " mppe=" + s.mppe +
             " local=" + format_ipv4(s.local) + " remote=" + format_ipv4(s.remote) +
             " ifname=" + (s.ifname.empty() ? "-" : s.ifname) + " peer=" + format_ipv4(s.peer_address) +
             " state=" + (s.up ? "up" : "negotiating") +
             " uptime=" + std::to_string((p_.now_ns() - s.started_ns) / seconds) +
             "s rx_bytes=" + std::to_string(s.rx_bytes) + " tx_bytes=" + std::to_string(s.tx_bytes) +
             " rx_packets=" + std::to_string(s.rx_packets) + " tx_packets=" + std::to_string(s.tx_packets) +
             " drops=" + std::to_string(drops) + " reorders=" + std::to_string(reorders) + "\n";
    }
    out += "runtime:";
    std::array<pptpkit_stat, runtime_counters::count> stats{};
    counters_.export_to(stats.data(), runtime_counters::count);
    for (const pptpkit_stat& st : stats) {
      out.push_back(' ');
      out.append(st.name);
      out.push_back('=');
      out.append(std::to_string(st.value));
    }
    const core::pool_stats& ps = pool_->stats();
    out += " pool_available=" + std::to_string(pool_->available()) + " pool_exhausted=" + std::to_string(ps.exhausted);
    out += " log_lines_suppressed=" + std::to_string(log_limiter_.total_suppressed());
    out += "\n";
    for (const plugin_instance* pi : {&control_, &gre_, &ppp_}) {
      out += std::string(pi->kind) + ":" + counters_text(*pi, PPTPKIT_CHANNEL_ALL) + "\n";
    }
    return out;
  }

 private:
  // ---------------------------------------------------------------- plugins and host services
  void load(plugin_instance& pi, const std::string& path, std::uint32_t kind, const char* name,
            const entry_list& config) {
    pi.kind = name;
    pi.module = load_plugin(path, kind, services_);
    std::vector<pptpkit_config_entry> c;
    for (const auto& [k, v] : config) {
      c.push_back({k.c_str(), v.c_str()});
    }
    std::array<char, 512> error{};
    const std::int32_t rc = pi.ops().create(&services_, c.data(), static_cast<std::uint32_t>(c.size()), &pi.inst,
                                            error.data(), static_cast<std::uint32_t>(error.size()));
    if (rc != PPTPKIT_OK) {
      throw std::runtime_error(path + ": create failed (" + error_name(rc) + "): " + error.data());
    }
  }

  static void service_log(void* ctx, std::uint32_t level, const char* component, const char* text) {
    auto* self = static_cast<engine_impl*>(ctx);
    if (level > self->o_.log_level) {
      return;
    }
    const char* name = component != nullptr ? component : "plugin";
    // Debug lines were asked for explicitly and stay complete; the rest are what a peer can trigger.
    if (level < PPTPKIT_LOG_DEBUG) {
      const log_limiter::verdict v = self->log_limiter_.admit(name, self->p_.now_ns());
      if (!v.emit) {
        return;
      }
      if (v.suppressed > 0) {
        self->p_.log(PPTPKIT_LOG_NOTICE, name,
                     std::to_string(v.suppressed) + " log line" + (v.suppressed == 1 ? "" : "s") +
                         " suppressed (rate limit; the rejections are still counted)");
      }
    }
    self->p_.log(level, name, self->tag(self->ctx_connection_, self->ctx_session_) + text);
  }
  static std::uint64_t service_now(void* ctx) { return static_cast<engine_impl*>(ctx)->p_.now_ns(); }
  static std::int32_t service_random(void* ctx, std::uint8_t* out, std::uint32_t n) {
    static_cast<engine_impl*>(ctx)->p_.random_bytes({out, n});
    return PPTPKIT_OK;
  }
  static std::uint32_t service_alloc(void* ctx, pptpkit_packet** out, std::uint32_t n) {
    return static_cast<engine_impl*>(ctx)->pool_->alloc_bulk({out, n});
  }
  static void service_free(void* ctx, pptpkit_packet* const* pkts, std::uint32_t n) {
    static_cast<engine_impl*>(ctx)->pool_->free_bulk({pkts, n});
  }

  // Runs a plugin call with the log context set to a connection / session.
  struct log_context {
    log_context(engine_impl& e, std::uint32_t c, std::uint32_t s)
        : e_(e), saved_c_(e.ctx_connection_), saved_s_(e.ctx_session_) {
      e.ctx_connection_ = c;
      e.ctx_session_ = s;
    }
    ~log_context() {
      e_.ctx_connection_ = saved_c_;
      e_.ctx_session_ = saved_s_;
    }
    engine_impl& e_;
    std::uint32_t saved_c_, saved_s_;
  };

  std::int32_t command(plugin_instance& pi, std::uint32_t type, std::uint32_t channel,
                       std::initializer_list<std::uint64_t> values, const entry_list& entries = {},
                       std::uint32_t log_connection = 0, std::uint32_t log_session = 0) {
    pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
    cmd.type = type;
    cmd.channel = channel;
    std::size_t i = 0;
    for (std::uint64_t v : values) {
      cmd.values[i++] = v;
    }
    std::vector<pptpkit_config_entry> c;
    for (const auto& [k, v] : entries) {
      c.push_back({k.c_str(), v.c_str()});
    }
    cmd.entries = c.empty() ? nullptr : c.data();
    cmd.entry_count = static_cast<std::uint32_t>(c.size());
    log_context lc(*this, log_connection, log_session);
    const std::int32_t rc = pi.ops().command(pi.inst, &cmd, now_);
    if (rc == PPTPKIT_ERR_NOT_FOUND && ends_something(pi, type)) {
      // The plugin already ended it (both sides hung up at once): nothing left to end.
      log(PPTPKIT_LOG_DEBUG, log_connection, log_session,
          std::string(pi.kind) + " command " + std::to_string(type) + ": already gone");
    } else if (rc < 0) {
      ++counters_.plugin_errors;
      log(PPTPKIT_LOG_WARNING, log_connection, log_session,
          std::string(pi.kind) + " command " + std::to_string(type) + " on channel " + std::to_string(channel) +
              " failed: " + error_name(rc));
    }
    return rc;
  }

  // Commands that end a channel; NOT_FOUND for them means it had already ended.
  bool ends_something(const plugin_instance& pi, std::uint32_t type) const {
    if (&pi == &control_) {
      return type == PPTPKIT_CONTROL_CMD_CALL_CLEAR || type == PPTPKIT_CONTROL_CMD_CONNECTION_STOP ||
             type == PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED;
    }
    if (&pi == &gre_) {
      return type == PPTPKIT_GRE_CMD_SESSION_CLOSE;
    }
    return type == PPTPKIT_PPP_CMD_LOWER_DOWN || type == PPTPKIT_PPP_CMD_SESSION_CLOSE;
  }

  // ---------------------------------------------------------------- logs
  std::string tag(std::uint32_t c, std::uint32_t s) const {
    if (c == 0 && s == 0) {
      return {};
    }
    std::string t = "[";
    if (c != 0) {
      t += "c" + std::to_string(c);
    }
    if (s != 0) {
      t += (c != 0 ? " s" : "s") + std::to_string(s);
    }
    return t + "] ";
  }

  void log(std::uint32_t level, std::uint32_t c, std::uint32_t s, const std::string& text) {
    if (level <= o_.log_level) {
      p_.log(level, "pptpkit", tag(c, s) + text);
    }
  }

  // ---------------------------------------------------------------- readiness
  void dispatch(const readiness& r) {
    const auto it = owners_.find(r.h);
    if (it == owners_.end()) {
      return;  // closed earlier in this round
    }
    const owner o = it->second;
    switch (o.kind) {
      case owner_kind::listener:
        accept_connections();
        break;
      case owner_kind::connection:
        on_connection_ready(o.id, r);
        break;
      case owner_kind::gre:
        receive_gre();
        break;
      case owner_kind::tun:
        read_tun(o.id);
        break;
      case owner_kind::status_listener:
        accept_status();
        break;
      case owner_kind::status_client:
        write_status(r.h);
        break;
    }
  }

  // ---------------------------------------------------------------- control connections
  std::uint32_t new_connection_id() {
    do {
      ++next_connection_id_;
    } while (next_connection_id_ == 0 || connections_.contains(next_connection_id_));
    return next_connection_id_;
  }

  void accept_connections() {
    for (int i = 0; i < 64; ++i) {
      endpoint peer, local;
      const handle h = p_.tcp_accept(listener_, peer, local);
      if (h == invalid_handle) {
        return;
      }
      if (stopping_ || connections_.size() >= o_.max_connections) {
        ++counters_.connections_refused_limit;
        log(PPTPKIT_LOG_WARNING, 0, 0,
            "refusing control connection from " + format_ipv4(peer.address) + ": " +
                (stopping_ ? std::string("stopping")
                           : std::to_string(o_.max_connections) + " connections (--max-connections) are in use"));
        p_.close(h);
        continue;
      }
      connection& c = add_connection(h, peer);
      ++counters_.connections_accepted;
      log(PPTPKIT_LOG_INFO, c.id, 0,
          "control connection from " + format_ipv4(peer.address) + ":" + std::to_string(peer.port));
      p_.watch(h, true, false);
      command(control_, PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, c.id, {0, peer.address}, {}, c.id);
    }
  }

  connection& add_connection(handle h, endpoint peer) {
    const std::uint32_t id = new_connection_id();
    connection& c = connections_[id];
    c.id = id;
    c.h = h;
    c.peer = peer;
    owners_[h] = {owner_kind::connection, id};
    return c;
  }

  void on_connection_ready(std::uint32_t id, const readiness& r) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      return;
    }
    connection& c = it->second;
    if (c.connecting) {
      if (!r.writable && !r.failed) {
        return;
      }
      endpoint local;
      std::string error;
      if (r.failed || !p_.tcp_connected(c.h, local, error)) {
        ++counters_.connect_failed;
        log(PPTPKIT_LOG_ERROR, c.id, 0,
            "connect to " + format_ipv4(c.peer.address) + ":" + std::to_string(c.peer.port) +
                " failed: " + (error.empty() ? std::string("connection refused or unreachable") : error));
        drop_connection(c.id);
        client_attempt_ended();
        return;
      }
      c.connecting = false;
      ++counters_.connections_accepted;
      log(PPTPKIT_LOG_INFO, c.id, 0, "connected to " + format_ipv4(c.peer.address) + ":" + std::to_string(c.peer.port));
      p_.watch(c.h, true, false);
      command(control_, PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, c.id, {1, c.peer.address}, {}, c.id);
      return;
    }
    if (r.readable || r.failed) {
      read_connection(c);
    }
    if (connections_.contains(id) && r.writable) {
      flush(c);
    }
  }

  void read_connection(connection& c) {
    std::array<std::uint8_t, 4096> buffer;
    for (int round = 0; round < 16; ++round) {
      const io_result res = p_.stream_read(c.h, buffer);
      if (res.status == io_status::would_block) {
        return;
      }
      if (res.status != io_status::ok || res.bytes == 0) {
        log(PPTPKIT_LOG_INFO, c.id, 0,
            res.status == io_status::error ? "control connection failed: " + res.error
                                           : std::string("peer closed the control connection"));
        lost_connection(c.id);
        return;
      }
      // Control bytes are few: copying them into pool packets is not the data path.
      core::packet_list chunks;
      std::uint32_t done = 0;
      while (done < res.bytes) {
        pptpkit_packet* p = pool_->alloc();
        if (p == nullptr) {
          ++counters_.control_alloc_failed;
          pool_->free_list(chunks);
          log(PPTPKIT_LOG_ERROR, c.id, 0, "packet pool exhausted: closing the control connection");
          lost_connection(c.id);
          return;
        }
        const std::uint32_t n = std::min(res.bytes - done, core::tailroom(*p));
        std::copy_n(buffer.data() + done, n, core::put(*p, n));
        p->channel = c.id;
        chunks.push_back(*p);
        done += n;
      }
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      chunks.release(b);
      log_context lc(*this, c.id, 0);
      const std::int32_t rc = control_.ops().feed(control_.inst, PPTPKIT_CONTROL_PORT_STREAM, &b, now_);
      if (rc < 0) {
        ++counters_.plugin_errors;
      }
    }
  }

  // Closes the connection's socket and frees what it had queued for it.
  void release_socket(connection& c) {
    if (c.h != invalid_handle) {
      owners_.erase(c.h);
      p_.close(c.h);
      c.h = invalid_handle;
    }
    pool_->free_list(c.out);
    c.out_bytes = 0;
  }

  // TCP is gone under us: the control plugin drops the calls (CALL_DOWN events) and the connection.
  void lost_connection(std::uint32_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      return;
    }
    connection& c = it->second;
    release_socket(c);
    if (!c.down) {
      command(control_, PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED, id, {}, {}, id);
      drain_events();
    }
    if (connections_.contains(id)) {
      // CONNECTION_DOWN normally erased it; make sure nothing is left.
      finish_connection(id);
    }
  }

  // Ends every session of a connection and forgets it.
  void finish_connection(std::uint32_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      return;
    }
    const std::vector<std::uint32_t> ids = it->second.sessions;
    for (std::uint32_t s : ids) {
      if (auto si = sessions_.find(s); si != sessions_.end()) {
        si->second.call_cleared = true;
        teardown(si->second, "control connection closed");
      }
    }
    drop_connection(id);
    if (!server_) {
      client_attempt_ended();
    }
  }

  void drop_connection(std::uint32_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      return;
    }
    release_socket(it->second);
    connections_.erase(it);
    if (stopping_ && connections_.empty()) {
      finished_ = true;
    }
  }

  void queue_output(connection& c, pptpkit_packet& p) {
    c.out_bytes += p.length;
    c.out.push_back(p);
    if (!c.flush_listed) {
      c.flush_listed = true;
      to_flush_.push_back(c.id);
    }
    if (c.out_bytes > control_output_limit) {
      ++counters_.control_output_overflow;
      log(PPTPKIT_LOG_WARNING, c.id, 0,
          "the peer stopped reading the control connection (" + std::to_string(c.out_bytes) +
              " bytes queued): closing it");
      lost_connection(c.id);
    }
  }

  // Writes queued control messages, each in its own stream_write; a partial write keeps the rest of
  // the message at the front and resumes when the socket is writable.
  void flush(connection& c) {
    while (!c.out.empty() && c.h != invalid_handle) {
      pptpkit_packet& p = c.out.front();
      const io_result res = p_.stream_write(c.h, core::bytes(p));
      if (res.status == io_status::ok) {
        c.out_bytes -= res.bytes;
        if (res.bytes >= p.length) {
          pool_->free(c.out.pop_front());
          continue;
        }
        core::pull(p, res.bytes);
        break;
      }
      if (res.status == io_status::would_block) {
        break;
      }
      log(PPTPKIT_LOG_INFO, c.id, 0,
          "control connection write failed: " + (res.error.empty() ? std::string("closed") : res.error));
      lost_connection(c.id);
      return;
    }
    const bool want = !c.out.empty();
    if (want != c.watching_write && c.h != invalid_handle) {
      c.watching_write = want;
      p_.watch(c.h, true, want);
    }
    if (c.down && c.out.empty()) {
      finish_connection(c.id);
    }
  }

  // ---------------------------------------------------------------- client connection lifecycle
  void connect_to_server() {
    reconnect_at_ = 0;
    std::string error;
    const handle h = p_.tcp_connect(o_.server, error);
    if (h == invalid_handle) {
      ++counters_.connect_failed;
      log(PPTPKIT_LOG_ERROR, 0, 0,
          "connect to " + format_ipv4(o_.server.address) + ":" + std::to_string(o_.server.port) + " failed: " + error);
      client_attempt_ended();
      return;
    }
    connection& c = add_connection(h, o_.server);
    c.connecting = true;
    c.connect_deadline = p_.now_ns() + connect_timeout_ns;
    attempt_had_session_ = false;
    log(PPTPKIT_LOG_NOTICE, c.id, 0,
        "connecting to " + format_ipv4(o_.server.address) + ":" + std::to_string(o_.server.port));
    p_.watch(h, false, true);
  }

  // pppd's persist / maxfail / holdoff after a connection attempt or a session ended.
  void client_attempt_ended() {
    if (server_ || finished_ || !connections_.empty()) {
      return;
    }
    if (attempt_had_session_) {
      failures_ = 0;
    } else {
      ++failures_;
    }
    if (stopping_) {
      finished_ = true;
      exit_status_ = ever_up_ ? 0 : 1;
      return;
    }
    if (!o_.persist) {
      finished_ = true;
      exit_status_ = attempt_had_session_ ? 0 : 1;
      return;
    }
    if (o_.maxfail != 0 && failures_ >= o_.maxfail) {
      log(PPTPKIT_LOG_ERROR, 0, 0,
          "giving up after " + std::to_string(failures_) + " failed attempts in a row (--maxfail)");
      finished_ = true;
      exit_status_ = 1;
      return;
    }
    reconnect_at_ = p_.now_ns() + std::uint64_t{o_.holdoff_s} * seconds;
    if (reconnect_at_ == 0) {
      reconnect_at_ = 1;
    }
    log(PPTPKIT_LOG_NOTICE, 0, 0, "reconnecting in " + std::to_string(o_.holdoff_s) + " s (--persist)");
  }

  // ---------------------------------------------------------------- sessions
  void open_session(connection& c, const pptpkit_event& ev) {
    const auto call = static_cast<std::uint32_t>(ev.values[0]);
    if (sessions_.contains(call)) {
      log(PPTPKIT_LOG_ERROR, c.id, call, "control reported call id " + std::to_string(call) + " twice; clearing it");
      command(control_, PPTPKIT_CONTROL_CMD_CALL_CLEAR, c.id, {call, 3}, {}, c.id, call);
      return;
    }
    session& s = sessions_[call];
    s.id = call;
    s.connection = c.id;
    s.peer_call_id = static_cast<std::uint32_t>(ev.values[1]);
    s.peer_address = c.peer.address;
    s.started_ns = now_;
    c.sessions.push_back(call);
    ++counters_.sessions_started;

    entry_list ppp;
    if (server_) {
      const auto address = pool4_.acquire();
      if (!address) {
        ++counters_.address_pool_exhausted;
        log(PPTPKIT_LOG_ERROR, c.id, call, "no free address in --remoteip: refusing the call");
        teardown(s, "address pool exhausted");
        return;
      }
      s.local = o_.localip;
      s.remote = *address;
      s.remote_held = true;
      ppp = {{"role", "server"},
             {"auth", join(o_.auth, ",")},
             {"name", "pptpkit"},
             {"local_ip", format_ipv4(s.local)},
             {"remote_ip", format_ipv4(s.remote)}};
      if (!o_.dns.empty()) {
        ppp.emplace_back("dns1", format_ipv4(o_.dns[0]));
      }
      if (o_.dns.size() > 1) {
        ppp.emplace_back("dns2", format_ipv4(o_.dns[1]));
      }
    } else {
      ppp = {{"role", "client"}, {"auth", join(o_.auth, ",")}, {"user", o_.user}, {"password", o_.password}};
      s.user = o_.user;
    }
    ppp.emplace_back("mppe", o_.mppe);
    ppp.emplace_back("mppe_bits", o_.mppe_bits);
    ppp.emplace_back("mppe_stateful", o_.mppe_stateful ? "1" : "0");
    ppp.emplace_back("lcp_echo_interval", std::to_string(o_.echo_interval_s));
    ppp.emplace_back("lcp_echo_failure", std::to_string(o_.echo_failure));

    // RFC 2637 §4.1: the peer's call id goes in the key of what we send; its window bounds our sends.
    if (command(gre_, PPTPKIT_GRE_CMD_SESSION_OPEN, call, {s.peer_call_id, ev.values[2], ev.values[3], s.peer_address},
                {}, c.id, call) < 0) {
      teardown(s, "GRE session could not be opened");
      return;
    }
    s.gre_open = true;
    if (command(ppp_, PPTPKIT_PPP_CMD_SESSION_OPEN, call, {}, ppp, c.id, call) < 0) {
      teardown(s, "PPP session could not be opened");
      return;
    }
    s.ppp_open = true;
    log(PPTPKIT_LOG_INFO, c.id, call,
        "call up: peer call id " + std::to_string(s.peer_call_id) + ", peer window " + std::to_string(ev.values[2]) +
            (server_ ? ", offering " + format_ipv4(s.remote) : std::string()));
  }

  // Ends a session in order: PPP down -> clear the call -> close the GRE session -> close the
  // interface -> ip-down -> free the address. Safe to call once per session; erases it.
  void teardown(session& s, const std::string& why) {
    if (s.tearing_down) {
      return;
    }
    s.tearing_down = true;
    const std::uint32_t id = s.id;
    const std::uint32_t cid = s.connection;
    if (s.ppp_open) {
      s.ppp_open = false;
      command(ppp_, PPTPKIT_PPP_CMD_LOWER_DOWN, id, {}, {}, cid, id);
    }
    auto ci = connections_.find(cid);
    if (!s.call_cleared && ci != connections_.end() && !ci->second.down) {
      s.call_cleared = true;
      // RFC 2637 §2.12 (PAC: Call-Disconnect-Notify) / §2.11 (PNS: Call-Clear-Request). Result 3 = admin.
      command(control_, PPTPKIT_CONTROL_CMD_CALL_CLEAR, cid, {id, server_ ? 3u : 1u}, {}, cid, id);
    }
    // PPP's last frames (Terminate, an authentication failure) leave before their GRE session closes.
    // (This may end the connection under us, e.g. its output overflows: look it up again after.)
    drain_ports();
    ci = connections_.find(cid);
    if (s.gre_open) {
      s.gre_open = false;
      command(gre_, PPTPKIT_GRE_CMD_SESSION_CLOSE, id, {}, {}, cid, id);
    }
    const std::uint64_t connect_time = s.up ? (now_ - s.up_ns) / seconds : 0;
    if (s.tun != invalid_handle) {
      owners_.erase(s.tun);
      p_.close(s.tun);
      s.tun = invalid_handle;
    }
    counters_.drop_no_interface += s.held.size();
    pool_->free_list(s.held);
    if (s.hook_up_run && !o_.ip_down.empty()) {
      run_hook(o_.ip_down, s,
               {"CONNECT_TIME=" + std::to_string(connect_time), "BYTES_SENT=" + std::to_string(s.tx_bytes),
                "BYTES_RCVD=" + std::to_string(s.rx_bytes)});
    }
    if (s.remote_held) {
      pool4_.release(s.remote);
      s.remote_held = false;
    }
    if (s.unit >= 0) {
      units_.erase(s.unit);
    }
    ++counters_.sessions_ended;
    log(s.up ? PPTPKIT_LOG_NOTICE : PPTPKIT_LOG_INFO, cid, id,
        "session down: " + why +
            (s.up ? ", connected " + std::to_string(connect_time) + " s, sent " + std::to_string(s.tx_bytes) +
                        " bytes, received " + std::to_string(s.rx_bytes) + " bytes"
                  : std::string()));
    if (ci != connections_.end()) {
      auto& list = ci->second.sessions;
      list.erase(std::remove(list.begin(), list.end(), id), list.end());
    }
    sessions_.erase(id);
    if (ci != connections_.end() && list_empty_and_should_stop(ci->second)) {
      connection& c = ci->second;
      c.stopping = true;
      // RFC 2637 §2.3 Stop-Control-Connection-Request, reason 1 (general request).
      command(control_, PPTPKIT_CONTROL_CMD_CONNECTION_STOP, c.id, {1}, {}, c.id);
    }
  }

  bool list_empty_and_should_stop(const connection& c) const {
    // The client runs one call per connection; a stopping server stops each connection once idle.
    return c.sessions.empty() && c.h != invalid_handle && !c.down && !c.stopping && c.up && (!server_ || stopping_);
  }

  void run_hook(const std::string& path, const session& s, const std::vector<std::string>& extra) {
    // pppd: interface-name tty-device speed local-IP-address remote-IP-address ipparam
    const std::string ipparam = format_ipv4(s.peer_address);
    std::vector<std::string> args{s.ifname, s.ifname, "0", format_ipv4(s.local), format_ipv4(s.remote), ipparam};
    std::vector<std::string> env{"IFNAME=" + s.ifname,
                                 "DEVICE=" + s.ifname,
                                 "SPEED=0",
                                 "IPLOCAL=" + format_ipv4(s.local),
                                 "IPREMOTE=" + format_ipv4(s.remote),
                                 "PEERNAME=" + s.user,
                                 "IPPARAM=" + ipparam};
    if (s.dns1 != 0) {
      env.push_back("DNS1=" + format_ipv4(s.dns1));
    }
    if (s.dns2 != 0) {
      env.push_back("DNS2=" + format_ipv4(s.dns2));
    }
    env.insert(env.end(), extra.begin(), extra.end());
    ++counters_.hooks_run;
    p_.run_hook(path, args, env);
  }

  // The client's interface name for the attempt-th try: the configured one, then with its trailing
  // number counted up (pptp0, pptp1, ...; a name without a number gets one).
  static std::string next_interface_name(const std::string& name, std::uint32_t attempt) {
    if (attempt == 0) {
      return name;
    }
    std::size_t digits = name.size();
    while (digits > 0 && name[digits - 1] >= '0' && name[digits - 1] <= '9') {
      --digits;
    }
    const std::uint32_t base = digits < name.size() ? static_cast<std::uint32_t>(std::stoul(name.substr(digits))) : 0;
    return name.substr(0, digits) + std::to_string(base + attempt);
  }

  std::int32_t lowest_free_unit() const {
    std::int32_t u = 0;
    while (units_.contains(u)) {
      ++u;
    }
    return u;
  }

  void on_ipv4_up(session& s, const pptpkit_event& ev) {
    s.local = static_cast<std::uint32_t>(ev.values[0]);
    if (!server_ || ev.values[1] != 0) {
      s.remote = static_cast<std::uint32_t>(ev.values[1]);
    }
    s.dns1 = static_cast<std::uint32_t>(ev.values[2]);
    s.dns2 = static_cast<std::uint32_t>(ev.values[3]);
    const auto mtu = static_cast<std::uint32_t>(ev.values[4] != 0 ? ev.values[4] : 1400);
    if (s.tun == invalid_handle) {
      tun_config tc;
      tc.mtu = mtu;
      tc.local = s.local;
      tc.peer = s.remote;
      std::string error;
      std::string actual;
      handle h = invalid_handle;
      // Like pppd, whose unit may be taken by another program: warn and take the next free one.
      std::int32_t unit = server_ ? lowest_free_unit() : -1;
      for (std::uint32_t attempt = 0; attempt < max_interface_attempts && h == invalid_handle; ++attempt) {
        tc.name = server_ ? o_.ifname + std::to_string(unit) : next_interface_name(o_.ifname, attempt);
        std::string why;
        h = p_.tun_open(tc, actual, why);
        if (h == invalid_handle) {
          ++counters_.tun_open_failed;
          log(PPTPKIT_LOG_WARNING, s.connection, s.id, "cannot create interface " + tc.name + ": " + why);
          error = error.empty() ? why : error;
          for (++unit; server_ && units_.contains(unit);) {
            ++unit;
          }
        }
      }
      if (h == invalid_handle) {
        log(PPTPKIT_LOG_ERROR, s.connection, s.id,
            "no tunnel interface after " + std::to_string(max_interface_attempts) + " names: " + error);
        teardown(s, "no tunnel interface");
        return;
      }
      if (server_) {
        s.unit = unit;
        units_.insert(unit);
      }
      s.tun = h;
      s.ifname = actual.empty() ? tc.name : actual;
      owners_[h] = {owner_kind::tun, s.id};
      p_.watch(h, true, false);
      if (!s.held.empty()) {
        for (pptpkit_packet& p : s.held) {
          s.rx_bytes += p.length;
        }
        s.rx_packets += s.held.size();
        p_.tun_write(h, s.held);
        pool_->free_list(s.held);
      }
    }
    if (s.ipv6_local != 0) {
      apply_ipv6(s);
    }
    s.up = true;
    s.up_ns = now_;
    ++counters_.sessions_up;
    if (!server_) {
      attempt_had_session_ = true;
      ever_up_ = true;
    }
    // The one line the contract promises (interop and e2e tests grep for it).
    log(PPTPKIT_LOG_NOTICE, s.connection, s.id,
        "session up: user=" + (s.user.empty() ? std::string("-") : s.user) + " auth=" + s.auth + " mppe=" + s.mppe +
            " local=" + format_ipv4(s.local) + " remote=" + format_ipv4(s.remote) + " ifname=" + s.ifname);
    if (!server_) {
      if (o_.usepeerdns && (s.dns1 != 0 || s.dns2 != 0)) {
        log(PPTPKIT_LOG_NOTICE, s.connection, s.id,
            "DNS servers from the peer: " + format_ipv4(s.dns1) + (s.dns2 != 0 ? " " + format_ipv4(s.dns2) : ""));
      }
      std::vector<route> routes;
      if (o_.defaultroute) {
        routes.push_back({0, 0});
      }
      for (const cidr& r : o_.routes) {
        routes.push_back({r.network, r.prefix_length});
      }
      for (const route& r : routes) {
        std::string error;
        if (!p_.tun_add_route(s.tun, r, error)) {
          log(PPTPKIT_LOG_WARNING, s.connection, s.id,
              "cannot add route " + format_ipv4(r.destination) + "/" + std::to_string(r.prefix_length) + " via " +
                  s.ifname + ": " + error);
        }
      }
    }
    if (!o_.ip_up.empty()) {
      run_hook(o_.ip_up, s, {});
    }
    s.hook_up_run = true;
  }

  void apply_ipv6(session& s) {
    std::string error;
    if (!p_.tun_set_ipv6(s.tun, s.ipv6_local, s.ipv6_peer, error)) {
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "cannot set the IPv6 link-local address on " + s.ifname + ": " + error);
    }
  }

  // Server: the secret for `name` from chap-secrets, and the user's address policy.
  void answer_secret(session& s, const std::string& name) {
    const secret_entry* e = secrets_.find(name, "pptpkit");
    if (e == nullptr || e->server == "*") {
      if (const secret_entry* alt = secrets_.find(name, "pptpd"); alt != nullptr && alt->server == "pptpd") {
        e = alt;  // pptpd users' files name the server "pptpd"
      }
    }
    s.user = name;
    if (e == nullptr) {
      log(PPTPKIT_LOG_NOTICE, s.connection, s.id, "no chap-secrets entry for user '" + name + "'");
      command(ppp_, PPTPKIT_PPP_CMD_AUTH_SECRET, s.id, {0}, {}, s.connection, s.id);
      return;
    }
    const address_policy policy = chap_secrets::addresses_of(*e);
    if (policy.what == address_policy::kind::none) {
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "chap-secrets allows user '" + name + "' no IP address ('-'): refusing the login");
      command(ppp_, PPTPKIT_PPP_CMD_AUTH_SECRET, s.id, {0}, {}, s.connection, s.id);
      return;
    }
    entry_list entries{{"secret", e->secret}};
    if (policy.what == address_policy::kind::fixed && policy.address != s.remote) {
      if (!pool4_.acquire(policy.address)) {
        ++counters_.address_in_use;
        log(PPTPKIT_LOG_WARNING, s.connection, s.id,
            "address " + format_ipv4(policy.address) + " of user '" + name +
                "' is in use by another session: refusing");
        command(ppp_, PPTPKIT_PPP_CMD_AUTH_SECRET, s.id, {0}, {}, s.connection, s.id);
        return;
      }
      if (s.remote_held) {
        pool4_.release(s.remote);
      }
      s.remote = policy.address;
      s.remote_held = true;
      entries.emplace_back("remote_ip", format_ipv4(policy.address));
    }
    command(ppp_, PPTPKIT_PPP_CMD_AUTH_SECRET, s.id, {1}, entries, s.connection, s.id);
  }

  // ---------------------------------------------------------------- events
  bool drain_events() {
    bool any = false;
    pptpkit_event ev = PPTPKIT_EVENT_INIT;
    for (int guard = 0; guard < 4096; ++guard) {
      // Inner layers first: PPP's news about a session (an authentication failure) is reported
      // before the control connection's news tears the session down.
      ev.struct_size = sizeof(ev);
      bool got = false;
      if (ppp_.ops().poll_event(ppp_.inst, &ev) == 1) {
        on_ppp_event(ev);
        got = true;
      }
      ev.struct_size = sizeof(ev);
      if (gre_.ops().poll_event(gre_.inst, &ev) == 1) {
        on_gre_event(ev);
        got = true;
      }
      ev.struct_size = sizeof(ev);
      if (control_.ops().poll_event(control_.inst, &ev) == 1) {
        on_control_event(ev);
        got = true;
      }
      if (!got) {
        break;
      }
      any = true;
    }
    return any;
  }

  static std::string text_of(const pptpkit_event& ev) {
    return std::string(ev.text, strnlen(ev.text, sizeof(ev.text)));
  }

  void on_control_event(const pptpkit_event& ev) {
    auto ci = connections_.find(ev.channel);
    if (ci == connections_.end()) {
      return;
    }
    connection& c = ci->second;
    const std::string text = text_of(ev);
    switch (ev.type) {
      case PPTPKIT_CONTROL_EVENT_CONNECTION_UP: {
        c.up = true;
        log(PPTPKIT_LOG_INFO, c.id, 0,
            "control connection established with " + format_ipv4(c.peer.address) +
                (text.empty() ? "" : " (" + text + ")"));
        if (!server_) {
          if (stopping_) {
            c.stopping = true;
            command(control_, PPTPKIT_CONTROL_CMD_CONNECTION_STOP, c.id, {1}, {}, c.id);
            break;
          }
          // RFC 2637 §2.7: the PNS asks for one outgoing call.
          command(control_, PPTPKIT_CONTROL_CMD_CALL_OPEN, c.id, {}, {}, c.id);
        } else if (stopping_) {
          c.stopping = true;
          command(control_, PPTPKIT_CONTROL_CMD_CONNECTION_STOP, c.id, {1}, {}, c.id);
        }
        break;
      }
      case PPTPKIT_CONTROL_EVENT_CALL_UP:
        open_session(c, ev);
        break;
      case PPTPKIT_CONTROL_EVENT_CALL_DOWN: {
        const auto call = static_cast<std::uint32_t>(ev.values[0]);
        auto si = sessions_.find(call);
        if (si != sessions_.end()) {
          si->second.call_cleared = true;
          teardown(si->second, "call cleared" + (text.empty() ? std::string() : ": " + text));
        }
        break;
      }
      case PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN: {
        c.down = true;
        log(ev.values[0] == PPTPKIT_CONTROL_REASON_STOPPED ? PPTPKIT_LOG_INFO : PPTPKIT_LOG_NOTICE, c.id, 0,
            "control connection down" + (text.empty() ? std::string() : ": " + text));
        if (c.h == invalid_handle || c.out.empty()) {
          finish_connection(c.id);
        } else {
          flush(c);  // closes once the last message (e.g. StopCCRP) is written
        }
        break;
      }
      case PPTPKIT_CONTROL_EVENT_SET_LINK_INFO:
      case PPTPKIT_CONTROL_EVENT_WAN_ERROR:
        log(PPTPKIT_LOG_DEBUG, c.id, static_cast<std::uint32_t>(ev.values[0]),
            ev.type == PPTPKIT_CONTROL_EVENT_WAN_ERROR ? "peer reported WAN errors" : "peer set link info");
        break;
      default:
        break;
    }
  }

  void on_gre_event(const pptpkit_event& ev) {
    auto si = sessions_.find(ev.channel);
    if (si == sessions_.end()) {
      return;
    }
    session& s = si->second;
    if (ev.type == PPTPKIT_GRE_EVENT_NO_PEER_DATA) {
      ++counters_.no_gre_warnings;
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "the control connection is up but no GRE arrives from " + format_ipv4(s.peer_address) + " after " +
              std::to_string(ev.values[0]) +
              " ms: likely a firewall dropping IP protocol 47 (GRE) on the way, or a NAT router without the PPTP "
              "helper (e.g. Linux nf_conntrack_pptp / nf_nat_pptp not loaded)");
    } else if (ev.type == PPTPKIT_GRE_EVENT_FIRST_PEER_DATA) {
      log(PPTPKIT_LOG_DEBUG, s.connection, s.id, "first GRE packet from the peer");
    }
  }

  void on_ppp_event(const pptpkit_event& ev) {
    auto si = sessions_.find(ev.channel);
    const std::string text = text_of(ev);
    if (si == sessions_.end()) {
      if (ev.type == PPTPKIT_PPP_EVENT_AUTH_FAILURE) {  // still the reason the user needs to see
        ++counters_.auth_failures;
        log(PPTPKIT_LOG_WARNING, 0, ev.channel,
            "authentication failed: " + (text.empty() ? std::string("rejected") : text) + " (" +
                auth_name(ev.values[0]) + ")");
      }
      return;  // a late event of a session already torn down
    }
    session& s = si->second;
    switch (ev.type) {
      case PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED:
        if (server_) {
          answer_secret(s, text);
        } else {
          command(ppp_, PPTPKIT_PPP_CMD_AUTH_SECRET, s.id, {1}, {{"secret", o_.password}}, s.connection, s.id);
        }
        break;
      case PPTPKIT_PPP_EVENT_AUTH_SUCCESS:
        s.auth = auth_name(ev.values[0]);
        if (ev.values[1] == 1 && !text.empty()) {
          s.user = text;
        }
        log(PPTPKIT_LOG_INFO, s.connection, s.id, "authenticated (" + s.auth + "), user " + s.user);
        break;
      case PPTPKIT_PPP_EVENT_AUTH_FAILURE:
        ++counters_.auth_failures;
        if (ev.values[1] == 1 && !text.empty() && s.user.empty()) {
          s.user = text;
        }
        log(PPTPKIT_LOG_WARNING, s.connection, s.id,
            "authentication failed: " + (text.empty() ? std::string("rejected") : text) + " (" +
                auth_name(ev.values[0]) + (s.user.empty() ? "" : ", user " + s.user) + ")");
        break;
      case PPTPKIT_PPP_EVENT_ENCRYPTION_UP:
        s.mppe = std::to_string(ev.values[0]) + "-bit" + (ev.values[1] == 1 ? "-stateless" : "-stateful");
        break;
      case PPTPKIT_PPP_EVENT_IPV4_UP:
        on_ipv4_up(s, ev);
        break;
      case PPTPKIT_PPP_EVENT_IPV6_UP:
        s.ipv6_local = ev.values[0];
        s.ipv6_peer = ev.values[1];
        if (s.tun != invalid_handle) {
          apply_ipv6(s);
        }
        break;
      case PPTPKIT_PPP_EVENT_LINK_DOWN:
        s.ppp_open = false;
        teardown(s, "PPP link down" + (text.empty() ? std::string() : ": " + text));
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------- data path
  void receive_gre() {
    for (std::uint32_t round = 0; round < max_reads_per_ready; ++round) {
      core::packet_list rx;
      const std::uint32_t n = p_.gre_receive(gre_h_, *pool_, rx, batch_max);
      if (n == 0) {
        return;
      }
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      rx.release(b);
      if (gre_.ops().feed(gre_.inst, PPTPKIT_GRE_PORT_NET, &b, now_) < 0) {
        ++counters_.plugin_errors;
      }
      if (n < batch_max) {
        return;
      }
    }
  }

  void read_tun(std::uint32_t id) {
    auto si = sessions_.find(id);
    if (si == sessions_.end() || si->second.tun == invalid_handle) {
      return;
    }
    session& s = si->second;
    for (std::uint32_t round = 0; round < max_reads_per_ready; ++round) {
      core::packet_list rx;
      const std::uint32_t n = p_.tun_read(s.tun, *pool_, rx, batch_max);
      if (n == 0) {
        return;
      }
      for (pptpkit_packet& p : rx) {
        p.channel = id;
        s.tx_bytes += p.length;
      }
      s.tx_packets += n;
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      rx.release(b);
      if (ppp_.ops().feed(ppp_.inst, PPTPKIT_PPP_PORT_NET, &b, now_) < 0) {
        ++counters_.plugin_errors;
      }
      if (n < batch_max) {
        return;
      }
    }
  }

  // Moves packets between the plugins' ports until nothing moves. Returns whether anything did.
  bool drain_ports() {
    bool any = false;
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    // Control messages -> their connection's output queue.
    while (control_.ops().poll(control_.inst, PPTPKIT_CONTROL_PORT_STREAM, &b, batch_max, now_) > 0) {
      any = true;
      core::packet_list l;
      l.adopt(b);
      while (pptpkit_packet* p = l.pop_front()) {
        auto ci = connections_.find(p->channel);
        if (ci == connections_.end() || ci->second.h == invalid_handle) {
          pool_->free(p);
          continue;
        }
        queue_output(ci->second, *p);
      }
    }
    // GRE frames received -> PPP link port (the channel is the same number on both).
    while (gre_.ops().poll(gre_.inst, PPTPKIT_GRE_PORT_PPP, &b, batch_max, now_) > 0) {
      any = true;
      if (ppp_.ops().feed(ppp_.inst, PPTPKIT_PPP_PORT_LINK, &b, now_) < 0) {
        ++counters_.plugin_errors;
      }
    }
    // PPP frames to send -> GRE.
    while (ppp_.ops().poll(ppp_.inst, PPTPKIT_PPP_PORT_LINK, &b, batch_max, now_) > 0) {
      any = true;
      if (gre_.ops().feed(gre_.inst, PPTPKIT_GRE_PORT_PPP, &b, now_) < 0) {
        ++counters_.plugin_errors;
      }
    }
    // GRE packets ready -> the raw socket.
    while (gre_.ops().poll(gre_.inst, PPTPKIT_GRE_PORT_NET, &b, batch_max, now_) > 0) {
      any = true;
      core::packet_list l;
      l.adopt(b);
      const std::uint32_t n = l.size();
      counters_.drop_gre_send += n - std::min(n, p_.gre_send(gre_h_, l));
    }
    // IP packets from the peers -> each session's interface, in runs of one session.
    while (ppp_.ops().poll(ppp_.inst, PPTPKIT_PPP_PORT_NET, &b, batch_max, now_) > 0) {
      any = true;
      core::packet_list l;
      l.adopt(b);
      while (!l.empty()) {
        const std::uint32_t channel = l.front().channel;
        core::packet_list run;
        std::uint32_t bytes = 0;
        while (!l.empty() && l.front().channel == channel) {
          pptpkit_packet* p = l.pop_front();
          bytes += p->length;
          run.push_back(*p);
        }
        auto si = sessions_.find(channel);
        if (si != sessions_.end() && si->second.tun == invalid_handle &&
            si->second.held.size() + run.size() <= held_packets_max) {
          si->second.held.splice_back(run);  // IPV4_UP is in the event queue: keep them for the tun
          continue;
        }
        if (si == sessions_.end() || si->second.tun == invalid_handle) {
          counters_.drop_no_interface += run.size();
          pool_->free_list(run);
          continue;
        }
        const std::uint32_t n = run.size();
        const std::uint32_t written = std::min(n, p_.tun_write(si->second.tun, run));
        si->second.rx_packets += written;
        si->second.rx_bytes += written == n ? bytes : 0;  // which ones failed is unknown: count none
        counters_.drop_tun_write += n - written;
        if (!run.empty()) {
          pool_->free_list(run);  // a platform that left packets behind: do not leak them
        }
      }
    }
    return any;
  }

  void drain() {
    for (int round = 0; round < max_drain_rounds; ++round) {
      const bool ports = drain_ports();
      const bool events = drain_events();
      if (!ports && !events) {
        break;
      }
    }
    // Write what the connections that queued output since the last drain have (not a walk over every
    // connection: a server may hold thousands). What the socket does not take waits for writability.
    flushing_.swap(to_flush_);
    for (std::uint32_t id : flushing_) {
      if (auto ci = connections_.find(id); ci != connections_.end()) {
        ci->second.flush_listed = false;
        flush(ci->second);
      }
    }
    flushing_.clear();
    if (stopping_ && server_ && connections_.empty()) {
      finished_ = true;
    }
  }

  void tick_due() {
    for (plugin_instance* pi : {&control_, &gre_, &ppp_}) {
      if (pi->ops().next_deadline(pi->inst) > now_) {
        pi->stuck = false;
        continue;
      }
      if (pi->stuck && now_ < pi->stuck_since + stuck_retry_ns) {
        continue;  // not sooner than next_deadline() promised the platform
      }
      if (pi->ops().tick(pi->inst, now_) < 0) {
        ++counters_.plugin_errors;
      }
      // A plugin whose deadline stays due after its tick (a plugin bug) would make the loop spin.
      const bool stuck = pi->ops().next_deadline(pi->inst) <= now_;
      if (stuck) {
        ++counters_.plugin_stuck_deadlines;
        if (!pi->stuck) {
          p_.log(PPTPKIT_LOG_WARNING, "pptpkit",
                 std::string(pi->kind) + " plugin: its deadline is still due after tick(); polling it every " +
                     std::to_string(stuck_retry_ns / 1'000'000) + " ms until it moves");
        }
        pi->stuck_since = now_;
      }
      pi->stuck = stuck;
    }
  }

  void timers() {
    if (!server_ && reconnect_at_ != 0 && now_ >= reconnect_at_ && !finished_ && !stopping_) {
      connect_to_server();
      drain();
    }
    std::vector<std::uint32_t> timed_out;
    if (!server_) {  // connect timeouts are a client's (see next_deadline)
      for (auto& [id, c] : connections_) {
        if (c.connecting && now_ >= c.connect_deadline) {
          timed_out.push_back(id);
        }
      }
    }
    for (std::uint32_t id : timed_out) {
      ++counters_.connect_failed;
      log(PPTPKIT_LOG_ERROR, id, 0, "connect to " + format_ipv4(o_.server.address) + " timed out");
      drop_connection(id);
      client_attempt_ended();
    }
    if (stopping_ && !finished_ && now_ >= stop_deadline_) {
      log(PPTPKIT_LOG_WARNING, 0, 0, "calls did not clear within the stop bound: closing what is left");
      std::vector<std::uint32_t> ids;
      for (auto& [id, c] : connections_) {
        ids.push_back(id);
      }
      for (std::uint32_t id : ids) {
        lost_connection(id);
      }
      finished_ = true;
      if (!server_) {
        exit_status_ = ever_up_ ? 0 : 1;
      }
    }
  }

  // ---------------------------------------------------------------- signals, status
  void on_signals(std::uint32_t signals) {
    if ((signals & signal_reload) != 0 && server_) {
      try {
        secrets_ = chap_secrets::load(o_.secrets_path);
        log(PPTPKIT_LOG_NOTICE, 0, 0,
            "re-read " + o_.secrets_path + ": " + std::to_string(secrets_.entries().size()) + " secrets");
      } catch (const std::exception& e) {
        log(PPTPKIT_LOG_ERROR, 0, 0, std::string("keeping the old secrets: ") + e.what());
      }
    }
    if ((signals & signal_status) != 0) {
      std::string report = status_report();
      std::size_t start = 0;
      while (start < report.size()) {
        const std::size_t end = report.find('\n', start);
        p_.log(PPTPKIT_LOG_NOTICE, "pptpkit", "status: " + report.substr(start, end - start));
        start = end == std::string::npos ? report.size() : end + 1;
      }
    }
    if ((signals & signal_stop) != 0 && !stopping_) {
      begin_stop();
    }
  }

  void begin_stop() {
    stopping_ = true;
    stop_deadline_ = now_ + stop_bound_ns;
    reconnect_at_ = 0;
    log(PPTPKIT_LOG_NOTICE, 0, 0, "stopping: clearing " + std::to_string(sessions_.size()) + " calls");
    if (listener_ != invalid_handle) {
      owners_.erase(listener_);
      p_.close(listener_);
      listener_ = invalid_handle;
    }
    std::vector<std::uint32_t> ids;
    for (auto& [id, s] : sessions_) {
      ids.push_back(id);
    }
    for (std::uint32_t id : ids) {
      auto si = sessions_.find(id);
      if (si == sessions_.end()) {
        continue;
      }
      if (si->second.ppp_open) {
        // LCP Terminate first (RFC 1661 §3.7); LINK_DOWN then clears the call.
        command(ppp_, PPTPKIT_PPP_CMD_SESSION_CLOSE, id, {}, {}, si->second.connection, id);
      } else {
        teardown(si->second, "stopping");
      }
    }
    std::vector<std::uint32_t> idle;
    for (auto& [id, c] : connections_) {
      if (c.connecting || (!c.up && !c.down)) {
        idle.push_back(id);  // not established: nothing to stop politely
      } else if (c.sessions.empty() && !c.stopping && !c.down) {
        c.stopping = true;
        command(control_, PPTPKIT_CONTROL_CMD_CONNECTION_STOP, id, {1}, {}, id);
      }
    }
    for (std::uint32_t id : idle) {
      lost_connection(id);
    }
    if (connections_.empty()) {
      finished_ = true;
      if (!server_) {
        exit_status_ = ever_up_ ? 0 : 1;
      }
    }
  }

  void accept_status() {
    while (true) {
      const handle h = p_.local_accept(status_listener_);
      if (h == invalid_handle) {
        return;
      }
      if (status_clients_.size() >= max_status_clients) {
        ++counters_.status_refused_limit;
        p_.close(h);
        continue;
      }
      ++counters_.status_requests;
      status_clients_.push_back({h, status_report(), 0});
      owners_[h] = {owner_kind::status_client};
      p_.watch(h, false, true);
      write_status(h);
    }
  }

  void write_status(handle h) {
    auto it =
        std::find_if(status_clients_.begin(), status_clients_.end(), [&](const status_client& s) { return s.h == h; });
    if (it == status_clients_.end()) {
      return;
    }
    while (it->written < it->text.size()) {
      const auto* data = reinterpret_cast<const std::uint8_t*>(it->text.data()) + it->written;
      const io_result res = p_.stream_write(h, {data, it->text.size() - it->written});
      if (res.status == io_status::would_block) {
        return;
      }
      if (res.status != io_status::ok) {
        break;
      }
      it->written += res.bytes;
    }
    owners_.erase(h);
    p_.close(h);
    status_clients_.erase(it);
  }

  std::pair<std::uint64_t, std::uint64_t> plugin_drops(std::uint32_t channel) const {
    std::uint64_t drops = 0;
    std::uint64_t reorders = 0;
    for (const plugin_instance* pi : {&gre_, &ppp_}) {
      std::array<pptpkit_stat, 128> st{};
      const std::int32_t n = pi->ops().read_stats(pi->inst, channel, st.data(), st.size());
      for (std::int32_t i = 0; i < std::min<std::int32_t>(n, st.size()); ++i) {
        const std::string_view name = st[i].name != nullptr ? st[i].name : "";
        if (name.starts_with("drop")) {
          drops += st[i].value;
        }
        if (name.find("reorder") != std::string_view::npos) {
          reorders += st[i].value;
        }
      }
    }
    return {drops, reorders};
  }

  std::string counters_text(const plugin_instance& pi, std::uint32_t channel) const {
    std::array<pptpkit_stat, 128> st{};
    const std::int32_t n = pi.ops().read_stats(pi.inst, channel, st.data(), st.size());
    std::string out;
    for (std::int32_t i = 0; i < std::min<std::int32_t>(n, st.size()); ++i) {
      out.push_back(' ');
      out.append(st[i].name != nullptr ? st[i].name : "?");
      out.push_back('=');
      out.append(std::to_string(st[i].value));
    }
    return out;
  }

  // ---------------------------------------------------------------- state
  platform& p_;
  daemon_options o_;
  bool server_;
  std::unique_ptr<core::packet_pool> pool_;
  pptpkit_host_services services_{};
  plugin_instance control_, gre_, ppp_;
  chap_secrets secrets_;
  address_pool pool4_;
  runtime_counters counters_;

  handle listener_ = invalid_handle;
  handle gre_h_ = invalid_handle;
  handle status_listener_ = invalid_handle;
  std::unordered_map<handle, owner> owners_;
  std::map<std::uint32_t, connection> connections_;
  std::map<std::uint32_t, session> sessions_;
  std::set<std::int32_t> units_;
  std::vector<std::uint32_t> to_flush_;  // connections with output queued since the last drain()
  std::vector<std::uint32_t> flushing_;  // drain()'s working copy (both keep their capacity)
  std::vector<status_client> status_clients_;
  std::vector<readiness> ready_;
  std::uint32_t next_connection_id_ = 0;
  std::uint32_t ctx_connection_ = 0;
  std::uint32_t ctx_session_ = 0;

  std::uint64_t now_ = 0;
  std::uint64_t started_ns_ = 0;
  log_limiter log_limiter_;
  bool stopping_ = false;
  std::uint64_t stop_deadline_ = 0;
  bool finished_ = false;
  int exit_status_ = 0;
  // client
  std::uint64_t reconnect_at_ = 0;
  std::uint32_t failures_ = 0;
  bool attempt_had_session_ = false;
  bool ever_up_ = false;
};

}  // namespace

std::unique_ptr<engine> engine::create(platform& p, const daemon_options& options) {
  return std::make_unique<engine_impl>(p, options);
}

}  // namespace pptpkit::runtime
