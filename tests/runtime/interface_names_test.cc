#include "pptpkit/runtime/interface_names.hpp"

#include <gtest/gtest.h>

namespace pptpkit::runtime {
namespace {

TEST(interface_units, the_lowest_free_unit_and_the_next_after_a_refusal) {
  interface_units u;
  EXPECT_EQ(u.lowest_free(), 0);
  u.take(0);
  u.take(1);
  u.take(3);
  EXPECT_EQ(u.lowest_free(), 2);
  EXPECT_EQ(u.next_free(2), 4);  // the system refused pptp2: 3 is ours, so pptp4
  u.release(1);
  EXPECT_EQ(u.lowest_free(), 1);
  EXPECT_TRUE(u.taken(3));
}

TEST(interface_units, a_client_name_counts_its_number_up) {
  EXPECT_EQ(interface_units::client_name("pptp0", 0), "pptp0");
  EXPECT_EQ(interface_units::client_name("pptp0", 1), "pptp1");
  EXPECT_EQ(interface_units::client_name("vpn9", 2), "vpn11");
  EXPECT_EQ(interface_units::client_name("tun", 1), "tun1");
  // A run of digits too long for a number keeps its head as text instead of throwing.
  EXPECT_EQ(interface_units::client_name("x12345678901234", 1), "x12345678901235");
}

}  // namespace
}  // namespace pptpkit::runtime
