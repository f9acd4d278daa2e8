#include "pptpkit/core/batch.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace pptpkit::core;

std::vector<std::uint32_t> channels(const pptpkit_batch& b) {
  std::vector<std::uint32_t> out;
  for_each_packet(b, [&](const pptpkit_packet& p) { out.push_back(p.channel); });
  return out;
}

struct batch_fixture : ::testing::Test {
  std::vector<pptpkit_packet> packets = std::vector<pptpkit_packet>(200);
  void SetUp() override {
    for (std::uint32_t i = 0; i < packets.size(); ++i) {
      packets[i].channel = i;
    }
  }
};

TEST_F(batch_fixture, list_is_fifo) {
  packet_list l;
  for (int i = 0; i < 5; ++i) {
    l.push_back(packets[i]);
  }
  EXPECT_EQ(l.size(), 5u);
  for (std::uint32_t i = 0; i < 5; ++i) {
    pptpkit_packet* p = l.pop_front();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->channel, i);
    EXPECT_EQ(p->link.next, nullptr);
  }
  EXPECT_EQ(l.pop_front(), nullptr);
}

TEST_F(batch_fixture, release_and_adopt_round_trip_through_the_c_batch) {
  packet_list l;
  for (int i = 0; i < 3; ++i) {
    l.push_back(packets[i]);
  }
  pptpkit_batch c = PPTPKIT_BATCH_INIT;
  l.release(c);
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(c.count, 3u);
  EXPECT_EQ(c.tail->next, nullptr);
  EXPECT_EQ(channels(c), (std::vector<std::uint32_t>{0, 1, 2}));

  // Appending to a non-empty C batch keeps the order.
  packet_list more;
  more.push_back(packets[7]);
  more.release(c);
  EXPECT_EQ(channels(c), (std::vector<std::uint32_t>{0, 1, 2, 7}));

  packet_list back;
  back.push_back(packets[9]);
  back.adopt(c);
  EXPECT_EQ(c.count, 0u);
  EXPECT_EQ(c.head, nullptr);
  EXPECT_EQ(back.size(), 5u);
  std::vector<std::uint32_t> order;
  while (pptpkit_packet* p = back.pop_front()) {
    order.push_back(p->channel);
  }
  EXPECT_EQ(order, (std::vector<std::uint32_t>{9, 0, 1, 2, 7}));
}

TEST_F(batch_fixture, adopt_of_an_empty_c_batch_is_harmless) {
  packet_list l;
  pptpkit_batch c = PPTPKIT_BATCH_INIT;
  l.adopt(c);
  EXPECT_TRUE(l.empty());
  l.push_back(packets[0]);
  l.adopt(c);
  EXPECT_EQ(l.size(), 1u);
  l.pop_front();
}

TEST_F(batch_fixture, batch_is_capped_at_its_capacity) {
  packet_batch b;
  for (std::uint32_t i = 0; i < packet_batch::capacity; ++i) {
    ASSERT_TRUE(b.try_push_back(packets[i]));
  }
  EXPECT_TRUE(b.full());
  EXPECT_FALSE(b.try_push_back(packets[packet_batch::capacity]));
  EXPECT_EQ(b.size(), packet_batch::capacity);
  while (b.pop_front() != nullptr) {
  }
}

TEST_F(batch_fixture, splice_moves_a_whole_list) {
  packet_list a;
  packet_list b;
  a.push_back(packets[1]);
  b.push_back(packets[2]);
  b.push_back(packets[3]);
  a.splice_back(b);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.back().channel, 3u);
  a.push_back(packets[4]);  // the cached last node follows the splice
  EXPECT_EQ(a.back().channel, 4u);
  while (a.pop_front() != nullptr) {
  }
}

}  // namespace
