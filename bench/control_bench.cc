// pptp-control: parse + handle of one Echo-Request and of one Outgoing-Call-Request (framing, header
// checks, state machine, the answer encoded into a pool packet and polled), each beside a memcpy of the
// same number of bytes measured in the same run.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <vector>

#include "pptpkit/control.h"
#include "pptpkit/control/engine.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"

namespace {

using namespace pptpkit;

// A minimal host: a preallocated pool, no logging, xorshift as the random source.
struct bench_host {
  bench_host() : pool(core::packet_pool::create({.packets = 256})) {
    services.host_ctx = this;
    services.log = [](void*, std::uint32_t, const char*, const char*) {};
    services.random_bytes = [](void* ctx, std::uint8_t* out, std::uint32_t n) -> std::int32_t {
      auto* self = static_cast<bench_host*>(ctx);
      for (std::uint32_t i = 0; i < n; ++i) {  // xorshift64: cheap, and full-period like a real source
        self->random_state ^= self->random_state << 13;
        self->random_state ^= self->random_state >> 7;
        self->random_state ^= self->random_state << 17;
        out[i] = static_cast<std::uint8_t>(self->random_state >> 32);
      }
      return 0;
    };
    services.packet_alloc = [](void* ctx, pptpkit_packet** out, std::uint32_t n) {
      return static_cast<bench_host*>(ctx)->pool->alloc_bulk({out, n});
    };
    services.packet_free = [](void* ctx, pptpkit_packet* const* p, std::uint32_t n) {
      static_cast<bench_host*>(ctx)->pool->free_bulk({p, n});
    };
  }
  std::unique_ptr<core::packet_pool> pool;
  pptpkit_host_services services = PPTPKIT_HOST_SERVICES_INIT;
  std::uint64_t random_state = 0x9E3779B97F4A7C15ull;
};

// A PAC with one established connection (channel 1). defaults: every key but the role left to the plugin.
struct pac_fixture {
  explicit pac_fixture(const char* max_calls = "64", bool defaults = false) {
    const pptpkit_config_entry config[] = {
        {"role", "pac"}, {"max_calls_per_connection", max_calls}, {"call_id_quarantine_ms", "0"}};
    engine = std::make_unique<control::engine>(core::host(host.services),
                                               control::settings::from(core::config_map(config, defaults ? 1 : 3)));
    pptpkit_command open = PPTPKIT_COMMAND_INIT;
    open.type = PPTPKIT_CONTROL_CMD_CONNECTION_OPEN;
    open.channel = 1;
    engine->command(open, 0);
    std::vector<std::uint8_t> sccrq(sizeof(control::start_control_connection_request));
    control::start_message<control::start_control_connection_request>(sccrq).protocol_version =
        control::protocol_version_1_0;
    feed(sccrq);
    drain();
  }
  void feed(const std::vector<std::uint8_t>& bytes) {
    pptpkit_packet* p = host.pool->alloc();
    std::memcpy(core::put(*p, static_cast<std::uint32_t>(bytes.size())), bytes.data(), bytes.size());
    p->channel = 1;
    pptpkit_batch in = {&p->link, &p->link, 1, 0};
    engine->feed(PPTPKIT_CONTROL_PORT_STREAM, in, 0);
  }
  void drain() {
    pptpkit_batch out = PPTPKIT_BATCH_INIT;
    engine->poll(PPTPKIT_CONTROL_PORT_STREAM, out, 64, 0);
    host.pool->free_batch(out);
    pptpkit_event e = PPTPKIT_EVENT_INIT;
    while (engine->poll_event(e) == 1) {
    }
  }
  bench_host host;
  std::unique_ptr<control::engine> engine;
};

template <std::size_t N>
void memcpy_n(benchmark::State& state) {
  std::vector<std::uint8_t> src(N, 0x5a), dst(N);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), N);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
}

void baseline_memcpy_16(benchmark::State& state) {
  memcpy_n<sizeof(control::echo_request)>(state);
}
BENCHMARK(baseline_memcpy_16);

void baseline_memcpy_168(benchmark::State& state) {
  memcpy_n<sizeof(control::outgoing_call_request)>(state);
}
BENCHMARK(baseline_memcpy_168);

// Echo-Request in (a pool packet with its 16 bytes), Echo-Reply out (polled and freed).
void echo_request_parse_handle(benchmark::State& state) {
  pac_fixture f;
  std::vector<std::uint8_t> echo(sizeof(control::echo_request));
  control::start_message<control::echo_request>(echo).identifier = 1;
  pptpkit_batch out = PPTPKIT_BATCH_INIT;
  for (auto _ : state) {
    pptpkit_packet* p = f.host.pool->alloc();
    std::memcpy(core::put(*p, 16), echo.data(), 16);
    p->channel = 1;
    pptpkit_batch in = {&p->link, &p->link, 1, 0};
    f.engine->feed(PPTPKIT_CONTROL_PORT_STREAM, in, 0);
    f.engine->poll(PPTPKIT_CONTROL_PORT_STREAM, out, 1, 0);
    f.host.pool->free_batch(out);
  }
  state.SetLabel("vs baseline_memcpy_16");
}
BENCHMARK(echo_request_parse_handle);

