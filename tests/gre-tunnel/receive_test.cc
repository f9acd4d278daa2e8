// The receive path: delivery in order, reordering, duplicates, stale and out-of-window packets, the
// peer's starting number, wraparound, ack-only packets and the checks before a session sees a packet.
#include <gtest/gtest.h>

#include "gre_fixture.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::gre;
using namespace pptpkit::gre::testing;
using ids = std::vector<std::uint32_t>;

class gre_receive : public gre_test {
 protected:
  void SetUp() override {
    make();
    open();
  }
};

TEST_F(gre_receive, in_order_frames_are_delivered_without_the_gre_header) {
  feed_net(gre(0, std::nullopt, {0xff, 0x03, 0xc0, 0x21, 0x01}));
  auto frames = poll(PPTPKIT_GRE_PORT_PPP);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], (std::vector<std::uint8_t>{0xff, 0x03, 0xc0, 0x21, 0x01}));
  data(1);
  data(2);
  EXPECT_EQ(delivered(), (ids{1, 2}));
  EXPECT_EQ(c().received, 3u);
  EXPECT_EQ(c().delivered, 3u);
}

TEST_F(gre_receive, delivered_frames_carry_our_call_id) {
  data(0);
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  ASSERT_EQ(t->poll(PPTPKIT_GRE_PORT_PPP, b, 8, host.now), 1);
  EXPECT_EQ(PPTPKIT_PACKET_OF(b.head)->channel, 100u);
  host.drain(b);
}

TEST_F(gre_receive, peer_numbering_from_one_is_delivered_at_once) {  // Linux, OpenBSD
  data(1);
  data(2);
  EXPECT_EQ(delivered(), (ids{1, 2}));
  EXPECT_EQ(c().lost, 0u);
}

TEST_F(gre_receive, a_reordered_start_waits_for_sequence_zero) {
  data(2);
  data(1);
  EXPECT_EQ(delivered(), ids{});
  data(0);
  EXPECT_EQ(delivered(), (ids{0, 1, 2}));
  EXPECT_EQ(c().reordered, 2u);
}

TEST_F(gre_receive, a_peer_that_ignores_our_window_is_still_delivered) {  // Windows
  for (std::uint32_t s = 0; s < 300; ++s) {  // far more than the 64 we advertise, never waiting for acks
    data(s);
  }
  EXPECT_EQ(delivered().size(), 300u);
  EXPECT_EQ(c().out_of_window, 0u);
}

TEST_F(gre_receive, a_mid_stream_start_is_taken_as_it_comes) {
  data(5000);
  data(5001);
  EXPECT_EQ(delivered(), (ids{5000, 5001}));
}

TEST_F(gre_receive, reordered_packets_are_held_and_delivered_in_order) {
  data(0);
  data(2);
  data(3);
  EXPECT_EQ(delivered(), ids{0});
  EXPECT_EQ(t->find(100)->held(), 2u);
  data(1);
  EXPECT_EQ(delivered(), (ids{1, 2, 3}));
  EXPECT_EQ(c().reordered, 2u);
  EXPECT_EQ(c().lost, 0u);
  EXPECT_EQ(t->find(100)->held(), 0u);
}

TEST_F(gre_receive, a_gap_is_skipped_after_the_reorder_timeout) {
  data(0);
  data(2);
  EXPECT_EQ(t->next_deadline(), host.now + 50 * ms);  // the ack comes first
  advance(79 * ms);
  EXPECT_EQ(delivered(), ids{0});
  advance(1 * ms);
  EXPECT_EQ(delivered(), ids{2});
  EXPECT_EQ(c().lost, 1u);
}

