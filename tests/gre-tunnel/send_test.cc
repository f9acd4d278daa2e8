// The send path: our numbering, piggybacked and delayed acks, the peer's window (off by default), the
// send queue and its bound, control frames ahead of data, and the §4.4 acknowledgement time-out.
#include <gtest/gtest.h>

#include "gre_fixture.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::gre;
using namespace pptpkit::gre::testing;

class gre_send : public gre_test {
 protected:
  void SetUp() override {
    make();
    open();
  }
};

TEST_F(gre_send, our_numbering_starts_at_zero_and_packets_go_to_the_peer) {
  send(1);
  send(2);
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  ASSERT_EQ(t->poll(PPTPKIT_GRE_PORT_NET, b, 8, host.now), 2);
  const pptpkit_packet* p = PPTPKIT_PACKET_OF(b.head);
  EXPECT_EQ(p->channel, 100u);
  EXPECT_EQ(p->aux, peer_ip);
  auto wire = host.drain(b);
  header_info h;
  ASSERT_EQ(decode(wire[0], h), verdict::ok);
  EXPECT_EQ(h.call_id, 200);  // the peer's call id is the key we send
  EXPECT_TRUE(h.has_sequence);
  EXPECT_EQ(h.sequence, 0u);
  EXPECT_FALSE(h.has_ack);  // nothing received yet
  ASSERT_EQ(decode(wire[1], h), verdict::ok);
  EXPECT_EQ(h.sequence, 1u);
  EXPECT_EQ(std::vector<std::uint8_t>(wire[1].begin() + 12, wire[1].end()), payload(2));
}

TEST_F(gre_send, encapsulation_uses_the_headroom_without_moving_the_payload) {
  pptpkit_packet* p = host.make_packet(payload(9), 100);
  const std::uint8_t* payload_at = p->base + p->offset;
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  b.head = b.tail = &p->link;
  b.count = 1;
  t->feed(PPTPKIT_GRE_PORT_PPP, b, host.now);
  ASSERT_EQ(t->poll(PPTPKIT_GRE_PORT_NET, b, 8, host.now), 1);
  EXPECT_EQ(PPTPKIT_PACKET_OF(b.head), p);
  EXPECT_EQ(p->base + p->offset + 12, payload_at);
  host.drain(b);
}

TEST_F(gre_send, the_ack_rides_on_outgoing_data) {
  data(0);
  data(1);
  send(1);
  auto h = sent();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_TRUE(h[0].has_ack);
  EXPECT_EQ(h[0].ack, 1u);
  send(2);
  h = sent();
  EXPECT_FALSE(h[0].has_ack);  // no news since
  advance(100 * ms);
  EXPECT_TRUE(sent().empty());  // the piggyback made the standalone ack unnecessary
  EXPECT_EQ(c().piggybacked_acks, 1u);
  EXPECT_EQ(c().sent_ack_only, 0u);
}

TEST_F(gre_send, a_standalone_ack_follows_after_the_ack_delay) {
  data(0);
  data(1);
  EXPECT_EQ(t->next_deadline(), host.now + 50 * ms);
  advance(49 * ms);
  EXPECT_TRUE(sent().empty());
  advance(1 * ms);
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  ASSERT_EQ(t->poll(PPTPKIT_GRE_PORT_NET, b, 8, host.now), 1);
  EXPECT_EQ(PPTPKIT_PACKET_OF(b.head)->flags & PPTPKIT_PACKET_F_CONTROL, PPTPKIT_PACKET_F_CONTROL);
  auto wire = host.drain(b);
  ASSERT_EQ(wire[0].size(), 12u);  // 8 + ack, no sequence number
  header_info h;
  ASSERT_EQ(decode(wire[0], h), verdict::ok);
  EXPECT_FALSE(h.has_sequence);
  EXPECT_EQ(h.ack, 1u);
  EXPECT_EQ(c().sent_ack_only, 1u);
  advance(200 * ms);
  EXPECT_TRUE(sent().empty());  // once
}

TEST_F(gre_send, the_ack_delay_is_configurable) {
  make({{"ack_delay_ms", "10"}});
  open();
  data(0);
  EXPECT_EQ(t->next_deadline(), host.now + 10 * ms);
}

TEST_F(gre_send, the_peer_window_is_not_enforced_by_default) {
  make();
  open(100, 200, 2);
  for (std::uint32_t i = 0; i < 10; ++i) {
    send(i);
  }
  EXPECT_EQ(sent().size(), 10u);  // a peer that never acks does not stall us
  EXPECT_EQ(c().queued, 0u);
}

class gre_enforced_window : public gre_test {
 protected:
  void SetUp() override {
    make({{"enforce_peer_window", "1"}, {"send_queue_limit", "4"}});
    open(100, 200, 2);
  }
};

TEST_F(gre_enforced_window, a_full_window_queues_and_acks_release) {
  for (std::uint32_t i = 0; i < 5; ++i) {
    send(i);
  }
  auto h = sent();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(t->find(100)->queued(), 3u);
  EXPECT_EQ(c().queued, 3u);
  feed_net(gre(std::nullopt, 0, {}));  // ack 0: one slot
  h = sent();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].sequence, 2u);
  data(0, 2);  // data with a piggybacked ack of 2: two slots
  h = sent();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].sequence, 4u);
  EXPECT_EQ(t->find(100)->queued(), 0u);
}

