// runtime/src/engine_impl.hpp — the engine's state, shared by the files that each handle one concern.
//
// File map (each file defines the engine_impl members of its concern):
//   engine.cc       the loop: wait -> signals -> readiness -> ticks -> timers -> settle (drain + reap)
//   plugin_set.*    the three plugin instances: load, command, deadlines, ticks, counters
//   host_services.cc  what the plugins call back: logs (tagged, escaped, rate-limited per peer), packets
//                   (a data pool and a control pool), time, randomness
//   connections.cc  control links: admission, accept, read, bounded output, flush, close requests
//   sessions.cc     calls: open, login (secrets, throttle, address), interface, hooks, teardown requests
//   events.cc       plugin events -> connection and session changes
//   forwarding.cc   the data path: raw GRE <-> gre <-> ppp <-> tun, pausing readers when the pool is dry
//   lifecycle.cc    signals, stop, the client's reconnects, status (socket and report)
//   radius.cc       RADIUS: logins verified, accounting, Session/Idle-Timeout, Disconnect and CoA
// and pure parts with their own tests: admission.hpp (connection caps, login throttle), redial.hpp,
// interface_names.hpp, peer_text.hpp, log_limiter.hpp, radius_nas.hpp (what a NAS sends RADIUS).
//
// Teardown is a request: anything that ends a session or a connection marks it and lists it; the loop
// reaps the lists once per settle round, after the ports and events have drained, so no object is
// destroyed while a caller still holds it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "plugin_set.hpp"
#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/counters.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/ppp.h"
#include "pptpkit/radius/accept.hpp"
#include "pptpkit/radius/client.hpp"
#include "pptpkit/radius/dae.hpp"
#include "pptpkit/runtime/admission.hpp"
#include "pptpkit/runtime/engine.hpp"
#include "pptpkit/runtime/interface_names.hpp"
#include "pptpkit/runtime/log_limiter.hpp"
#include "pptpkit/runtime/radius_nas.hpp"
#include "pptpkit/runtime/redial.hpp"
#include "pptpkit/runtime/secrets.hpp"

