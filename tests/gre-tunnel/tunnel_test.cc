// The tunnel as a plugin: configuration, commands, events, read_stats, the C ABI, many calls, and the
// data path's "no heap allocation" promise.
#include <gtest/gtest.h>

#include <cstring>

#include "gre_fixture.hpp"
#include "pptpkit/testing/alloc_counter.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::gre;
using namespace pptpkit::gre::testing;

class gre_tunnel : public gre_test {
 protected:
  void SetUp() override { make(); }
};

TEST_F(gre_tunnel, configuration_is_checked_key_by_key) {
  EXPECT_THROW(make({{"receive_windw", "64"}}), core::config_error);
  EXPECT_THROW(make({{"receive_window", "0"}}), core::config_error);
  EXPECT_THROW(make({{"enforce_peer_window", "maybe"}}), core::config_error);
  EXPECT_THROW(make({{"max_sessions", "70000"}}), core::config_error);
  EXPECT_THROW(make({{"restart_confirm_ms", "60001"}}), core::config_error);
  make({{"receive_window", "16"}, {"reorder_depth", "64"}});
  EXPECT_EQ(t->config().reorder_depth, 16u);  // never more held than the window
  EXPECT_EQ(t->config().restart_confirm_ns, 1'000'000'000u);
  make({{"restart_confirm_ms", "250"}});
  EXPECT_EQ(t->config().restart_confirm_ns, 250'000'000u);
}

TEST_F(gre_tunnel, sessions_open_once_and_close_freeing_what_they_hold) {
  open();
  session_params p;
  p.call_id = 100;
  EXPECT_EQ(t->open_session(p, 0), PPTPKIT_ERR_STATE);
  make({{"enforce_peer_window", "1"}});
  open(100, 200, 1);
  send(1);
  send(2);  // queued
  data(0);
  data(5);  // held
  EXPECT_LT(host.pool().available(), host.pool().capacity());
  EXPECT_EQ(t->close_session(100), PPTPKIT_OK);
  EXPECT_EQ(t->close_session(100), PPTPKIT_ERR_NOT_FOUND);
  poll(PPTPKIT_GRE_PORT_NET);
  poll(PPTPKIT_GRE_PORT_PPP);
  EXPECT_EQ(host.pool().available(), host.pool().capacity());
  EXPECT_EQ(t->totals().delivered, 1u);  // a closed session's counters stay in the totals
  EXPECT_EQ(t->next_deadline(), PPTPKIT_NO_DEADLINE);
}

TEST_F(gre_tunnel, max_sessions_is_a_limit) {
  make({{"max_sessions", "2"}});
  open(1);
  open(2);
  session_params p;
  p.call_id = 3;
  EXPECT_EQ(t->open_session(p, 0), PPTPKIT_ERR_LIMIT);
}

TEST_F(gre_tunnel, commands_follow_the_gre_header) {
  pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
  cmd.type = PPTPKIT_GRE_CMD_SESSION_OPEN;
  cmd.channel = 100;
  cmd.values[0] = 200;
  cmd.values[1] = 16;
  cmd.values[2] = 5;  // 0.5 s
  cmd.values[3] = peer_ip;
  ASSERT_EQ(t->command(cmd, 0), PPTPKIT_OK);
  const session* s = t->find(100);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->params().peer_call_id, 200);
  EXPECT_EQ(s->params().peer_window, 16u);
  EXPECT_EQ(s->params().peer_processing_delay_ns, 500 * ms);
  EXPECT_EQ(s->params().peer_address, peer_ip);
  cmd.channel = 70000;
  EXPECT_EQ(t->command(cmd, 0), PPTPKIT_ERR_INVALID_ARGUMENT);
  cmd.type = 99;
  EXPECT_EQ(t->command(cmd, 0), PPTPKIT_ERR_NOT_SUPPORTED);
  cmd.type = PPTPKIT_GRE_CMD_SESSION_CLOSE;
  cmd.channel = 100;
  EXPECT_EQ(t->command(cmd, 0), PPTPKIT_OK);
  EXPECT_EQ(t->find(100), nullptr);
}

