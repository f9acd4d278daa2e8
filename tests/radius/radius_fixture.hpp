// Shared helpers for the RADIUS tests: hex vectors, and a test server that answers like a real one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/radius/codec.hpp"

namespace pptpkit::radius::test {

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  int high = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

inline authenticator auth_from_hex(std::string_view hex) {
  const std::vector<std::uint8_t> b = from_hex(hex);
  authenticator a{};
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    a[i] = b[i];
  }
  return a;
}

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace pptpkit::radius::test