namespace pptpkit::runtime {

// The runtime's own counters (the plugins count their protocol's).
#define PPTPKIT_RUNTIME_COUNTERS(X)                                                                          \
  X(connections_accepted, "control connections accepted or established")                                     \
  X(connections_refused_limit, "connections closed at once: --max-connections reached")                      \
  X(connections_refused_source, "connections closed at once: --max-connections-per-source reached")          \
  X(connections_refused_pending, "connections closed at once: --max-pending-connections reached")            \
  X(connections_evicted_pending, "connections closed: oldest in its handshake when the pending cap was hit") \
  X(accept_failed, "accept failures for want of descriptors or memory (listener paused)")                    \
  X(connect_failed, "client: TCP connect to the server failed")                                              \
  X(sessions_started, "calls that got a GRE and PPP session")                                                \
  X(sessions_up, "sessions whose IPv4 came up")                                                              \
  X(sessions_ended, "sessions torn down")                                                                    \
  X(auth_failures, "authentication failures (either side)")                                                  \
  X(auth_timeouts, "sessions ended: not authenticated within --auth-timeout")                                \
  X(logins_delayed, "login answers delayed: repeated failures from the source or for the user")              \
  X(logins_refused_throttle, "logins refused: too many failures from the source address")                    \
  X(reauth_refused, "sessions ended: the peer authenticated again as another user")                          \
  X(ipcp_renegotiated, "IPCP came up again on a live session")                                               \
  X(address_pool_exhausted, "logins refused: no free address in --remoteip")                                 \
  X(address_in_use, "logins refused: the user's chap-secrets address is taken")                              \
  X(tun_open_failed, "sessions ended: the tunnel interface could not be made")                               \
  X(tun_failed, "sessions ended: their interface failed or was deleted")                                     \
  X(control_output_overflow, "connections closed: the peer stopped reading")                                 \
  X(control_drain_timeouts, "connections closed: queued output not taken within the drain deadline")         \
  X(control_alloc_failed, "connections closed: the control packet pool was exhausted")                       \
  X(readers_paused, "times GRE and interface reads were paused: the packet pool was empty")                  \
  X(drop_no_interface, "IP packets from PPP for a session without an interface")                             \
  X(no_gre_warnings, "sessions with control up but no GRE from the peer")                                    \
  X(plugin_errors, "plugin calls that returned an error")                                                    \
  X(plugin_stuck_deadlines, "ticks after which a plugin's deadline was still due")                           \
  X(drop_tun_write, "IP packets the interface did not take")                                                 \
  X(drop_gre_send, "GRE packets the raw socket did not send")                                                \
  X(status_requests, "status socket requests answered")                                                      \
  X(status_refused_limit, "status requests refused: too many at once")                                       \
  X(hooks_run, "ip-up / ip-down scripts started")                                                            \
  X(radius_accepts, "logins RADIUS accepted")                                                                \
  X(radius_rejects, "logins RADIUS rejected")                                                                \
  X(radius_challenges, "EAP rounds RADIUS answered with Access-Challenge")                                   \
  X(radius_no_answer, "logins refused: no RADIUS server answered in time")                                   \
  X(radius_busy, "requests not sent: too many RADIUS requests outstanding")                                  \
  X(radius_bad_accept, "logins refused: an Access-Accept the session cannot use (address, keys)")            \
  X(radius_acct_sent, "Accounting-Requests answered")                                                        \
  X(radius_acct_lost, "Accounting-Requests that no server answered")                                         \
  X(radius_socket_errors, "RADIUS datagrams that could not be sent or read")                                 \
  X(session_timeouts, "sessions ended: Session-Timeout")                                                     \
  X(idle_timeouts, "sessions ended: Idle-Timeout")                                                           \
  X(dae_disconnects, "sessions ended by a Disconnect-Request")                                               \
  X(dae_coa, "CoA-Requests applied")                                                                         \
  X(dae_naks, "Disconnect/CoA-Requests answered with a NAK")                                                 \
  X(dae_dropped, "Disconnect/CoA-Requests dropped: unknown client, bad authenticator or malformed")
PPTPKIT_DEFINE_COUNTERS(runtime_counters, PPTPKIT_RUNTIME_COUNTERS);

inline constexpr std::uint64_t seconds = 1'000'000'000;

// Bounds decided up front (runtime/DESIGN.md, "Bounds").
inline constexpr std::uint32_t batch_max = PPTPKIT_BATCH_MAX;
inline constexpr std::uint32_t control_output_max_packets = 32;          // queued messages per connection
inline constexpr std::uint64_t control_drain_timeout_ns = 20 * seconds;  // output not taken at all: close
inline constexpr std::uint64_t closing_drain_timeout_ns = 5 * seconds;   // an ended connection's last words
inline constexpr std::uint32_t max_status_clients = 8;
inline constexpr std::uint32_t held_packets_max = 64;
inline constexpr std::uint64_t stop_bound_ns = 5 * seconds;         // SIGTERM: calls get this long to clear
inline constexpr std::uint64_t connect_timeout_ns = 30 * seconds;   // client TCP connect
inline constexpr std::uint64_t accept_backoff_ns = 1 * seconds;     // listener paused after EMFILE/ENFILE
inline constexpr std::uint64_t pending_evict_age_ns = 1 * seconds;  // a handshake this old may be evicted
inline constexpr std::uint64_t paused_poll_ns = 10'000'000;         // pool empty: look again this often
inline constexpr int max_settle_rounds = 64;
inline constexpr std::uint32_t max_reads_per_ready = 8;  // batches per readiness: one peer cannot starve others

enum class owner_kind { listener, connection, gre, tun, status_listener, status_client, radius, dae };
struct owner {
  owner_kind kind;
  std::uint32_t id = 0;
};

struct connection {
  std::uint32_t id = 0;
  handle h = invalid_handle;
  endpoint peer;
  bool admitted = false;  // counted by connection_admission (server)
  bool pending = true;    // handshake not finished (counted as pending while admitted)
  std::uint64_t accepted_ns = 0;
  bool connecting = false;  // client: TCP connect in progress
  std::uint64_t connect_deadline = 0;
  bool up = false;            // CONNECTION_UP seen
  bool down = false;          // CONNECTION_DOWN seen: close once the output is written
  bool stopping = false;      // CONNECTION_STOP sent
  bool closing = false;       // listed in to_close_: reaped this round
  core::packet_list out;      // one control message per packet, in order (control pool)
  bool flush_listed = false;  // in the engine's to_flush_ list
  bool watching_write = false;
  std::uint64_t drain_deadline = 0;  // armed while output waits: no progress by then closes it
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
  bool ending = false;  // listed in to_teardown_: reaped this round
  std::string end_reason;
  bool up = false;
  bool hook_up_run = false;
  bool authenticated = false;                 // server: the peer proved its name (the address is assigned then)
  std::uint64_t auth_deadline = 0;            // server: armed until authenticated
  std::optional<std::string> deferred_login;  // server: a login answer the throttle holds back
  std::uint64_t deferred_until = 0;
  handle tun = invalid_handle;
  std::string ifname;
  std::int32_t unit = -1;  // server: the N of PREFIXN
  std::uint32_t local = 0;
  std::uint32_t remote = 0;
  bool remote_held = false;  // `remote` is marked used in the pool
  std::uint32_t dns1 = 0;
  std::uint32_t dns2 = 0;
  std::string user;  // as the peer sent it; escape with peer_text before showing it
  std::string auth = "none";
  std::string mppe = "none";
  std::uint64_t ipv6_local = 0;
  std::uint64_t ipv6_peer = 0;
  // IP packets PPP delivered before IPV4_UP was handled (both come out of one drain round): written
  // when the interface opens; at most held_packets_max.
  core::packet_list held;
  // RADIUS (radius.cc)
  bool host_verifies = false;                        // PPP asks us to verify logins (auth_verify=host)
  std::uint32_t radius_protocol = 0;                 // PPTPKIT_PPP_AUTH_* of the pending verification
  std::optional<radius::request_id> radius_request;  // the Access-Request in flight
  std::vector<std::uint8_t> radius_state;            // State of the last Access-Challenge (EAP)
  std::vector<std::vector<std::uint8_t>> classes;    // Class attributes, echoed into accounting
  std::string acct_session_id;
  bool acct_started = false;
  end_cause cause = end_cause::nas_error;  // for Acct-Terminate-Cause; set by the first teardown request
  std::string pool;                        // the named pool `remote` came from (Framed-Pool), "" = --remoteip
  std::uint32_t session_timeout_s = 0;
  std::uint32_t idle_timeout_s = 0;
  std::uint32_t interim_s = 0;
  std::uint64_t session_deadline = 0;
  std::uint64_t idle_deadline = 0;
  std::uint64_t interim_deadline = 0;
  std::uint64_t idle_mark = 0;       // rx + tx packets when the idle timer was armed
  std::vector<route> framed_routes;  // the user's subnets (Framed-IP-Netmask, Framed-Route)
  std::uint32_t framed_mtu = 0;      // Framed-MTU: the interface's MTU at most this (0 = as negotiated)
  std::uint64_t rx_packets = 0;      // from the peer, written to the interface
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;  // read from the interface, towards the peer
  std::uint64_t tx_bytes = 0;
};

struct status_client {
  handle h = invalid_handle;
  std::string text;
  std::size_t written = 0;
};

// Timers the runtime keeps itself (the plugins keep theirs): one ordered set, each entry checked
// against its object when it fires, erased when its object disarms it.
enum class timer_kind : std::uint8_t {
  auth_deadline,
  deferred_login,
  connection_drain,
  session_timeout,
  idle_timeout,
  acct_interim
};
struct timer_entry {
  std::uint64_t at;
  timer_kind kind;
  std::uint32_t id;
  friend auto operator<=>(const timer_entry&, const timer_entry&) = default;
};

class engine_impl final : public engine {
 public:
  engine_impl(platform& p, const daemon_options& o);
  ~engine_impl() override;