TEST_F(gre_tunnel, first_peer_data_is_announced_once) {
  open();
  advance(300 * ms);
  data(0);
  data(1);
  pptpkit_event e = PPTPKIT_EVENT_INIT;
  ASSERT_EQ(t->poll_event(e), 1);
  EXPECT_EQ(e.type, PPTPKIT_GRE_EVENT_FIRST_PEER_DATA);
  EXPECT_EQ(e.channel, 100u);
  EXPECT_EQ(e.values[0], 300u);
  EXPECT_EQ(t->poll_event(e), 0);
}

TEST_F(gre_tunnel, silence_from_the_peer_is_announced_with_likely_causes) {
  open();
  EXPECT_EQ(t->next_deadline(), 5000 * ms);
  advance(5000 * ms);
  pptpkit_event e = PPTPKIT_EVENT_INIT;
  ASSERT_EQ(t->poll_event(e), 1);
  EXPECT_EQ(e.type, PPTPKIT_GRE_EVENT_NO_PEER_DATA);
  EXPECT_EQ(e.values[0], 5000u);
  EXPECT_NE(std::strstr(e.text, "NAT"), nullptr);
  EXPECT_TRUE(host.logged("no GRE from the peer"));
  advance(60000 * ms);
  EXPECT_EQ(t->poll_event(e), 0);  // once
  EXPECT_EQ(t->next_deadline(), PPTPKIT_NO_DEADLINE);
}

TEST_F(gre_tunnel, the_silence_warning_can_be_turned_off) {
  make({{"no_data_warning_ms", "0"}});
  open();
  EXPECT_EQ(t->next_deadline(), PPTPKIT_NO_DEADLINE);
}

TEST_F(gre_tunnel, read_stats_per_session_and_for_the_instance) {
  open(1, 11);
  open(2, 22);
  data(0, std::nullopt, 1);
  data(0, std::nullopt, 2);
  data(1, std::nullopt, 2);
  feed_net(host.make_packet({0x00}));
  std::vector<pptpkit_stat> stats(gre_counters::count);
  auto value = [&](const char* name) {
    for (const auto& st : stats) {
      if (std::strcmp(st.name, name) == 0) {
        return st.value;
      }
    }
    ADD_FAILURE() << name;
    return std::uint64_t{0};
  };
  ASSERT_EQ(t->read_stats(2, stats.data(), gre_counters::count), static_cast<std::int32_t>(gre_counters::count));
  EXPECT_EQ(value("delivered"), 2u);
  ASSERT_EQ(t->read_stats(PPTPKIT_CHANNEL_ALL, stats.data(), gre_counters::count),
            static_cast<std::int32_t>(gre_counters::count));
  EXPECT_EQ(value("delivered"), 3u);
  EXPECT_EQ(value("reject_too_short"), 1u);
  EXPECT_EQ(t->read_stats(3, stats.data(), gre_counters::count), PPTPKIT_ERR_NOT_FOUND);
}

TEST_F(gre_tunnel, unknown_ports_are_refused_and_their_packets_freed) {
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  pptpkit_packet* p = host.make_packet({1});
  b.head = b.tail = &p->link;
  b.count = 1;
  EXPECT_EQ(t->feed(7, b, 0), PPTPKIT_ERR_NOT_SUPPORTED);
  EXPECT_EQ(b.count, 0u);
  EXPECT_EQ(host.pool().available(), host.pool().capacity());
  EXPECT_EQ(t->poll(7, b, 8, 0), PPTPKIT_ERR_NOT_SUPPORTED);
}

TEST_F(gre_tunnel, ten_thousand_calls_are_demultiplexed) {
  for (std::uint32_t call = 1; call <= 10000; ++call) {
    open(static_cast<std::uint16_t>(call), static_cast<std::uint16_t>(call + 20000));
  }
  for (std::uint32_t call = 1; call <= 10000; call += 997) {
    data(0, std::nullopt, static_cast<std::uint16_t>(call));
    send(call, 0, static_cast<std::uint16_t>(call));
  }
  EXPECT_EQ(delivered().size(), 11u);
  auto h = sent();
  ASSERT_EQ(h.size(), 11u);
  EXPECT_EQ(h[3].call_id, 3 * 997 + 1 + 20000);
  EXPECT_EQ(t->session_count(), 10000u);
}

