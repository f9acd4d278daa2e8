// Unauthenticated peers that try to spend a PAC's resources (issue: hostile internet): call ids. Each
// test drives the plugin through its C table.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "harness.hpp"
#include "pptpkit/core/wire.hpp"

namespace pptpkit::control::testing {
namespace {

bytes sccrq() {
  bytes b(sizeof(start_control_connection_request));
  start_message<start_control_connection_request>(b).protocol_version = protocol_version_1_0;
  return b;
}
bytes ocrq(std::uint16_t peer_call_id) {
  bytes b(sizeof(outgoing_call_request));
  auto& m = start_message<outgoing_call_request>(b);
  m.call_id = peer_call_id;
  m.maximum_bps = 10'000'000;
  m.packet_recv_window_size = 64;
  return b;
}
bytes ccrq(std::uint16_t peer_call_id) {
  bytes b(sizeof(call_clear_request));
  start_message<call_clear_request>(b).call_id = peer_call_id;
  return b;
}
bytes echo(std::uint32_t id) {
  bytes b(sizeof(echo_request));
  start_message<echo_request>(b).identifier = id;
  return b;
}

// A peer that connected (channel ch) and completed SCCRQ/SCCRP; returns the SCCRP.
bytes handshake(side& pac, std::uint32_t ch) {
  EXPECT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, ch, {0, pns_address + ch, pac_address}), PPTPKIT_OK);
  pac.feed(ch, sccrq());
  auto out = pac.poll();
  EXPECT_EQ(out.size(), 1u);
  return out.empty() ? bytes{} : out[0].second;
}

// Feeds one OCRQ and returns the OCRP (a default one when none came).
outgoing_call_reply call(side& pac, std::uint32_t ch, std::uint16_t peer_call_id) {
  pac.feed(ch, ocrq(peer_call_id));
  auto out = pac.poll();
  outgoing_call_reply r{};
  if (out.size() == 1 && out[0].second.size() == sizeof(r) && type_of(out[0].second) == 8) {
    std::memcpy(&r, out[0].second.data(), sizeof(r));
  } else {
    ADD_FAILURE() << "no OCRP (" << out.size() << " messages)";
  }
  return r;
}

// ---- call ids (issue row 5) ----

TEST(hostile_peer, call_ids_100k_open_clear_cycles_leave_room_for_a_real_client) {
  // Regression, issue row 5: 100k OCRQ/CCRQ on one connection used to quarantine every released id for
  // 60 s, read the host's random source up to 32 times per call and scan 65,536 ids once they ran out;
  // from the 65,536th call on, every call (and a real client's after the attacker left) got result 2.
  side pac("pac", 21);
  const std::uint64_t random_at_create = pac.random_calls;
  EXPECT_LE(random_at_create, 1u);
  handshake(pac, 1);
  int connected = 0;
  int cleared = 0;
  for (int i = 0; i < 100'000; ++i) {
    pac.host.now += 10'000;  // 10 us per cycle: 100k cycles in one second
    const auto peer_id = static_cast<std::uint16_t>(i + 1);
    connected += call(pac, 1, peer_id).result_code.value() == ocrp_result::connected;
    pac.feed(1, ccrq(peer_id));
    cleared += static_cast<int>(pac.poll().size());  // the CDN
    if (i % 1000 == 0) {
      pac.events.clear();
      pac.host.clear_logs();
    }
  }
  EXPECT_EQ(connected, 100'000);
  EXPECT_EQ(cleared, 100'000);
  EXPECT_EQ(pac.random_calls, random_at_create) << "the host's random source was read per call";
  EXPECT_EQ(pac.stat("rejected_call_ids_exhausted"), 0);
  pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED, 1);

  // A real client right after the attacker left: Connected.
  handshake(pac, 2);
  const outgoing_call_reply r = call(pac, 2, 77);
  EXPECT_EQ(r.result_code.value(), ocrp_result::connected);
  EXPECT_NE(r.call_id.value(), 0u);
}

TEST(hostile_peer, call_ids_are_not_reused_while_other_free_ids_remain) {
  // 2,000 calls opened and cleared a minute apart (the old quarantine long over each time): no id is
  // handed out twice, where 2,000 random draws from 65,535 ids would repeat one almost surely.
  side pac("pac", 22);
  handshake(pac, 1);
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 2000; ++i) {
    pac.host.now += 61 * second;
    pac.feed(1, echo(static_cast<std::uint32_t>(i)));  // keeps the connection alive across the minutes
    pac.poll();
    const auto peer_id = static_cast<std::uint16_t>(i + 1);
    const outgoing_call_reply r = call(pac, 1, peer_id);
    ASSERT_EQ(r.result_code.value(), ocrp_result::connected);
    EXPECT_TRUE(seen.insert(r.call_id.value()).second) << "call id " << r.call_id.value() << " reused";
    pac.feed(1, ccrq(peer_id));
    pac.poll();
  }
}

