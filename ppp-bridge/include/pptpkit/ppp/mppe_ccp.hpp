// pptpkit/ppp/mppe_ccp.hpp — the CCP side of MPPE: option 18 (RFC 3078 §2), pppd-like policy, and the
// Reset-Request / Reset-Ack hooks (RFC 1962 §5.3-5.4, RFC 3078 §8.2).
//
// The option carries 32 "Supported Bits" (RFC 3078 §2; pppd's ccp.h names them the same way):
//
//   octet 0: 0x01 H  stateless mode              octet 3: 0x80 M  56-bit keys
//                                                         0x40 S  128-bit keys
//                                                         0x20 L  40-bit keys
//                                                         0x10 D  obsolete, never agreed
//                                                         0x01 C  MPPC compression (RFC 2118), refused
//
// e.g. pptpd logs "mppe +H -M +S -L -D -C" for stateless 128-bit. A Configure-Request offers every
// strength the sender accepts; the answer is a Nak naming exactly one (the strongest both allow) and the
// mode, and the option is acked only when it names one strength, no C, no D and an acceptable mode.
// Both directions must end on the same strength and mode (mppe_agreed).
//
// Everything here is a pure function of its arguments, so the generic RFC 1661 automaton of the CCP
// layer calls it from its request/judge/Nak/Reject hooks. Policy parsing may throw core::config_error;
// the rest never throws or allocates (describe() excepted, for logs).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/ppp/mppe.hpp"

namespace pptpkit::ppp {

inline constexpr std::uint16_t ppp_protocol_ccp = 0x80fd;  // RFC 1962 §2
inline constexpr std::uint8_t ccp_option_mppe = 18;        // RFC 3078 §2 (shared with MPPC, RFC 2118)
inline constexpr std::uint8_t ccp_option_mppe_length = 6;
inline constexpr std::uint8_t ccp_code_reset_request = 14;  // RFC 1962 §5.3
inline constexpr std::uint8_t ccp_code_reset_ack = 15;      // RFC 1962 §5.4

// RFC 3078 §2 Supported Bits, as the 32-bit big-endian value of the option.
inline constexpr std::uint32_t mppe_opt_h = 0x01000000;  // stateless
inline constexpr std::uint32_t mppe_opt_m = 0x00000080;  // 56-bit
inline constexpr std::uint32_t mppe_opt_s = 0x00000040;  // 128-bit
inline constexpr std::uint32_t mppe_opt_l = 0x00000020;  // 40-bit
inline constexpr std::uint32_t mppe_opt_d = 0x00000010;  // obsolete
inline constexpr std::uint32_t mppe_opt_c = 0x00000001;  // MPPC
inline constexpr std::uint32_t mppe_opt_strengths = mppe_opt_m | mppe_opt_s | mppe_opt_l;
inline constexpr std::uint32_t mppe_opt_known = mppe_opt_h | mppe_opt_strengths | mppe_opt_d | mppe_opt_c;

// Decodes one CCP option (type, length, value). nullopt when it is not a well-formed option 18.
std::optional<std::uint32_t> mppe_decode_option(std::span<const std::uint8_t> option) noexcept;
// Writes option 18 with `bits`; returns the bytes written (6), or 0 when out is too small.
std::size_t mppe_encode_option(std::uint32_t bits, std::span<std::uint8_t> out) noexcept;
// pppd's rendering, "+H -M +S -L -D -C", plus any unknown bits in hex. For logs.
std::string mppe_describe(std::uint32_t bits);

enum class mppe_requirement : std::uint8_t { refused, optional, required };

struct mppe_policy {
  mppe_requirement requirement = mppe_requirement::optional;
  bool allow_40 = true;  // pptpkit's defaults are pppd's: 128 and 40, stateless only
  bool allow_56 = false;
  bool allow_128 = true;
  bool allow_stateful = false;

