#include "pptpkit/runtime/admission.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pptpkit::runtime {
namespace {

constexpr std::uint64_t s = 1'000'000'000;
constexpr std::uint32_t attacker = 0xcb007101;
constexpr std::uint32_t user_a = 0xc6336401;

using verdict = connection_admission::verdict;

TEST(connection_admission, one_source_cannot_take_every_slot) {
  connection_admission a({.max_total = 100, .max_per_source = 8, .max_pending = 64});
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(a.admit(attacker), verdict::admit) << i;
  }
  // Issue row 3: the 9th..100th idle connect from one address is refused; other addresses still get in.
  for (int i = 8; i < 100; ++i) {
    EXPECT_EQ(a.admit(attacker), verdict::per_source) << i;
  }
  EXPECT_EQ(a.admit(user_a), verdict::admit);
  EXPECT_EQ(a.from(attacker), 8u);
  EXPECT_EQ(a.total(), 9u);
}

TEST(connection_admission, pending_connections_have_their_own_cap_and_leave_it_when_established) {
  connection_admission a({.max_total = 100, .max_per_source = 100, .max_pending = 2});
  EXPECT_EQ(a.admit(attacker), verdict::admit);
  EXPECT_EQ(a.admit(attacker), verdict::admit);
  EXPECT_EQ(a.admit(user_a), verdict::pending);
  a.established(attacker);
  EXPECT_EQ(a.pending(), 1u);
  EXPECT_EQ(a.admit(user_a), verdict::admit);
  a.closed(user_a, true);
  a.closed(attacker, false);
  a.closed(attacker, true);
  EXPECT_EQ(a.total(), 0u);
  EXPECT_EQ(a.pending(), 0u);
  EXPECT_EQ(a.from(attacker), 0u);
}

// A source at its own cap is refused for that, not for the shared pending cap: the engine evicts
// another's pending connection only for a connection it will then admit.
TEST(connection_admission, a_source_at_its_cap_is_refused_before_the_pending_cap_is_looked_at) {
  connection_admission a({.max_total = 100, .max_per_source = 2, .max_pending = 2});
  EXPECT_EQ(a.admit(attacker), verdict::admit);
  EXPECT_EQ(a.admit(attacker), verdict::admit);
  EXPECT_EQ(a.admit(attacker), verdict::per_source);
  EXPECT_EQ(a.admit(user_a), verdict::pending);
  EXPECT_EQ(a.from(user_a), 0u);
}

TEST(connection_admission, the_total_cap_comes_first) {
  connection_admission a({.max_total = 1, .max_per_source = 8, .max_pending = 8});
  EXPECT_EQ(a.admit(user_a), verdict::admit);
  EXPECT_EQ(a.admit(attacker), verdict::total);
}

TEST(login_throttle, delays_then_refuses_a_guessing_source) {
  login_throttle t({});
  std::uint64_t now = 100 * s;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.check(attacker, "alice", now).delay_ns, 0u) << i;
    t.failed(attacker, "alice", now);
  }
  // Past the free failures: 1 s, 2 s, 4 s, 8 s, 8 s, ...
  std::uint64_t expected = 1 * s;
  for (int i = 3; i < 10; ++i) {
    const login_throttle::verdict v = t.check(attacker, "user" + std::to_string(i), now);
    EXPECT_FALSE(v.refuse) << i;
    EXPECT_EQ(v.delay_ns, expected) << i;
    expected = std::min<std::uint64_t>(expected * 2, 8 * s);
    t.failed(attacker, "user" + std::to_string(i), now);
  }
  EXPECT_TRUE(t.check(attacker, "bob", now).refuse);
  // Another address is not refused for it.
  EXPECT_FALSE(t.check(user_a, "bob", now).refuse);
  // The window ends: the source starts over.
  now += 601 * s;
  EXPECT_FALSE(t.check(attacker, "bob", now).refuse);
  EXPECT_EQ(t.check(attacker, "bob", now).delay_ns, 0u);
}

// Guessing alice's password from many addresses slows alice's logins but can never lock her out.
TEST(login_throttle, a_user_name_is_delayed_never_refused) {
  login_throttle t({});
  const std::uint64_t now = 100 * s;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    t.failed(0x0a000000 + i, "alice", now);
  }
  const login_throttle::verdict v = t.check(user_a, "alice", now);
  EXPECT_FALSE(v.refuse);
  EXPECT_EQ(v.delay_ns, 8 * s);
  // Her successful login clears the record.
  t.succeeded(user_a, "alice");
  EXPECT_EQ(t.check(user_a, "alice", now).delay_ns, 0u);
}

TEST(login_throttle, tables_are_bounded) {
  login_throttle t({.max_entries = 16});
  for (std::uint32_t i = 0; i < 10000; ++i) {
    t.failed(i, "name" + std::to_string(i), i);
  }
  EXPECT_LE(t.tracked_sources(), 16u);
  EXPECT_LE(t.tracked_users(), 16u);
  // The newest are the ones kept.
  t.failed(9999, "x", 10000);
  t.failed(9999, "x", 10001);
  EXPECT_EQ(t.check(9999, "y", 10002).delay_ns, 1 * s);
}

}  // namespace
}  // namespace pptpkit::runtime
