// The built module, loaded with the runtime's loader, runs a whole session; configuration errors are
// reported; answering an Echo-Request allocates nothing on the heap.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "pptpkit/runtime/plugin_loader.hpp"
#include "pptpkit/testing/alloc_counter.hpp"

namespace pptpkit::control::testing {
namespace {

TEST(module, loads_and_runs_a_full_session) {
  pptpkit::testing::test_host loader_host;
  auto plugin = runtime::load_plugin(PPTP_CONTROL_MODULE, PPTPKIT_KIND_CONTROL, loader_host.services());
  EXPECT_STREQ(plugin->descriptor().name, "pptp-control");
  EXPECT_EQ(plugin->descriptor().get_extension("pptpkit.no.such.v1"), nullptr);
  session s(1, 21, {}, {}, &plugin->ops());
  full_session(s);
}

TEST(module, configuration_errors_name_the_key) {
  pptpkit::testing::test_host host;
  const pptpkit_plugin_ops* ops = plugin_descriptor().ops;
  const auto create = [&](std::vector<pptpkit_config_entry> config) {
    pptpkit_instance* inst = nullptr;
    char error[256] = {0};
    const std::int32_t rc = ops->create(&host.services(), config.data(), static_cast<std::uint32_t>(config.size()),
                                        &inst, error, sizeof(error));
    ops->destroy(inst);
    return std::make_pair(rc, std::string(error));
  };
  EXPECT_EQ(create({{"role", "pac"}}).first, PPTPKIT_OK);
  auto [rc1, e1] = create({{"role", "router"}});
  EXPECT_EQ(rc1, PPTPKIT_ERR_CONFIG);
  EXPECT_NE(e1.find("role"), std::string::npos);
  auto [rc2, e2] = create({{"role", "pns"}, {"echo_timeout_ms", "soon"}});
  EXPECT_EQ(rc2, PPTPKIT_ERR_CONFIG);
  EXPECT_NE(e2.find("echo_timeout_ms"), std::string::npos);
  auto [rc3, e3] = create({{"role", "pns"}, {"max_calls", "3"}});
  EXPECT_EQ(rc3, PPTPKIT_ERR_CONFIG);
  EXPECT_NE(e3.find("max_calls"), std::string::npos);
}

TEST(module, commands_are_checked) {
  side pns("pns", 1);
  EXPECT_EQ(pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 0, {1}), PPTPKIT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, 5), PPTPKIT_ERR_NOT_FOUND);
  EXPECT_EQ(pns.command(99, 5), PPTPKIT_ERR_NOT_SUPPORTED);
  EXPECT_EQ(pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 5, {1, pac_address}), PPTPKIT_OK);
  EXPECT_EQ(pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 5, {1, pac_address}), PPTPKIT_ERR_STATE);
  EXPECT_EQ(pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, 5), PPTPKIT_ERR_STATE);  // not established yet
  EXPECT_EQ(pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, 5, {}, {{"fax", "1"}}), PPTPKIT_ERR_CONFIG);
}

TEST(module, answering_an_echo_request_does_not_allocate) {
  session s;
  s.open();
  bytes echo(sizeof(echo_request));
  start_message<echo_request>(echo).identifier = 1;
  // Packets made before the measured scope; the engine's own path is what is measured.
  pptpkit_packet* in = s.pac.host.make_packet(echo, s.ch);
  const pptpkit_plugin_ops* ops = plugin_descriptor().ops;
  pptpkit_batch batch = PPTPKIT_BATCH_INIT;
  batch.head = batch.tail = &in->link;
  batch.count = 1;
  pptpkit_batch out = PPTPKIT_BATCH_INIT;
  std::int32_t polled = 0;
  {
    pptpkit::testing::allocation_scope scope;
    ASSERT_EQ(ops->feed(s.pac.inst, PPTPKIT_CONTROL_PORT_STREAM, &batch, 0), PPTPKIT_OK);
    polled = ops->poll(s.pac.inst, PPTPKIT_CONTROL_PORT_STREAM, &out, 16, 0);
    EXPECT_EQ(scope.allocations(), 0u);
  }
  EXPECT_EQ(polled, 1);
  auto msgs = s.pac.host.drain(out);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(type_of(msgs[0]), 6u);
}

}  // namespace
}  // namespace pptpkit::control::testing
