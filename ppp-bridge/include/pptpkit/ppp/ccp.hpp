// pptpkit/ppp/ccp.hpp — the Compression Control Protocol (RFC 1962) of one session, carrying MPPE
// (RFC 3078) and owning its encryptor/decryptor.
//
//   Network phase ─► start(keys) ─► fsm(0x80FD, ccp_layer as handler): option 18 per mppe_policy,
//                                    every other option (MPPC's bit C, Deflate, BSD...) Rejected
//   CCP Opened ─► mppe_agreed(ours, theirs) ─► the start keys given to start() (RFC 3079 §3.4)
//              ─► mppe_encryptor + mppe_decryptor ─► take_up() (the session emits EVENT_ENCRYPTION_UP)
//   Reset-Request/Reset-Ack (codes 14/15) ─► on_extra_code ─► mppe_on_ccp_reset
//   decryptor wants a reset (stateful) ─► deadline()/tick()/after_decrypt() ─► CCP Reset-Request
//
// This is the fourth instance of the generic automaton (fsm.hpp); nothing of it is copied here. Failure
// (MPPE required and: no keys, option 18 rejected or Nak'ed past what we allow, CCP Protocol-Rejected or
// gave up, or the two directions disagree) is not acted on inside the fsm's callbacks: it is latched and
// the session reads it with take_failure() after each call, then ends the link with REASON_ENCRYPTION.
//
// Data path (encrypt/decrypt): in place, no allocation, no exception. Control path may log.
// Threading: one thread; owned by its session.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/ppp/crypto.hpp"
#include "pptpkit/ppp/fsm.hpp"
#include "pptpkit/ppp/mppe.hpp"
#include "pptpkit/ppp/mppe_ccp.hpp"
#include "pptpkit/ppp/mppe_keys.hpp"
#include "pptpkit/ppp/protocol.hpp"

namespace pptpkit::ppp {

// What CCP adds to a session's counters (merged into session_counters by the session).
struct ccp_stats {
  std::uint64_t rejected_options = 0;     // options other than MPPE we Configure-Rejected (MPPC, Deflate...)
  std::uint64_t reset_requests_sent = 0;  // CCP Reset-Requests sent for the decryptor (stateful)
  std::uint64_t reset_requests_received = 0;
  std::uint64_t reset_acks_received = 0;
  std::uint64_t drop_malformed_reset = 0;  // Reset-Request/Ack while MPPE is not up, or malformed
};

class ccp_layer final : private fsm_handler {
 public:
  // `out` and `host` are borrowed for the layer's life.
  ccp_layer(mppe_policy policy, control_output& out, const core::host& host, std::uint32_t session_id,
            fsm_config config) noexcept;
  ccp_layer(const ccp_layer&) = delete;
  ccp_layer& operator=(const ccp_layer&) = delete;

  // The session reached the Network phase (RFC 1661 §3.5): CCP opens like an NCP. keys: the start keys
  // for our role (RFC 3079 §3.4) the authentication gave — derived from the password after MS-CHAPv2, or
  // sent by the host's RADIUS server (MS-MPPE-Send-Key/Recv-Key); nullptr when there are none (PAP,
  // CHAP-MD5, EAP-MD5, or no authentication).
  // When MPPE is refused by policy CCP is not run at all (the session Protocol-Rejects it, pppd's noccp).
  void start(const mppe_start_keys* keys, std::uint64_t now) noexcept;
  // Before start: the authentication server's word on this user (RADIUS MS-MPPE-Encryption-Policy and
  // -Types, RFC 2548 §2.4.4-2.4.5) narrows the policy — encryption required, only these strengths —
  // and never widens it: what the session refused stays refused. False (nothing changed) when the
  // strengths left would be none.
  bool narrow(bool required, bool allow_40, bool allow_56, bool allow_128) noexcept;
  // LCP left Opened or the session ends: CCP goes down with it; MPPE stops.
  void stop(std::uint64_t now) noexcept;
  // Whether the session runs CCP at all (policy not "refused").
  bool enabled() const noexcept { return policy_.requirement != mppe_requirement::refused; }
  bool started() const noexcept { return started_; }
  // CCP runs and may agree MPPE (enabled, and the authentication gave keys): the MTU leaves room for it.
  bool may_encrypt() const noexcept { return started_ && effective_.requirement != mppe_requirement::refused; }

