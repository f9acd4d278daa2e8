// pptpkit/gre/tunnel.hpp — the `gre` plugin's core: every PPTP call's GRE data channel in one sans-IO
// instance (pptpkit/gre.h is the contract).
//
//   NET in (GRE) ──decode──► table[call id] ──► session::receive ──► PPP out (in order)
//   PPP in       ──────────► table[channel] ──► session::send    ──► NET out (control list first)
//   tick(now)    ──────────► timer index    ──► session::on_timer (acks, reorder timeout, ATO)
//
// Demultiplexing is a direct table indexed by the 16-bit call id (RFC 2637 §4.1 key, low half): one
// load per packet whatever the number of calls. Timers live in an intrusive multiset ordered by each
// session's earliest deadline; a key is only moved when the deadline comes earlier, so a steady flow
// touches the index once per ack delay, not per packet. Nothing on the data path allocates.
//
// Ownership: packets fed are taken; packets polled belong to the caller. Threading: one thread at a time.
#pragma once

#include <boost/intrusive/set.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/gre.h"
#include "pptpkit/gre/session.hpp"

namespace pptpkit::gre {

// The timer index orders sessions by their timer_key.
struct timer_key_of {
  using type = std::uint64_t;
  const type& operator()(const session& s) const noexcept { return s.timer_key; }
};

class tunnel final : public core::instance {
 public:
  // Throws core::config_error for a bad configuration.
  static std::unique_ptr<tunnel> create(const core::host& host, const core::config_map& config);
  tunnel(const core::host& host, const tunnel_config& config);
  ~tunnel() override;
  tunnel(const tunnel&) = delete;
  tunnel& operator=(const tunnel&) = delete;

  std::int32_t feed(std::uint32_t port, pptpkit_batch& in, std::uint64_t now_ns) noexcept override;
  std::int32_t poll(std::uint32_t port, pptpkit_batch& out, std::uint32_t max, std::uint64_t now_ns) noexcept override;
  std::int32_t command(const pptpkit_command& cmd, std::uint64_t now_ns) override;
  std::int32_t poll_event(pptpkit_event& out) noexcept override;
  std::uint64_t next_deadline() const noexcept override;
  std::int32_t tick(std::uint64_t now_ns) noexcept override;
  std::int32_t read_stats(std::uint32_t channel, pptpkit_stat* out, std::uint32_t max) const noexcept override;

  // C++ access for tests and embedders.
  std::int32_t open_session(const session_params& params, std::uint64_t now);
  std::int32_t close_session(std::uint32_t call_id) noexcept;
  const session* find(std::uint32_t call_id) const noexcept;
  gre_counters totals() const noexcept;
  std::uint32_t session_count() const noexcept { return sessions_; }
  const tunnel_config& config() const noexcept { return config_; }

 private:
  using timer_index = boost::intrusive::multiset<
      session, boost::intrusive::member_hook<session, boost::intrusive::set_member_hook<>, &session::timer_hook>,
      boost::intrusive::key_of_value<timer_key_of>>;

  void receive_one(pptpkit_packet& p, std::uint64_t now) noexcept;
  void send_one(pptpkit_packet& p, std::uint64_t now) noexcept;
  void rearm(session& s) noexcept;
  void announce(const session& s, std::uint32_t events, std::uint64_t now) noexcept;
  session_output output() noexcept { return {net_control_, net_data_, ppp_}; }

  core::host host_;
  tunnel_config config_;
  std::vector<std::unique_ptr<session>> table_;  // by our call id (all 65536 keys)
  std::uint32_t sessions_ = 0;
  timer_index timers_;
  core::packet_list net_control_;
  core::packet_list net_data_;
  core::packet_list ppp_;
  core::event_queue events_;
  gre_counters counters_;  // instance-wide only (rejects, unknown calls) plus closed sessions' totals
};

// The plugin's descriptor (the module exports it through pptpkit_plugin_query).
const pptpkit_plugin_descriptor& plugin_descriptor() noexcept;

}  // namespace pptpkit::gre
