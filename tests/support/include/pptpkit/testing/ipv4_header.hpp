// pptpkit/testing/ipv4_header.hpp — the RFC 791 header checksum, for tests that make well-formed IPv4
// datagrams (MPPE and the interfaces deliver nothing else).
#pragma once

#include <cstdint>

namespace pptpkit::testing {

// Fills bytes 10-11 of the 20-byte header at `h` with its checksum (RFC 791 §3.1; RFC 1071).
inline void set_ipv4_checksum(std::uint8_t* h) noexcept {
  h[10] = h[11] = 0;
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) {
    sum += static_cast<std::uint32_t>((h[i] << 8) | h[i + 1]);
  }
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  h[10] = static_cast<std::uint8_t>(~sum >> 8);
  h[11] = static_cast<std::uint8_t>(~sum);
}

}  // namespace pptpkit::testing