  void receive(const control_packet& pkt, std::uint64_t now) noexcept;
  // LCP Protocol-Reject of 0x80FD (RFC 1661 §5.7): RXJ-, fatal when MPPE is required.
  void protocol_rejected(std::uint64_t now) noexcept;
  std::uint64_t deadline() const noexcept;
  void tick(std::uint64_t now) noexcept;

  // After each call above: MPPE just came up (the session emits EVENT_ENCRYPTION_UP), or a failure text
  // (the session ends with REASON_ENCRYPTION). Each is reported once.
  std::optional<mppe_params> take_up() noexcept;
  // The mode of the direction we send in (take_up() gives the one we receive in; they may differ).
  bool send_stateless() const noexcept { return send_stateless_; }
  std::optional<std::string_view> take_failure() noexcept;

  bool mppe_up() const noexcept { return encryptor_.has_value(); }
  // pppd's require-mppe: no network packet passes while MPPE was required and is not up; nor while CCP
  // renegotiates a tunnel that was encrypted (never in clear once encrypted).
  bool blocks_network() const noexcept { return mppe_blocks_network(policy_, mppe_up()) || (was_up_ && !mppe_up()); }
  const mppe_policy& policy() const noexcept { return policy_; }

  // Data path, only while mppe_up(). encrypt: see mppe_encryptor::encrypt. decrypt: the packet's data
  // starts at the MPPE header (after 0x00FD); a stateful decryptor that lost sync has its Reset-Request
  // sent at once.
  std::int32_t encrypt(pptpkit_packet& p, std::uint16_t protocol) noexcept { return encryptor_->encrypt(p, protocol); }
  mppe_rx decrypt(pptpkit_packet& p, std::uint64_t now) noexcept;

  const fsm& automaton() const noexcept { return fsm_; }
  // An MPPE frame arrived while our request waits for its Ack: only an Opened peer sends one, so the
  // Ack was lost (fsm::peer_opened). Call ccp_news-style take_up()/take_failure() afterwards.
  void peer_sent_mppe() noexcept { fsm_.peer_opened(); }
  const ccp_stats& stats() const noexcept { return stats_; }
  // MPPE counters of the current encryptor/decryptor (zeros while MPPE is down).
  mppe_counters mppe_totals() const noexcept;

 private:
  // fsm_handler (RFC 1962 §3 options, RFC 3078 §2 option 18).
  void reset_options() noexcept override;
  void build_request(core::wire_writer& out) noexcept override;
  void judge_begin() noexcept override;
  verdict judge_option(std::uint8_t type, std::span<const std::uint8_t> value,
                       core::wire_writer& nak_out) noexcept override;
  void judge_missing(core::wire_writer& nak_out) noexcept override;
  void on_nak_option(std::uint8_t type, std::span<const std::uint8_t> value) noexcept override;
  void on_reject_option(std::uint8_t type) noexcept override;
  void this_layer_up() noexcept override;
  void this_layer_down() noexcept override;
  void this_layer_finished() noexcept override;
  bool on_extra_code(std::uint8_t code, std::uint8_t id, std::span<const std::uint8_t> data) noexcept override;
  bool code_reject_is_fatal(std::uint8_t code) const noexcept override;

  void fail(const char* text) noexcept;
  void send_reset_request(std::uint64_t now) noexcept;
  void mppe_down() noexcept;

  mppe_policy policy_;
  mppe_policy effective_;  // policy_, or refused when the authentication gave no keys
  control_output& out_;
  const core::host& host_;
  std::uint32_t session_id_;
  fsm fsm_;
  bool started_ = false;
  bool stopping_ = false;
  bool was_up_ = false;  // MPPE came up in this Network phase
  std::optional<mppe_start_keys> keys_;

  std::optional<std::uint32_t> ours_;    // option 18 in our Configure-Request (nullopt: not asked)
  std::optional<std::uint32_t> theirs_;  // option 18 of the peer's request as we last Acked it
  bool peer_sent_mppe_ = false;          // in the request being judged

  std::optional<mppe_encryptor> encryptor_;
  std::optional<mppe_decryptor> decryptor_;
  mppe_counters retired_;  // counters of encryptors/decryptors from earlier negotiations

  std::optional<mppe_params> up_news_;
  bool send_stateless_ = true;
  const char* failure_ = nullptr;
  bool failure_reported_ = false;
  ccp_stats stats_;
};

}  // namespace pptpkit::ppp
