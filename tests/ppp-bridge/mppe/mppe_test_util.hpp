// Helpers for the MPPE tests: IP datagrams stamped with their number, and packets over plain buffers.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/ppp/mppe.hpp"

namespace pptpkit::ppp::testing {

// A well-formed IPv4 datagram (valid header checksum) of `size` bytes whose payload is a function of n.
inline std::vector<std::uint8_t> ipv4_datagram(std::uint32_t n, std::uint32_t size) {
  std::vector<std::uint8_t> d(size);
  d[0] = 0x45;
  d[2] = static_cast<std::uint8_t>(size >> 8);
  d[3] = static_cast<std::uint8_t>(size);
  d[4] = static_cast<std::uint8_t>(n >> 8);
  d[5] = static_cast<std::uint8_t>(n);
  d[8] = 64;
  d[9] = 17;
  d[12] = 10, d[15] = 1, d[16] = 10, d[19] = 2;
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) {
    sum += static_cast<std::uint32_t>((d[i] << 8) | d[i + 1]);
  }
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  const std::uint16_t csum = static_cast<std::uint16_t>(~sum);
  d[10] = static_cast<std::uint8_t>(csum >> 8);
  d[11] = static_cast<std::uint8_t>(csum);
  std::mt19937 rng(n);
  for (std::uint32_t i = 20; i < size; ++i) {
    d[i] = static_cast<std::uint8_t>(rng());
  }
  return d;
}

// A well-formed IPv6 datagram of `size` (>= 40) bytes.
inline std::vector<std::uint8_t> ipv6_datagram(std::uint32_t n, std::uint32_t size) {
  std::vector<std::uint8_t> d(size);
  d[0] = 0x60;
  const std::uint32_t payload = size - 40;
  d[4] = static_cast<std::uint8_t>(payload >> 8);
  d[5] = static_cast<std::uint8_t>(payload);
  d[6] = 17;
  d[7] = 64;
  std::mt19937 rng(n ^ 0x5a5a5a5au);
  for (std::uint32_t i = 8; i < size; ++i) {
    d[i] = static_cast<std::uint8_t>(rng());
  }
  return d;
}

// A packet over its own buffer, with headroom for the MPPE header and more.
struct frame {
  static constexpr std::uint32_t headroom = 64;
  std::vector<std::uint8_t> buffer;
  pptpkit_packet p{};

  frame() = default;
  explicit frame(const std::vector<std::uint8_t>& payload, std::uint32_t room = headroom) { assign(payload, room); }
  frame(const frame& o) : buffer(o.buffer), p(o.p) { p.base = buffer.data(); }
  frame& operator=(const frame& o) {
    buffer = o.buffer;
    p = o.p;
    p.base = buffer.data();
    return *this;
  }
  void assign(const std::vector<std::uint8_t>& payload, std::uint32_t room = headroom) {
    buffer.assign(room + payload.size() + 16, 0);
    p = pptpkit_packet{};
    p.base = buffer.data();
    p.capacity = static_cast<std::uint32_t>(buffer.size());
    p.offset = room;
    p.length = static_cast<std::uint32_t>(payload.size());
    std::memcpy(buffer.data() + room, payload.data(), payload.size());
  }
  std::vector<std::uint8_t> bytes() const { return {p.base + p.offset, p.base + p.offset + p.length}; }
};

}  // namespace pptpkit::ppp::testing
