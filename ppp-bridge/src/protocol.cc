#include "pptpkit/ppp/protocol.hpp"

#include "pptpkit/core/packet.hpp"

namespace pptpkit::ppp {

std::optional<frame_header> parse_frame_header(std::span<const std::uint8_t> frame) noexcept {
  std::uint32_t pos = 0;
  // RFC 1661 §6.6: address/control may be absent; a receiver accepts both.
  if (frame.size() >= 1 && frame[0] == hdlc_address) {
    if (frame.size() < 2 || frame[1] != hdlc_control) {
      return std::nullopt;
    }
    pos = 2;
  }
  if (frame.size() <= pos) {
    return std::nullopt;
  }
  // RFC 1661 §2 and §6.5: an odd first octet is a compressed one-octet protocol.
  if ((frame[pos] & 1u) != 0) {
    return frame_header{frame[pos], pos + 1};
  }
  if (frame.size() < pos + 2u || (frame[pos + 1] & 1u) == 0) {
    return std::nullopt;
  }
  return frame_header{static_cast<std::uint16_t>((frame[pos] << 8) | frame[pos + 1]), pos + 2};
}

bool push_frame_header(pptpkit_packet& p, std::uint16_t protocol, bool acfc, bool pfc) noexcept {
  // RFC 1661 §6.5: only protocols below 0x100 may be sent in one octet.
  const bool short_proto = pfc && protocol < 0x100;
  const std::uint32_t size = (acfc ? 0u : 2u) + (short_proto ? 1u : 2u);
  std::uint8_t* h = core::push(p, size);
  if (h == nullptr) {
    return false;
  }
  if (!acfc) {
    *h++ = hdlc_address;
    *h++ = hdlc_control;
  }
  if (!short_proto) {
    *h++ = static_cast<std::uint8_t>(protocol >> 8);
  }
  *h = static_cast<std::uint8_t>(protocol);
  return true;
}

std::optional<control_packet> parse_control(std::span<const std::uint8_t> info) noexcept {
  if (info.size() < control_header_size) {
    return std::nullopt;
  }
  const std::uint32_t length = static_cast<std::uint32_t>((info[2] << 8) | info[3]);
  if (length < control_header_size || length > info.size()) {
    return std::nullopt;
  }
  return control_packet{info[0], info[1], info.subspan(control_header_size, length - control_header_size)};
}

}  // namespace pptpkit::ppp
