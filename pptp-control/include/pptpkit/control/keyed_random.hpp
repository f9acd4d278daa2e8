// pptpkit/control/keyed_random.hpp — an unpredictable number stream from one key the host draws once.
//
// Output n is SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) of the
// 64-bit counter n under a 128-bit key: a pseudorandom function, so whoever sees outputs learns neither
// the key nor the outputs to come, yet each draw costs a few nanoseconds and no call into the host. The
// call id allocator uses it so that a peer opening calls cannot make the host read its random source
// once per request.
//
// Threading: one thread at a time. Allocates nothing.
#pragma once

#include <array>
#include <cstdint>

namespace pptpkit::control {

class keyed_random {
 public:
  using key_type = std::array<std::uint8_t, 16>;

  explicit keyed_random(const key_type& key) noexcept;

  // The next 64 bits of the stream.
  std::uint64_t next() noexcept { return siphash_2_4(counter_++); }
  std::uint64_t draws() const noexcept { return counter_; }
  // A number in [0, bound) for 0 < bound <= 2^32, from 32 bits by multiply-and-shift (the bias is below
  // bound / 2^32: under 2^-16 for the 16-bit ranges used here).
  static std::uint32_t below(std::uint32_t random32, std::uint32_t bound) noexcept {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(random32) * bound) >> 32);
  }

  // SipHash-2-4 of one little-endian 64-bit word (exposed for the test vectors of the paper).
  std::uint64_t siphash_2_4(std::uint64_t word) const noexcept;

 private:
  std::uint64_t k0_;
  std::uint64_t k1_;
  std::uint64_t counter_ = 0;
};

}  // namespace pptpkit::control