  bool start(std::string& error) override;
  void step() override;
  int run() override;
  bool finished() const override { return finished_; }
  int exit_status() const override { return exit_status_; }
  std::size_t session_count() const override { return sessions_.size(); }
  std::uint64_t next_deadline() const override;
  std::string status_report() const override;

 private:
  // ---- engine.cc: the loop
  void dispatch(const readiness& r);
  bool is_data_path(handle h) const;
  void settle();
  bool reap();
  void arm(timer_kind kind, std::uint32_t id, std::uint64_t& slot, std::uint64_t at);
  void disarm(timer_kind kind, std::uint32_t id, std::uint64_t& slot);
  void run_timers();

  // ---- host_services.cc
  pptpkit_host_services make_services(bool control);
  static void service_log(void* ctx, std::uint32_t level, const char* component, const char* text);
  static std::uint64_t service_now(void* ctx);
  static std::int32_t service_random(void* ctx, std::uint8_t* out, std::uint32_t n);
  static std::uint32_t service_alloc(void* ctx, pptpkit_packet** out, std::uint32_t n);
  static std::uint32_t service_alloc_control(void* ctx, pptpkit_packet** out, std::uint32_t n);
  static void service_free(void* ctx, pptpkit_packet* const* pkts, std::uint32_t n);
  void free_packet(pptpkit_packet* p);
  void free_packets(core::packet_list& list);
  // A line about connection `c` / session `s`, through the per-peer limiter (debug lines are exempt).
  void log(std::uint32_t level, std::uint32_t c, std::uint32_t s, const std::string& text);
  // A line about a peer that has no connection (yet): keyed by its address all the same.
  void log_about(std::uint32_t level, std::uint32_t peer, const std::string& text);
  // Every line: tagged [cN sM], limited per `peer` (0 = the daemon's own lines).
  void emit(std::uint32_t level, std::string_view component, std::uint32_t c, std::uint32_t s, std::uint32_t peer,
            std::string_view text);
  std::uint32_t peer_of(std::uint32_t c, std::uint32_t s) const;
  std::string tag(std::uint32_t c, std::uint32_t s) const;
  std::int32_t command(plugin_instance& pi, std::uint32_t type, std::uint32_t channel,
                       std::initializer_list<std::uint64_t> values, const entry_list& entries = {},
                       std::uint32_t log_connection = 0, std::uint32_t log_session = 0);