// Our numbering across 2^32 (RFC 1982 serial arithmetic, as on the receive side): the window, the
// queue and acks keep working when the sequence number wraps to 0.
TEST_F(gre_enforced_window, our_numbering_wraps_past_two_to_the_32) {
  make({{"enforce_peer_window", "1"}, {"send_queue_limit", "8"}, {"first_sequence", "4294967294"}});
  open(100, 200, 2);
  for (std::uint32_t i = 0; i < 6; ++i) {
    send(i);
  }
  auto h = sent();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].sequence, 0xfffffffeu);
  EXPECT_EQ(h[1].sequence, 0xffffffffu);
  const session* s = t->find(100);
  EXPECT_EQ(s->outstanding(), 2u);
  EXPECT_EQ(s->queued(), 4u);
  feed_net(gre(std::nullopt, 0xffffffffu, {}));  // both acknowledged: two slots
  h = sent();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].sequence, 0u);
  EXPECT_EQ(h[1].sequence, 1u);
  feed_net(gre(std::nullopt, 0xfffffffeu, {}));  // an older ack, reordered: nothing new, nothing wrong
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(c().bad_ack, 0u);
  feed_net(gre(std::nullopt, 5, {}));  // acknowledges what we never sent
  EXPECT_EQ(c().bad_ack, 1u);
  EXPECT_TRUE(sent().empty());
  data(0, 1);  // a piggybacked ack of 1, past the wrap
  h = sent();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].sequence, 2u);
  EXPECT_EQ(h[1].sequence, 3u);
  EXPECT_EQ(s->queued(), 0u);
  EXPECT_EQ(s->outstanding(), 2u);
  EXPECT_EQ(s->next_send_sequence(), 4u);
}

TEST_F(gre_enforced_window, overflow_of_the_queue_is_counted) {
  for (std::uint32_t i = 0; i < 2 + 4 + 3; ++i) {
    send(i);
  }
  EXPECT_EQ(t->find(100)->queued(), 4u);
  EXPECT_EQ(c().queue_overflow, 3u);
  EXPECT_EQ(sent().size(), 2u);
}

TEST_F(gre_enforced_window, control_frames_never_wait_behind_data) {
  for (std::uint32_t i = 0; i < 2 + 4 + 3; ++i) {  // window full, queue full, overflow
    send(i);
  }
  send(0xc021, PPTPKIT_PACKET_F_CONTROL);  // an LCP frame
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  ASSERT_EQ(t->poll(PPTPKIT_GRE_PORT_NET, b, 1, host.now), 1);  // first out, though sent last
  auto wire = host.drain(b);
  header_info h;
  ASSERT_EQ(decode(wire[0], h), verdict::ok);
  EXPECT_EQ(payload_id(std::vector<std::uint8_t>(wire[0].begin() + h.header_length, wire[0].end())), 0xc021u);
  EXPECT_EQ(c().sent_control, 1u);
  EXPECT_EQ(c().queue_overflow, 3u);  // the control frame was not one of them
}

TEST_F(gre_enforced_window, an_ack_timeout_halves_the_window_and_lets_data_flow) {
  make({{"enforce_peer_window", "1"}});
  open(100, 200, 8);
  for (std::uint32_t i = 0; i < 12; ++i) {
    send(i);
  }
  EXPECT_EQ(sent().size(), 8u);
  const session* s = t->find(100);
  EXPECT_EQ(s->send_window(), 8u);
  const std::uint64_t ato = s->ack_timeout_ns();
  EXPECT_EQ(ato, default_processing_delay_ns);  // RTT starts at the peer's processing delay
  advance(ato);
  EXPECT_EQ(c().ack_timeouts, 1u);
  EXPECT_EQ(s->send_window(), 4u);          // RFC 2637 §4.4.2
  EXPECT_EQ(s->ack_timeout_ns(), 2 * ato);  // backed off
  EXPECT_EQ(sent().size(), 4u);
  feed_net(gre(std::nullopt, 11, {}));
  EXPECT_EQ(s->send_window(), 5u);  // reopens by one per ack
}

TEST_F(gre_send, the_ack_timeout_adapts_to_measured_round_trips) {
  const session* s = t->find(100);
  for (std::uint32_t i = 0; i < 40; ++i) {
    send(i);
    sent();
    advance(20 * ms);
    feed_net(gre(std::nullopt, i, {}));
  }
  // RTT converges on 20 ms with no deviation: ATO = RTT + 4 DEV -> about 20 ms.
  EXPECT_LT(s->ack_timeout_ns(), 30 * ms);
  EXPECT_GE(s->ack_timeout_ns(), 20 * ms);
  data(0);
  EXPECT_EQ(t->next_deadline(), host.now + s->ack_timeout_ns() / 2);  // ack within half the ATO
}

TEST_F(gre_send, frames_that_cannot_be_encapsulated_are_dropped_and_counted) {
  pptpkit_packet* f = host.make_packet({}, 100);
  f->offset = 8;  // too little headroom for the 12..16 byte header
  f->length = 3;
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  b.head = b.tail = &f->link;
  b.count = 1;
  t->feed(PPTPKIT_GRE_PORT_PPP, b, 0);
  EXPECT_EQ(c().send_no_headroom, 1u);
  pptpkit_packet* big = host.make_packet({}, 100);
  big->length = 70000;  // more than the 16-bit payload length (and than the buffer: never touched)
  b.head = b.tail = &big->link;
  b.count = 1;
  t->feed(PPTPKIT_GRE_PORT_PPP, b, 0);
  EXPECT_EQ(c().send_too_long, 1u);
  EXPECT_EQ(host.pool().available(), host.pool().capacity());
  send(1, 0, 999);  // no such session
  EXPECT_EQ(t->totals().send_unknown_session, 1u);
}

}  // namespace
