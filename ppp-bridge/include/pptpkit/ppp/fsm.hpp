// pptpkit/ppp/fsm.hpp — the RFC 1661 option-negotiation automaton, once, for every control protocol.
//
// LCP, IPCP, IPV6CP and CCP each instantiate `fsm` with their own `fsm_handler`: the handler knows
// options (what we ask for, how we judge the peer's, how we take a Nak or a Reject) and what the
// layer does when it goes up or down; the fsm owns the ten states, the sixteen events, the restart
// timer and counters, identifiers, retransmission and the rule that a Configure-Reject wins over a
// Configure-Nak (RFC 1661 §5.3-§5.4). Codes beyond 1-7 (LCP's Protocol-Reject and Echo, CCP's
// Reset-Request/Reset-Ack 14/15) go to handler.on_extra_code(); an unhandled one is Code-Rejected.
//
// Sans-IO: time comes in as now_ns, packets leave through control_output, deadline() says when
// tick() wants to run. Memory is fixed per instance (two option buffers); nothing here allocates.
// Threading: one thread. Re-entry: a handler may call close() on its own fsm from this_layer_up()
// (tlu is the last action of every transition that performs it); other re-entry is not supported.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "pptpkit/core/wire.hpp"
#include "pptpkit/ppp/protocol.hpp"

namespace pptpkit::ppp {

// RFC 1661 §4.2, states numbered as there.
enum class fsm_state : std::uint8_t {
  initial = 0,
  starting = 1,
  closed = 2,
  stopped = 3,
  closing = 4,
  stopping = 5,
  req_sent = 6,
  ack_rcvd = 7,
  ack_sent = 8,
  opened = 9,
};
const char* to_string(fsm_state s) noexcept;

// RFC 1661 §4.6 counters and timer.
struct fsm_config {
  std::uint64_t restart_ns = 3'000'000'000;  // Restart timer, default 3 s
  std::uint32_t max_terminate = 2;           // Max-Terminate, default 2
  std::uint32_t max_configure = 10;          // Max-Configure, default 10
  std::uint32_t max_failure = 5;             // Max-Failure, default 5
  // In Ack-Sent, when our request carries the very options the peer asked for (and we Acked), the
  // restart timer does not send it again at once. A peer that never got it (Req-Sent or Ack-Rcvd) keeps
  // repeating its own request every period: after its second repeat ours goes out again. A peer that
  // Acked it is Opened, or opens on our Ack of its one repeat, and then falls silent: after a whole
  // period without a word we open without another request, its Ack having been lost. Were we wrong, the
  // peer's next request renegotiates as RFC 1661 says. Used by CCP: pppd takes any Configure-Request
  // in Opened as a renegotiation and, with MPPE, ends the link ("MPPE disabled"), so the retransmission
  // RFC 1661 prescribes would turn one lost Ack into a dropped session.
  bool patient_ack_sent = false;
};

// How the handler judges one option of the peer's Configure-Request.
enum class verdict : std::uint8_t { ack, nak, reject };

// Per-protocol behaviour. Every function is called by the fsm only.
class fsm_handler {
 public:
  // Forget the previous negotiation: restore our initial wishes (called at irc before the first
  // Configure-Request of a negotiation).
  virtual void reset_options() noexcept = 0;
  // Write the options of our Configure-Request (RFC 1661 §5.1).
  virtual void build_request(core::wire_writer& out) noexcept = 0;

  // A new Configure-Request from the peer is being judged: forget the values of the last one.
  virtual void judge_begin() noexcept {}
  // Judge one option. For nak, write the whole suggested option (type, length, value) to nak_out.
  virtual verdict judge_option(std::uint8_t type, std::span<const std::uint8_t> value,
                               core::wire_writer& nak_out) noexcept = 0;
  // After every option: append options we want the peer to add (RFC 1661 §5.3 allows it in a Nak).
  virtual void judge_missing(core::wire_writer& nak_out) noexcept { (void)nak_out; }

  // The peer Nak'd one of our options with `value`: adopt it or drop the option.
  virtual void on_nak_option(std::uint8_t type, std::span<const std::uint8_t> value) noexcept = 0;
  // The peer rejected one of our options: stop asking for it.
  virtual void on_reject_option(std::uint8_t type) noexcept = 0;

  // The actions tlu, tld, tls, tlf of RFC 1661 §4.4.
  virtual void this_layer_up() noexcept = 0;
  virtual void this_layer_down() noexcept = 0;
  virtual void this_layer_started() noexcept {}
  virtual void this_layer_finished() noexcept = 0;

  // The peer's Terminate-Request (its data is often a reason text).
  virtual void on_terminate_request(std::span<const std::uint8_t> data) noexcept { (void)data; }
  // Codes the fsm does not know. Return false to have the fsm send a Code-Reject (RUC).
  virtual bool on_extra_code(std::uint8_t code, std::uint8_t id, std::span<const std::uint8_t> data) noexcept {
    (void)code, (void)id, (void)data;
    return false;
  }
  // A Code-Reject of one of our codes: true when the protocol cannot go on without it (RXJ-).
  virtual bool code_reject_is_fatal(std::uint8_t code) const noexcept { return code <= code_reject; }