  // ---- connections.cc
  std::uint32_t new_connection_id();
  void accept_connections();
  connection& add_connection(handle h, endpoint peer);
  void on_connection_ready(std::uint32_t id, const readiness& r);
  void read_connection(connection& c);
  void release_socket(connection& c);
  void request_close(connection& c, std::string_view why);
  void close_connection(std::uint32_t id);
  void connection_established(connection& c);
  void queue_output(connection& c, pptpkit_packet& p);
  void flush(connection& c);
  void flush_listed();
  void pause_listener();
  bool evict_oldest_pending();
  void note_pending(std::uint32_t id);

  // ---- sessions.cc
  void open_session(connection& c, const pptpkit_event& ev);
  void request_teardown(session& s, std::string why, end_cause cause = end_cause::nas_error);
  void teardown_begin(session& s);
  void teardown_finish(session& s);
  bool should_stop_when_idle(const connection& c) const;
  void on_login(session& s, const std::string& name);
  void answer_login(session& s, const std::string& name);
  bool assign_address(session& s, const std::string& name, const secret_entry& e, entry_list& entries);
  void on_authenticated(session& s, const pptpkit_event& ev);
  void on_ipv4_up(session& s, const pptpkit_event& ev);
  bool open_interface(session& s, std::uint32_t mtu);
  void apply_ipv6(session& s);
  void run_hook(const std::string& path, const session& s, const std::vector<std::string>& extra);

  void refuse_login(session& s);

  // ---- radius.cc
  bool radius_start(std::string& error);
  void radius_stop();
  bool radius_idle() const;
  void radius_read();
  void radius_pump();
  void radius_verify(session& s, const std::string& name);
  void on_radius_result(radius::result& r);
  void radius_auth_result(session& s, radius::result& r);
  bool radius_address(session& s, const radius::authorization& a, entry_list& entries);
  void release_address(session& s);
  void account(session& s, std::uint32_t status);
  void radius_session_up(session& s);
  void radius_session_down(session& s);
  void radius_timer(timer_kind kind, session& s);
  void dae_read();
  void dae_answer(endpoint to, std::span<const std::uint8_t> reply);
  std::string radius_status() const;

