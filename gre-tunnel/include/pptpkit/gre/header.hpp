// pptpkit/gre/header.hpp — the enhanced GRE header PPTP uses for its data channel (RFC 2637 §4.1).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |    Key (HW) Payload Length    |       Key (LW) Call ID        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                  Sequence Number (Optional)                   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |               Acknowledgment Number (Optional)                |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// decode() is strict: version 1, protocol 0x880B, K set, C/R/s/Recur and the reserved flags clear, and
// the payload length equal to the bytes present after the header. A packet with payload carries a
// sequence number; an ack-only packet has S clear, A set and no payload (12 bytes). Every way a packet
// can fail is a named reason (PPTPKIT_GRE_HEADER_REJECTS), counted by the tunnel.
//
// encode() writes the header into the packet's headroom (core::push); it never moves the payload.
// No allocation, no exception: this is the data path.
#pragma once

#include <cstdint>
#include <span>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/wire.hpp"
#include "pptpkit/packet.h"

namespace pptpkit::gre {

// RFC 2637 §4.1: the fixed part (flags, version, protocol, key).
struct fixed_header {
  core::big_uint8_buf_t flags;        // C R K S s Recur
  core::big_uint8_buf_t ack_version;  // A, Flags (reserved), Ver
  core::big_uint16_buf_t protocol;    // 0x880B
  core::big_uint16_buf_t payload_length;
  core::big_uint16_buf_t call_id;  // the receiver's (peer's) call id
};
static_assert(sizeof(fixed_header) == 8, "RFC 2637 §4.1: 8 fixed bytes");

// RFC 2637 §4.1: the optional sequence and acknowledgement numbers, in that order.
struct number_field {
  core::big_uint32_buf_t value;
};
static_assert(sizeof(number_field) == 4, "RFC 2637 §4.1: 32-bit sequence / acknowledgement number");

// RFC 2637 §4.1 constants.
inline constexpr std::uint8_t flag_checksum = 0x80;        // C: must be 0
inline constexpr std::uint8_t flag_routing = 0x40;         // R: must be 0
inline constexpr std::uint8_t flag_key = 0x20;             // K: must be 1
inline constexpr std::uint8_t flag_sequence = 0x10;        // S: sequence number present
inline constexpr std::uint8_t flag_strict_route = 0x08;    // s: must be 0
inline constexpr std::uint8_t recursion_mask = 0x07;       // Recur: must be 0
inline constexpr std::uint8_t flag_ack = 0x80;             // A: acknowledgement number present
inline constexpr std::uint8_t reserved_flags_mask = 0x78;  // Flags: must be 0
inline constexpr std::uint8_t version_mask = 0x07;
inline constexpr std::uint8_t version = 1;             // Ver: enhanced GRE
inline constexpr std::uint16_t protocol_ppp = 0x880B;  // Protocol Type: PPP
inline constexpr std::uint32_t fixed_length = sizeof(fixed_header);
inline constexpr std::uint32_t max_length = fixed_length + 2 * sizeof(number_field);
inline constexpr std::uint32_t ack_only_length = fixed_length + sizeof(number_field);  // 12 bytes
inline constexpr std::uint32_t max_payload = 0xffff;                                   // the payload length is 16 bits
static_assert(max_length == PPTPKIT_HDR_GRE, "the headroom constant covers the largest GRE header");

// Why decode() refused a packet: name and meaning, listed once (the counters reuse the names).
#define PPTPKIT_GRE_HEADER_REJECTS(X)                                                     \
  X(reject_too_short, "shorter than the header its flags announce")                       \
  X(reject_version, "GRE version is not 1 (RFC 2637 §4.1)")                               \
  X(reject_protocol, "protocol type is not 0x880B (PPP)")                                 \
  X(reject_no_key, "K bit clear: no call id")                                             \
  X(reject_checksum, "C bit set: checksum present (not allowed in enhanced GRE)")         \
  X(reject_routing, "R bit set: routing present (not allowed)")                           \
  X(reject_strict_route, "s bit set: strict source route (not allowed)")                  \
  X(reject_recursion, "recursion control not zero")                                       \
  X(reject_reserved_flags, "reserved flag bits not zero")                                 \
  X(reject_truncated, "payload length larger than the bytes present")                     \
  X(reject_trailing, "bytes present beyond the payload length")                           \
  X(reject_payload_without_sequence, "payload without a sequence number (RFC 2637 §4.1)") \
  X(reject_sequence_without_payload, "sequence number without payload")                   \
  X(reject_empty, "neither payload nor acknowledgement")

enum class verdict : std::uint8_t {
  ok,
#define PPTPKIT_GRE_VERDICT_ENUM_(name, meaning) name,
  PPTPKIT_GRE_HEADER_REJECTS(PPTPKIT_GRE_VERDICT_ENUM_)
#undef PPTPKIT_GRE_VERDICT_ENUM_
};

// A decoded header. Valid only when decode() returned verdict::ok.
struct header_info {
  std::uint16_t call_id = 0;
  std::uint16_t payload_length = 0;
  std::uint32_t header_length = 0;  // 8, 12 or 16
  bool has_sequence = false;
  bool has_ack = false;
  std::uint32_t sequence = 0;
  std::uint32_t ack = 0;
};

// Parses `bytes` (a whole GRE packet, starting at the GRE header) into out.
verdict decode(std::span<const std::uint8_t> bytes, header_info& out) noexcept;

// The header length for a packet with or without sequence and acknowledgement numbers.
constexpr std::uint32_t header_length(bool sequence, bool ack) noexcept {
  return fixed_length + (sequence ? 4u : 0u) + (ack ? 4u : 0u);
}

// What encode() writes in front of the payload.
struct encode_params {
  std::uint16_t peer_call_id = 0;
  bool has_sequence = false;
  std::uint32_t sequence = 0;
  bool has_ack = false;
  std::uint32_t ack = 0;
};

// Prepends the header in p's headroom; the current data is the payload. False (p unchanged) when the
// headroom is short or the payload exceeds max_payload.
bool encode(pptpkit_packet& p, const encode_params& params) noexcept;

}  // namespace pptpkit::gre
