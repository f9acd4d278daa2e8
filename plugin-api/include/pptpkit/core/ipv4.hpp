// pptpkit/core/ipv4.hpp — IPv4 addresses as text, for configuration and logs (never the data path).
//
// parse_ipv4 takes exactly four decimal octets "A.B.C.D" (no leading '+', no leading zero: "010" is
// octal to inet_aton, and we refuse rather than guess) and gives the address in host order.
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pptpkit::core {

constexpr std::optional<std::uint32_t> parse_ipv4(std::string_view text) noexcept {
  std::uint32_t address = 0;
  for (int i = 0; i < 4; ++i) {
    const std::size_t dot = text.find('.');
    if ((i < 3) == (dot == std::string_view::npos)) {
      return std::nullopt;
    }
    const std::string_view part = text.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) {
      return std::nullopt;
    }
    std::uint32_t octet = 0;
    for (const char c : part) {
      if (c < '0' || c > '9') {
        return std::nullopt;
      }
      octet = octet * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (octet > 255) {
      return std::nullopt;
    }
    address = (address << 8) | octet;
    text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  }
  return address;
}

inline std::string format_ipv4(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." + std::to_string((a >> 8) & 0xff) +
         "." + std::to_string(a & 0xff);
}

static_assert(parse_ipv4("192.0.2.1") == 0xc0000201u);
static_assert(!parse_ipv4("192.0.2") && !parse_ipv4("192.0.2.1.5") && !parse_ipv4("192.0.2.256"));
static_assert(!parse_ipv4("010.0.0.1") && !parse_ipv4("1..2.3") && !parse_ipv4("+1.2.3.4"));

}  // namespace pptpkit::core
