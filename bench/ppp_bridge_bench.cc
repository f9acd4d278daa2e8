// ppp-bridge data path beside a 1400-byte memcpy measured in the same run: one IP packet becomes a PPP
// frame (client instance, NET -> LINK) and an IP packet again (server instance, LINK -> NET), through
// the plugin's C functions, in place in one buffer. A second figure times only the core header
// push/parse/pull. The round trip is timed in clear and with MPPE-128 (CCP-negotiated, stateless and
// stateful). scripts/bench prints all as ratios against baseline_memcpy_1400.
#include <benchmark/benchmark.h>
#include <nettle/arcfour.h>

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

// Nettle's bare RC4 over the bytes MPPE encrypts (inner protocol + 1396-byte datagram), once each way:
// what the MPPE round trips below cannot do without.
void baseline_arcfour_1398_both_ways(benchmark::State& state) {
  std::vector<std::uint8_t> buf(1398, 0x5a);
  std::uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  arcfour_ctx tx, rx;
  arcfour_set_key(&tx, sizeof key, key);
  arcfour_set_key(&rx, sizeof key, key);
  for (auto _ : state) {
    arcfour_crypt(&tx, buf.size(), buf.data(), buf.data());
    arcfour_crypt(&rx, buf.size(), buf.data(), buf.data());
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1396);
}
BENCHMARK(baseline_arcfour_1398_both_ways);

// A client and a server instance negotiated up to IPCP Opened (and MPPE up unless refused) over an
// in-memory link. mppe: "refused", "stateless" or "stateful".
struct linked_pair {
  testing::test_host host{1};
  const pptpkit_plugin_ops& ops = *ppp::ppp_descriptor().ops;
  pptpkit_instance* server = nullptr;
  pptpkit_instance* client = nullptr;

  explicit linked_pair(const std::string& mppe = "refused") {
    char err[128];
    ops.create(&host.services(), nullptr, 0, &server, err, sizeof(err));
    ops.create(&host.services(), nullptr, 0, &client, err, sizeof(err));
    const char* mode = mppe == "refused" ? "refused" : "required";
    const char* stateful = mppe == "stateful" ? "1" : "0";
    const pptpkit_config_entry s[] = {{"role", "server"},
                                      {"auth", "mschapv2"},
                                      {"local_ip", "10.0.0.1"},
                                      {"remote_ip", "10.0.0.2"},
                                      {"ipv6", "0"},
                                      {"lcp_echo_interval", "0"},
                                      {"mppe", mode},
                                      {"mppe_bits", "128"},
                                      {"mppe_stateful", stateful}};
    const pptpkit_config_entry c[] = {{"role", "client"}, {"user", "u"},        {"password", "p"},
                                      {"ipv6", "0"},      {"auth", "mschapv2"}, {"lcp_echo_interval", "0"},
                                      {"mppe", mode},     {"mppe_bits", "128"}, {"mppe_stateful", stateful}};
    open(server, s, 9);
    open(client, c, 9);
    const int wanted = mppe == "refused" ? 2 : 4;  // IPV4_UP (and ENCRYPTION_UP) on both ends
    int up = 0;
    for (int round = 0; round < 100 && up < wanted; ++round) {
      shuttle(client, server);
      shuttle(server, client);
      up += events(server) + events(client);
    }
    if (up < wanted) {
      std::fprintf(stderr, "ppp_bridge_bench: the sessions did not come up\n");
      std::abort();
    }
  }
  ~linked_pair() {
    ops.destroy(server);
    ops.destroy(client);
  }
  void open(pptpkit_instance* inst, const pptpkit_config_entry* e, std::uint32_t n, std::uint32_t channel = 1) {
    pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
    cmd.type = PPTPKIT_PPP_CMD_SESSION_OPEN;
    cmd.channel = channel;
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
  // Answers secrets; counts IPV4_UP and ENCRYPTION_UP.
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
      up += e.type == PPTPKIT_PPP_EVENT_IPV4_UP || e.type == PPTPKIT_PPP_EVENT_ENCRYPTION_UP ? 1 : 0;
      e = pptpkit_event PPTPKIT_EVENT_INIT;
    }
    return up;
  }
};

