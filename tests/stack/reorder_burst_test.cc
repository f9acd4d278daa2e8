// Two whole stacks at the plugin level — gre-tunnel and ppp-bridge for a client and a server, MPPE-128
// stateless or stateful — over tests/support sim_links in virtual time, through the reordering burst
// the Linux kernel's PPTP sender makes under load (issue row 10): a steady flow of datagrams from the
// client, then a run of 370 packets displaced behind the next 370 (larger than the 64-packet reorder
// window), then the steady flow again.
//
// The server's receive path runs on one thread, modelled: every frame costs frame_cost of virtual time
// and every MPPE key change rekey_cost more, and frames that arrive while it is busy wait in a bounded
// receive queue (beyond it they are dropped, as a socket buffer does). So a receiver that spends
// thousands of key changes on late frames falls behind and loses throughput, as it did against the
// kernel (96 % CPU, 86 → 13 Mbit/s).
//
// Checked for every seed: GRE never follows the displaced run backwards, the PPP session stays up, the
// frames lost are bounded (the displaced run, and a few packets the path's jitter reorders right at the
// forward jump; stateful MPPE adds the frames of one CCP Reset-Request round trip), delivery per virtual
// second after the burst is within 10 % of before, and no frame costs more than the MPPE per-frame
// budget of key changes. On the code before this test, a stateless run follows the late run backwards
// and spends ~16k key changes on its frames: the server's thread falls seconds behind and delivery
// after the burst stops. A failing seed is printed; replay it with PPTPKIT_SEED=<seed>.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/gre/tunnel.hpp"
#include "pptpkit/testing/ipv4_header.hpp"
#include "pptpkit/testing/sim_link.hpp"

namespace {

using namespace pptpkit;
using pptpkit::ppp::testing::client_params;
using pptpkit::ppp::testing::endpoint;
using pptpkit::ppp::testing::kv;
using pptpkit::ppp::testing::server_params;
using pptpkit::testing::sim_link;
using pptpkit::testing::sim_link_config;
using pptpkit::testing::test_host;

constexpr std::uint64_t us = 1'000;
constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t s = 1'000'000'000;

constexpr std::uint16_t server_call = 100;
constexpr std::uint16_t client_call = 200;
constexpr std::uint32_t server_ip = 0x0a000001;
constexpr std::uint32_t client_ip = 0x0a000002;

// The server's one thread (bench_mppe on the development machine: an MPPE-128 key change, SHA-1 and an
// RC4 key setup, ~2 µs; RC4 over 1400 bytes ~4 µs; with GRE, PPP and the system calls ~10 µs a frame).
constexpr std::uint64_t frame_cost = 10 * us;
constexpr std::uint64_t rekey_cost = 2 * us;
constexpr std::size_t rx_queue_limit = 1024;  // frames; a socket receive buffer of ~1.4 MB

constexpr std::uint64_t rate = 5000;  // datagrams a second, client to server (~56 Mbit/s)
constexpr std::uint64_t send_gap = s / rate;
constexpr std::uint32_t datagram_size = 1396;  // the MTU inside MPPE (MRU 1400 less 4)
constexpr std::uint32_t steady_before = 2 * rate;
constexpr std::uint32_t total = 6 * rate;
constexpr std::uint32_t displaced = 370;      // the run the kernel's sender moves behind the next one
constexpr std::uint64_t frame_budget = 1024;  // ppp-bridge/MPPE.md: key changes a frame may cost
constexpr std::uint64_t jitter = 1 * ms;      // the path's; it reorders a few packets (the window copes)

// A well-formed IPv4 datagram (MPPE delivers nothing else) carrying its id.
std::vector<std::uint8_t> datagram(std::uint32_t id) {
  std::vector<std::uint8_t> d(datagram_size, 0x5a);
  d[0] = 0x45;
  d[1] = 0;
  d[2] = datagram_size >> 8;
  d[3] = datagram_size & 0xff;
  d[8] = 64;
  d[9] = 17;
  d[10] = d[11] = 0;
  for (int i = 0; i < 4; ++i) {
    d[20 + i] = static_cast<std::uint8_t>(id >> (24 - 8 * i));
  }
  pptpkit::testing::set_ipv4_checksum(d.data());
  return d;
}

// One end: a GRE tunnel with one call and a PPP instance whose session's channel is that call id.
struct stack {
  stack(test_host& host, const char* label, std::uint16_t our_call, std::uint16_t peer_call, std::uint32_t peer_ip)
      : host_(host), ppp(host, label), call(our_call) {
    gre = gre::tunnel::create(core::host(host.services()), core::config_map(nullptr, 0));
    gre::session_params p;
    p.call_id = our_call;
    p.peer_call_id = peer_call;
    p.peer_window = 64;
    p.peer_address = peer_ip;
    EXPECT_EQ(gre->open_session(p, 0), PPTPKIT_OK);
  }

