#include "pptpkit/ppp/ccp.hpp"

#include <algorithm>
#include <array>

#include "pptpkit/ppp.h"

namespace pptpkit::ppp {

namespace {

constexpr const char* component = "ppp";
constexpr const char* negotiation_failed = "MPPE required but peer negotiation failed";  // pppd's words
constexpr const char* mppe_disabled = "MPPE disabled: CCP renegotiated without it";      // pppd: "MPPE disabled"

std::uint32_t read_u32(std::span<const std::uint8_t> v) noexcept {
  return (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) | (std::uint32_t{v[2]} << 8) | v[3];
}

void write_mppe_option(core::wire_writer& out, std::uint32_t bits) noexcept {
  std::array<std::uint8_t, ccp_option_mppe_length> option{};
  if (mppe_encode_option(bits, option) == option.size()) {
    out.bytes(option);
  }
}

unsigned key_bits(mppe_strength s) noexcept {
  return static_cast<unsigned>(s);
}

// CCP with MPPE does not survive a renegotiation with pppd: see fsm_config::patient_ack_sent.
fsm_config patient(fsm_config c) noexcept {
  c.patient_ack_sent = true;
  return c;
}

}  // namespace

ccp_layer::ccp_layer(mppe_policy policy, control_output& out, const core::host& host, std::uint32_t session_id,
                     fsm_config config) noexcept
    : policy_(policy),
      effective_(policy),
      out_(out),
      host_(host),
      session_id_(session_id),
      fsm_(proto_ccp, *this, out, patient(config)) {}

// ---- the session's calls ----

bool ccp_layer::narrow(bool required, bool allow_40, bool allow_56, bool allow_128) noexcept {
  if (started_ || !enabled()) {
    return !started_;
  }
  mppe_policy p = policy_;
  p.allow_40 = p.allow_40 && allow_40;
  p.allow_56 = p.allow_56 && allow_56;
  p.allow_128 = p.allow_128 && allow_128;
  if (!p.allow_40 && !p.allow_56 && !p.allow_128) {
    return false;
  }
  if (required) {
    p.requirement = mppe_requirement::required;
  }
  policy_ = p;
  effective_ = p;
  return true;
}

void ccp_layer::start(const mppe_start_keys* keys, std::uint64_t now) noexcept {
  if (!enabled() || started_) {
    return;
  }
  effective_ = policy_;
  was_up_ = false;
  keys_.reset();
  if (keys != nullptr) {
    keys_ = *keys;
  } else {
    // RFC 3079 §3: MPPE keys come from MS-CHAP only. pppd: "MPPE required, but keys are not available".
    if (policy_.requirement == mppe_requirement::required) {
      fail("MPPE required, but keys are not available: the authentication protocol provides none");
      return;
    }
    effective_.requirement = mppe_requirement::refused;  // CCP still runs, option 18 is neither asked nor acked
  }
  started_ = true;
  // RFC 1962 §1: CCP is opened like an NCP once the Network phase is reached.
  fsm_.open(now);
  fsm_.up(now);
}

void ccp_layer::stop(std::uint64_t now) noexcept {
  if (!started_) {
    return;
  }
  stopping_ = true;  // tld/tlf of this shutdown are not a failed negotiation
  fsm_.down();
  fsm_.close(now);
  mppe_down();
  started_ = false;
  stopping_ = false;
}

void ccp_layer::receive(const control_packet& pkt, std::uint64_t now) noexcept {
  fsm_.receive(pkt, now);
}

void ccp_layer::protocol_rejected(std::uint64_t now) noexcept {
  host_.log(PPTPKIT_LOG_NOTICE, component, "session %u: peer rejected CCP (no compression or encryption)", session_id_);
  fsm_.protocol_rejected(now);  // RFC 1661 §5.7: RXJ-, CCP stops
  if (mppe_reject_is_fatal(policy_)) {
    fail(negotiation_failed);
  }
}

std::uint64_t ccp_layer::deadline() const noexcept {
  return std::min(fsm_.deadline(), decryptor_ ? decryptor_->next_deadline() : UINT64_MAX);
}

void ccp_layer::tick(std::uint64_t now) noexcept {
  fsm_.tick(now);
  if (decryptor_ && decryptor_->next_deadline() <= now) {
    send_reset_request(now);
  }
}

std::optional<mppe_params> ccp_layer::take_up() noexcept {
  std::optional<mppe_params> p = up_news_;
  up_news_.reset();
  return p;
}

std::optional<std::string_view> ccp_layer::take_failure() noexcept {
  if (failure_ == nullptr || failure_reported_) {
    return std::nullopt;
  }
  failure_reported_ = true;
  return std::string_view(failure_);
}

mppe_rx ccp_layer::decrypt(pptpkit_packet& p, std::uint64_t now) noexcept {
  const mppe_rx r = decryptor_->decrypt(p, now);
  // RFC 3078 §8.1 (stateful): a lost or doubtful frame asks the sender to flush at once; again later
  // from tick() while the doubt lasts.
  if (decryptor_->next_deadline() <= now) {
    send_reset_request(now);
  }
  return r;
}

mppe_counters ccp_layer::mppe_totals() const noexcept {
  mppe_counters c = retired_;
  if (encryptor_) {
    c += encryptor_->counters();
  }
  if (decryptor_) {
    c += decryptor_->counters();
  }
  return c;
}

// ---- fsm_handler ----

void ccp_layer::reset_options() noexcept {
  // RFC 3078 §2: every strength we allow, H unless stateful allowed. theirs_ is the peer's business: it is
  // renewed by judge_begin (Opened + RCR runs scr after the peer's request was judged).
  ours_ = mppe_our_request(effective_);
}

void ccp_layer::build_request(core::wire_writer& out) noexcept {
  if (ours_) {
    write_mppe_option(out, *ours_);
  }
}

void ccp_layer::judge_begin() noexcept {
  theirs_.reset();
  peer_sent_mppe_ = false;
}

verdict ccp_layer::judge_option(std::uint8_t type, std::span<const std::uint8_t> value,
                                core::wire_writer& nak_out) noexcept {
  if (type != ccp_option_mppe || value.size() != ccp_option_mppe_length - 2u) {
    // RFC 1962 §3: we implement no compression; Deflate, BSD, Predictor... are Rejected.
    ++stats_.rejected_options;
    return verdict::reject;
  }
  peer_sent_mppe_ = true;
  const std::uint32_t bits = read_u32(value);
  const mppe_judgement j = mppe_judge_peer_request(effective_, bits);
  switch (j.verdict) {
    case ccp_verdict::ack:
      theirs_ = bits;
      return verdict::ack;
    case ccp_verdict::nak:
      write_mppe_option(nak_out, j.bits);  // RFC 1661 §5.3: the value we would accept
      return verdict::nak;
    case ccp_verdict::reject:
      break;
  }
  // MPPC alone (bit C, RFC 2118), no strength in common, or MPPE refused.
  ++stats_.rejected_options;
  return verdict::reject;
}

void ccp_layer::judge_missing(core::wire_writer& nak_out) noexcept {
  // RFC 1661 §5.3 lets a Nak add an option the peer should send: MPPE is required and it did not offer it.
  if (!peer_sent_mppe_ && effective_.requirement == mppe_requirement::required) {
    if (const auto bits = mppe_our_request(effective_)) {
      write_mppe_option(nak_out, *bits);
    }
  }
}

void ccp_layer::on_nak_option(std::uint8_t type, std::span<const std::uint8_t> value) noexcept {
  if (type != ccp_option_mppe || value.size() != ccp_option_mppe_length - 2u) {
    return;  // a suggestion for something we never ask for
  }
  ours_ = mppe_handle_nak(effective_, read_u32(value));
  if (!ours_) {
    // Bits in hex (RFC 3078 §2 order): mppe_describe() allocates, and this path must not throw.
    host_.log(PPTPKIT_LOG_NOTICE, component, "session %u: peer's MPPE suggestion 0x%08x is not acceptable", session_id_,
              read_u32(value));
    if (mppe_reject_is_fatal(effective_)) {
      fail(negotiation_failed);
    }
  }
}

void ccp_layer::on_reject_option(std::uint8_t type) noexcept {
  if (type != ccp_option_mppe) {
    return;
  }
  ours_.reset();
  if (mppe_reject_is_fatal(effective_)) {
    fail(negotiation_failed);
  }
}

void ccp_layer::this_layer_up() noexcept {
  if (!ours_ && !theirs_) {
    if (effective_.requirement == mppe_requirement::required) {
      fail(negotiation_failed);
    } else if (was_up_) {
      fail(mppe_disabled);
    } else {
      host_.log(PPTPKIT_LOG_INFO, component, "session %u: CCP opened without MPPE", session_id_);
    }
    return;
  }
  // RFC 1962 §1 negotiates each direction on its own, and RFC 3078's H bit with it: our request (acked as
  // ours_) is how the peer sends to us, its request (theirs_) how we send to it. pppd with mppe-stateful
  // acks our stateful request while asking for stateless itself, and the kernel keys each direction on
  // its own, so the modes may differ; the key strength must agree.
  const std::optional<mppe_params> params =
      ours_ && theirs_ ? mppe_agreed(*ours_ & ~mppe_opt_h, *theirs_ & ~mppe_opt_h) : std::nullopt;
  if (!params || !keys_) {
    // One direction encrypted and the other not cannot carry traffic either way: end it like pppd.
    host_.log(PPTPKIT_LOG_NOTICE, component, "session %u: MPPE directions disagree (ours 0x%08x%s, theirs 0x%08x%s)",
              session_id_, ours_.value_or(0), ours_ ? "" : " none", theirs_.value_or(0), theirs_ ? "" : " none");
    fail(effective_.requirement == mppe_requirement::required ? negotiation_failed
                                                              : "MPPE negotiation failed: the directions disagree");
    return;
  }
  // RFC 3079 §3.4: the asymmetric start keys for our role; RFC 3079 §3.1-3.3: session keys from them.
  const mppe_start_keys& start = *keys_;
  const mppe_params receive{params->strength, (*ours_ & mppe_opt_h) != 0};
  const mppe_params send{params->strength, (*theirs_ & mppe_opt_h) != 0};
  encryptor_.emplace(start.send, send);
  decryptor_.emplace(start.receive, receive, &host_);
  up_news_ = receive;
  send_stateless_ = send.stateless;
  was_up_ = true;
  // Worded as pppd does (the mode it receives in), plus ours when it differs.
  host_.log(PPTPKIT_LOG_INFO, component, "session %u: MPPE %u-bit %s compression enabled%s", session_id_,
            key_bits(receive.strength), receive.stateless ? "stateless" : "stateful",
            send.stateless == receive.stateless ? ""
            : send.stateless                    ? " (we send stateless)"
                                                : " (we send stateful)");
}

void ccp_layer::this_layer_down() noexcept {
  // RFC 1962 §2: leaving Opened (peer renegotiates, a Protocol-Reject, or the link goes) stops MPPE.
  // Network packets are held back until it is up again (blocks_network): never in clear once encrypted.
  // Both ends start the new negotiation's MPPE over from the start keys (ppp_mppe does the same).
  mppe_down();
}

void ccp_layer::this_layer_finished() noexcept {
  mppe_down();
  if (!stopping_ && was_up_) {
    fail(mppe_disabled);  // the tunnel was encrypted: it does not go on in clear
  } else if (!stopping_ && mppe_reject_is_fatal(policy_)) {
    fail(negotiation_failed);  // Max-Configure, a Terminate from the peer, or a Protocol-Reject
  }
}

bool ccp_layer::on_extra_code(std::uint8_t code, std::uint8_t id, std::span<const std::uint8_t> data) noexcept {
  (void)data;  // RFC 1962 §5.3: the data field is opaque; MPPE puts nothing there
  if (code != ccp_code_reset_request && code != ccp_code_reset_ack) {
    return false;  // the fsm answers with a Code-Reject (RFC 1661 §5.6)
  }
  if (!fsm_.is_opened() || !encryptor_ || !decryptor_) {
    ++stats_.drop_malformed_reset;  // RFC 1962 §5.3: only meaningful in Opened
    return true;
  }
  if (code == ccp_code_reset_request) {
    ++stats_.reset_requests_received;
  } else {
    ++stats_.reset_acks_received;
  }
  std::array<std::uint8_t, control_header_size> reply{};
  if (mppe_on_ccp_reset({code, id}, *encryptor_, *decryptor_, reply) == reply.size()) {
    out_.send_control(proto_ccp, reply[0], reply[1], {});  // RFC 1962 §5.4: Reset-Ack, same identifier
  }
  return true;
}

bool ccp_layer::code_reject_is_fatal(std::uint8_t code) const noexcept {
  // RFC 1962 §5.3-5.4: a peer that rejects Reset-Request/Ack only loses stateful resynchronisation.
  return code <= code_reject;
}

// ---- helpers ----

void ccp_layer::fail(const char* text) noexcept {
  if (failure_ == nullptr) {
    failure_ = text;
    host_.log(PPTPKIT_LOG_NOTICE, component, "session %u: %s", session_id_, text);
  }
}

void ccp_layer::send_reset_request(std::uint64_t now) noexcept {
  std::array<std::uint8_t, control_header_size> request{};
  if (mppe_poll_ccp_reset(*decryptor_, now, request) == request.size()) {
    ++stats_.reset_requests_sent;
    out_.send_control(proto_ccp, request[0], request[1], {});  // RFC 1962 §5.3
  }
}

void ccp_layer::mppe_down() noexcept {
  if (encryptor_) {
    retired_ += encryptor_->counters();
    encryptor_.reset();
  }
  if (decryptor_) {
    retired_ += decryptor_->counters();
    decryptor_.reset();
  }
}

}  // namespace pptpkit::ppp
