#include "pptpkit/runtime/redial.hpp"

#include <gtest/gtest.h>

namespace pptpkit::runtime {
namespace {

constexpr std::uint64_t s = 1'000'000'000;

TEST(redial_policy, without_persist_the_first_attempt_decides_the_exit_status) {
  redial_policy up({.persist = false});
  up.attempt_started();
  up.session_up();
  const auto d = up.attempt_ended(5 * s, false);
  EXPECT_TRUE(d.finish);
  EXPECT_EQ(d.exit_status, 0);

  redial_policy never({.persist = false});
  never.attempt_started();
  EXPECT_EQ(never.attempt_ended(5 * s, false).exit_status, 1);
}

TEST(redial_policy, persist_waits_holdoff_and_gives_up_after_maxfail_failures_in_a_row) {
  redial_policy p({.persist = true, .maxfail = 3, .holdoff_s = 30});
  p.attempt_started();
  auto d = p.attempt_ended(10 * s, false);
  EXPECT_FALSE(d.finish);
  EXPECT_EQ(d.reconnect_at, 40 * s);
  p.attempt_started();
  EXPECT_FALSE(p.attempt_ended(40 * s, false).finish);
  // A session in between resets the count.
  p.attempt_started();
  p.session_up();
  EXPECT_FALSE(p.attempt_ended(100 * s, false).finish);
  EXPECT_EQ(p.failures(), 0u);
  for (int i = 0; i < 2; ++i) {
    p.attempt_started();
    EXPECT_FALSE(p.attempt_ended(200 * s, false).finish) << i;
  }
  p.attempt_started();
  d = p.attempt_ended(300 * s, false);
  EXPECT_TRUE(d.finish);
  EXPECT_TRUE(d.gave_up);
  EXPECT_EQ(d.exit_status, 1);
}

TEST(redial_policy, maxfail_zero_never_gives_up_and_holdoff_zero_is_still_a_time) {
  redial_policy p({.persist = true, .maxfail = 0, .holdoff_s = 0});
  for (int i = 0; i < 1000; ++i) {
    p.attempt_started();
    const auto d = p.attempt_ended(0, false);
    ASSERT_FALSE(d.finish) << i;
    ASSERT_NE(d.reconnect_at, 0u);  // 0 means "no reconnect pending" to the engine
  }
}

TEST(redial_policy, a_stopping_client_exits_zero_when_a_session_was_ever_up) {
  redial_policy p({.persist = true});
  p.attempt_started();
  p.session_up();
  p.attempt_ended(s, false);
  p.attempt_started();
  const auto d = p.attempt_ended(2 * s, true);
  EXPECT_TRUE(d.finish);
  EXPECT_EQ(d.exit_status, 0);
}

}  // namespace
}  // namespace pptpkit::runtime