  // pppd's words, applied in order to the defaults: require-mppe, require-mppe-40, require-mppe-56,
  // require-mppe-128, nomppe-40, nomppe-56, nomppe-128, mppe-stateful, nomppe-stateful, refuse-mppe
  // (or nomppe), and "mppe <list>" (pppd 2.4.2+: required, stateless, no40, no56, no128).
  // Throws core::config_error naming the word it does not know or a policy that allows nothing.
  static mppe_policy from_pppd(std::span<const std::string_view> words);
  // The ppp.h session keys: mppe (required|optional|refused), mppe_bits ("128,56,40"), mppe_stateful.
  static mppe_policy from_config(const core::config_map& config);

  std::uint32_t strength_bits() const noexcept;
};

// Our Configure-Request's option: every strength we allow, H unless stateful is allowed (pppd asks for
// stateful when mppe-stateful is given). nullopt when MPPE is refused (the option is not sent).
std::optional<std::uint32_t> mppe_our_request(const mppe_policy& policy) noexcept;

enum class ccp_verdict : std::uint8_t { ack, nak, reject };
struct mppe_judgement {
  ccp_verdict verdict = ccp_verdict::reject;
  std::uint32_t bits = 0;  // ack: the option as received; nak: what we suggest instead
};
// Judges the peer's Configure-Request option (RFC 1661 §5.1-5.4 with RFC 3078 §2's rules).
mppe_judgement mppe_judge_peer_request(const mppe_policy& policy, std::uint32_t peer_bits) noexcept;

// The peer Nak'ed our option with `suggested`: the option to request next, or nullopt when nothing we
// allow is left (drop the option: fatal when required, see mppe_reject_is_fatal).
std::optional<std::uint32_t> mppe_handle_nak(const mppe_policy& policy, std::uint32_t suggested) noexcept;
// The peer rejected option 18 (or CCP itself): true when the session must end (REASON_ENCRYPTION).
bool mppe_reject_is_fatal(const mppe_policy& policy) noexcept;

// Both directions acked: the parameters of the session, or nullopt when they differ or are not a
// single strength (the CCP layer then ends the session like pppd: "MPPE required but peer negotiation
// failed").
std::optional<mppe_params> mppe_agreed(std::uint32_t ours_acked, std::uint32_t theirs_acked) noexcept;

// Network traffic must not pass: MPPE was required and is not up (ppp.h, pppd's require-mppe).
bool mppe_blocks_network(const mppe_policy& policy, bool mppe_up) noexcept;

// ---- Reset-Request / Reset-Ack (RFC 1962 §5.3-5.4) ------------------------------------------------------

// Writes a CCP Reset-Request or Reset-Ack packet (code, id, length 4; no data). Bytes written, or 0.
std::size_t ccp_encode_reset(std::uint8_t code, std::uint8_t id, std::span<std::uint8_t> out) noexcept;

struct ccp_reset {
  std::uint8_t code = 0;
  std::uint8_t id = 0;
};
// Decodes a CCP packet (after the PPP protocol field) when it is a well-formed Reset-Request or Reset-Ack
// (RFC 1962 §5.3: the data field is opaque and ignored for MPPE). nullopt otherwise.
std::optional<ccp_reset> ccp_decode_reset(std::span<const std::uint8_t> packet) noexcept;

// Hook for a received CCP Reset-Request or Reset-Ack: a Reset-Request rekeys our sender's next frame
// (RFC 3078 §8.2) and is answered with a Reset-Ack of the same id, written to `reply` (bytes returned);
// a Reset-Ack is handed to the decryptor. Returns 0 when there is nothing to send.
std::size_t mppe_on_ccp_reset(const ccp_reset& in, mppe_encryptor& tx, mppe_decryptor& rx,
                              std::span<std::uint8_t> reply) noexcept;
// Hook for the CCP layer's timer/poll: a Reset-Request to send now, written to `out` (bytes returned).
std::size_t mppe_poll_ccp_reset(mppe_decryptor& rx, std::uint64_t now_ns, std::span<std::uint8_t> out) noexcept;

}  // namespace pptpkit::ppp