 protected:
  ~fsm_handler() = default;
};

// Counts of what the automaton dropped, readable by its owner.
struct fsm_stats {
  std::uint64_t bad_id = 0;        // Ack/Nak/Reject whose identifier is not our last request's
  std::uint64_t bad_ack = 0;       // Configure-Ack whose options differ from what we sent
  std::uint64_t malformed = 0;     // options that do not parse
  std::uint64_t bad_state = 0;     // packets in Initial/Starting (no lower layer)
  std::uint64_t code_rejects = 0;  // Code-Rejects we sent (RUC)
  std::uint64_t assumed_acks = 0;  // Ack-Sent -> Opened without the peer's Ack (patient_ack_sent, peer_opened)
};

class fsm {
 public:
  fsm(std::uint16_t protocol, fsm_handler& handler, control_output& out, fsm_config config = {}) noexcept
      : protocol_(protocol), handler_(handler), out_(out), config_(config) {}

  // Administrative and lower-layer events (RFC 1661 §4.3).
  void up(std::uint64_t now) noexcept;
  void down() noexcept;
  void open(std::uint64_t now) noexcept;
  // `reason` goes into the Terminate-Request's data.
  void close(std::uint64_t now, std::string_view reason = {}) noexcept;

  // One received control packet of this protocol.
  void receive(const control_packet& pkt, std::uint64_t now) noexcept;
  // A Protocol-Reject of this protocol arrived (RXJ-, RFC 1661 §5.7).
  void protocol_rejected(std::uint64_t now) noexcept;
  // The peer sent what it sends only once Opened (CCP: an MPPE frame), so it Acked our request and the
  // Ack was lost: in Ack-Sent, open as if it had arrived. Elsewhere nothing happens.
  void peer_opened() noexcept;

  // The restart timer (TO+ / TO-).
  std::uint64_t deadline() const noexcept { return deadline_; }
  void tick(std::uint64_t now) noexcept;

  fsm_state state() const noexcept { return state_; }
  bool is_opened() const noexcept { return state_ == fsm_state::opened; }
  std::uint16_t protocol() const noexcept { return protocol_; }
  const fsm_stats& stats() const noexcept { return stats_; }
  const fsm_config& config() const noexcept { return config_; }
  void set_config(const fsm_config& c) noexcept { config_ = c; }
  // Identifier for protocol-specific packets the handler sends (Echo, Reset-Request).
  std::uint8_t next_id() noexcept { return id_++; }

 private:
  void rcr(const control_packet& pkt, std::uint64_t now) noexcept;
  void rca(const control_packet& pkt, std::uint64_t now) noexcept;
  void rcn(const control_packet& pkt, bool reject, std::uint64_t now) noexcept;
  void rtr(const control_packet& pkt, std::uint64_t now) noexcept;
  void rta(std::uint64_t now) noexcept;
  void ruc(const control_packet& pkt) noexcept;
  void rxj(bool fatal, std::uint64_t now) noexcept;
  void assume_ack() noexcept;
  bool request_mirrors_peers() const noexcept;

  // Actions (RFC 1661 §4.4).
  void tlu() noexcept { handler_.this_layer_up(); }
  void tld() noexcept { handler_.this_layer_down(); }
  void tls() noexcept { handler_.this_layer_started(); }
  void tlf() noexcept { handler_.this_layer_finished(); }
  void irc_configure() noexcept { restart_count_ = config_.max_configure; }
  void irc_terminate() noexcept { restart_count_ = config_.max_terminate; }
  void zrc(std::uint64_t now) noexcept;
  void scr(std::uint64_t now) noexcept;
  void sca() noexcept;
  void scn() noexcept;
  void str(std::uint64_t now) noexcept;
  void sta(std::uint8_t id) noexcept;
  void set_state(fsm_state s) noexcept;
  void start_timer(std::uint64_t now) noexcept { deadline_ = now + config_.restart_ns; }

  std::uint16_t protocol_;
  fsm_handler& handler_;
  control_output& out_;
  fsm_config config_;
  fsm_state state_ = fsm_state::initial;
  std::uint32_t restart_count_ = 0;
  std::uint32_t naks_sent_ = 0;  // Configure-Naks sent since the last Configure-Ack (Max-Failure)
  // Ack-Sent with patient_ack_sent, since our last request went out.
  struct patience {
    bool expired = false;                       // the restart timer expired and we sent nothing
    std::uint32_t peer_requests = 0;            // the peer's requests (repeats) we Acked
    std::uint32_t peer_requests_at_expiry = 0;  // ... counted when the timer last expired
  } patience_;
  std::uint64_t deadline_ = UINT64_MAX;
  std::uint8_t id_ = 1;
  std::uint8_t req_id_ = 0;  // identifier of our last Configure-Request
  // Our last Configure-Request's options (an Ack must repeat them) and the reply we are building.
  std::array<std::uint8_t, 256> req_{};
  std::uint32_t req_len_ = 0;
  std::array<std::uint8_t, 1500> reply_{};
  std::uint32_t reply_len_ = 0;
  std::uint8_t reply_code_ = 0;
  std::uint8_t reply_id_ = 0;
  std::array<char, 64> terminate_reason_{};
  std::uint32_t terminate_reason_len_ = 0;
  fsm_stats stats_;
};

}  // namespace pptpkit::ppp
