#include "pptpkit/runtime/plugin_loader.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/gre.h"
#include "pptpkit/runtime/platform.hpp"  // compile check of the platform interface
#include "pptpkit/testing/test_host.hpp"

namespace {

using pptpkit::runtime::load_error;
using pptpkit::runtime::load_plugin;

std::string plugin_path(const std::string& variant) {
  return std::string(TEST_PLUGIN_DIR) + "/test_plugin_" + variant + ".so";
}

// The loader's message for loading `path` as `kind`; fails the test if loading succeeds.
std::string load_failure(const std::string& path, std::uint32_t kind = PPTPKIT_KIND_GRE) {
  pptpkit::testing::test_host host;
  try {
    load_plugin(path, kind, host.services());
  } catch (const load_error& e) {
    std::printf("loader says: %s\n", e.what());
    return e.what();
  }
  ADD_FAILURE() << path << " loaded but should not have";
  return {};
}

TEST(plugin_loader, loads_a_good_plugin_and_drives_it_through_the_c_abi) {
  pptpkit::testing::test_host host;
  auto plugin = load_plugin(plugin_path("good"), PPTPKIT_KIND_GRE, host.services());
  EXPECT_STREQ(plugin->descriptor().name, "test-plugin");
  const pptpkit_plugin_ops& ops = plugin->ops();
  pptpkit_instance* inst = nullptr;
  char error[128] = {0};
  ASSERT_EQ(ops.create(&host.services(), nullptr, 0, &inst, error, sizeof(error)), PPTPKIT_OK) << error;

  pptpkit::core::packet_list l;
  l.push_back(*host.make_packet({0xff, 0x03, 0xc0, 0x21}));
  l.push_back(*host.make_packet({1, 2}));
  pptpkit_batch in = PPTPKIT_BATCH_INIT;
  l.release(in);
  EXPECT_EQ(ops.feed(inst, PPTPKIT_GRE_PORT_PPP, &in, 0), 0);
  EXPECT_EQ(in.count, 0u);
  pptpkit_batch out = PPTPKIT_BATCH_INIT;
  EXPECT_EQ(ops.poll(inst, PPTPKIT_GRE_PORT_NET, &out, 64, 0), 2);
  EXPECT_EQ(host.drain(out), (std::vector<std::vector<std::uint8_t>>{{0xff, 0x03, 0xc0, 0x21}, {1, 2}}));
  pptpkit_stat stat{};
  EXPECT_EQ(ops.read_stats(inst, PPTPKIT_CHANNEL_ALL, &stat, 1), 1);
  EXPECT_EQ(stat.value, 2u);
  ops.destroy(inst);
}

TEST(plugin_loader, missing_file_names_the_file_and_the_setting) {
  const std::string m = load_failure("/nonexistent/dir/gre-tunnel.so");
  EXPECT_NE(m.find("gre-tunnel.so: no such file at /nonexistent/dir/gre-tunnel.so"), std::string::npos) << m;
  EXPECT_NE(m.find("expected a gre plugin"), std::string::npos) << m;
}

TEST(plugin_loader, a_file_that_is_not_a_shared_object_says_why) {
  const std::string path = ::testing::TempDir() + "not-a-plugin.so";
  std::ofstream(path) << "just text\n";
  const std::string m = load_failure(path);
  EXPECT_NE(m.find("not-a-plugin.so: cannot be loaded:"), std::string::npos) << m;
  std::remove(path.c_str());
}

TEST(plugin_loader, missing_entry_point) {
  const std::string m = load_failure(plugin_path("no_entry"));
  EXPECT_NE(m.find("test_plugin_no_entry.so: not a pptpkit plugin: it does not export pptpkit_plugin_query"),
            std::string::npos)
      << m;
}

TEST(plugin_loader, plugin_built_for_an_older_minor_loads) {
  pptpkit::testing::test_host host;
  auto plugin = load_plugin(plugin_path("abi1_0"), PPTPKIT_KIND_GRE, host.services());
  EXPECT_EQ(plugin->descriptor().abi_version, PPTPKIT_ABI_MAKE_VERSION(1, 0));
  EXPECT_GE(PPTPKIT_ABI_VERSION_MINOR, 1u);
}

TEST(plugin_loader, plugin_built_for_abi_2_refuses_with_both_versions) {
  const std::string m = load_failure(plugin_path("abi2_refuses"));
  EXPECT_NE(m.find("test-plugin: built for ABI 2.0; this host speaks 1.1"), std::string::npos) << m;
}

TEST(plugin_loader, plugin_built_for_abi_2_that_does_not_check_is_caught_by_the_host) {
  const std::string m = load_failure(plugin_path("abi2_silent"));
  EXPECT_NE(m.find("test_plugin_abi2_silent.so: built for ABI 2.0; this host speaks 1.x"), std::string::npos) << m;
}

TEST(plugin_loader, wrong_kind) {
  const std::string m = load_failure(plugin_path("good"), PPTPKIT_KIND_PPP);
  EXPECT_NE(m.find("test_plugin_good.so: is a gre plugin (test-plugin); expected a ppp plugin"), std::string::npos)
      << m;
}

TEST(plugin_loader, descriptor_too_short) {
  const std::string m = load_failure(plugin_path("short_descriptor"));
  EXPECT_NE(m.find("test_plugin_short_descriptor.so: descriptor is 16 bytes; ABI 1.0 needs at least 80"),
            std::string::npos)
      << m;
}

TEST(plugin_loader, different_struct_layout_is_refused) {
  const std::string m = load_failure(plugin_path("bad_fingerprint"));
  EXPECT_NE(m.find("built for a different machine or ABI layout: sizeof(pptpkit_packet) is 64, this host has 72"),
            std::string::npos)
      << m;
}

}  // namespace
