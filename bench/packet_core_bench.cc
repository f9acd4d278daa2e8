// Packet core costs beside a 1400-byte memcpy measured in the same run (the baseline every data-path
// operation must beat: pptpkit never copies payload, so its per-packet work must cost less than one copy).
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <vector>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"

namespace {

using namespace pptpkit::core;

void baseline_memcpy_1400(benchmark::State& state) {
  std::vector<std::uint8_t> src(1400, 0x5a);
  std::vector<std::uint8_t> dst(1400);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1400);
}
BENCHMARK(baseline_memcpy_1400);

// One packet allocated and freed, per iteration (bulk of 32, reported per packet).
void pool_alloc_free(benchmark::State& state) {
  auto pool = packet_pool::create({.packets = 1024});
  std::array<pptpkit_packet*, 32> pkts{};
  for (auto _ : state) {
    pool->alloc_bulk(pkts);
    benchmark::DoNotOptimize(pkts.data());
    pool->free_bulk(pkts);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
  state.counters["per_packet"] = benchmark::Counter(static_cast<double>(state.iterations()) * 32,
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(pool_alloc_free);

// The headers one packet sees on its way out and in: MPPE, PPP, GRE pushed, then pulled.
void header_push_pull(benchmark::State& state) {
  auto pool = packet_pool::create({.packets = 1});
  pptpkit_packet* p = pool->alloc();
  put(*p, 1400);
  for (auto _ : state) {
    benchmark::DoNotOptimize(push(*p, PPTPKIT_HDR_MPPE));
    benchmark::DoNotOptimize(push(*p, PPTPKIT_HDR_PPP));
    benchmark::DoNotOptimize(push(*p, PPTPKIT_HDR_GRE));
    benchmark::DoNotOptimize(pull(*p, PPTPKIT_HDR_GRE));
    benchmark::DoNotOptimize(pull(*p, PPTPKIT_HDR_PPP));
    benchmark::DoNotOptimize(pull(*p, PPTPKIT_HDR_MPPE));
    benchmark::ClobberMemory();
  }
  pool->free(p);
}
BENCHMARK(header_push_pull);

// A batch of 32 moved from one stage to the next: C batch out, adopted by the next stage, spliced into
// a queue and drained back into a batch.
void batch_move_32(benchmark::State& state) {
  auto pool = packet_pool::create({.packets = 64});
  packet_batch a;
  for (int i = 0; i < 32; ++i) {
    a.push_back(*pool->alloc());
  }
  for (auto _ : state) {
    pptpkit_batch c = PPTPKIT_BATCH_INIT;
    a.release(c);
    packet_batch b;
    b.adopt(c);
    packet_list queue;
    queue.splice_back(b);
    a.splice_back(queue);
    benchmark::DoNotOptimize(&a);
  }
  pool->free_list(a);
}
BENCHMARK(batch_move_32);

}  // namespace

BENCHMARK_MAIN();
