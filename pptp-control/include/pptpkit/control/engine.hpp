// pptpkit/control/engine.hpp — the sans-IO PPTP control connection engine (RFC 2637 §2-§3), both roles.
//
// One engine is one `control` plugin instance (pptpkit/control.h): it runs in one role (PAC or PNS) and
// owns many control connections, each keyed by the channel id the host gave it. In: TCP stream bytes
// (feed), commands and the current time. Out: one packet per control message to write (poll), events
// (poll_event) and the next time it wants a tick (next_deadline). It never reads a clock, opens a
// socket or blocks.
//
//   feed(bytes) ─► stream_framer ─► handle_<message>() ─► connection / call state machines (§3.1, §3.2)
//                                                          │            │
//   command() ─────────────────────────────────────────────┘            ├─► send<T>() ─► output queue ─► poll()
//   tick(now) ─► handshake / echo / stop-reply / call-setup timers ─────┘   (per connection, bounded)
//                                                                       └─► events ─► poll_event()
//
// Connection states are the RFC's (idle, wait_ctl_reply, established, wait_stop_reply) plus `closed`:
// the connection has ended (CONNECTION_DOWN was queued) and only its remaining output is still to be
// polled; it is forgotten once that output is drained. Call states are the RFC's per role and
// direction (§3.2.2-§3.2.5).
//
// Output: every message is its own packet (its own TCP write, see control.h) and stays queued, whole,
// until polled; a connection whose queue would pass max_output_bytes ends with
// PPTPKIT_CONTROL_REASON_OUTPUT_FULL instead of losing or truncating a message.
//
// Framing, header checks and answering an Echo-Request allocate nothing on the heap; events, new
// connections and new calls do (control path). Threading: one thread at a time (plugin.h).
#pragma once

#include <boost/intrusive/list.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pptpkit/control.h"
#include "pptpkit/control/call_ids.hpp"
#include "pptpkit/control/counters.hpp"
#include "pptpkit/control/framer.hpp"
#include "pptpkit/control/messages.hpp"
#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/plugin_shim.hpp"

namespace pptpkit::control {

inline constexpr const char* log_component = "pptp-control";

enum class role { pac, pns };

// Configuration (control.h lists the keys). Times are kept in nanoseconds.
struct settings {
  control::role role = role::pns;
  std::string host_name;
  std::string vendor = "pptpkit";
  std::uint32_t max_connections = 1024;
  // Calls on one control connection (control.h says why): a PAC's limit binds an unauthenticated peer.
  static constexpr std::uint32_t pac_default_max_calls = 4;
  static constexpr std::uint32_t pns_default_max_calls = 64;
  std::uint32_t max_calls_per_connection = pns_default_max_calls;  // from() sets the role's default
  std::uint64_t echo_interval_ns = 60'000'000'000;                 // RFC 2637 §2.5: 60 s without control traffic
  std::uint64_t echo_timeout_ns = 60'000'000'000;
  std::uint64_t handshake_timeout_ns = 10'000'000'000;
  std::uint64_t call_setup_timeout_ns = 30'000'000'000;
  std::uint64_t stop_reply_timeout_ns = 10'000'000'000;
  std::uint16_t receive_window = 64;
  std::uint16_t processing_delay = 0;
  std::uint32_t max_output_bytes = 65536;
  std::uint32_t connect_speed = 100'000'000;  // bits/s reported in OCRP and ICCN

