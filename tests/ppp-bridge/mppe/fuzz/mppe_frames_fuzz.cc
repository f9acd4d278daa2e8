// Fuzzes the MPPE decryptor with frames from the input: forged headers (bad coherency counts, missing
// bits, truncation), frames our encryptor made (to reach the decrypt paths) that are then lost, reordered,
// replayed or bit-flipped, and CCP resets. Invariants: no crash or UB; a frame made by the encryptor and
// delivered unmodified decrypts to what was sent; a delivered frame is a well-formed IP datagram.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/ppp/mppe.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::ppp;

struct buffer_packet {
  std::array<std::uint8_t, 64 + 1600> storage{};
  pptpkit_packet p{};
  void load(const std::uint8_t* bytes, std::size_t n) {
    p = pptpkit_packet{};
    p.base = storage.data();
    p.capacity = static_cast<std::uint32_t>(storage.size());
    p.offset = 64;
    p.length = static_cast<std::uint32_t>(n);
    std::memcpy(storage.data() + 64, bytes, n);
  }
};

// A well-formed IPv4 datagram of `size` bytes with `seed` in it.
std::vector<std::uint8_t> datagram(std::uint8_t seed, std::uint32_t size) {
  std::vector<std::uint8_t> d(size, seed);
  d[0] = 0x45;
  d[1] = 0;
  d[2] = static_cast<std::uint8_t>(size >> 8);
  d[3] = static_cast<std::uint8_t>(size);
  d[10] = d[11] = 0;
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) {
    sum += static_cast<std::uint32_t>((d[i] << 8) | d[i + 1]);
  }
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  d[10] = static_cast<std::uint8_t>(~sum >> 8);
  d[11] = static_cast<std::uint8_t>(~sum);
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  const mppe_strength strengths[] = {mppe_strength::bits_40, mppe_strength::bits_56, mppe_strength::bits_128};
  const mppe_params params{strengths[(data[0] >> 1) % 3], (data[0] & 1) != 0};
  mppe_limits limits;
  limits.frame_rekeys = 256;  // keep executions fast; the search logic is the same
  limits.search_wraps = 4;
  mppe_key key{};
  key.fill(0x3c);
  mppe_encryptor tx(key, params);
  mppe_decryptor rx(key, params, nullptr, limits);
  std::vector<std::vector<std::uint8_t>> made;  // encrypted frames kept for replay
  std::vector<std::vector<std::uint8_t>> plain;
  buffer_packet b;
  std::uint64_t now = 0;
  std::size_t i = 1;
  while (i + 2 <= size) {
    const std::uint8_t op = data[i++];
    const std::uint8_t arg = data[i++];
    now += 1'000'000;
    switch (op % 6) {
      case 0:  // a raw frame from the input: arg bytes
      default: {
        const std::size_t n = std::min<std::size_t>(arg, size - i);
        b.load(data + i, n);
        i += n;
        const mppe_rx r = rx.decrypt(b.p, now);
        if (r.verdict == mppe_verdict::deliver && r.protocol != ppp_protocol_ipv4 && r.protocol != ppp_protocol_ipv6) {
          std::abort();
        }
        break;
      }
      case 1:    // our encryptor makes a frame and it arrives
      case 2: {  // ... or is lost (op 2)
        const auto d = datagram(arg, 20u + arg * 5u);
        b.load(d.data(), d.size());
        if (tx.encrypt(b.p, ppp_protocol_ipv4) != PPTPKIT_OK) {
          std::abort();
        }
        made.emplace_back(core::data(b.p), core::data(b.p) + b.p.length);
        plain.push_back(d);
        if (op % 6 == 1) {
          const mppe_rx r = rx.decrypt(b.p, now);
          if (r.verdict == mppe_verdict::deliver &&
              (b.p.length != d.size() || std::memcmp(core::data(b.p), d.data(), d.size()) != 0)) {
            std::abort();  // an untouched frame of ours decrypted wrong
          }
        }
        break;
      }
      case 3: {  // replay (late or duplicate) a frame made earlier
        if (made.empty()) {
          break;
        }
        const std::size_t k = made.size() - 1 - (arg % made.size());
        b.load(made[k].data(), made[k].size());
        const mppe_rx r = rx.decrypt(b.p, now);
        if (r.verdict == mppe_verdict::deliver &&
            (b.p.length != plain[k].size() || std::memcmp(core::data(b.p), plain[k].data(), plain[k].size()) != 0)) {
          std::abort();
        }
        break;
      }
      case 4: {  // a frame of ours with one byte flipped (header or body)
        if (made.empty()) {
          break;
        }
        std::vector<std::uint8_t> f = made.back();
        f[arg % f.size()] ^= static_cast<std::uint8_t>(1u << (arg % 8));
        b.load(f.data(), f.size());
        rx.decrypt(b.p, now);
        break;
      }
      case 5: {  // CCP: a Reset-Request reaches our sender, or a Reset-Ack our receiver
        if ((arg & 1) != 0) {
          tx.on_reset_request();
        } else if (auto id = rx.poll_reset_request(now)) {
          rx.on_reset_ack(*id);
        }
        break;
      }
    }
    if (made.size() > 256) {
      made.erase(made.begin(), made.begin() + 128);
      plain.erase(plain.begin(), plain.begin() + 128);
    }
  }
  return 0;
}
