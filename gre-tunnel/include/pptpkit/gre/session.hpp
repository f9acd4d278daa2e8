// pptpkit/gre/session.hpp — one PPTP call's data channel: sequencing, acknowledgement, window and the
// reorder buffer (RFC 2637 §4.2-§4.4).
//
// Send side. Every data packet gets the next sequence number; we start at 0 (RFC 2637 §4.2.1). The ack
// for what we received rides on outgoing data when there is some (§4.2.5); otherwise a standalone ack
// (12 bytes, no sequence number) goes out after a short delay, min(ack_delay, ATO / 2), like pptpd.
// The peer's receive window is advertised at call setup. Many peers never acknowledge (Android's
// kernel client) and Windows ignores windows, so the window is enforced only when the tunnel is
// configured to (enforce_peer_window): then at most `window` packets are unacknowledged, the rest wait
// in a bounded queue (overflow counted), and an acknowledgement time-out halves the window (§4.4.2).
// Frames flagged PPTPKIT_PACKET_F_CONTROL (LCP, CCP...) never wait in that queue and are never dropped
// for congestion: they go out at once.
//
// Receive side. The first packet fixes where the peer's numbering starts (peers start at 0 or 1).
// In-order packets are delivered at once; a packet ahead of the next expected one is held in a ring
// indexed by sequence number (reorder_depth packets at most) until the gap fills, or until the lowest
// held packet has waited reorder_timeout (pptp-linux's reorder timeout), when the gap is skipped and
// counted lost. Duplicates (held, or delivered within the last 64) and stale packets (behind, gap
// already skipped) are dropped and counted. A packet more than the receive window ahead is put aside
// (one at most, for reorder_timeout); when the next packet continues it (or precedes it within a
// window) the stream has jumped (a loss burst longer than the window, the later half of a displaced
// run) and the receiver follows, delivering both; otherwise it is dropped as out of window. A receiver
// never stalls on a jump. A packet more than the window behind is late (the earlier half of a run the
// sender displaced, a straggler) and dropped (far_behind); only a run far behind that lasts
// restart_confirm with nothing of the current numbering in between proves a restarted peer, and is
// followed. Following a late run back would hand PPP old frames (MPPE coherency counts going backwards)
// until the current numbering pulled the receiver forward again (gre-tunnel/DESIGN.md, "Sequence
// jumps").
//
// Time: the adaptive acknowledgement time-out (ATO) of RFC 2637 §4.4.1 (TCP's estimator: alpha 1/8,
// beta 1/4, chi 4), starting from the peer's packet processing delay.
//
// No allocation after construction; every packet a session holds is freed by close().
// Threading: owned and driven by its tunnel.
#pragma once

#include <boost/intrusive/set_hook.hpp>
#include <cstdint>
#include <memory>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/counters.hpp"
#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/gre/header.hpp"

namespace pptpkit::gre {

// Every counter of the tunnel, per session and instance-wide (read_stats). Header rejects and
// unknown_call are counted only instance-wide: the session is not known yet.
#define PPTPKIT_GRE_COUNTERS(X)                                                              \
  X(received, "valid GRE packets received (data and ack-only)")                              \
  X(received_ack_only, "ack-only GRE packets received")                                      \
  X(delivered, "PPP frames delivered in order to PPP")                                       \
  X(reordered, "packets that arrived ahead of a gap and were held in the reorder buffer")    \
  X(duplicates, "packets received twice (dropped)")                                          \
  X(lost, "sequence numbers skipped after the reorder timeout or with the buffer full")      \
  X(out_of_window, "packets too far ahead of the next expected one (dropped)")               \
  X(stale, "packets behind the next expected one whose gap was already skipped (dropped)")   \
  X(far_behind, "packets more than the window behind: late, displaced runs (dropped)")       \
  X(resynchronised, "forward sequence jumps followed (the stream continued out of window)")  \
  X(restarted, "peer numbering restarts followed (a run far behind lasted restart_confirm)") \
  X(bad_ack, "acknowledgements of packets we never sent (ignored)")                          \
  X(wrong_peer_address, "GRE from an address other than the session's peer (dropped)")       \
  X(unknown_call, "GRE for a call id with no open session (held briefly, else dropped)")     \
  X(early_delivered, "GRE that arrived just before its call opened, delivered when it did")  \
  PPTPKIT_GRE_HEADER_REJECTS(X)                                                              \
  X(sent, "GRE packets sent (data and ack-only)")                                            \
  X(sent_control, "PPP control frames sent ahead of queued data")                            \
  X(sent_ack_only, "standalone (ack-only) GRE packets sent")                                 \
  X(piggybacked_acks, "acknowledgements carried on data packets")                            \
  X(queued, "data frames that waited for the peer's window")                                 \
  X(queue_overflow, "data frames dropped: the send queue was full")                          \
  X(ack_timeouts, "acknowledgement time-outs: the send window was halved (RFC 2637 §4.4.2)") \
  X(send_no_headroom, "frames dropped: too little headroom for the GRE header")              \
  X(send_too_long, "frames dropped: longer than the 16-bit GRE payload length")              \
  X(send_unknown_session, "frames to send for a call id with no open session (dropped)")     \
  X(ack_alloc_failed, "standalone acks postponed: the packet pool was empty")

PPTPKIT_DEFINE_COUNTERS(gre_counters, PPTPKIT_GRE_COUNTERS);

// The tunnel's settings (keys in pptpkit/gre.h), in nanoseconds where times.
struct tunnel_config {
  std::uint32_t max_sessions = 16384;
  std::uint32_t receive_window = 64;  // RFC 2637 §4.2.1: what we advertise and accept out of order
  bool enforce_peer_window = false;
  std::uint32_t send_queue_limit = 256;
  std::uint64_t reorder_timeout_ns = 80'000'000;
  std::uint32_t reorder_depth = 32;
  std::uint64_t restart_confirm_ns = 1'000'000'000;  // how long a run far behind must last to be followed
  std::uint64_t ack_delay_ns = 50'000'000;
  std::uint64_t no_data_warning_ns = 5'000'000'000;
  bool check_peer_address = true;
  std::uint32_t first_sequence = 0;  // our first sequence number