TEST_F(gre_receive, the_timeout_runs_from_the_lowest_held_packets_arrival) {
  data(0);
  EXPECT_EQ(delivered(), ids{0});
  data(5);  // t = 0
  advance(60 * ms);
  data(3);           // t = 60: now the lowest held
  advance(60 * ms);  // 5 has waited 120 ms, 3 only 60
  EXPECT_EQ(delivered(), ids{});
  advance(20 * ms);  // 3 has waited 80: skip 1, 2; then 4 is a gap whose follower (5) is long overdue
  EXPECT_EQ(delivered(), (ids{3, 5}));
  EXPECT_EQ(c().lost, 3u);
}

TEST_F(gre_receive, stale_packet_after_its_gap_was_skipped_is_dropped) {
  data(0);
  data(2);
  advance(80 * ms);
  EXPECT_EQ(delivered(), (ids{0, 2}));
  data(1);  // too late
  EXPECT_EQ(delivered(), ids{});
  EXPECT_EQ(c().stale, 1u);
  EXPECT_EQ(c().duplicates, 0u);
}

TEST_F(gre_receive, duplicates_of_delivered_and_of_held_packets_are_dropped) {
  data(0);
  data(1);
  data(1);
  data(0);
  data(3);
  data(3);
  EXPECT_EQ(delivered(), (ids{0, 1}));
  EXPECT_EQ(c().duplicates, 3u);
  data(2);
  EXPECT_EQ(delivered(), (ids{2, 3}));
}

TEST_F(gre_receive, a_full_reorder_buffer_gives_up_the_oldest_gap) {
  data(0);
  for (std::uint32_t s = 2; s < 2 + 32; ++s) {  // reorder_depth = 32 held
    data(s);
  }
  EXPECT_EQ(delivered(), ids{0});
  data(40);  // one more to hold: the gap at 1 is given up
  auto got = delivered();
  ASSERT_EQ(got.size(), 32u);
  EXPECT_EQ(got.front(), 2u);
  EXPECT_EQ(got.back(), 33u);
  EXPECT_EQ(c().lost, 1u);
  EXPECT_EQ(t->find(100)->held(), 1u);
}

TEST_F(gre_receive, packets_beyond_the_window_are_dropped) {
  data(0);
  data(64);    // expected + 63: the last number inside the window of 64, held
  data(1000);  // put aside: does the stream continue there?
  EXPECT_EQ(t->find(100)->held(), 2u);
  data(2000);  // no: 1000 was noise (and 2000 is put aside in turn)
  EXPECT_EQ(c().out_of_window, 1u);
  advance(80 * ms);  // nothing continued 2000 either
  EXPECT_EQ(c().out_of_window, 2u);
  EXPECT_EQ(delivered(), (ids{0, 64}));
  EXPECT_EQ(t->find(100)->held(), 0u);
  EXPECT_EQ(c().resynchronised, 0u);
}

TEST_F(gre_receive, a_stream_that_jumps_ahead_is_followed_not_stalled) {
  data(0);
  data(2);    // held
  data(500);  // a loss burst longer than the window: put aside
  data(501);  // ... and the stream continues there
  data(502);
  EXPECT_EQ(delivered(), (ids{0, 2, 500, 501, 502}));
  EXPECT_EQ(c().out_of_window, 0u);
  EXPECT_EQ(c().resynchronised, 1u);
  EXPECT_TRUE(host.logged("peer sequence jumped from 1 to 500"));
}

TEST_F(gre_receive, a_jump_whose_first_two_packets_arrive_swapped_is_followed_without_loss) {
  data(0);
  data(502);  // put aside
  data(500);  // before it, within a window: the jump is confirmed from here
  data(501);
  data(503);
  EXPECT_EQ(delivered(), (ids{0, 500, 501, 502, 503}));
  EXPECT_EQ(c().resynchronised, 1u);
  EXPECT_EQ(c().out_of_window + c().lost, 0u);
}

