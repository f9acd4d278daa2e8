// Helpers shared by the fake plugins of the runtime tests: big-endian field access on packets.
//
// The fakes implement the control, gre and ppp contracts (pptpkit/control.h, gre.h, ppp.h) minimally
// but faithfully: the same ports, commands, events and ownership rules, over a simplified wire format
// of their own. They exist so the runtime's wiring is tested before the real plugins are merged.
#pragma once

#include <cstdint>
#include <cstring>

#include "pptpkit/core/packet.hpp"

namespace pptpkit::fake {

inline void put16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}
inline std::uint32_t get16(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 8) | p[1];
}
inline std::uint32_t get32(const std::uint8_t* p) {
  return (get16(p) << 16) | get16(p + 2);
}

}  // namespace pptpkit::fake
