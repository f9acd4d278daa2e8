// gre-tunnel per-packet costs beside a 1400-byte memcpy measured in the same run. Batches of 32
// packets of 1400 bytes; each figure is per packet (items). Encapsulation prepends the header in the
// headroom and decapsulation moves the offset, so both must cost less than copying the payload once.
// Decapsulation is measured with 1 live call and with 10,000 (the batch's packets spread over all of
// them, so session state is as cold as it gets): the ratio shows the per-packet cost does not grow with
// the number of calls.
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/gre/header.hpp"
#include "pptpkit/gre/tunnel.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::gre;

constexpr std::uint32_t batch_size = 32;
constexpr std::uint32_t frame_size = 1400;
constexpr std::uint32_t peer_ip = 0x0a000002;

void no_log(void*, std::uint32_t, const char*, const char*) {}
std::uint64_t no_clock(void*) {
  return 0;
}
std::int32_t zero_random(void*, std::uint8_t* out, std::uint32_t n) {
  std::memset(out, 0, n);
  return 0;
}

// A pool-backed host and a tunnel with `calls` sessions (our call ids 1..calls).
struct bench_host {
  explicit bench_host(std::uint32_t calls) : pool(core::packet_pool::create({.packets = 1024})) {
    services.host_ctx = pool.get();
    services.log = &no_log;
    services.now_ns = &no_clock;
    services.random_bytes = &zero_random;
    services.packet_alloc = &core::packet_pool::host_alloc;
    services.packet_free = &core::packet_pool::host_free;
    t = std::make_unique<tunnel>(core::host(services), tunnel_config{});
    for (std::uint32_t c = 1; c <= calls; ++c) {
      session_params p;
      p.call_id = static_cast<std::uint16_t>(c);
      p.peer_call_id = static_cast<std::uint16_t>(c);
      p.peer_window = 64;
      p.peer_address = peer_ip;
      t->open_session(p, 0);
    }
    pool->alloc_bulk(packets);
    for (pptpkit_packet* p : packets) {
      std::memset(core::put(*p, frame_size), 0x5a, frame_size);
    }
  }
  ~bench_host() {
    t.reset();
    pool->free_bulk(packets);
  }
  pptpkit_batch batch() {
    core::packet_list l;
    for (pptpkit_packet* p : packets) {
      l.push_back(*p);
    }
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    l.release(b);
    return b;
  }

  pptpkit_host_services services = PPTPKIT_HOST_SERVICES_INIT;
  std::unique_ptr<core::packet_pool> pool;
  std::unique_ptr<tunnel> t;
  std::array<pptpkit_packet*, batch_size> packets{};
};

void baseline_memcpy_1400(benchmark::State& state) {
  std::vector<std::uint8_t> src(frame_size, 0x5a);
  std::vector<std::uint8_t> dst(frame_size);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(baseline_memcpy_1400);

// PPP frames in, GRE out (sequence number, no ack: nothing received). Per iteration the header is
// pulled off again so the same 32 buffers go round.
void gre_encap_batch32(benchmark::State& state) {
  bench_host h(1);
  for (pptpkit_packet* p : h.packets) {
    p->channel = 1;
  }
  for (auto _ : state) {
    pptpkit_batch in = h.batch();
    h.t->feed(PPTPKIT_GRE_PORT_PPP, in, 0);
    pptpkit_batch out = PPTPKIT_BATCH_INIT;
    h.t->poll(PPTPKIT_GRE_PORT_NET, out, batch_size, 0);
    benchmark::DoNotOptimize(out.head);
    for (pptpkit_packet* p : h.packets) {
      core::pull(*p, header_length(true, false));
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch_size);
}
BENCHMARK(gre_encap_batch32);

// GRE in, PPP frames out, in order. Before each batch the harness writes each packet's key and
// sequence number (two stores, the same for 1 call and for 10,000) and pushes the header back.
void gre_decap_batch32(benchmark::State& state) {
  const auto calls = static_cast<std::uint32_t>(state.range(0));
  bench_host h(calls);
  std::vector<std::uint32_t> next_seq(calls + 1, 0);
  for (pptpkit_packet* p : h.packets) {
    encode(*p, {.peer_call_id = 1, .has_sequence = true, .sequence = 0});
    p->aux = peer_ip;
  }
  const std::uint32_t hl = header_length(true, false);
  std::uint32_t call = 0;
  for (auto _ : state) {
    for (pptpkit_packet* p : h.packets) {
      call = call == calls ? 1 : call + 1;
      auto* fixed = reinterpret_cast<fixed_header*>(core::data(*p));
      fixed->call_id = static_cast<std::uint16_t>(call);
      reinterpret_cast<number_field*>(core::data(*p) + fixed_length)->value = next_seq[call]++;
    }
    pptpkit_batch in = h.batch();
    h.t->feed(PPTPKIT_GRE_PORT_NET, in, 0);
    pptpkit_batch out = PPTPKIT_BATCH_INIT;
    h.t->poll(PPTPKIT_GRE_PORT_PPP, out, batch_size, 0);
    benchmark::DoNotOptimize(out.head);
    for (pptpkit_packet* p : h.packets) {
      core::push(*p, hl);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch_size);
  if (calls > 1) {
    state.SetLabel("vs gre_decap_batch32/1");
  }
}
BENCHMARK(gre_decap_batch32)->Arg(1)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
