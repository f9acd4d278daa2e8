#include "pptpkit/control/call_ids.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "pptpkit/control/keyed_random.hpp"

namespace pptpkit::control {
namespace {

keyed_random::key_type key_of(std::uint8_t seed) {
  keyed_random::key_type k;
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>(seed + i);
  }
  return k;
}

TEST(keyed_random, is_the_chacha20_keystream) {
  // RFC 8439 Appendix A.1, test vector #1: all-zero key, nonce and counter; the first 64-byte block is
  // 76 b8 e0 ad a0 f1 3d 90 | 40 5d 6a e5 53 86 bd 28 | ... | c3 87 b6 69 b2 ee 65 86, read here as
  // little-endian words.
  keyed_random r(keyed_random::key_type{});
  EXPECT_EQ(r.next(), 0x903df1a0ade0b876ull);
  EXPECT_EQ(r.next(), 0x28bd8653e56a5d40ull);
  for (int i = 2; i < 7; ++i) {
    r.next();
  }
  EXPECT_EQ(r.next(), 0x8665eeb269b687c3ull);
  EXPECT_EQ(r.draws(), 8u);
}

TEST(keyed_random, another_key_another_stream) {
  keyed_random a(key_of(1));
  keyed_random b(key_of(2));
  EXPECT_NE(a.next(), b.next());
}

TEST(keyed_random, below_stays_in_range) {
  for (std::uint32_t bound : {1u, 2u, 4096u, 65535u}) {
    EXPECT_EQ(keyed_random::below(0, bound), 0u);
    EXPECT_EQ(keyed_random::below(UINT32_MAX, bound), bound - 1);
  }
}

TEST(call_ids, never_zero_and_unique_among_live_until_all_65535_are_live) {
  call_id_allocator a(key_of(7));
  std::set<std::uint16_t> live;
  for (std::uint32_t i = 0; i < call_id_allocator::id_count; ++i) {
    const std::uint16_t id = a.allocate();
    ASSERT_NE(id, 0u);
    ASSERT_TRUE(live.insert(id).second) << "duplicate " << id;
  }
  EXPECT_EQ(a.live_count(), 65535u);
  EXPECT_EQ(a.allocate(), 0u);  // exhausted: a clean refusal, and it stays so
  EXPECT_EQ(a.allocate(), 0u);
  a.release(1234);
  EXPECT_EQ(a.allocate(), 1234u);  // the only free id
  EXPECT_EQ(a.allocate(), 0u);
}

TEST(call_ids, a_released_id_waits_until_all_but_the_pick_window_were_handed_out) {
  // Replaces the 60 s quarantine: one call stays live, one id is released, then a peer opens and clears
  // calls as fast as it likes. The released id is not handed out again while more than pick_window other
  // ids are free.
  call_id_allocator a(key_of(3));
  const std::uint16_t kept = a.allocate();
  const std::uint16_t released = a.allocate();
  a.release(released);
  const std::uint32_t others_free = call_id_allocator::id_count - 2;  // free ids ahead of `released`
  std::uint32_t cycles = 0;
  for (;;) {
    const std::uint16_t id = a.allocate();
    ASSERT_NE(id, 0u);
    ASSERT_NE(id, kept);
    ++cycles;
    if (id == released) {
      break;
    }
    a.release(id);
    ASSERT_LT(cycles, 3 * call_id_allocator::id_count) << "the released id never came back";
  }
  EXPECT_GT(cycles, others_free - call_id_allocator::pick_window + 1);
}

TEST(call_ids, every_cycle_costs_one_draw_and_no_scan) {
  // O(1): construction draws nothing (no shuffle up front), allocate draws exactly one 64-bit number
  // whatever happened before (no retry, no scan), and release draws none; 100k open/clear cycles with a
  // growing set of live ids, through the fresh ids and well into the released ones.
  call_id_allocator a(key_of(9));
  EXPECT_EQ(a.random_draws(), 0u);
  std::vector<std::uint16_t> live;
  std::vector<bool> is_live(65536);
  for (int i = 0; i < 100'000; ++i) {
    const std::uint16_t id = a.allocate();
    ASSERT_NE(id, 0u);
    ASSERT_FALSE(is_live[id]) << "id " << id << " handed out twice";
    if (i % 4 != 0) {  // three of four calls are cleared at once; the rest stay up
      a.release(id);
    } else {
      live.push_back(id);
      is_live[id] = true;
    }
  }
  EXPECT_EQ(a.random_draws(), 100'000u);
  EXPECT_EQ(a.live_count(), live.size());
}

TEST(call_ids, ids_are_spread_over_the_whole_space_and_depend_on_the_key) {
  call_id_allocator a(key_of(1));
  call_id_allocator b(key_of(2));
  std::uint16_t lowest = UINT16_MAX;
  std::uint16_t highest = 0;
  int sequential = 0;
  int same = 0;
  std::uint16_t prev = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::uint16_t id = a.allocate();
    same += id == b.allocate();
    sequential += id == prev + 1;
    prev = id;
    lowest = std::min(lowest, id);
    highest = std::max(highest, id);
  }
  EXPECT_LT(sequential, 5);
  EXPECT_LT(same, 5);
  EXPECT_LT(lowest, 1000u);
  EXPECT_GT(highest, 64535u);
}

}  // namespace
}  // namespace pptpkit::control