  // GRE from the link (takes the batch).
  void from_link(pptpkit_batch& b, std::uint64_t now) { ASSERT_EQ(gre->feed(PPTPKIT_GRE_PORT_NET, b, now), 0); }
  // What GRE delivered goes to PPP; what PPP sends goes to GRE. `frame_done` sees each PPP frame fed.
  template <typename Done>
  void shuttle(std::uint64_t now, Done frame_done) {
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    while (gre->poll(PPTPKIT_GRE_PORT_PPP, b, PPTPKIT_BATCH_MAX, now) > 0) {
      core::packet_list frames;
      frames.adopt(b);
      while (pptpkit_packet* f = frames.pop_front()) {
        pptpkit_batch one = PPTPKIT_BATCH_INIT;
        one.head = one.tail = &f->link;
        one.count = 1;
        f->link.next = nullptr;
        ASSERT_EQ(ppp.ops().feed(ppp.instance(), PPTPKIT_PPP_PORT_LINK, &one, now), 0);
        frame_done();
      }
    }
    ppp.drain_events();
    while (ppp.ops().poll(ppp.instance(), PPTPKIT_PPP_PORT_LINK, &b, PPTPKIT_BATCH_MAX, now) > 0) {
      ASSERT_EQ(gre->feed(PPTPKIT_GRE_PORT_PPP, b, now), 0);
    }
  }
  // GRE for the link.
  void to_link(std::vector<pptpkit_packet*>& out, std::uint64_t now) {
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    while (gre->poll(PPTPKIT_GRE_PORT_NET, b, PPTPKIT_BATCH_MAX, now) > 0) {
      core::packet_list l;
      l.adopt(b);
      while (pptpkit_packet* p = l.pop_front()) {
        out.push_back(p);
      }
    }
  }
  // IP packets PPP delivered: their ids.
  void delivered(std::vector<std::uint32_t>& ids, std::uint64_t now) {
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    while (ppp.ops().poll(ppp.instance(), PPTPKIT_PPP_PORT_NET, &b, PPTPKIT_BATCH_MAX, now) > 0) {
      core::packet_list l;
      l.adopt(b);
      while (pptpkit_packet* p = l.pop_front()) {
        const std::uint8_t* d = core::data(*p) + 20;
        ids.push_back(std::uint32_t{d[0]} << 24 | std::uint32_t{d[1]} << 16 | std::uint32_t{d[2]} << 8 | d[3]);
        host_.pool().free(p);
      }
    }
  }
  void send_datagram(std::uint32_t id, std::uint64_t now) {
    pptpkit_packet* p = host_.make_packet(datagram(id), call);
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    b.head = b.tail = &p->link;
    b.count = 1;
    ASSERT_EQ(ppp.ops().feed(ppp.instance(), PPTPKIT_PPP_PORT_NET, &b, now), 0);
  }
  void tick(std::uint64_t now) {
    gre->tick(now);
    ppp.ops().tick(ppp.instance(), now);
  }
  std::uint64_t deadline() const { return std::min(gre->next_deadline(), ppp.deadline()); }
  std::uint64_t rx_rekeys() const {
    const ppp::session* sn = ppp.find_session(call);
    return sn == nullptr ? 0 : sn->ccp().mppe_totals().rx_rekeys;
  }

