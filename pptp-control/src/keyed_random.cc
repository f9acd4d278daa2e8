#include "pptpkit/control/keyed_random.hpp"

namespace pptpkit::control {

keyed_random::keyed_random(const key_type& key) noexcept {
  chacha_set_key(&ctx_, key.data());
  const std::array<std::uint8_t, CHACHA_NONCE_SIZE> nonce{};
  chacha_set_nonce(&ctx_, nonce.data());
}

std::uint64_t keyed_random::next() noexcept {
  if (used_ + 8 > block_.size()) {
    // The keystream is the encryption of zeros; the block's own bytes are zeroed first.
    block_.fill(0);
    chacha_crypt(&ctx_, block_.size(), block_.data(), block_.data());
    used_ = 0;
  }
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | block_[used_ + static_cast<std::uint32_t>(i)];
  }
  used_ += 8;
  ++draws_;
  return v;
}

}  // namespace pptpkit::control