  // Throws core::config_error naming the key.
  static settings from(const core::config_map& config);
};

// RFC 2637 §3.1.1 / §3.1.2 (plus `closed`, see above).
enum class connection_state { idle, wait_ctl_reply, established, wait_stop_reply, closed };
// RFC 2637 §3.2.2-§3.2.5 (the union of the four diagrams' states).
enum class call_state {
  wait_reply,       // PAC incoming: ICRQ sent (§3.2.2); PNS outgoing: OCRQ sent (§3.2.5)
  wait_connect,     // PNS incoming: ICRP sent, waiting for ICCN (§3.2.4)
  established,      // every diagram
  wait_disconnect,  // PNS: CCRQ sent, waiting for CDN (§3.2.5)
};
enum class call_direction : std::uint32_t { outgoing = 1, incoming = 2 };

const char* state_name(connection_state s) noexcept;
const char* state_name(call_state s) noexcept;

struct call {
  std::uint16_t local_id = 0;
  std::uint16_t peer_id = 0;
  std::uint32_t connection = 0;
  call_state state = call_state::wait_reply;
  call_direction direction = call_direction::outgoing;
  std::uint16_t serial = 0;
  std::uint32_t peer_window = 0;
  std::uint32_t peer_delay = 0;
  std::uint32_t connect_speed = 0;
  std::uint64_t deadline_ns = PPTPKIT_NO_DEADLINE;  // setup or clear timer; none once established
};

struct connection : boost::intrusive::list_base_hook<> {  // hook: the engine's ready-to-poll list
  std::uint32_t id = 0;
  connection_state state = connection_state::idle;
  bool originator = false;  // we send SCCRQ (§3.1.1) or wait for one (§3.1.2)
  bool silent = false;      // won an SCCRQ collision on this connection: never send on it (§3.1.3)
  bool in_ready = false;    // linked in the ready list
  std::uint32_t peer_address = 0;
  std::uint32_t local_address = 0;
  std::uint32_t down_reason = 0;  // a reason decided before the stop exchange ends (REFUSED)
  std::uint16_t peer_version = 0;
  stream_framer framer;
  core::packet_list output;
  std::uint32_t output_bytes = 0;
  std::uint64_t handshake_deadline_ns = PPTPKIT_NO_DEADLINE;
  std::uint64_t stop_deadline_ns = PPTPKIT_NO_DEADLINE;
  std::uint64_t last_rx_ns = 0;
  std::uint64_t echo_deadline_ns = PPTPKIT_NO_DEADLINE;  // an Echo-Request of ours is outstanding
  std::uint32_t echo_identifier = 0;
  std::vector<std::uint16_t> calls;  // our call ids
  control::counters stats;
};

class engine final : public core::instance {
 public:
  engine(const core::host& host, settings s);
  ~engine() override;
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  static std::unique_ptr<core::instance> create(const core::host& host, const core::config_map& config);

  std::int32_t feed(std::uint32_t port, pptpkit_batch& in, std::uint64_t now_ns) noexcept override;
  std::int32_t poll(std::uint32_t port, pptpkit_batch& out, std::uint32_t max, std::uint64_t now_ns) noexcept override;
  std::int32_t command(const pptpkit_command& cmd, std::uint64_t now_ns) override;
  std::int32_t poll_event(pptpkit_event& out) noexcept override;
  std::uint64_t next_deadline() const noexcept override;
  std::int32_t tick(std::uint64_t now_ns) noexcept override;
  std::int32_t read_stats(std::uint32_t channel, pptpkit_stat* out, std::uint32_t max) const noexcept override;

  // For tests and tools.
  const settings& config() const noexcept { return settings_; }
  const connection* find_connection(std::uint32_t id) const noexcept;
  const call* find_call(std::uint16_t local_id) const noexcept;
  control::counters totals() const noexcept;
  const call_id_allocator& call_ids() const noexcept { return call_ids_; }
  // Consistency of the tables (for tests and fuzzers): every call belongs to a live connection that
  // lists it, every live call id is a call, the ready list holds exactly the connections with output,
  // and the cached next_deadline() is not later than the earliest timer.
  bool invariants_hold() const noexcept;

 private:
  static keyed_random::key_type draw_call_id_key(const core::host& host);
  std::uint64_t earliest_deadline() const noexcept;  // the walk behind next_deadline()
  // Input.
  bool on_message(connection& c, std::span<const std::uint8_t> msg, std::uint64_t now);
  void on_sccrq(connection& c, const start_control_connection_request& m, std::uint64_t now);
  void on_sccrp(connection& c, const start_control_connection_reply& m, std::uint64_t now);
  void on_stop_request(connection& c, const stop_control_connection_request& m, std::uint64_t now);
  void on_stop_reply(connection& c, std::uint64_t now);
  void on_echo_request(connection& c, const echo_request& m, std::uint64_t now);
  void on_echo_reply(connection& c, const echo_reply& m);
  void on_ocrq(connection& c, const outgoing_call_request& m, std::uint64_t now);
  void on_ocrp(connection& c, const outgoing_call_reply& m, std::uint64_t now);
  void on_icrq(connection& c, const incoming_call_request& m, std::uint64_t now);
  void on_icrp(connection& c, const incoming_call_reply& m, std::uint64_t now);
  void on_iccn(connection& c, const incoming_call_connected& m, std::uint64_t now);
  void on_ccrq(connection& c, const call_clear_request& m, std::uint64_t now);
  void on_cdn(connection& c, const call_disconnect_notify& m, std::uint64_t now);
  void on_wen(connection& c, const wan_error_notify& m);
  void on_sli(connection& c, const set_link_info& m);