  test_host& host_;
  std::unique_ptr<gre::tunnel> gre;
  endpoint ppp;
  std::uint16_t call;
};

struct result {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  double before = 0;              // datagrams delivered a second, the second before the burst
  double after = 0;               // the same, from 0.5 s to 1.5 s after the displaced run arrived
  std::uint64_t most_rekeys = 0;  // the most MPPE key changes one frame cost the server
  std::uint64_t queue_overflow = 0;
  std::uint64_t busy_ns = 0;  // the server's modelled thread time
  bool link_down = false;
  bool encrypted = false;
  std::uint64_t backward_jumps = 0;  // the server's GRE followed the peer's numbering backwards
  std::string gre_log;               // the server's GRE log lines (its sequence jumps)
  std::string counters;              // both ends' non-zero counters
};

result run(bool stateful, std::uint64_t seed) {
  result r;
  test_host host(seed, {.packets = 8192});
  stack server(host, "server", server_call, client_call, client_ip);
  stack client(host, "client", client_call, server_call, server_ip);
  // A path with a little jitter (it reorders within the reorder window) and no loss: the burst is the
  // only disturbance.
  const sim_link_config path{.delay_ns = 10 * ms, .jitter_ns = jitter};
  sim_link to_server(path, seed * 2 + 1, host.pool());
  sim_link to_client(path, seed * 2 + 2, host.pool());

  server.ppp.secrets["alice"] = {"s3cret", ""};
  kv sp = server_params("mschapv2");
  kv cp = client_params("mschapv2");
  for (kv* p : {&sp, &cp}) {
    p->push_back({"mppe", "required"});
    p->push_back({"mppe_bits", "128"});
    p->push_back({"mppe_stateful", stateful ? "1" : "0"});
  }
  EXPECT_EQ(server.ppp.open(sp, server_call), PPTPKIT_OK);
  EXPECT_EQ(client.ppp.open(cp, client_call), PPTPKIT_OK);

  std::uint64_t now = 0;
  std::deque<pptpkit_packet*> rx_queue;  // arrived at the server, waiting for its thread
  std::uint64_t busy_until = 0;
  std::vector<std::uint32_t> ids;           // delivered to the server's interface, in order
  std::vector<std::uint64_t> delivered_at;  // when
  // The client's sender: the displaced run is held back until the 370 after it have gone.
  std::vector<pptpkit_packet*> held;
  std::uint64_t gre_sent_after_start = 0;
  std::uint64_t burst_at = 0, released_at = 0;
  bool up = false;
  std::uint32_t next_id = 0;
  std::uint64_t next_send = 0;
  const std::uint64_t limit = 60 * s;

  auto encrypted = [&] {
    return server.ppp.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP) != nullptr &&
           client.ppp.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP) != nullptr &&
           server.ppp.find(PPTPKIT_PPP_EVENT_IPV4_UP) != nullptr && client.ppp.find(PPTPKIT_PPP_EVENT_IPV4_UP);
  };
  while (now < limit) {
    // The client: datagrams at `rate` once the session is up, through its stack to the link.
    if (!up && encrypted()) {
      up = true;
      next_send = now;
    }
    if (up && next_id < total && now >= next_send) {
      client.send_datagram(next_id++, now);
      next_send += send_gap;
    }
    {
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      while (to_client.receive(b, now) > 0) {
        for (pptpkit_packet_link* l = b.head; l != nullptr; l = l->next) {
          PPTPKIT_PACKET_OF(l)->aux = server_ip;
        }
        client.from_link(b, now);
      }
    }
    client.tick(now);
    client.shuttle(now, [] {});
    std::vector<std::uint32_t> ignored;
    client.delivered(ignored, now);
    std::vector<pptpkit_packet*> out;
    client.to_link(out, now);
    for (pptpkit_packet* p : out) {
      if (next_id > steady_before && gre_sent_after_start < 2 * displaced) {
        // The burst: N+1..N+370 are held back behind N+371..N+740.
        if (gre_sent_after_start == 0) {
          burst_at = now;
        }
        if (gre_sent_after_start++ < displaced) {
          held.push_back(p);
          continue;
        }
        to_server.send(p, now);
        if (gre_sent_after_start == 2 * displaced) {
          released_at = now;
          for (pptpkit_packet* h : held) {
            to_server.send(h, now);
          }
          held.clear();
        }
        continue;
      }
      to_server.send(p, now);
    }

    // The server: arrivals queue for its one thread, which takes them one at a time at its cost.
    {
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      while (to_server.receive(b, now) > 0) {
        core::packet_list l;
        l.adopt(b);
        while (pptpkit_packet* p = l.pop_front()) {
          p->aux = client_ip;
          if (rx_queue.size() >= rx_queue_limit) {
            ++r.queue_overflow;
            host.pool().free(p);
          } else {
            rx_queue.push_back(p);
          }
        }
      }
    }
    server.tick(now);
    server.shuttle(now, [] {});
    while (!rx_queue.empty() && busy_until <= now) {
      pptpkit_packet* p = rx_queue.front();
      rx_queue.pop_front();
      p->link.next = nullptr;
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      b.head = b.tail = &p->link;
      b.count = 1;
      server.from_link(b, now);
      std::uint64_t cost = frame_cost;
      std::uint64_t rekeys = server.rx_rekeys();
      server.shuttle(now, [&] {
        const std::uint64_t after = server.rx_rekeys();
        r.most_rekeys = std::max(r.most_rekeys, after - rekeys);
        cost += (after - rekeys) * rekey_cost;
        rekeys = after;
      });
      const std::size_t before = ids.size();
      server.delivered(ids, now);
      delivered_at.insert(delivered_at.end(), ids.size() - before, now);
      busy_until = now + cost;
      r.busy_ns += cost;
    }
    std::vector<pptpkit_packet*> back;
    server.to_link(back, now);
    for (pptpkit_packet* p : back) {
      to_client.send(p, now);
    }

    const bool done = up && next_id >= total && rx_queue.empty() && to_server.in_flight() == 0 && held.empty();
    if (done) {
      break;
    }
    std::uint64_t next =
        std::min({client.deadline(), server.deadline(), to_server.next_arrival(), to_client.next_arrival()});
    if (up && next_id < total) {
      next = std::min(next, next_send);
    }
    if (!rx_queue.empty()) {
      next = std::min(next, busy_until);
    }
    if (!up && next == PPTPKIT_NO_DEADLINE) {
      ADD_FAILURE() << "negotiation stalled";
      break;
    }
    now = std::max(next, now + 1);
  }
  for (pptpkit_packet* p : rx_queue) {
    host.pool().free(p);
  }
  for (pptpkit_packet* p : held) {
    host.pool().free(p);
  }

  r.sent = next_id;
  r.delivered = ids.size();
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << "delivered out of order";
  auto per_second = [&](std::uint64_t from, std::uint64_t to) {
    const auto n =
        std::count_if(delivered_at.begin(), delivered_at.end(), [&](std::uint64_t t) { return t >= from && t < to; });
    return static_cast<double>(n) * s / static_cast<double>(to - from);
  };
  r.before = burst_at >= s ? per_second(burst_at - s, burst_at) : 0;
  r.after = per_second(released_at + 500 * ms, released_at + 1500 * ms);
  r.link_down = server.ppp.find(PPTPKIT_PPP_EVENT_LINK_DOWN) != nullptr ||
                client.ppp.find(PPTPKIT_PPP_EVENT_LINK_DOWN) != nullptr ||
                server.ppp.find_session(server_call) == nullptr;
  r.encrypted = encrypted();
  for (const auto* side : {&server, &client}) {
    pptpkit_stat st[64];
    const std::int32_t n = side->ppp.ops().read_stats(side->ppp.instance(), PPTPKIT_CHANNEL_ALL, st, 64);
    std::string line = std::string("\n  ") + (side == &server ? "server" : "client") + " ppp:";
    for (std::int32_t i = 0; i < std::min(n, 64); ++i) {
      if (st[i].value != 0) {
        line += std::string(" ") + st[i].name + "=" + std::to_string(st[i].value);
      }
    }
    pptpkit_stat g[64];
    const std::uint32_t m = side->gre->totals().export_to(g, 64);
    line += "\n  " + std::string(side == &server ? "server" : "client") + " gre:";
    for (std::uint32_t i = 0; i < std::min<std::uint32_t>(m, 64); ++i) {
      if (g[i].value != 0) {
        line += std::string(" ") + g[i].name + "=" + std::to_string(g[i].value);
      }
    }
    r.counters += line;
  }
  for (const auto& line : host.logs()) {
    if (line.component != "gre") {
      continue;
    }
    r.gre_log += "\n    " + line.text;
    unsigned call = 0, from = 0, to = 0;
    if (std::sscanf(line.text.c_str(), "call %u: peer sequence jumped from %u to %u", &call, &from, &to) == 3 &&
        static_cast<std::int32_t>(to - from) < 0) {
      ++r.backward_jumps;
    }
  }
  return r;
}