TEST_F(gre_receive, a_peer_that_restarts_its_numbering_is_followed) {
  for (std::uint32_t s = 1000; s < 1010; ++s) {
    data(s);
  }
  // The peer starts again from 0 and keeps sending, a packet every 10 ms. Far behind: dropped until the
  // run has lasted restart_confirm (1 s) with nothing from the old numbering, then followed.
  for (std::uint32_t s = 0; s < 150; ++s) {
    data(s);
    advance(10 * ms);
  }
  auto got = delivered();
  ASSERT_EQ(got.size(), 10u + 50u);
  EXPECT_EQ(got[10], 100u);
  EXPECT_EQ(got.back(), 149u);
  EXPECT_EQ(c().restarted, 1u);
  EXPECT_EQ(c().far_behind, 100u);
  EXPECT_EQ(c().resynchronised, 0u);
  EXPECT_EQ(c().stale, 0u);
  EXPECT_TRUE(host.logged("peer restarted its numbering (from 1010 back to 100 for 1000 ms)"));
}

TEST_F(gre_receive, a_restart_is_followed_at_once_when_confirmation_is_off) {
  make({{"restart_confirm_ms", "0"}});
  open();
  for (std::uint32_t s = 1000; s < 1010; ++s) {
    data(s);
  }
  data(0);  // dropped: one packet far behind is no run
  data(1);  // two in a row are
  data(2);
  auto got = delivered();
  ASSERT_EQ(got.size(), 12u);
  EXPECT_EQ(got[10], 1u);
  EXPECT_EQ(got.back(), 2u);
  EXPECT_EQ(c().restarted, 1u);
  EXPECT_EQ(c().far_behind, 1u);
}

TEST_F(gre_receive, a_run_far_behind_interleaved_with_the_current_numbering_is_never_followed) {
  data(10000);
  for (std::uint32_t s = 1; s < 300; ++s) {  // 3 s of stragglers from long ago, the stream going on
    data(5000 + s);
    data(10000 + s);
    advance(10 * ms);
  }
  EXPECT_EQ(c().restarted, 0u);
  EXPECT_EQ(c().far_behind, 299u);
  EXPECT_EQ(t->find(100)->expected_sequence(), 10300u);
}

TEST_F(gre_receive, sequence_numbers_wrap_around_two_to_the_thirty_two) {
  data(0xfffffffd);
  data(0xffffffff);
  data(0);
  EXPECT_EQ(delivered(), ids{0xfffffffd});
  data(0xfffffffe);
  EXPECT_EQ(delivered(), (ids{0xfffffffe, 0xffffffff, 0}));
  data(1);
  data(0xffffffff);  // a duplicate across the wrap
  EXPECT_EQ(delivered(), ids{1});
  EXPECT_EQ(c().duplicates, 1u);
  EXPECT_EQ(t->find(100)->expected_sequence(), 2u);
}

TEST_F(gre_receive, ack_only_packets_are_counted_not_delivered) {
  send(1);
  send(2);
  sent();
  feed_net(gre(std::nullopt, 1, {}));
  EXPECT_EQ(delivered(), ids{});
  EXPECT_EQ(c().received_ack_only, 1u);
  EXPECT_EQ(t->find(100)->outstanding(), 0u);
}

TEST_F(gre_receive, an_ack_for_a_packet_never_sent_is_ignored_and_counted) {
  send(1);
  sent();
  feed_net(gre(std::nullopt, 10, {}));
  EXPECT_EQ(c().bad_ack, 1u);
  EXPECT_EQ(t->find(100)->outstanding(), 1u);
}

TEST_F(gre_receive, reordering_off_delivers_at_once_and_counts_the_gap) {
  make({{"reorder_timeout_ms", "0"}});
  open();
  data(0);
  data(2);
  data(1);
  EXPECT_EQ(delivered(), (ids{0, 2}));
  EXPECT_EQ(c().lost, 1u);
  EXPECT_EQ(c().stale, 1u);
}

