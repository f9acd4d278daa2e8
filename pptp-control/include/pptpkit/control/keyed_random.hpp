// pptpkit/control/keyed_random.hpp — an unpredictable number stream from one key the host draws once.
//
// The stream is the ChaCha20 keystream (Nettle's chacha, nonce 0) under a 256-bit key that the owner
// draws from the host's random source once: whoever sees outputs learns neither the key nor the
// outputs to come, yet a draw costs a few nanoseconds (one 64-byte block per eight draws) and no call
// into the host. The call id allocator uses it so that a peer opening calls cannot make the host read
// its random source once per request.
//
// Threading: one thread at a time. Allocates nothing.
#pragma once

#include <nettle/chacha.h>

#include <array>
#include <cstdint>

namespace pptpkit::control {

class keyed_random {
 public:
  using key_type = std::array<std::uint8_t, CHACHA_KEY_SIZE>;

  explicit keyed_random(const key_type& key) noexcept;

  // The next 64 bits of the keystream (little-endian).
  std::uint64_t next() noexcept;
  std::uint64_t draws() const noexcept { return draws_; }
  // A number in [0, bound) for 0 < bound <= 2^32, from 32 bits by multiply-and-shift (the bias is below
  // bound / 2^32: under 2^-16 for the 16-bit ranges used here).
  static std::uint32_t below(std::uint32_t random32, std::uint32_t bound) noexcept {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(random32) * bound) >> 32);
  }

 private:
  chacha_ctx ctx_;
  std::array<std::uint8_t, CHACHA_BLOCK_SIZE> block_{};
  std::uint32_t used_ = CHACHA_BLOCK_SIZE;  // bytes of block_ already handed out
  std::uint64_t draws_ = 0;
};

}  // namespace pptpkit::control
