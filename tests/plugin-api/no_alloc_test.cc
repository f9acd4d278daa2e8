// The packet core's data path performs no heap allocation: pool alloc/free, header push/pull and
// moving batches between stages, measured with a counting operator new.
#include <gtest/gtest.h>

#include <array>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/testing/alloc_counter.hpp"

namespace {

using namespace pptpkit::core;

TEST(data_path, packet_core_makes_no_heap_allocation) {
  auto pool = packet_pool::create({.packets = 256});  // setup may allocate
  pptpkit::testing::allocation_scope scope;
  for (int round = 0; round < 100; ++round) {
    std::array<pptpkit_packet*, PPTPKIT_BATCH_MAX> pkts{};
    const std::uint32_t n = pool->alloc_bulk(pkts);
    ASSERT_EQ(n, pkts.size());
    packet_batch stage_a;
    for (pptpkit_packet* p : pkts) {
      ASSERT_NE(put(*p, 1400), nullptr);
      ASSERT_NE(push(*p, PPTPKIT_HDR_MPPE), nullptr);
      ASSERT_NE(push(*p, PPTPKIT_HDR_PPP), nullptr);
      ASSERT_NE(push(*p, PPTPKIT_HDR_GRE), nullptr);
      ASSERT_NE(pull(*p, PPTPKIT_HDR_GRE + PPTPKIT_HDR_PPP), nullptr);
      ASSERT_TRUE(stage_a.try_push_back(*p));
    }
    pptpkit_batch c = PPTPKIT_BATCH_INIT;
    stage_a.release(c);
    packet_batch stage_b;
    stage_b.adopt(c);
    packet_list queue;
    queue.splice_back(stage_b);
    pool->free_list(queue);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(pool->available(), 256u);
}

TEST(data_path, the_counter_does_count) {
  pptpkit::testing::allocation_scope scope;
  static int* volatile sink = nullptr;  // volatile: the allocation cannot be elided
  sink = new int(3);
  delete sink;
  EXPECT_EQ(scope.allocations(), 1u);
}

}  // namespace