// A well-formed IPv4 header (MPPE delivers nothing else) in front of `size` bytes.
void fill_ipv4(std::uint8_t* d, std::uint32_t size) {
  std::memset(d, 0, 20);
  d[0] = 0x45;
  d[2] = static_cast<std::uint8_t>(size >> 8);
  d[3] = static_cast<std::uint8_t>(size);
  d[8] = 64;
  d[9] = 17;
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) {
    sum += static_cast<std::uint32_t>((d[i] << 8) | d[i + 1]);
  }
  sum = (sum & 0xffff) + (sum >> 16);
  d[10] = static_cast<std::uint8_t>(~sum >> 8);
  d[11] = static_cast<std::uint8_t>(~sum);
}

// IP packet -> PPP frame -> IP packet, one 1396-byte packet (the MTU inside MPPE) per iteration.
// with_deadline: each iteration also asks the server's next_deadline(), as a host does every loop.
void roundtrip(benchmark::State& state, linked_pair& l, bool with_deadline) {
  pptpkit_packet* p = l.host.pool().alloc();
  std::uint8_t* d = p == nullptr ? nullptr : core::put(*p, 1396);
  if (d == nullptr) {
    state.SkipWithError("no packet");
    return;
  }
  fill_ipv4(d, 1396);
  p->channel = 1;
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  for (auto _ : state) {
    b.head = b.tail = &p->link;
    b.count = 1;
    l.ops.feed(l.client, PPTPKIT_PPP_PORT_NET, &b, 0);
    l.ops.poll(l.client, PPTPKIT_PPP_PORT_LINK, &b, 1, 0);
    l.ops.feed(l.server, PPTPKIT_PPP_PORT_LINK, &b, 0);
    l.ops.poll(l.server, PPTPKIT_PPP_PORT_NET, &b, 1, 0);
    if (with_deadline) {
      benchmark::DoNotOptimize(l.ops.next_deadline(l.server));
    }
    benchmark::DoNotOptimize(b.head);
  }
  if (b.count != 1 || PPTPKIT_PACKET_OF(b.head) != p || p->length != 1396) {
    state.SkipWithError("the packet did not make the round trip");
  }
  l.host.pool().free(p);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1396);
}
void roundtrip(benchmark::State& state, const std::string& mppe) {
  linked_pair l(mppe);
  roundtrip(state, l, false);
}
void ppp_ip_frame_ip_roundtrip(benchmark::State& state) {
  roundtrip(state, "refused");
}
BENCHMARK(ppp_ip_frame_ip_roundtrip);
// The same with MPPE-128 negotiated through CCP: encrypt + decrypt in place on the way.
void ppp_mppe128_stateless_roundtrip(benchmark::State& state) {
  roundtrip(state, "stateless");
  state.SetLabel("vs baseline_arcfour_1398_both_ways");
}
BENCHMARK(ppp_mppe128_stateless_roundtrip);
void ppp_mppe128_stateful_roundtrip(benchmark::State& state) {
  roundtrip(state, "stateful");
  state.SetLabel("vs baseline_arcfour_1398_both_ways");
}
BENCHMARK(ppp_mppe128_stateful_roundtrip);

// The clear round trip plus the next_deadline() a host asks every loop, while the server instance holds
// range(0) - 1 other sessions waiting in LCP (each with a restart timer): the timer index keeps both
// independent of how many sessions there are (Arg 10000 against Arg 1).
void ppp_roundtrip_among_sessions(benchmark::State& state) {
  linked_pair l("refused");
  const pptpkit_config_entry waiting[] = {{"role", "server"},        {"auth", "mschapv2"}, {"local_ip", "10.0.0.1"},
                                          {"remote_ip", "10.0.0.2"}, {"ipv6", "0"},        {"lcp_echo_interval", "0"}};
  for (std::int64_t i = 1; i < state.range(0); ++i) {
    l.open(l.server, waiting, 6, static_cast<std::uint32_t>(1000 + i));
    pptpkit_batch sent = PPTPKIT_BATCH_INIT;  // their LCP Configure-Requests go nowhere
    while (l.ops.poll(l.server, PPTPKIT_PPP_PORT_LINK, &sent, PPTPKIT_BATCH_MAX, 0) > 0) {
      l.host.drain(sent);
    }
  }
  roundtrip(state, l, true);
}
BENCHMARK(ppp_roundtrip_among_sessions)->Arg(1)->Arg(10000);

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