TEST_F(gre_tunnel, the_plugin_works_through_its_c_abi) {
  const pptpkit_plugin_descriptor& d = plugin_descriptor();
  EXPECT_EQ(d.kind, PPTPKIT_KIND_GRE);
  EXPECT_STREQ(d.name, "gre-tunnel");
  const pptpkit_config_entry config[] = {{"reorder_timeout_ms", "40"}};
  pptpkit_instance* inst = nullptr;
  char error[128] = "";
  ASSERT_EQ(d.ops->create(&host.services(), config, 1, &inst, error, sizeof error), PPTPKIT_OK) << error;
  pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
  cmd.type = PPTPKIT_GRE_CMD_SESSION_OPEN;
  cmd.channel = 5;
  cmd.values[0] = 6;
  ASSERT_EQ(d.ops->command(inst, &cmd, 0), PPTPKIT_OK);
  pptpkit_packet* p = host.make_packet(payload(1), 5);
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  b.head = b.tail = &p->link;
  b.count = 1;
  ASSERT_EQ(d.ops->feed(inst, PPTPKIT_GRE_PORT_PPP, &b, 0), PPTPKIT_OK);
  ASSERT_EQ(d.ops->poll(inst, PPTPKIT_GRE_PORT_NET, &b, 8, 0), 1);
  host.drain(b);
  const pptpkit_config_entry bad[] = {{"reorder_timeout_ms", "soon"}};
  pptpkit_instance* none = nullptr;
  EXPECT_EQ(d.ops->create(&host.services(), bad, 1, &none, error, sizeof error), PPTPKIT_ERR_CONFIG);
  EXPECT_NE(std::strstr(error, "reorder_timeout_ms"), nullptr);
  d.ops->destroy(inst);
}

TEST_F(gre_tunnel, the_data_path_allocates_nothing) {
  open(1, 2);  // two calls of one host talking to each other: 2 sends to peer call 1, which is call 1
  open(2, 1);
  // One round: 32 frames encapsulated by call 2, turned around and decapsulated by call 1, then a
  // tick (standalone acks come from the pool too).
  auto round = [&] {
    core::packet_list list;
    for (std::uint32_t i = 0; i < 32; ++i) {
      pptpkit_packet* p = host.pool().alloc();
      ASSERT_NE(p, nullptr);
      p->length = 64;
      p->channel = 2;
      list.push_back(*p);
    }
    pptpkit_batch in = PPTPKIT_BATCH_INIT;
    list.release(in);
    ASSERT_EQ(t->feed(PPTPKIT_GRE_PORT_PPP, in, host.now), PPTPKIT_OK);
    pptpkit_batch net = PPTPKIT_BATCH_INIT;
    ASSERT_EQ(t->poll(PPTPKIT_GRE_PORT_NET, net, PPTPKIT_BATCH_MAX, host.now), 32);
    for (pptpkit_packet_link* l = net.head; l != nullptr; l = l->next) {
      PPTPKIT_PACKET_OF(l)->aux = peer_ip;
    }
    ASSERT_EQ(t->feed(PPTPKIT_GRE_PORT_NET, net, host.now), PPTPKIT_OK);
    pptpkit_batch ppp = PPTPKIT_BATCH_INIT;
    ASSERT_EQ(t->poll(PPTPKIT_GRE_PORT_PPP, ppp, PPTPKIT_BATCH_MAX, host.now), 32);
    host.pool().free_batch(ppp);
    host.now += 5 * ms;
    ASSERT_EQ(t->tick(host.now), PPTPKIT_OK);
    pptpkit_batch acks = PPTPKIT_BATCH_INIT;
    t->poll(PPTPKIT_GRE_PORT_NET, acks, PPTPKIT_BATCH_MAX, host.now);
    host.pool().free_batch(acks);
  };
  round();  // the first packet of a session is announced (an event: control path, may allocate)
  pptpkit_event e = PPTPKIT_EVENT_INIT;
  while (t->poll_event(e) == 1) {
  }
  pptpkit::testing::allocation_scope scope;
  for (std::uint32_t i = 0; i < 200; ++i) {
    round();
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(t->find(1)->counters().delivered, 201u * 32);
  EXPECT_GT(t->find(1)->counters().sent_ack_only, 0u);
}

}  // namespace
