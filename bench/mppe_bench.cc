// MPPE cost beside Nettle's bare ARCFOUR on the same bytes, measured in the same run: a 1400-byte IPv4
// datagram (1402 bytes with its inner protocol field, which MPPE encrypts too) encrypted and decrypted.
// Target: MPPE-128 stateful within 1.15x of the baseline; stateless (a key change per frame at each
// end, RFC 3078 §7.1) reported beside it. What a hostile or late frame adds to an in-order stateless
// round trip (MPPE.md, "Key-change budget") is reported against that round trip: a frame 370 behind
// (the runs the Linux kernel's sender displaces), and a forged frame with a random coherency count at
// 10,000 frames a second.
#include <benchmark/benchmark.h>
#include <nettle/arcfour.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/ppp/mppe.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::ppp;

constexpr std::uint32_t datagram_size = 1400;

std::vector<std::uint8_t> datagram() {
  std::vector<std::uint8_t> d(datagram_size, 0x5a);
  d[0] = 0x45;
  d[1] = 0;
  d[2] = datagram_size >> 8;
  d[3] = datagram_size & 0xff;
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

mppe_key bench_key() {
  mppe_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>(i * 17 + 3);
  }
  return k;
}

// Two RC4 streams (sender and receiver), each over the 1402 bytes MPPE covers.
void baseline_arcfour_1402(benchmark::State& state) {
  std::vector<std::uint8_t> buf(datagram_size + 2, 0x5a);
  arcfour_ctx tx, rx;
  arcfour_set_key(&tx, 16, bench_key().data());
  arcfour_set_key(&rx, 16, bench_key().data());
  for (auto _ : state) {
    arcfour_crypt(&tx, buf.size(), buf.data(), buf.data());
    arcfour_crypt(&rx, buf.size(), buf.data(), buf.data());
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * datagram_size);
}
BENCHMARK(baseline_arcfour_1402);

void run_mppe(benchmark::State& state, mppe_params params) {
  const std::vector<std::uint8_t> plain = datagram();
  std::array<std::uint8_t, 2048> storage{};
  pptpkit_packet p{};
  p.base = storage.data();
  p.capacity = storage.size();
  p.offset = 128;
  p.length = datagram_size;
  std::memcpy(storage.data() + p.offset, plain.data(), plain.size());
  mppe_encryptor tx(bench_key(), params);
  mppe_decryptor rx(bench_key(), params);
  for (auto _ : state) {
    tx.encrypt(p, ppp_protocol_ipv4);
    const mppe_rx r = rx.decrypt(p, 0);
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
  }
  if (rx.counters().rx_delivered != tx.counters().tx_packets ||
      std::memcmp(core::data(p), plain.data(), plain.size()) != 0) {
    state.SkipWithError("a frame did not decrypt");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * datagram_size);
  state.SetLabel("vs baseline_arcfour_1402");
}

void mppe128_stateful_1400(benchmark::State& state) {
  run_mppe(state, {mppe_strength::bits_128, false});
}
BENCHMARK(mppe128_stateful_1400);

void mppe128_stateless_1400(benchmark::State& state) {
  run_mppe(state, {mppe_strength::bits_128, true});
}
BENCHMARK(mppe128_stateless_1400);

// A packet over its own buffer with MPPE headroom, holding `bytes`.
struct bench_frame {
  std::array<std::uint8_t, 2048> storage{};
  pptpkit_packet p{};
  void load(const std::uint8_t* bytes, std::uint32_t n) {
    p = pptpkit_packet{};
    p.base = storage.data();
    p.capacity = static_cast<std::uint32_t>(storage.size());
    p.offset = 128;
    p.length = n;
    std::memcpy(storage.data() + p.offset, bytes, n);
  }
};

// Every iteration: an in-order round trip (as mppe128_stateless_1400, plus two copies), then `extra`
// is given the decryptor and the current time (100 µs a frame) for one more frame.
template <typename Extra>
void run_with_extra(benchmark::State& state, Extra extra) {
  const mppe_params params{mppe_strength::bits_128, true};
  const std::vector<std::uint8_t> plain = datagram();
  mppe_encryptor tx(bench_key(), params);
  mppe_decryptor rx(bench_key(), params);
  bench_frame f;
  std::vector<std::array<std::uint8_t, datagram_size + 4>> sent(512);  // encrypted frames, for late ones
  std::uint64_t n = 0;
  for (auto _ : state) {
    f.load(plain.data(), datagram_size);
    tx.encrypt(f.p, ppp_protocol_ipv4);
    std::memcpy(sent[n % sent.size()].data(), core::data(f.p), f.p.length);
    const mppe_rx r = rx.decrypt(f.p, n * 100'000);
    benchmark::DoNotOptimize(r);
    extra(rx, sent, n);
    benchmark::ClobberMemory();
    ++n;
  }
  if (rx.counters().rx_delivered != tx.counters().tx_packets) {
    state.SkipWithError("an in-order frame did not decrypt");
  }
  state.SetLabel("vs mppe128_stateless_1400");
}

void mppe128_stateless_with_a_late_frame(benchmark::State& state) {
  bench_frame late;
  run_with_extra(state, [&](mppe_decryptor& rx, auto& sent, std::uint64_t n) {
    if (n >= 370) {
      const auto& bytes = sent[(n - 370) % sent.size()];
      late.load(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
      benchmark::DoNotOptimize(rx.decrypt(late.p, n * 100'000));
    }
  });
}
BENCHMARK(mppe128_stateless_with_a_late_frame);

void mppe128_stateless_with_a_forged_frame(benchmark::State& state) {
  std::mt19937_64 rng(1402);
  std::vector<std::vector<std::uint8_t>> forged(256, std::vector<std::uint8_t>(datagram_size + 4));
  for (auto& junk : forged) {
    for (auto& b : junk) {
      b = static_cast<std::uint8_t>(rng());
    }
    junk[0] = static_cast<std::uint8_t>((junk[0] & 0x0f) | mppe_bit_encrypted | mppe_bit_flushed);
  }
  bench_frame bad;
  run_with_extra(state, [&](mppe_decryptor& rx, auto&, std::uint64_t n) {
    const auto& bytes = forged[n % forged.size()];
    bad.load(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
    benchmark::DoNotOptimize(rx.decrypt(bad.p, n * 100'000));
  });
}
BENCHMARK(mppe128_stateless_with_a_forged_frame);

void mppe40_stateless_1400(benchmark::State& state) {
  run_mppe(state, {mppe_strength::bits_40, true});
}
BENCHMARK(mppe40_stateless_1400);

}  // namespace

BENCHMARK_MAIN();
