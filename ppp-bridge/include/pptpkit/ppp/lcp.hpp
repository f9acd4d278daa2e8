// pptpkit/ppp/lcp.hpp — LCP options (RFC 1661 §6, RFC 1334/1994/2759/3748 for the authentication
// protocol) as an fsm_handler.
//
// We ask for: MRU, Magic-Number, PFC, ACFC and, when we authenticate the peer, our most preferred
// Authentication-Protocol (walking down our list as the peer Naks). We accept: MRU >= 128, any ACCM
// (unused on PPTP's synchronous link), Magic-Number (Nak'd when it equals ours: loopback, §6.4),
// PFC, ACFC, and an Authentication-Protocol from our own list when we have credentials; anything else
// is rejected.
#pragma once

#include <cstdint>
#include <vector>

#include "pptpkit/ppp/fsm.hpp"
#include "pptpkit/ppp/layer.hpp"

namespace pptpkit::ppp {

// LCP option types (RFC 1661 §6, assigned numbers).
enum lcp_option : std::uint8_t {
  lcp_opt_mru = 1,
  lcp_opt_accm = 2,  // RFC 1662 §7.1
  lcp_opt_auth = 3,
  lcp_opt_magic = 5,
  lcp_opt_pfc = 7,
  lcp_opt_acfc = 8,
};

inline constexpr std::uint16_t lcp_min_mru = 128;       // pppd's MINMRU; RFC 1661 §6.1 leaves it open
inline constexpr std::uint16_t lcp_default_mru = 1500;  // RFC 1661 §6.1

struct lcp_config {
  std::uint16_t mru = 1400;
  // Protocols (PPTPKIT_PPP_AUTH_*) we authenticate the peer with, most preferred first; empty = none.
  std::vector<std::uint32_t> authenticate_with;
  // Protocols we let the peer authenticate us with (only when we have credentials); empty = refuse.
  std::vector<std::uint32_t> accept_auth;
};

// What the last negotiation settled.
struct lcp_result {
  std::uint16_t peer_mru = lcp_default_mru;  // the largest frame we may send
  std::uint32_t our_auth = 0;                // we authenticate the peer with this (0 = not)
  std::uint32_t peer_auth = 0;               // the peer authenticates us with this (0 = not)
  std::uint32_t our_magic = 0;               // 0 = not negotiated
  std::uint32_t peer_magic = 0;
  bool pfc_tx = false;   // the peer accepts compressed protocol fields
  bool acfc_tx = false;  // the peer accepts compressed address/control
};

class lcp_handler final : public fsm_handler {
 public:
  lcp_handler(layer_events& events, random_source& random, lcp_config config) noexcept
      : events_(events), random_(random), config_(std::move(config)) {}

  const lcp_result& result() const noexcept { return result_; }
  // The peer Nak'd or rejected every protocol we would authenticate it with.
  bool peer_refused_auth() const noexcept { return peer_refused_auth_; }
  // We refused the protocol the peer wanted to authenticate us with (value: that protocol).
  std::uint32_t we_refused_auth() const noexcept { return we_refused_auth_; }
  // Loopback: the peer kept echoing our magic number (RFC 1661 §6.4).
  bool loopback_detected() const noexcept { return loopbacks_ >= loopback_limit; }
  static constexpr std::uint32_t loopback_limit = 5;

  void reset_options() noexcept override;
  void build_request(core::wire_writer& out) noexcept override;
  void judge_begin() noexcept override;
  verdict judge_option(std::uint8_t type, std::span<const std::uint8_t> value,
                       core::wire_writer& nak_out) noexcept override;
  void on_nak_option(std::uint8_t type, std::span<const std::uint8_t> value) noexcept override;
  void on_reject_option(std::uint8_t type) noexcept override;
  void this_layer_up() noexcept override { events_.layer_up(proto_lcp); }
  void this_layer_down() noexcept override { events_.layer_down(proto_lcp); }
  void this_layer_started() noexcept override { events_.layer_started(proto_lcp); }
  void this_layer_finished() noexcept override { events_.layer_finished(proto_lcp); }
  void on_terminate_request(std::span<const std::uint8_t> data) noexcept override {
    events_.peer_terminate(proto_lcp, data);
  }
  bool on_extra_code(std::uint8_t code, std::uint8_t id, std::span<const std::uint8_t> data) noexcept override {
    return events_.extra_code(proto_lcp, code, id, data);
  }
  // Rejecting Echo or Discard does not stop LCP (RFC 1661 §5.6 RXJ+).
  bool code_reject_is_fatal(std::uint8_t code) const noexcept override { return code <= protocol_reject; }

 private:
  std::uint32_t new_magic() noexcept;

  layer_events& events_;
  random_source& random_;
  lcp_config config_;
  lcp_result result_;
  // Our wishes for the next Configure-Request.
  std::uint16_t want_mru_ = 0;
  bool want_magic_ = true;
  bool want_pfc_ = true;
  bool want_acfc_ = true;
  std::size_t auth_index_ = 0;  // into config_.authenticate_with; == size(): not asking
  bool peer_refused_auth_ = false;
  std::uint32_t we_refused_auth_ = 0;
  std::uint32_t loopbacks_ = 0;
};

// Encodes/decodes the Authentication-Protocol option value (RFC 1661 §6.2; CHAP's algorithm octet,
// RFC 1994 §3). Decoding returns 0 for a protocol we do not know.
std::uint32_t decode_auth_option(std::span<const std::uint8_t> value) noexcept;
void write_auth_option(core::wire_writer& out, std::uint32_t auth) noexcept;
const char* auth_name(std::uint32_t auth) noexcept;

}  // namespace pptpkit::ppp
