// pptpkit/gre/tunnel.hpp — the `gre` plugin's core: every PPTP call's GRE data channel in one sans-IO
// instance (pptpkit/gre.h is the contract).
//
//   NET in (GRE) ──decode──► table[call id] ──► session::receive ──► PPP out (in order)
//   PPP in       ──────────► table[channel] ──► session::send    ──► NET out (control list first)
//   tick(now)    ──────────► timer index    ──► session::on_timer (acks, reorder timeout, ATO)
//
// Demultiplexing is a two-level table indexed by the 16-bit call id (RFC 2637 §4.1 key, low half):
// two dependent loads per packet whatever the number of calls; a page of 256 slots is allocated when
// the first call in it opens, so an instance with few calls stays small and cheap to create. Timers live in an
// intrusive multiset ordered by each session's earliest deadline; a key is only moved when the deadline comes earlier,
// so a steady flow touches the index once per ack delay, not per packet. Nothing on the data path allocates.
//
// Ownership: packets fed are taken; packets polled belong to the caller. Threading: one thread at a time.
#pragma once

#include <array>
#include <boost/intrusive/set.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/gre.h"
#include "pptpkit/gre/session.hpp"

namespace pptpkit::gre {

// Sessions by our call id.
class call_table {
 public:
  static constexpr std::uint32_t size = 65536;  // RFC 2637 §4.1: the call id is 16 bits

  session* find(std::uint32_t id) const noexcept {
    if (id >= size) {
      return nullptr;
    }
    const page* pg = pages_[id >> 8].get();
    return pg == nullptr ? nullptr : (*pg)[id & 0xffu].get();
  }
  // The slot of a call id, allocating its page (control path; may throw std::bad_alloc).
  std::unique_ptr<session>& slot(std::uint16_t id) {
    std::unique_ptr<page>& pg = pages_[id >> 8];
    if (!pg) {
      pg = std::make_unique<page>();
    }
    return (*pg)[id & 0xffu];
  }
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& pg : pages_) {
      if (pg) {
        for (const auto& s : *pg) {
          if (s) {
            fn(*s);
          }
        }
      }
    }
  }

 private:
  using page = std::array<std::unique_ptr<session>, 256>;
  std::array<std::unique_ptr<page>, 256> pages_;
};

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
  // Prefetches the session of p unless it is `warm` (just prefetched); returns p's session.
  const session* prefetch_session(const pptpkit_packet& p, const session* warm) const noexcept;
  void send_one(pptpkit_packet& p, std::uint64_t now) noexcept;
  void rearm(session& s) noexcept;
  void announce(const session& s, std::uint32_t events, std::uint64_t now) noexcept;
  session_output output() noexcept { return {net_control_, net_data_, ppp_}; }

  // Frames for a call id that is not open (yet). The PAC sends its first LCP Configure-Request right
  // after its Outgoing-Call-Reply; over the network the GRE frame can overtake the TCP segment, and a
  // PNS that dropped it would wait for LCP's 3 s restart. So the last `early_max` such frames are kept
  // for at most `early_ttl_ns` and delivered, through the usual checks (the peer's address among them),
  // when a session with their call id opens. Bounded: a flood of unknown call ids only cycles the ring.
  static constexpr std::uint32_t early_max = 8;
  static constexpr std::uint64_t early_ttl_ns = 500'000'000;
  struct early_frame {
    pptpkit_packet* p = nullptr;
    std::uint64_t at = 0;
    std::uint32_t call = 0;
  };
  void hold_early(pptpkit_packet& p, std::uint32_t call, std::uint64_t now) noexcept;
  void deliver_early(std::uint32_t call, std::uint64_t now) noexcept;

  core::host host_;
  tunnel_config config_;
  call_table table_;
  std::uint32_t sessions_ = 0;
  timer_index timers_;
  core::packet_list net_control_;
  core::packet_list net_data_;
  core::packet_list ppp_;
  core::event_queue events_;
  gre_counters counters_;  // instance-wide only (rejects, unknown calls) plus closed sessions' totals
  std::array<early_frame, early_max> early_{};
  std::uint32_t early_next_ = 0;  // the ring's oldest slot, written next
};

// The plugin's descriptor (the module exports it through pptpkit_plugin_query).
const pptpkit_plugin_descriptor& plugin_descriptor() noexcept;

}  // namespace pptpkit::gre
