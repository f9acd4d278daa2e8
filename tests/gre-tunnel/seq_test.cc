// Serial-number arithmetic around 2^32 (RFC 1982 with 32 bits), as GRE sequence numbers need it.
#include "pptpkit/gre/seq.hpp"

#include <gtest/gtest.h>

namespace {

using namespace pptpkit::gre::seq;

TEST(gre_seq, orders_across_the_wrap) {
  EXPECT_TRUE(before(0xfffffffeu, 0xffffffffu));
  EXPECT_TRUE(before(0xffffffffu, 0u));
  EXPECT_TRUE(before(0xfffffff0u, 0x10u));
  EXPECT_TRUE(after(0x10u, 0xfffffff0u));
  EXPECT_FALSE(before(5u, 5u));
  EXPECT_TRUE(before_or_equal(5u, 5u));
  EXPECT_EQ(distance(0xffffffffu, 0u), 1);
  EXPECT_EQ(distance(0u, 0xffffffffu), -1);
  EXPECT_EQ(distance(0x7fffffffu, 0x80000000u), 1);
  EXPECT_EQ(distance(0u, 0x7fffffffu), 0x7fffffff);
}

TEST(gre_seq, half_the_space_apart_is_unordered) {
  EXPECT_FALSE(before(0u, 0x80000000u));
  EXPECT_FALSE(before(0x80000000u, 0u));
  EXPECT_EQ(distance(0u, 0x80000000u), -0x80000000LL);
}

}  // namespace