  // Reads and checks the keys of pptpkit/gre.h; throws core::config_error naming a bad or unknown key.
  static tunnel_config from(const core::config_map& config);
};

// RFC 2637 §4.4.1 / §4.4.2 constants.
inline constexpr std::uint64_t max_ack_timeout_ns = 3'000'000'000;         // MaxTimeOut
inline constexpr std::uint64_t min_ack_timeout_ns = 10'000'000;            // a floor so a LAN RTT of ~0 still works
inline constexpr std::uint64_t default_processing_delay_ns = 100'000'000;  // when the peer gave 0

// What SESSION_OPEN gives (pptpkit/gre.h).
struct session_params {
  std::uint16_t call_id = 0;       // ours: the key the peer sends us
  std::uint16_t peer_call_id = 0;  // the key we send
  std::uint32_t peer_window = 0;   // 0 = not given
  std::uint64_t peer_processing_delay_ns = 0;
  std::uint32_t peer_address = 0;  // IPv4, host order; 0 = unknown
};

// Where a session's output goes: lists owned by the tunnel.
struct session_output {
  core::packet_list& net_control;  // GRE ready to send, ahead of data
  core::packet_list& net_data;     // GRE ready to send
  core::packet_list& ppp;          // PPP frames received, in order
};

// Things a session wants its tunnel to announce.
enum session_event : std::uint32_t {
  session_event_none = 0,
  session_event_first_data = 1,
  session_event_no_data = 2,
};

class session {
 public:
  session(const core::host& host, const tunnel_config& config, const session_params& params, std::uint64_t now);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // A PPP frame to send (takes p; p.length is the PPP frame, its headroom gets the GRE header).
  void send(pptpkit_packet& p, std::uint64_t now, session_output& out) noexcept;
  // A GRE packet for this session whose header decoded as h (takes p). Returns session_event_*.
  std::uint32_t receive(pptpkit_packet& p, const header_info& h, std::uint64_t now, session_output& out) noexcept;
  // Runs the timers due at now. Returns session_event_*.
  std::uint32_t on_timer(std::uint64_t now, session_output& out) noexcept;
  // The earliest time on_timer has something to do, or PPTPKIT_NO_DEADLINE.
  std::uint64_t deadline() const noexcept;
  // Frees every packet the session holds (queue and reorder buffer).
  void close() noexcept;

  const session_params& params() const noexcept { return params_; }
  const gre_counters& counters() const noexcept { return counters_; }
  gre_counters& counters() noexcept { return counters_; }
  std::uint64_t opened_at() const noexcept { return opened_at_; }

  // State, for tests and read-outs.
  std::uint32_t next_send_sequence() const noexcept { return next_seq_; }
  std::uint32_t outstanding() const noexcept { return next_seq_ - (acked_ + 1); }
  std::uint32_t send_window() const noexcept { return cwnd_; }
  std::uint32_t queued() const noexcept { return queue_.size(); }
  // Packets held: in the reorder buffer, and one put aside far outside the window.
  std::uint32_t held() const noexcept { return held_ + (far_ != nullptr ? 1u : 0u); }
  std::uint32_t expected_sequence() const noexcept { return expected_; }
  std::uint64_t ack_timeout_ns() const noexcept { return ato_ns_; }

  // Hints the CPU to load the state a received packet touches (the members up to the first counters):
  // the tunnel calls it for the next packet of a batch while it works on the current one, so a batch
  // spread over thousands of calls costs about what one call does.
  void prefetch() const noexcept {
    const char* end = reinterpret_cast<const char*>(&counters_.delivered + 1);
    for (const char* at = reinterpret_cast<const char*>(this); at < end; at += 64) {
      __builtin_prefetch(at);
    }
  }

