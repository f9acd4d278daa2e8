// Shared helpers for the RADIUS tests: hex vectors, and a test server that answers like a real one.
#pragma once

#include <nettle/md5.h>

#include <cstdint>
#include <cstring>
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

// RFC 2865 §3 computed here, independently of the codec: the response authenticator over `packet`
// (whose header authenticator is replaced), returned signed.
inline std::vector<std::uint8_t> sign_response(std::vector<std::uint8_t> packet, std::string_view secret,
                                               const authenticator& request_auth) {
  std::memcpy(packet.data() + 4, request_auth.data(), 16);
  md5_ctx ctx;
  md5_init(&ctx);
  md5_update(&ctx, packet.size(), packet.data());
  md5_update(&ctx, secret.size(), reinterpret_cast<const std::uint8_t*>(secret.data()));
  md5_digest(&ctx, 16, packet.data() + 4);
  return packet;
}

}  // namespace pptpkit::radius::test