class reorder_burst : public ::testing::TestWithParam<bool> {};

// Issue row 10: the kernel's displaced runs made the receiver follow the late run backwards and spend up
// to ~16k key changes on each of its stateless frames, on its only thread, for the rest of the session.
TEST_P(reorder_burst, a_run_displaced_behind_the_next_costs_the_run_not_the_session) {
  const bool stateful = GetParam();
  for (const std::uint64_t seed : pptpkit::testing::seeds_from_env(5)) {
    const result r = run(stateful, seed);
    // What may be lost: the displaced run (it arrives behind the window); the few packets the path's
    // jitter puts behind the first packet of the forward jump (they are stale once it is taken); and
    // with stateful MPPE the frames until the flushed frame that answers our Reset-Request (a round
    // trip, 20 ms, and the jitter).
    const std::uint64_t bound = displaced + jitter / send_gap + (stateful ? rate * 30 * ms / s : 0);
    std::printf(
        "[ stack    ] %s, seed %llu: %.0f datagrams/s before, %.0f after; lost %llu of %llu (bound %llu); "
        "most key changes a frame %llu; rx queue overflow %llu; server thread %.2f s\n",
        stateful ? "stateful" : "stateless", static_cast<unsigned long long>(seed), r.before, r.after,
        static_cast<unsigned long long>(r.sent - r.delivered), static_cast<unsigned long long>(r.sent),
        static_cast<unsigned long long>(bound), static_cast<unsigned long long>(r.most_rekeys),
        static_cast<unsigned long long>(r.queue_overflow), static_cast<double>(r.busy_ns) / s);
    const std::string replay = "\n  replay: PPTPKIT_SEED=" + std::to_string(seed) +
                               " stack_tests --gtest_filter='*reorder_burst*'" + r.counters +
                               "\n  server GRE log:" + r.gre_log;
    EXPECT_EQ(r.backward_jumps, 0u) << replay;
    EXPECT_FALSE(r.link_down) << replay;
    EXPECT_TRUE(r.encrypted) << replay;
    EXPECT_EQ(r.sent, total) << replay;
    EXPECT_GT(r.before, 0.95 * rate) << replay;
    EXPECT_GE(r.after, 0.9 * r.before) << replay;
    EXPECT_LE(r.sent - r.delivered, bound) << replay;
    EXPECT_LE(r.most_rekeys, frame_budget) << replay;
    EXPECT_EQ(r.queue_overflow, 0u) << replay;
    if (::testing::Test::HasFailure()) {
      return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(mppe128, reorder_burst, ::testing::Bool(),
                         [](const auto& param_info) { return param_info.param ? "stateful" : "stateless"; });

}  // namespace
