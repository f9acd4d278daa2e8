// pptpkit/ppp/protocol.hpp — PPP numbers and the frame header as PPTP carries it.
//
// A PPP frame inside GRE has no HDLC flag, escaping or FCS: [FF 03] protocol information. The
// address/control pair is absent when ACFC was agreed, the protocol is one byte when PFC was agreed
// and its value allows it (RFC 1661 §6.5, §6.6). A receiver accepts both forms at all times; a sender
// compresses data frames only when the peer agreed, and never compresses LCP frames.
//
// Every control protocol here (LCP, PAP, CHAP, EAP, IPCP, IPV6CP, CCP) shares one packet header:
// code, identifier, length (RFC 1661 §5).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "pptpkit/packet.h"

namespace pptpkit::ppp {

// Protocol field values (RFC 1661 §2 and the assigned numbers).
inline constexpr std::uint16_t proto_ipv4 = 0x0021;    // RFC 1332
inline constexpr std::uint16_t proto_ipv6 = 0x0057;    // RFC 5072
inline constexpr std::uint16_t proto_ipcp = 0x8021;    // RFC 1332
inline constexpr std::uint16_t proto_ipv6cp = 0x8057;  // RFC 5072
inline constexpr std::uint16_t proto_ccp = 0x80fd;     // RFC 1962
inline constexpr std::uint16_t proto_lcp = 0xc021;     // RFC 1661
inline constexpr std::uint16_t proto_pap = 0xc023;     // RFC 1334
inline constexpr std::uint16_t proto_chap = 0xc223;    // RFC 1994
inline constexpr std::uint16_t proto_eap = 0xc227;     // RFC 3748

// Control packet codes shared by the option-negotiation protocols (RFC 1661 §5).
enum code : std::uint8_t {
  configure_request = 1,
  configure_ack = 2,
  configure_nak = 3,
  configure_reject = 4,
  terminate_request = 5,
  terminate_ack = 6,
  code_reject = 7,
  protocol_reject = 8,  // LCP only, §5.7
  echo_request = 9,     // LCP only, §5.8
  echo_reply = 10,
  discard_request = 11,  // LCP only, §5.9
};

inline constexpr std::uint32_t control_header_size = 4;  // code, identifier, length (RFC 1661 §5)
inline constexpr std::uint32_t frame_header_max = 4;     // FF 03 + two-byte protocol
inline constexpr std::uint8_t hdlc_address = 0xff;       // RFC 1662 §3.1 (All-Stations)
inline constexpr std::uint8_t hdlc_control = 0x03;       // RFC 1662 §3.1 (UI)

struct frame_header {
  std::uint16_t protocol;
  std::uint32_t size;  // bytes of address/control and protocol to pull
};

// Parses the address/control and protocol fields. nullopt for a malformed header: a lone FF without
// 03, a missing protocol, or a protocol value RFC 1661 §2 forbids (must be odd, high octet even).
std::optional<frame_header> parse_frame_header(std::span<const std::uint8_t> frame) noexcept;

// Pushes the header for `protocol` into the packet's headroom in place. acfc/pfc: the peer agreed to
// receive compressed fields. False (packet untouched) when the headroom is short.
bool push_frame_header(pptpkit_packet& p, std::uint16_t protocol, bool acfc, bool pfc) noexcept;

// A control packet (RFC 1661 §5): code, identifier and the data its length covers.
struct control_packet {
  std::uint8_t code;
  std::uint8_t id;
  std::span<const std::uint8_t> data;
};

// Parses a control packet; nullopt when shorter than its header or its length field says more than
// arrived. Bytes after `length` are padding and ignored (RFC 1661 §5).
std::optional<control_packet> parse_control(std::span<const std::uint8_t> info) noexcept;

// Where the PPP layer sends control packets: one frame of `protocol` with code, id and data.
class control_output {
 public:
  virtual void send_control(std::uint16_t protocol, std::uint8_t code, std::uint8_t id,
                            std::span<const std::uint8_t> data) noexcept = 0;

 protected:
  ~control_output() = default;
};

// Calls fn(type, value) for every option of a Configure-* packet (RFC 1661 §6: type, length, value).
// Returns false (after calling fn for the well-formed prefix) when an option's length is below 2 or
// runs past the end.
template <class Fn>
bool for_each_option(std::span<const std::uint8_t> options, Fn&& fn) {
  std::size_t pos = 0;
  while (pos < options.size()) {
    if (options.size() - pos < 2) {
      return false;
    }
    const std::uint8_t type = options[pos];
    const std::uint8_t len = options[pos + 1];
    if (len < 2 || len > options.size() - pos) {
      return false;
    }
    fn(type, options.subspan(pos + 2, len - 2u));
    pos += len;
  }
  return true;
}

}  // namespace pptpkit::ppp