  // ---- events.cc
  bool drain_events();
  void on_control_event(const pptpkit_event& ev);
  void on_gre_event(const pptpkit_event& ev);
  void on_ppp_event(const pptpkit_event& ev);

  // ---- forwarding.cc
  void receive_gre();
  void read_tun(std::uint32_t id);
  bool drain_ports();
  void deliver_to_interfaces(core::packet_list& l);
  void interface_failed(session& s, const std::string& error);
  void pause_readers();
  void resume_readers();

  // ---- lifecycle.cc
  void on_signals(std::uint32_t signals);
  void reload_secrets();
  void begin_stop();
  void lifecycle_timers();
  void connect_to_server();
  void client_attempt_ended();
  void accept_status();
  void write_status(handle h);

  // ---- state
  platform& platform_;
  daemon_options options_;
  bool server_;
  std::unique_ptr<core::packet_pool> pool_;          // the data path: GRE, PPP, interfaces
  std::unique_ptr<core::packet_pool> control_pool_;  // control bytes and messages only
  pptpkit_host_services services_{};
  pptpkit_host_services control_services_{};
  std::unique_ptr<plugin_set> plugins_;
  chap_secrets secrets_;
  address_pool pool4_;
  runtime_counters counters_;
  connection_admission admission_;
  login_throttle throttle_;
  interface_units units_;
  redial_policy redial_;
  log_limiter log_limiter_;

  // RADIUS (radius.cc); radius_ is null without --radius-server
  std::unique_ptr<radius::client> radius_;
  std::vector<radius::server_config> radius_servers_;  // as radius_ was given them
  radius_secrets radius_secrets_;
  nas_identity nas_;
  const pptpkit_ppp_auth_extension* ppp_auth_ = nullptr;  // the PPP plugin's verify interface (ABI 1.1)
  handle radius_h_ = invalid_handle;
  handle dae_h_ = invalid_handle;
  struct radius_job {
    enum class kind : std::uint8_t { auth, accounting, on_off } what;
    std::uint32_t session = 0;
  };
  std::unordered_map<radius::request_id, radius_job> radius_jobs_;
  std::uint32_t boot_id_ = 0;
  std::uint32_t acct_counter_ = 0;
  std::map<std::string, address_pool> named_pools_;
  std::vector<radius::dae_client> dae_clients_;   // --radius-dae-client with its secret, once at start
  std::map<std::string, user_override> filters_;  // --filter, by Filter-Id

  handle listener_ = invalid_handle;
  bool listener_paused_ = false;
  std::uint64_t listener_resume_at_ = 0;
  handle gre_h_ = invalid_handle;
  handle status_listener_ = invalid_handle;
  bool readers_paused_ = false;
  bool readers_resumed_ = false;  // re-watched in this step: the next wait must not sleep
  std::unordered_map<handle, owner> owners_;
  std::map<std::uint32_t, connection> connections_;
  std::map<std::uint32_t, session> sessions_;
  std::set<timer_entry> timers_;
  std::vector<std::uint32_t> to_flush_;      // connections with output queued since the last flush
  std::vector<std::uint32_t> flushing_;      // flush_listed()'s working copy (both keep their capacity)
  std::vector<std::uint32_t> to_close_;      // connections to reap
  std::deque<std::uint32_t> pending_order_;  // admitted connections in accept order (lazily pruned)
  std::vector<std::uint32_t> to_teardown_;   // sessions to reap
  std::vector<status_client> status_clients_;
  std::vector<readiness> ready_;
  std::uint32_t next_connection_id_ = 0;
  std::uint32_t ctx_connection_ = 0;
  std::uint32_t ctx_session_ = 0;

  std::uint64_t now_ = 0;
  std::uint64_t started_ns_ = 0;
  bool stopping_ = false;
  bool accounting_off_sent_ = false;
  std::uint64_t stop_deadline_ = 0;
  bool finished_ = false;
  int exit_status_ = 0;
  std::uint64_t reconnect_at_ = 0;  // client
};

}  // namespace pptpkit::runtime