TEST_F(gre_receive, gre_from_another_address_is_dropped) {
  feed_net(gre(0, std::nullopt, payload(0), 100, 0x0a000099));
  feed_net(gre(1, std::nullopt, payload(1), 100, 0));  // sender unknown: accepted
  EXPECT_EQ(delivered(), ids{1});
  EXPECT_EQ(c().wrong_peer_address, 1u);
  EXPECT_TRUE(host.logged("dropped GRE from 10.0.0.153"));
}

TEST_F(gre_receive, the_address_check_can_be_turned_off) {
  make({{"check_peer_address", "0"}});
  open();
  feed_net(gre(0, std::nullopt, payload(0), 100, 0x0a000099));
  EXPECT_EQ(delivered(), ids{0});
}

TEST_F(gre_receive, unknown_calls_and_bad_headers_are_counted_instance_wide) {
  data(0, std::nullopt, 555);
  pptpkit_packet* p = host.make_packet({0x30, 0x00, 0x88, 0x0b, 0, 0, 0, 100});
  feed_net(p);
  const gre_counters total = t->totals();
  EXPECT_EQ(total.unknown_call, 1u);
  EXPECT_EQ(total.reject_version, 1u);
  EXPECT_EQ(host.pool().available(), host.pool().capacity() - 1);  // the unknown call's frame, held
  t.reset();
  EXPECT_EQ(host.pool().available(), host.pool().capacity());
}

// A PNS reads the PAC's Outgoing-Call-Reply after the first GRE frame that followed it (the frame
// overtook the TCP segment): the frame waits for the call instead of costing LCP a 3 s restart.
TEST_F(gre_receive, a_frame_just_ahead_of_its_call_is_delivered_when_the_call_opens) {
  data(0, std::nullopt, 110);
  EXPECT_EQ(t->totals().unknown_call, 1u);
  host.now += 100 * ms;
  open(110, 210);
  EXPECT_EQ(delivered(), ids{0});
  EXPECT_EQ(t->totals().early_delivered, 1u);
}

TEST_F(gre_receive, early_frames_are_bounded_in_age_and_number_and_still_checked) {
  data(0, std::nullopt, 101);
  host.now += 600 * ms;  // over 500 ms before its call: dropped
  open(101, 201);
  EXPECT_TRUE(delivered().empty());

  feed_net(gre(0, std::nullopt, payload(0), 102, 0x0b000001));  // not from call 102's peer
  open(102, 202);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(t->find(102)->counters().wrong_peer_address, 1u);

  data(0, std::nullopt, 103);
  for (std::uint16_t call = 300; call < 308; ++call) {  // eight more unknown calls push it out
    data(0, std::nullopt, call);
  }
  EXPECT_EQ(host.pool().available(), host.pool().capacity() - 8);  // never more than 8 held
  open(103, 203);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(t->totals().early_delivered, 1u);  // only 102's, which its session's address check dropped
}

TEST_F(gre_receive, bad_input_for_one_session_leaves_the_others_alone) {
  open(101, 201);
  data(0, std::nullopt, 100);
  data(0, std::nullopt, 101);
  feed_net(gre(1, std::nullopt, payload(1), 100, 0x0b000001));  // wrong peer for 100
  data(7000, std::nullopt, 100);                                // out of window for 100
  data(1, std::nullopt, 101);
  EXPECT_EQ(delivered(), (ids{0, 0, 1}));
  EXPECT_EQ(c(101).delivered, 2u);
  EXPECT_EQ(c(101).out_of_window + c(101).wrong_peer_address, 0u);
}

TEST_F(gre_receive, every_data_packet_is_accounted_for_exactly_once) {
  const std::uint32_t order[] = {0, 3, 3, 1, 9, 2, 200, 201, 1, 5, 4};
  for (std::uint32_t s : order) {
    data(s);
  }
  advance(200 * ms);
  delivered();
  const gre_counters& k = c();
  EXPECT_EQ(k.received, std::size(order));
  EXPECT_EQ(k.delivered + k.duplicates + k.stale + k.out_of_window + k.far_behind + t->find(100)->held(), k.received);
}

}  // namespace
