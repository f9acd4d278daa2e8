// Unauthenticated peers that try to spend a PAC's resources (issue: hostile internet): call ids, calls
// per connection and the handshake deadline. Each test drives the plugin through its C table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>

#include "harness.hpp"

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

// ---- calls per connection and the handshake deadline (issue row 4, "admission") ----

TEST(hostile_peer, an_unauthenticated_connection_holds_at_most_four_calls) {
  // Regression, issue row 4: with 64 calls per connection, one connection could open a call per pool
  // address before anyone authenticated. A PAC now takes 4 by default and says so in its SCCRP.
  side pac("pac", 26);
  const bytes sccrp = handshake(pac, 1);
  ASSERT_EQ(sccrp.size(), sizeof(start_control_connection_reply));
  start_control_connection_reply reply{};
  std::memcpy(&reply, sccrp.data(), sizeof(reply));
  EXPECT_EQ(reply.maximum_channels.value(), 4u);  // RFC 2637 §2.2: the sessions this PAC gives a PNS
  for (std::uint16_t i = 1; i <= 4; ++i) {
    EXPECT_EQ(call(pac, 1, i).result_code.value(), ocrp_result::connected);
  }
  const outgoing_call_reply fifth = call(pac, 1, 5);
  EXPECT_EQ(fifth.result_code.value(), ocrp_result::general_error);
  EXPECT_EQ(fifth.error_code.value(), error_code::no_resource);
  EXPECT_EQ(pac.stat("rejected_call_limit"), 1);
  EXPECT_EQ(pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP).size(), 4u);
  // A cleared call makes room again (a pptp-linux call manager redialling on the same connection).
  pac.feed(1, ccrq(2));
  pac.poll();
  EXPECT_EQ(call(pac, 1, 6).result_code.value(), ocrp_result::connected);
  // Another connection has its own four.
  handshake(pac, 2);
  EXPECT_EQ(call(pac, 2, 1).result_code.value(), ocrp_result::connected);
}

TEST(hostile_peer, a_pns_keeps_its_own_default_call_limit) {
  // A PNS's calls come from the PAC it dialled; its default stays 64 (and it sends Maximum Channels 0).
  side pns("pns", 27);
  pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address});
  auto out = pns.poll();
  ASSERT_EQ(out.size(), 1u);
  start_control_connection_request m{};
  std::memcpy(&m, out[0].second.data(), sizeof(m));
  EXPECT_EQ(m.maximum_channels.value(), 0u);  // RFC 2637 §2.1: a PNS sends 0
  bytes sccrp(sizeof(start_control_connection_reply));
  auto& r = start_message<start_control_connection_reply>(sccrp);
  r.protocol_version = protocol_version_1_0;
  r.result_code = sccrp_result::success;
  pns.feed(1, sccrp);
  for (std::uint16_t i = 1; i <= 10; ++i) {
    bytes icrq(sizeof(incoming_call_request));
    start_message<incoming_call_request>(icrq).call_id = i;
    pns.feed(1, icrq);
    auto reply = pns.poll();
    ASSERT_EQ(reply.size(), 1u);
    ASSERT_EQ(type_of(reply[0].second), 10u);  // ICRP
    incoming_call_reply icrp{};
    std::memcpy(&icrp, reply[0].second.data(), sizeof(icrp));
    EXPECT_EQ(icrp.result_code.value(), icrp_result::connect) << i;
  }
  EXPECT_EQ(pns.stat("rejected_call_limit"), 0);
}

TEST(hostile_peer, a_connection_that_never_sends_sccrq_is_closed_at_the_handshake_deadline) {
  // Regression: an idle connection held its slot for 30 s. It now has 10 s to send SCCRQ; Echo-Requests
  // (answered, RFC 2637 §2.5) do not extend that. The close is counted and says which message was missing.
  side pac("pac", 28);
  ASSERT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {0, pns_address, pac_address}), PPTPKIT_OK);
  EXPECT_EQ(pac.next_deadline(), 10 * second);
  for (int i = 0; i < 9; ++i) {
    pac.host.now += second;
    pac.feed(1, echo(static_cast<std::uint32_t>(i)));
    EXPECT_EQ(pac.poll().size(), 1u);
    pac.tick();
  }
  pac.host.now = 10 * second - 1;
  pac.tick();
  EXPECT_TRUE(pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).empty());
  pac.host.now = 10 * second;
  pac.tick();
  const auto down = pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].values[0], PPTPKIT_CONTROL_REASON_TIMEOUT);
  EXPECT_STREQ(down[0].text, "handshake timeout: no SCCRQ within handshake_timeout_ms (10000 ms)");
  EXPECT_EQ(pac.stat("timeout_handshake"), 1);
  EXPECT_TRUE(pac.host.logged("handshake timeout"));
  pac.poll();
  EXPECT_FALSE(pac.connection_exists(1));
  EXPECT_EQ(pac.next_deadline(), PPTPKIT_NO_DEADLINE);
}

TEST(hostile_peer, the_handshake_deadline_is_configurable_and_ends_with_the_handshake) {
  side pac("pac", 29, {{"handshake_timeout_ms", "2000"}});
  pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {0, pns_address, pac_address});
  pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 2, {0, pns_address + 1, pac_address});
  pac.host.now = second;
  pac.feed(2, sccrq());  // connection 2 completes its handshake in time
  pac.poll();
  pac.host.now = 2 * second;
  pac.tick();
  const auto down = pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].channel, 1u);
  EXPECT_STREQ(down[0].text, "handshake timeout: no SCCRQ within handshake_timeout_ms (2000 ms)");
  EXPECT_TRUE(pac.connection_exists(2));
  pac.host.now = 50 * second;  // well past any handshake deadline; only the keepalive runs now
  pac.tick();
  EXPECT_EQ(pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).size(), 1u);
}

// ---- text from the wire ----

TEST(hostile_peer, host_name_and_vendor_are_cut_at_their_wire_fields) {
  // Host Name and Vendor String fill their 64 bytes with no NUL (RFC 2637 §2.1 pads them with NULs, a
  // peer need not), and the bytes right after the message in the same TCP read are printable: the event
  // text holds each field's 64 bytes and nothing from beyond them; '|' (the separator) and control bytes
  // become '?'.
  side pac("pac", 30);
  pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {0, pns_address, pac_address});
  bytes b = sccrq();
  auto& m = start_message<start_control_connection_request>(b);
  m.protocol_version = protocol_version_1_0;
  std::string host(64, 'h');
  host[0] = '|';
  host[1] = '\n';
  std::fill(m.host_name.begin(), m.host_name.end(), 0);
  std::copy(host.begin(), host.end(), m.host_name.begin());
  std::fill(m.vendor_string.begin(), m.vendor_string.end(), 'v');
  b.insert(b.end(), 8, '~');  // then garbage: a bad header that ends the connection after the SCCRQ
  pac.feed(1, b);
  const auto up = pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(std::string(up[0].text), "??" + std::string(62, 'h') + "|" + std::string(64, 'v'));
  EXPECT_EQ(pac.stat("drop_bad_length"), 1);
}

}  // namespace
}  // namespace pptpkit::control::testing
