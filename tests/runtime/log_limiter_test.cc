#include "pptpkit/runtime/log_limiter.hpp"

#include <gtest/gtest.h>

namespace pptpkit::runtime {
namespace {

constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t s = 1000 * ms;

TEST(log_limiter, lets_a_burst_through_then_the_sustained_rate) {
  log_limiter limiter({.burst = 5, .per_second = 2});
  const std::uint64_t t0 = 100 * s;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(limiter.admit("gre", t0).emit) << i;
  }
  EXPECT_FALSE(limiter.admit("gre", t0).emit);
  EXPECT_FALSE(limiter.admit("gre", t0 + 499 * ms).emit);
  // 2 lines a second: the next one after 500 ms, and it reports the two left out.
  const log_limiter::verdict v = limiter.admit("gre", t0 + 500 * ms);
  EXPECT_TRUE(v.emit);
  EXPECT_EQ(v.suppressed, 2u);
  EXPECT_FALSE(limiter.admit("gre", t0 + 600 * ms).emit);
  EXPECT_EQ(limiter.total_suppressed(), 3u);
}

TEST(log_limiter, keys_have_their_own_budget) {
  log_limiter limiter({.burst = 1, .per_second = 1});
  EXPECT_TRUE(limiter.admit("203.0.113.7", 0).emit);
  EXPECT_FALSE(limiter.admit("203.0.113.7", 0).emit);
  EXPECT_TRUE(limiter.admit("198.51.100.1", 0).emit);
}

// A peer with thousands of source addresses gets one bucket for all of them beyond max_keys, so the
// limiter's memory is bounded and the peers it already knew keep their own budget.
TEST(log_limiter, keys_beyond_max_keys_share_one_bucket) {
  log_limiter limiter({.burst = 2, .per_second = 1, .max_keys = 3});
  for (const char* k : {"a", "b", "c"}) {
    EXPECT_TRUE(limiter.admit(k, 0).emit) << k;
  }
  EXPECT_TRUE(limiter.admit("d", 0).emit);
  EXPECT_TRUE(limiter.admit("e", 0).emit);
  EXPECT_FALSE(limiter.admit("f", 0).emit);  // d, e and f share the overflow bucket of 2
  EXPECT_FALSE(limiter.admit("d", 0).emit);
  EXPECT_TRUE(limiter.admit("a", 0).emit);  // a's own bucket still has its second line
  EXPECT_EQ(limiter.total_suppressed(), 2u);
}

TEST(log_limiter, a_long_quiet_spell_refills_only_up_to_the_burst) {
  log_limiter limiter({.burst = 3, .per_second = 10});
  EXPECT_TRUE(limiter.admit("ppp", 0).emit);
  std::size_t emitted = 0;
  for (int i = 0; i < 10; ++i) {
    emitted += limiter.admit("ppp", 3600 * s).emit ? 1 : 0;
  }
  EXPECT_EQ(emitted, 3u);
}

TEST(log_limiter, refill_keeps_fractions_across_calls) {
  // One line every 1/3 s: sixty 10 ms steps over 0.6 s must let exactly one line through (at 334 ms),
  // not lose the partial refills of each step.
  log_limiter limiter({.burst = 1, .per_second = 3});
  EXPECT_TRUE(limiter.admit("gre", 0).emit);
  std::size_t emitted = 0;
  for (std::uint64_t t = 10 * ms; t <= 600 * ms; t += 10 * ms) {
    emitted += limiter.admit("gre", t).emit ? 1 : 0;
  }
  EXPECT_EQ(emitted, 1u);
}

TEST(log_limiter, time_going_backwards_is_harmless) {
  log_limiter limiter({.burst = 1, .per_second = 1});
  EXPECT_TRUE(limiter.admit("gre", 10 * s).emit);
  EXPECT_FALSE(limiter.admit("gre", 5 * s).emit);
  EXPECT_TRUE(limiter.admit("gre", 11 * s).emit);
}

}  // namespace
}  // namespace pptpkit::runtime