  // True (once) when deadline() may have moved earlier since the last call: the tunnel re-files the
  // session in its timer index only then, so a steady flow costs no timer work per packet.
  bool take_timer_dirty() noexcept {
    const bool dirty = timer_dirty_;
    timer_dirty_ = false;
    return dirty;
  }

  // The tunnel's timer index (an intrusive multiset ordered by timer_key).
  boost::intrusive::set_member_hook<> timer_hook;
  std::uint64_t timer_key = PPTPKIT_NO_DEADLINE;

 private:
  // Send side.
  bool window_open() const noexcept;
  void transmit(pptpkit_packet& p, std::uint64_t now, core::packet_list& to) noexcept;
  void flush_queue(std::uint64_t now, session_output& out) noexcept;
  void on_ack(std::uint32_t ack, std::uint64_t now) noexcept;
  void rtt_sample(std::uint64_t sample_ns) noexcept;
  void send_standalone_ack(std::uint64_t now, session_output& out) noexcept;
  std::uint64_t ack_deadline() const noexcept;
  std::uint64_t send_timeout_deadline() const noexcept;
  bool ack_owed() const noexcept { return received_any_ && expected_ - 1 != last_ack_sent_; }
  void arm_ack(std::uint64_t now) noexcept;

  // Receive side.
  void receive_data(pptpkit_packet& p, std::uint32_t sequence, std::uint64_t now, session_output& out) noexcept;
  void deliver(pptpkit_packet& p, session_output& out) noexcept;
  void drain_in_order(session_output& out) noexcept;
  void skip_gap(std::uint64_t now, session_output& out) noexcept;
  void far_ahead(pptpkit_packet& p, std::uint32_t sequence, std::uint64_t now, session_output& out) noexcept;
  void far_behind(pptpkit_packet& p, std::uint32_t sequence, std::uint64_t now, session_output& out) noexcept;
  void discard_far() noexcept;
  void resynchronise(session_output& out) noexcept;
  void drop(pptpkit_packet& p) noexcept;
  std::uint64_t reorder_deadline() const noexcept;
  std::uint64_t far_deadline() const noexcept;

  // Member order matters: what a received packet touches comes first and together (prefetch()).
  const core::host& host_;
  const tunnel_config& config_;
  session_params params_;
  std::uint64_t opened_at_;

  // Acknowledging what we receive (§4.2.5).
  bool received_any_ = false;
  std::uint32_t last_ack_sent_ = 0;
  bool ack_armed_ = false;
  std::uint64_t ack_due_ = 0;

  // Receive side (§4.3).
  bool started_ = false;
  std::uint32_t expected_ = 0;               // the next sequence number to deliver
  std::uint64_t history_ = 0;                // bit i: expected_ - 1 - i was delivered
  std::unique_ptr<pptpkit_packet*[]> ring_;  // held packets by sequence & ring_mask_
  std::uint32_t ring_mask_ = 0;
  std::uint32_t held_ = 0;
  std::uint32_t head_ = 0;         // lowest held sequence (valid when held_ > 0)
  pptpkit_packet* far_ = nullptr;  // the last packet far ahead of the window, put aside (at most one)
  std::uint32_t far_seq_ = 0;
  // A run of packets far behind the window (dropped), timed to tell a restarted peer from late packets.
  bool behind_run_ = false;
  std::uint32_t behind_next_ = 0;  // the number after the run's last packet
  std::uint32_t behind_packets_ = 0;
  std::uint64_t behind_since_ = 0;  // arrival of the run's first packet

  bool timer_dirty_ = true;

  // EVENT_NO_PEER_DATA / FIRST_PEER_DATA.
  bool seen_data_ = false;
  bool warned_ = false;

  gre_counters counters_;  // received and delivered first: hot

  // Send side (RFC 2637 §4.2).
  std::uint32_t next_seq_;               // from tunnel_config::first_sequence (0 unless configured)
  std::uint32_t acked_;                  // the highest sequence the peer acknowledged (none yet: first - 1)
  bool peer_acked_ = false;              // the peer has acknowledged something
  std::uint32_t cwnd_;                   // the window we use: the peer's, halved on time-outs (§4.4.2)
  core::packet_list queue_;              // data waiting for the window (enforce_peer_window only)
  std::uint64_t last_ack_progress_ = 0;  // when the oldest outstanding packet became the oldest
  // §4.4.1 estimator, in ns.
  std::uint64_t srtt_ns_;
  std::uint64_t rttvar_ns_ = 0;
  std::uint64_t ato_ns_;

  // The send side's timestamps.
  static constexpr std::uint32_t send_times_size = 64;  // send time of the last 64 sequence numbers
  std::uint64_t send_times_[send_times_size] = {};
};

}  // namespace pptpkit::gre
