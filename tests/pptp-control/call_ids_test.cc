#include "pptpkit/control/call_ids.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace pptpkit::control {
namespace {

constexpr std::uint64_t ms = 1'000'000;

TEST(call_ids, never_zero_and_unique_among_live) {
  std::mt19937 rng(7);
  call_id_allocator a(0, [&](std::uint16_t& v) {
    v = static_cast<std::uint16_t>(rng());
    return true;
  });
  std::set<std::uint16_t> live;
  for (int i = 0; i < 65535; ++i) {
    const std::uint16_t id = a.allocate(0);
    ASSERT_NE(id, 0u);
    ASSERT_TRUE(live.insert(id).second) << "duplicate " << id;
  }
  EXPECT_EQ(a.allocate(0), 0u);  // all 65535 ids live
  a.release(1234, 0);
  EXPECT_EQ(a.allocate(0), 1234u);
}

TEST(call_ids, a_released_id_waits_out_the_quarantine) {
  std::uint16_t next = 42;
  call_id_allocator a(1000 * ms, [&](std::uint16_t& v) {
    v = next;  // always the same draw
    return true;
  });
  EXPECT_EQ(a.allocate(0), 42u);
  a.release(42, 10 * ms);
  EXPECT_TRUE(a.quarantined(42));
  const std::uint16_t other = a.allocate(500 * ms);
  EXPECT_NE(other, 42u);
  EXPECT_NE(other, 0u);
  a.release(other, 500 * ms);
  EXPECT_EQ(a.allocate(1010 * ms), 42u);  // the quarantine has passed
}

TEST(call_ids, a_failing_random_source_still_gives_ids) {
  call_id_allocator a(0, [](std::uint16_t&) { return false; });
  EXPECT_NE(a.allocate(0), 0u);
}

TEST(call_ids, ids_come_from_the_random_source) {
  std::mt19937 rng(1);
  call_id_allocator a(0, [&](std::uint16_t& v) {
    v = static_cast<std::uint16_t>(rng());
    return true;
  });
  std::set<std::uint16_t> ids;
  std::uint16_t prev = 0;
  int sequential = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::uint16_t id = a.allocate(0);
    sequential += id == prev + 1;
    prev = id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_LT(sequential, 5);
}

}  // namespace
}  // namespace pptpkit::control
