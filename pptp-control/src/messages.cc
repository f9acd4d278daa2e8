#include "pptpkit/control/messages.hpp"

namespace pptpkit::control {

const char* message_name(std::uint16_t type) noexcept {
  // RFC 2637 §2: the abbreviations the RFC and every capture tool use.
  constexpr const char* names[message_type_max + 1] = {
      "unknown", "SCCRQ", "SCCRP", "StopCCRQ", "StopCCRP", "Echo-Request", "Echo-Reply", "OCRQ",
      "OCRP",    "ICRQ",  "ICRP",  "ICCN",     "CCRQ",     "CDN",          "WEN",        "SLI",
  };
  return type <= message_type_max ? names[type] : "unknown";
}

const char* header_status_text(header_status s) noexcept {
  switch (s) {
    case header_status::ok:
      return "ok";
    case header_status::bad_length:
      return "length outside 12..220";
    case header_status::bad_pptp_type:
      return "PPTP Message Type is not 1 (control)";
    case header_status::bad_magic:
      return "bad Magic Cookie";
    case header_status::unknown_type:
      return "unknown Control Message Type";
    case header_status::length_mismatch:
      return "Length disagrees with the message type";
  }
  return "?";
}

header_status check_header_prefix(std::span<const std::uint8_t> prefix) noexcept {
  // The same checks in the same order as check_header, each as soon as its field is complete, and
  // only while every field before it passed: the verdict never depends on where TCP cut the stream.
  auto u16 = [&](std::size_t at) { return static_cast<std::uint16_t>(prefix[at] << 8 | prefix[at + 1]); };
  const std::size_t n = prefix.size();
  if (n < 2) {
    return header_status::ok;
  }
  const std::uint16_t length = u16(0);
  if (length < min_message_size || length > max_message_size) {
    return header_status::bad_length;
  }
  if (n < 4) {
    return header_status::ok;
  }
  if (u16(2) != pptp_message_type_control) {
    return header_status::bad_pptp_type;
  }
  if (n < 8) {
    return header_status::ok;
  }
  if ((std::uint32_t{u16(4)} << 16 | u16(6)) != magic_cookie) {
    return header_status::bad_magic;
  }
  if (n < 10) {
    return header_status::ok;
  }
  const std::size_t size = message_size(u16(8));
  if (size == 0) {
    return header_status::unknown_type;
  }
  return length != size ? header_status::length_mismatch : header_status::ok;
}

header_status check_header(const header& h) noexcept {
  const std::uint16_t length = h.length.value();
  if (length < min_message_size || length > max_message_size) {
    return header_status::bad_length;
  }
  if (h.pptp_message_type.value() != pptp_message_type_control) {  // RFC 2637 §2: 2 = management, unused
    return header_status::bad_pptp_type;
  }
  if (h.magic_cookie.value() != magic_cookie) {
    return header_status::bad_magic;
  }
  const std::uint16_t type = h.control_message_type.value();
  const std::size_t size = message_size(type);
  if (size == 0) {
    return header_status::unknown_type;
  }
  if (length != size) {
    return header_status::length_mismatch;
  }
  return header_status::ok;
}

}  // namespace pptpkit::control
