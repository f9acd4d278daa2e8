#include "pptpkit/core/pool.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace {

using namespace pptpkit::core;

TEST(packet_pool, bulk_alloc_hands_out_clean_packets_with_headroom) {
  auto pool = packet_pool::create({.packets = 8, .buffer_size = 2048, .headroom = 128});
  std::vector<pptpkit_packet*> out(8);
  ASSERT_EQ(pool->alloc_bulk(out), 8u);
  for (pptpkit_packet* p : out) {
    EXPECT_EQ(p->offset, 128u);
    EXPECT_EQ(p->length, 0u);
    EXPECT_EQ(p->capacity, 2048u);
    EXPECT_EQ(p->pool, pool.get());
  }
  pool->free_bulk(out);
  EXPECT_EQ(pool->available(), 8u);
}

TEST(packet_pool, exhaustion_is_counted_not_fatal) {
  auto pool = packet_pool::create({.packets = 4});
  std::vector<pptpkit_packet*> out(6);
  EXPECT_EQ(pool->alloc_bulk(out), 4u);
  EXPECT_EQ(pool->stats().exhausted, 2u);
  EXPECT_EQ(pool->alloc(), nullptr);
  EXPECT_EQ(pool->stats().exhausted, 3u);
  pool->free_bulk({out.data(), 4});
}

TEST(packet_pool, freed_packets_come_back_in_canonical_state) {
  auto pool = packet_pool::create({.packets = 1});
  pptpkit_packet* p = pool->alloc();
  p->offset = 3;
  p->length = 77;
  p->channel = 9;
  p->flags = PPTPKIT_PACKET_F_CONTROL;
  p->aux = 5;
  p->user = 6;
  pool->free(p);
  pptpkit_packet* again = pool->alloc();
  ASSERT_EQ(again, p);
  EXPECT_EQ(again->offset, pool->headroom());
  EXPECT_EQ(again->length, 0u);
  EXPECT_EQ(again->channel, 0u);
  EXPECT_EQ(again->flags, 0u);
  EXPECT_EQ(again->aux, 0u);
  EXPECT_EQ(again->user, 0u);
  pool->free(again);
}

TEST(packet_pool, batch_free_empties_the_c_batch) {
  auto pool = packet_pool::create({.packets = 3});
  packet_list l;
  for (int i = 0; i < 3; ++i) {
    l.push_back(*pool->alloc());
  }
  pptpkit_batch c = PPTPKIT_BATCH_INIT;
  l.release(c);
  pool->free_batch(c);
  EXPECT_EQ(c.count, 0u);
  EXPECT_EQ(pool->available(), 3u);
}

TEST(packet_pool, rejects_headroom_below_the_layer_sum) {
  EXPECT_THROW(packet_pool::create({.packets = 1, .buffer_size = 2048, .headroom = 8}), std::invalid_argument);
  EXPECT_THROW(packet_pool::create({.packets = 1, .buffer_size = 100, .headroom = 128}), std::invalid_argument);
  EXPECT_THROW(packet_pool::create({.packets = 0}), std::invalid_argument);
}

TEST(packet_pool, default_headroom_fits_every_layer_with_room_to_spare) {
  static_assert(PPTPKIT_HEADROOM_DEFAULT >= PPTPKIT_HEADROOM_MIN + 32);
  static_assert(PPTPKIT_BUFFER_SIZE_DEFAULT >= PPTPKIT_HEADROOM_DEFAULT + 1500 + PPTPKIT_HDR_PPP + PPTPKIT_HDR_MPPE);
}

}  // namespace
