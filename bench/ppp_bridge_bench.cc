// ppp-bridge data path beside a 1400-byte memcpy measured in the same run: one IP packet becomes a PPP
// frame (client instance, NET -> LINK) and an IP packet again (server instance, LINK -> NET), through
// the plugin's C functions, in place in one buffer. A second figure times only the core header
// push/parse/pull. scripts/bench prints both as ratios against baseline_memcpy_1400.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/ppp.h"
#include "pptpkit/ppp/plugin.hpp"
#include "pptpkit/ppp/protocol.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace {

using namespace pptpkit;

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

// A client and a server instance negotiated up to IPCP Opened over an in-memory link.
struct linked_pair {
  testing::test_host host{1};
  const pptpkit_plugin_ops& ops = *ppp::ppp_descriptor().ops;
  pptpkit_instance* server = nullptr;
  pptpkit_instance* client = nullptr;

  linked_pair() {
    char err[128];
    ops.create(&host.services(), nullptr, 0, &server, err, sizeof(err));
    ops.create(&host.services(), nullptr, 0, &client, err, sizeof(err));
    const pptpkit_config_entry s[] = {{"role", "server"},        {"auth", "mschapv2"}, {"local_ip", "10.0.0.1"},
                                      {"remote_ip", "10.0.0.2"}, {"ipv6", "0"},        {"lcp_echo_interval", "0"}};
    const pptpkit_config_entry c[] = {{"role", "client"}, {"user", "u"},        {"password", "p"},
                                      {"ipv6", "0"},      {"auth", "mschapv2"}, {"lcp_echo_interval", "0"}};
    open(server, s, 6);
    open(client, c, 6);
    int up = 0;
    for (int round = 0; round < 100 && up < 2; ++round) {
      shuttle(client, server);
      shuttle(server, client);
      up += events(server) + events(client);
    }
    if (up < 2) {
      std::fprintf(stderr, "ppp_bridge_bench: the sessions did not come up\n");
      std::abort();
    }
  }
  ~linked_pair() {
    ops.destroy(server);
    ops.destroy(client);
  }
  void open(pptpkit_instance* inst, const pptpkit_config_entry* e, std::uint32_t n) {
    pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
    cmd.type = PPTPKIT_PPP_CMD_SESSION_OPEN;
    cmd.channel = 1;
    cmd.entries = e;
    cmd.entry_count = n;
    ops.command(inst, &cmd, 0);
  }
  void shuttle(pptpkit_instance* from, pptpkit_instance* to) {
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    while (ops.poll(from, PPTPKIT_PPP_PORT_LINK, &b, PPTPKIT_BATCH_MAX, 0) > 0) {
      ops.feed(to, PPTPKIT_PPP_PORT_LINK, &b, 0);
    }
  }
  // Answers secrets; returns 1 when IPV4_UP was seen.
  int events(pptpkit_instance* inst) {
    int up = 0;
    pptpkit_event e = PPTPKIT_EVENT_INIT;
    while (ops.poll_event(inst, &e) == 1) {
      if (e.type == PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED) {
        const pptpkit_config_entry secret[] = {{"secret", "p"}};
        pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
        cmd.type = PPTPKIT_PPP_CMD_AUTH_SECRET;
        cmd.channel = 1;
        cmd.values[0] = 1;
        cmd.entries = secret;
        cmd.entry_count = 1;
        ops.command(inst, &cmd, 0);
      }
      up += e.type == PPTPKIT_PPP_EVENT_IPV4_UP ? 1 : 0;
      e = pptpkit_event PPTPKIT_EVENT_INIT;
    }
    return up;
  }
};

// IP packet -> PPP frame -> IP packet, one 1396-byte packet (the MTU inside MPPE) per iteration.
void ppp_ip_frame_ip_roundtrip(benchmark::State& state) {
  linked_pair l;
  pptpkit_packet* p = l.host.pool().alloc();
  core::put(*p, 1396)[0] = 0x45;
  p->channel = 1;
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  for (auto _ : state) {
    b.head = b.tail = &p->link;
    b.count = 1;
    l.ops.feed(l.client, PPTPKIT_PPP_PORT_NET, &b, 0);
    l.ops.poll(l.client, PPTPKIT_PPP_PORT_LINK, &b, 1, 0);
    l.ops.feed(l.server, PPTPKIT_PPP_PORT_LINK, &b, 0);
    l.ops.poll(l.server, PPTPKIT_PPP_PORT_NET, &b, 1, 0);
    benchmark::DoNotOptimize(b.head);
  }
  if (b.count != 1 || PPTPKIT_PACKET_OF(b.head) != p || p->length != 1396) {
    state.SkipWithError("the packet did not make the round trip");
  }
  l.host.pool().free(p);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1396);
}
BENCHMARK(ppp_ip_frame_ip_roundtrip);

// The core alone: push the (compressed) header, parse it, pull it.
void ppp_header_push_parse_pull(benchmark::State& state) {
  auto pool = core::packet_pool::create({.packets = 1});
  pptpkit_packet* p = pool->alloc();
  core::put(*p, 1396);
  for (auto _ : state) {
    ppp::push_frame_header(*p, ppp::proto_ipv4, true, true);
    const auto h = ppp::parse_frame_header(core::bytes(*p));
    core::pull(*p, h->size);
    benchmark::DoNotOptimize(p->offset);
  }
  pool->free(p);
}
BENCHMARK(ppp_header_push_parse_pull);

}  // namespace

BENCHMARK_MAIN();
