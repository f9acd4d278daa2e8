// The ABI headers compile as C++ and keep the layout the C consumer pins; the C++ packet core relies
// on the packet's link being its first member.
#include <gtest/gtest.h>

#include <type_traits>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/pptpkit.h"

namespace {

static_assert(offsetof(pptpkit_packet, link) == 0, "PPTPKIT_PACKET_OF casts a link to its packet");
static_assert(std::is_standard_layout_v<pptpkit_packet>);
static_assert(std::is_trivially_copyable_v<pptpkit_event>);
static_assert(std::is_trivially_copyable_v<pptpkit_command>);
static_assert(sizeof(void*) != 8 || sizeof(pptpkit_packet) == 72);
static_assert(sizeof(void*) != 8 || sizeof(pptpkit_event) == 336);
static_assert(sizeof(void*) != 8 || sizeof(pptpkit_plugin_descriptor) == 80);
// Added in 1.1.
static_assert(sizeof(void*) != 8 || sizeof(pptpkit_ppp_auth_extension) == 16);
static_assert(offsetof(pptpkit_ppp_auth_extension, request_data) == 8);
static_assert(PPTPKIT_BATCH_MAX == pptpkit::core::packet_batch::capacity);

TEST(abi_layout, struct_sizes_are_what_the_init_macros_say) {
  pptpkit_host_services h = PPTPKIT_HOST_SERVICES_INIT;
  pptpkit_command c = PPTPKIT_COMMAND_INIT;
  pptpkit_event e = PPTPKIT_EVENT_INIT;
  EXPECT_EQ(h.struct_size, sizeof(h));
  EXPECT_EQ(c.struct_size, sizeof(c));
  EXPECT_EQ(e.struct_size, sizeof(e));
}

TEST(abi_layout, has_field_sees_only_what_a_prefix_holds) {
  EXPECT_TRUE(PPTPKIT_HAS_FIELD(pptpkit_plugin_ops, read_stats, sizeof(pptpkit_plugin_ops)));
  EXPECT_FALSE(PPTPKIT_HAS_FIELD(pptpkit_plugin_ops, read_stats, offsetof(pptpkit_plugin_ops, read_stats)));
  EXPECT_TRUE(PPTPKIT_HAS_FIELD(pptpkit_ppp_auth_extension, request_data, sizeof(pptpkit_ppp_auth_extension)));
}

}  // namespace