TEST(hostile_peer, exhausting_every_call_id_refuses_cleanly) {
  // 65,535 live calls on two connections: the next OCRQ is refused with General Error / No-Resource and
  // counted; the connection goes on, and a cleared call's id serves the next request.
  side pac("pac", 23, {{"max_calls_per_connection", "65535"}});
  handshake(pac, 1);
  handshake(pac, 2);
  for (std::uint32_t i = 0; i < 65535; ++i) {
    const std::uint32_t ch = i < 65000 ? 1 : 2;
    ASSERT_EQ(call(pac, ch, static_cast<std::uint16_t>(i)).result_code.value(), ocrp_result::connected) << i;
    if (i % 1000 == 0) {
      pac.events.clear();
      pac.host.clear_logs();
    }
  }
  pac.events.clear();
  const outgoing_call_reply refused = call(pac, 1, 0xffff);
  EXPECT_EQ(refused.result_code.value(), ocrp_result::general_error);
  EXPECT_EQ(refused.error_code.value(), error_code::no_resource);
  EXPECT_EQ(refused.peer_call_id.value(), 0xffffu);
  EXPECT_EQ(pac.stat("rejected_call_ids_exhausted"), 1);
  EXPECT_EQ(pac.stat("rejected_call_limit"), 0);
  EXPECT_TRUE(pac.host.logged("call ids are live"));
  EXPECT_TRUE(pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).empty());
  EXPECT_TRUE(pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP).empty());
  pac.feed(1, ccrq(500));
  ASSERT_EQ(pac.poll().size(), 1u);
  const auto freed = pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).at(0).values[0];
  const outgoing_call_reply again = call(pac, 1, 0xffff);
  EXPECT_EQ(again.result_code.value(), ocrp_result::connected);
  EXPECT_EQ(again.call_id.value(), freed);
}

TEST(hostile_peer, an_instance_is_not_created_when_the_random_source_fails) {
  // Predictable call ids are predictable GRE keys: refuse to start rather than run with them.
  pptpkit::testing::test_host host(24);
  pptpkit_host_services services = host.services();
  services.random_bytes = [](void*, std::uint8_t*, std::uint32_t) { return PPTPKIT_ERR_FATAL; };
  const pptpkit_config_entry config[] = {{"role", "pac"}};
  pptpkit_instance* inst = nullptr;
  char error[256] = {0};
  EXPECT_EQ(plugin_descriptor().ops->create(&services, config, 1, &inst, error, sizeof(error)), PPTPKIT_ERR_FATAL);
  EXPECT_EQ(inst, nullptr);
  EXPECT_NE(std::string(error).find("random source"), std::string::npos) << error;
}

TEST(hostile_peer, call_id_quarantine_ms_is_still_accepted) {
  // Configurations written for the time quarantine keep loading; a malformed value is still an error.
  side pac("pac", 25, {{"call_id_quarantine_ms", "60000"}});
  EXPECT_NE(pac.inst, nullptr);
  pptpkit::testing::test_host host(25);
  const pptpkit_config_entry bad[] = {{"role", "pac"}, {"call_id_quarantine_ms", "soon"}};
  pptpkit_instance* inst = nullptr;
  char error[256] = {0};
  EXPECT_EQ(plugin_descriptor().ops->create(&host.services(), bad, 2, &inst, error, sizeof(error)), PPTPKIT_ERR_CONFIG);
  EXPECT_NE(std::string(error).find("call_id_quarantine_ms"), std::string::npos) << error;
}

}  // namespace
}  // namespace pptpkit::control::testing
