// pptpkit/gre/seq.hpp — 32-bit serial-number arithmetic for GRE sequence and acknowledgement numbers.
//
// RFC 2637 §4.1 numbers packets with a 32-bit counter that wraps. Comparisons follow RFC 1982 (serial
// number arithmetic, SERIAL_BITS = 32): a is "before" b when (b - a) mod 2^32 lies in (0, 2^31). The
// two numbers exactly 2^31 apart are unordered; distance() reports them as negative, which the receive
// path treats as "far behind" (never delivered).
#pragma once

#include <cstdint>

namespace pptpkit::gre::seq {

// Signed distance from `from` to `to` (to - from), in [-2^31, 2^31).
constexpr std::int64_t distance(std::uint32_t from, std::uint32_t to) noexcept {
  const std::uint32_t d = to - from;
  return d < 0x80000000u ? static_cast<std::int64_t>(d) : static_cast<std::int64_t>(d) - 0x100000000LL;
}
// RFC 1982 §3.2: a < b.
constexpr bool before(std::uint32_t a, std::uint32_t b) noexcept {
  return distance(a, b) > 0;
}
constexpr bool before_or_equal(std::uint32_t a, std::uint32_t b) noexcept {
  return distance(a, b) >= 0;
}
constexpr bool after(std::uint32_t a, std::uint32_t b) noexcept {
  return before(b, a);
}

static_assert(before(0xffffffffu, 0u), "wraps");
static_assert(distance(0xfffffffeu, 1u) == 3);
static_assert(distance(5u, 2u) == -3);
static_assert(!before(0u, 0x80000000u) && !before(0x80000000u, 0u), "2^31 apart: unordered");

}  // namespace pptpkit::gre::seq
