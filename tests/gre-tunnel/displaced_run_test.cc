// Runs of packets displaced behind later ones, as the Linux kernel's PPTP sender produces under load
// (runs of ~200-370 packets), and the peers that really restart their numbering. The receiver must
// follow neither a displaced run backwards nor two stragglers far behind, and must still follow a peer
// that restarted.
#include <gtest/gtest.h>

#include <algorithm>

#include "gre_fixture.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::gre;
using namespace pptpkit::gre::testing;
using ids = std::vector<std::uint32_t>;

constexpr std::uint64_t us = 1'000;
constexpr std::uint64_t full_rate = 130 * us;  // ~7,700 packets/s: 1400-byte packets at 86 Mbit/s

class gre_displaced : public gre_test {
 protected:
  void SetUp() override {
    make();
    open();
  }
  // The peer's packets first .. last (inclusive, serial order), one every `gap`; what PPP got is
  // collected in `got`.
  void run(std::uint32_t first, std::uint32_t last, std::uint64_t gap = full_rate) {
    for (std::uint32_t s = first;; ++s) {
      data(s);
      advance(gap);
      const ids now = delivered();
      got.insert(got.end(), now.begin(), now.end());
      if (s == last) {
        return;
      }
    }
  }
  static ids range(std::uint32_t first, std::uint32_t last) {
    ids out;
    for (std::uint32_t s = first;; ++s) {
      out.push_back(s);
      if (s == last) {
        return out;
      }
    }
  }
  static ids join(ids a, const ids& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  ids got;
};

// The bug: "peer sequence jumped from 22229 to 22435; resynchronising", then "from 22440 to 22231":
// the receiver followed the displaced run backwards, handed 370 late frames to MPPE (each a walk of
// thousands of key changes) and then jumped forward again.
TEST_F(gre_displaced, a_run_displaced_behind_the_next_one_is_dropped_not_followed_back) {
  for (const std::uint32_t n : {1000u, 0xffffff00u}) {  // and across 2^32
    SCOPED_TRACE("n = " + std::to_string(n));
    make();
    open();
    host.clear_logs();
    got.clear();
    run(n - 200, n);         // steady flow
    run(n + 371, n + 740);   // the next 370 first...
    run(n + 1, n + 370);     // ... then the displaced 370, late
    run(n + 741, n + 1100);  // and the flow goes on
    EXPECT_EQ(got, join(join(range(n - 200, n), range(n + 371, n + 740)), range(n + 741, n + 1100)));
    EXPECT_EQ(c().resynchronised, 1u);  // forward, once
    EXPECT_EQ(c().restarted, 0u);       // never back
    EXPECT_EQ(c().far_behind, 370u);    // the cost: the displaced run, and nothing after it
    EXPECT_EQ(c().lost + c().stale + c().out_of_window, 0u);
    EXPECT_FALSE(host.logged("peer sequence jumped from " + std::to_string(n + 741)));
    EXPECT_FALSE(host.logged("restarted"));
  }
}

// Several displaced runs in a row, of the lengths seen (200-370), none followed back.
TEST_F(gre_displaced, displaced_runs_one_after_another) {
  run(0, 100);
  std::uint32_t next = 101;
  ids want = range(0, 100);
  for (const std::uint32_t length : {200u, 370u, 250u, 300u}) {
    run(next + length, next + 2 * length - 1);
    run(next, next + length - 1);
    want = join(want, range(next + length, next + 2 * length - 1));
    next += 2 * length;
  }
  run(next, next + 100);
  want = join(want, range(next, next + 100));
  EXPECT_EQ(got, want);
  EXPECT_EQ(c().resynchronised, 4u);
  EXPECT_EQ(c().restarted, 0u);
  EXPECT_EQ(c().far_behind, 200u + 370u + 250u + 300u);
}

// The known weakness: two stale packets close together far behind pulled the receiver back once
// (and a third packet of the current numbering pulled it forward again).
TEST_F(gre_displaced, two_stragglers_close_together_far_behind_are_dropped) {
  run(0, 1000);
  data(300);
  data(301);
  run(1001, 1100);
  EXPECT_EQ(got, range(0, 1100));
  EXPECT_EQ(c().resynchronised + c().restarted, 0u);
  EXPECT_EQ(c().far_behind, 2u);
}

// A peer that really restarted (the Linux kernel numbers from 1) is still followed, after
// restart_confirm (1 s) of its new numbering with nothing of the old one.
TEST_F(gre_displaced, a_genuinely_restarted_peer_still_resynchronises) {
  constexpr std::uint32_t before = 20000;  // more than a second's worth: the new numbering cannot catch up
  run(1, before);
  host.clear_logs();
  const std::uint32_t confirm = static_cast<std::uint32_t>(1'000'000'000 / full_rate);  // packets in 1 s
  run(1, confirm + 500);
  ASSERT_GT(got.size(), before + 400u);
  EXPECT_EQ(got[before - 1], before);
  const std::uint32_t first = got[before];
  EXPECT_EQ(ids(got.begin() + before, got.end()), range(first, confirm + 500));
  EXPECT_GE(first, confirm);  // what came within the first second was dropped...
  EXPECT_LE(first, confirm + 2);
  EXPECT_EQ(c().far_behind, first - 1);  // ... and counted
  EXPECT_EQ(c().restarted, 1u);
  EXPECT_TRUE(host.logged("peer restarted its numbering (from 20001 back to"));
}

// A restarted peer whose new numbering climbs back into the window before the second is up is simply
// taken up there: what came before was dropped as far behind or stale.
TEST_F(gre_displaced, a_restart_that_catches_up_within_the_second_is_taken_up_in_order) {
  run(1, 2000);
  run(1, 2100);
  ASSERT_EQ(got.size(), 2100u);
  EXPECT_EQ(ids(got.begin() + 2000, got.end()), range(2001, 2100));
  EXPECT_EQ(c().far_behind + c().stale + c().duplicates, 2000u);
  EXPECT_EQ(c().restarted + c().resynchronised, 0u);
}

}  // namespace
