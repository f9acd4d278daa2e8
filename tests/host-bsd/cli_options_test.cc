// host-bsd's own command-line option and the default plugin directory.
#include "pptpkit/host_bsd/cli_options.hpp"

#include <gtest/gtest.h>

#include "fake_sys.hpp"

namespace pptpkit::host_bsd {
namespace {

std::vector<char*> argv_of(std::vector<std::string>& words) {
  std::vector<char*> v;
  for (auto& w : words) {
    v.push_back(w.data());
  }
  return v;
}

TEST(capture_option, is_taken_out_of_argv_before_the_runtime_sees_it) {
  std::vector<std::string> words{"pptpkit", "server", "--capture", "divert:8668", "--listen", "0.0.0.0"};
  auto args = argv_of(words);
  capture_options o;
  std::string error;
  ASSERT_TRUE(take_capture_option(args, "raw", o, error)) << error;  // the command line wins over the env
  EXPECT_EQ(o.mode, capture_mode::divert);
  EXPECT_EQ(o.divert_port, 8668);
  ASSERT_EQ(args.size(), 4u);
  EXPECT_STREQ(args[1], "server");
  EXPECT_STREQ(args[2], "--listen");
}

TEST(capture_option, equals_form_environment_and_default) {
  std::vector<std::string> words{"pptpkit", "client", "--capture=divert"};
  auto args = argv_of(words);
  capture_options o;
  std::string error;
  ASSERT_TRUE(take_capture_option(args, nullptr, o, error));
  EXPECT_EQ(o.mode, capture_mode::divert);
  EXPECT_EQ(args.size(), 2u);

  std::vector<std::string> plain{"pptpkit", "client"};
  auto args2 = argv_of(plain);
  ASSERT_TRUE(take_capture_option(args2, "divert:9000", o, error));
  EXPECT_EQ(o.divert_port, 9000);
  ASSERT_TRUE(take_capture_option(args2, nullptr, o, error));
  EXPECT_EQ(o.mode, capture_mode::raw);
}

TEST(capture_option, a_missing_or_bad_value_is_an_error) {
  std::vector<std::string> words{"pptpkit", "server", "--capture"};
  auto args = argv_of(words);
  capture_options o;
  std::string error;
  EXPECT_FALSE(take_capture_option(args, nullptr, o, error));
  EXPECT_EQ(error, "--capture needs a value: raw, divert or divert:PORT");
  std::vector<std::string> bad{"pptpkit", "--capture=pcap"};
  auto args2 = argv_of(bad);
  EXPECT_FALSE(take_capture_option(args2, nullptr, o, error));
}

TEST(plugin_dir, prefers_the_installed_layout_then_the_build_tree_then_argv0) {
  testing::fake_sys sys(freebsd);
  sys.executable = "/usr/local/bin/pptpkit";
  sys.existing = {"/usr/local/bin/../lib/pptpkit"};
  EXPECT_EQ(default_plugin_dir(sys, "pptpkit"), "/usr/local/bin/../lib/pptpkit");
  sys.existing.clear();
  sys.executable = "/home/me/pptpkit/build/bin/pptpkit";
  EXPECT_EQ(default_plugin_dir(sys, "pptpkit"), "/home/me/pptpkit/build/bin/../plugins");
  sys.executable.clear();  // OpenBSD: only argv[0]
  EXPECT_EQ(default_plugin_dir(sys, "./bin/pptpkit"), "./bin/../plugins");
  EXPECT_EQ(default_plugin_dir(sys, "pptpkit"), "./../plugins");
}

}  // namespace
}  // namespace pptpkit::host_bsd