// OCRQ in, OCRP out and CALL_UP. The calls are cleared outside the timed region, a thousand at a time.
void outgoing_call_request_parse_handle(benchmark::State& state) {
  constexpr int batch = 1000;
  pac_fixture f("65535");
  std::vector<std::uint8_t> ocrq(sizeof(control::outgoing_call_request));
  auto& m = control::start_message<control::outgoing_call_request>(ocrq);
  m.call_id = 0x1234;
  m.maximum_bps = 10'000'000;
  m.packet_recv_window_size = 64;
  pptpkit_batch out = PPTPKIT_BATCH_INIT;
  pptpkit_event e = PPTPKIT_EVENT_INIT;
  std::vector<std::uint64_t> ids;
  ids.reserve(batch);
  for (auto _ : state) {
    pptpkit_packet* p = f.host.pool->alloc();
    std::memcpy(core::put(*p, sizeof(control::outgoing_call_request)), ocrq.data(), ocrq.size());
    p->channel = 1;
    pptpkit_batch in = {&p->link, &p->link, 1, 0};
    f.engine->feed(PPTPKIT_CONTROL_PORT_STREAM, in, 0);
    f.engine->poll(PPTPKIT_CONTROL_PORT_STREAM, out, 1, 0);
    f.host.pool->free_batch(out);
    f.engine->poll_event(e);
    ids.push_back(e.values[0]);
    if (ids.size() == batch) {
      state.PauseTiming();
      for (std::uint64_t id : ids) {
        pptpkit_command clear = PPTPKIT_COMMAND_INIT;
        clear.type = PPTPKIT_CONTROL_CMD_CALL_CLEAR;
        clear.channel = 1;
        clear.values[0] = id;
        f.engine->command(clear, 0);
        f.drain();
      }
      ids.clear();
      state.ResumeTiming();
    }
  }
  state.SetLabel("vs baseline_memcpy_168");
}
BENCHMARK(outgoing_call_request_parse_handle);

// A peer that opens and clears calls as fast as it can on one connection (issue: 100k OCRQs): OCRQ in,
// OCRP out, CCRQ in, CDN out, the events drained, 10 us of virtual time per cycle, default settings. The
// cost of a cycle must not grow with the number of cycles before it, so the count is fixed at 100k.
void call_open_clear_cycle(benchmark::State& state) {
  pac_fixture f("64", true);
  std::vector<std::uint8_t> ocrq(sizeof(control::outgoing_call_request));
  auto& m = control::start_message<control::outgoing_call_request>(ocrq);
  m.maximum_bps = 10'000'000;
  m.packet_recv_window_size = 64;
  std::vector<std::uint8_t> ccrq(sizeof(control::call_clear_request));
  auto& c = control::start_message<control::call_clear_request>(ccrq);
  pptpkit_batch out = PPTPKIT_BATCH_INIT;
  pptpkit_event e = PPTPKIT_EVENT_INIT;
  std::uint64_t now = 0;
  std::uint16_t peer_id = 0;
  std::int64_t connected = 0;
  const auto feed = [&](const std::vector<std::uint8_t>& bytes) {
    pptpkit_packet* p = f.host.pool->alloc();
    std::memcpy(core::put(*p, static_cast<std::uint32_t>(bytes.size())), bytes.data(), bytes.size());
    p->channel = 1;
    pptpkit_batch in = {&p->link, &p->link, 1, 0};
    f.engine->feed(PPTPKIT_CONTROL_PORT_STREAM, in, now);
    f.engine->poll(PPTPKIT_CONTROL_PORT_STREAM, out, 1, now);
    f.host.pool->free_batch(out);
  };
  for (auto _ : state) {
    now += 10'000;
    m.call_id = ++peer_id;
    feed(ocrq);
    c.call_id = peer_id;
    feed(ccrq);
    while (f.engine->poll_event(e) == 1) {
      connected += e.type == PPTPKIT_CONTROL_EVENT_CALL_UP ? 1 : 0;
    }
  }
  state.counters["connected"] = static_cast<double>(connected);
  state.SetLabel("vs baseline_memcpy_168");
}
BENCHMARK(call_open_clear_cycle)->Iterations(100'000);

}  // namespace

BENCHMARK_MAIN();
