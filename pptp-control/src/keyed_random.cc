#include "pptpkit/control/keyed_random.hpp"

namespace pptpkit::control {

namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept {
  return (x << b) | (x >> (64 - b));
}

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}

struct sip_state {
  std::uint64_t v0, v1, v2, v3;
  // SipRound (the paper's §2, Figure 2.1).
  void round() noexcept {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  void compress(std::uint64_t m) noexcept {  // c = 2 rounds per message word
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

}  // namespace

keyed_random::keyed_random(const key_type& key) noexcept : k0_(load_le64(key.data())), k1_(load_le64(key.data() + 8)) {}

std::uint64_t keyed_random::siphash_2_4(std::uint64_t word) const noexcept {
  // Initialisation constants: "somepseudorandomlygeneratedbytes".
  sip_state s{k0_ ^ 0x736f6d6570736575ull, k1_ ^ 0x646f72616e646f6dull, k0_ ^ 0x6c7967656e657261ull,
              k1_ ^ 0x7465646279746573ull};
  s.compress(word);
  s.compress(std::uint64_t{8} << 56);  // the last block: the message length (8) in its top byte
  s.v2 ^= 0xff;                        // finalisation: d = 4 rounds
  s.round();
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace pptpkit::control