  // Commands.
  std::int32_t cmd_open(const pptpkit_command& cmd, std::uint64_t now);
  std::int32_t cmd_stop(connection& c, const pptpkit_command& cmd, std::uint64_t now);
  std::int32_t cmd_call_open(connection& c, const pptpkit_command& cmd, std::uint64_t now);
  std::int32_t cmd_call_clear(connection& c, const pptpkit_command& cmd, std::uint64_t now);
  std::int32_t cmd_set_link_info(connection& c, const pptpkit_command& cmd);
  std::int32_t cmd_wan_error(connection& c, const pptpkit_command& cmd);

  // Output. Returns the message to fill, or nullptr when it could not be queued (the connection has
  // then ended, or it is silent); the caller must stop using `c`'s output state in that case.
  template <class T>
  T* send(connection& c, std::uint64_t now);
  void send_sccrq(connection& c, std::uint64_t now);
  void send_stop_request(connection& c, std::uint8_t reason, std::uint64_t now);
  void send_echo_request(connection& c, std::uint64_t now);
  void send_cdn(connection& c, const call& k, std::uint8_t result, std::uint64_t now);
  void send_ccrq(connection& c, const call& k, std::uint64_t now);
  template <class Reply>
  void refuse_call(connection& c, std::uint16_t peer_call_id, std::uint8_t result, std::uint64_t now);

  // Connections and calls.
  connection* lookup(std::uint32_t id) noexcept;
  void established(connection& c, std::uint16_t version, std::uint32_t framing, std::uint32_t bearer,
                   std::uint16_t channels, std::uint16_t firmware, std::string_view host, std::string_view vendor);
  // Ends a connection: every call goes down, CONNECTION_DOWN is queued. keep_output: whatever is
  // queued is still polled (a StopCCRP must reach the peer); otherwise it is freed now.
  void end_connection(connection& c, std::uint32_t reason, std::string_view why, bool keep_output);
  void reap() noexcept;
  call* new_call(connection& c, call_direction d, std::uint64_t now);
  // Finds a call of connection c by one side's id, then by the other side's (RFC 2637 §2.13 says the
  // PAC's; peers and NATs use either). `ours_first` says which field the RFC means.
  call* match_call(connection& c, std::uint16_t id, bool ours_first) noexcept;
  void call_up(connection& c, call& k);
  void call_down(connection& c, call& k, std::uint32_t result, std::uint32_t error, std::uint32_t cause,
                 std::string_view why);
  void drop_unexpected(connection& c, const char* what);
  void protocol_error(connection& c, counters& ctr, std::uint64_t counters::*field, const char* why);

  void log(std::uint32_t level, const char* format, ...) const noexcept __attribute__((format(printf, 3, 4)));

  core::host host_;
  settings settings_;
  call_id_allocator call_ids_;
  std::unordered_map<std::uint32_t, std::unique_ptr<connection>> connections_;
  std::unordered_map<std::uint16_t, call> calls_;
  boost::intrusive::list<connection> ready_;  // connections with output to poll, in order
  core::event_queue events_;
  control::counters instance_stats_;  // counted on no connection
  control::counters retired_stats_;   // of connections already forgotten
  std::uint16_t next_serial_ = 1;
  std::uint32_t next_echo_identifier_ = 1;
  bool have_closed_ = false;  // some connection waits for reap()
  std::uint64_t now_ = 0;     // the now_ns of the call being served
  // next_deadline()'s answer, recomputed after feed, command or tick (see next_deadline).
  mutable std::uint64_t deadline_cache_ = PPTPKIT_NO_DEADLINE;
  mutable bool deadline_stale_ = true;
};

}  // namespace pptpkit::control
