// Bad input from a peer, one rule per test: a counted, logged rejection that ends (or leaves alone) only
// the connection it came on; another connection of the same instance goes on.
#include <gtest/gtest.h>

#include <functional>

#include "harness.hpp"

namespace pptpkit::control::testing {
namespace {

// A PAC with two established connections (1: the victim, 2: the bystander).
class malformed : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::uint32_t ch : {1u, 2u}) {
      ASSERT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, ch, {0, pns_address + ch, pac_address}), PPTPKIT_OK);
      pac.feed(ch, sccrq());
    }
    ASSERT_EQ(pac.poll().size(), 2u);
    ASSERT_EQ(pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP).size(), 2u);
  }

  static bytes sccrq(std::uint16_t version = protocol_version_1_0) {
    bytes b(sizeof(start_control_connection_request));
    auto& m = start_message<start_control_connection_request>(b);
    m.protocol_version = version;
    return b;
  }
  static bytes echo(std::uint32_t id) {
    bytes b(sizeof(echo_request));
    start_message<echo_request>(b).identifier = id;
    return b;
  }

  // Connection 1 ended with reason and `counter` is 1; connection 2 still answers an echo.
  void expect_closed(const char* counter, std::uint32_t reason = PPTPKIT_CONTROL_REASON_PROTOCOL_ERROR) {
    auto down = pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN);
    ASSERT_EQ(down.size(), 1u);
    EXPECT_EQ(down[0].channel, 1u);
    EXPECT_EQ(down[0].values[0], reason) << down[0].text;
    EXPECT_EQ(pac.stat(counter), 1) << counter;
    EXPECT_FALSE(pac.host.logs().empty());
    pac.poll();
    EXPECT_FALSE(pac.connection_exists(1));
    expect_bystander_fine();
  }
  void expect_bystander_fine() {
    pac.feed(2, echo(77));
    auto out = pac.poll();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].first, 2u);
    EXPECT_EQ(type_of(out[0].second), 6u);
    EXPECT_TRUE(pac.connection_exists(2));
  }
  // A valid Echo-Request with one byte changed.
  bytes echo_with(std::size_t at, std::uint8_t value) {
    bytes b = echo(1);
    b[at] = value;
    return b;
  }

  side pac{"pac", 11};
};

TEST_F(malformed, bad_magic_cookie) {
  pac.feed(1, echo_with(7, 0x4E));
  expect_closed("drop_bad_magic");
}

TEST_F(malformed, unknown_message_type) {
  pac.feed(1, echo_with(9, 16));
  expect_closed("drop_unknown_type");
}

TEST_F(malformed, length_disagrees_with_type) {
  bytes b = echo(1);
  b[1] = 20;  // an Echo-Request is 16 bytes
  b.resize(20);
  pac.feed(1, b);
  expect_closed("drop_length_mismatch");
}

TEST_F(malformed, message_over_the_maximum) {
  bytes b(300, 0);
  b[0] = 0x01;  // Length 300
  b[1] = 0x2c;
  pac.feed(1, b);
  expect_closed("drop_bad_length");
}

TEST_F(malformed, length_below_the_header) {
  pac.feed(1, echo_with(1, 4));
  expect_closed("drop_bad_length");
}

TEST_F(malformed, management_message_type) {
  pac.feed(1, echo_with(3, 2));
  expect_closed("drop_bad_pptp_type");
}

TEST_F(malformed, valid_bytes_before_the_bad_message_are_still_taken) {
  bytes b = echo(5);
  bytes bad = echo_with(7, 0);
  b.insert(b.end(), bad.begin(), bad.end());
  pac.feed(1, b);
  auto out = pac.poll();
  ASSERT_EQ(out.size(), 1u);  // the first Echo-Request was answered before the connection ended
  EXPECT_EQ(type_of(out[0].second), 6u);
  expect_closed("drop_bad_magic");
}

TEST_F(malformed, call_message_before_the_handshake) {
  ASSERT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 3, {0, 9, pac_address}), PPTPKIT_OK);
  bytes b(sizeof(outgoing_call_request));
  start_message<outgoing_call_request>(b).call_id = 5;
  pac.feed(3, b);
  auto down = pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].channel, 3u);
  EXPECT_EQ(pac.stat("drop_unexpected_before_established"), 1);
  expect_bystander_fine();
}

TEST_F(malformed, unknown_call_id_is_counted_and_ignored) {
  bytes b(sizeof(call_clear_request));
  start_message<call_clear_request>(b).call_id = 4242;
  pac.feed(1, b);
  EXPECT_EQ(pac.stat("drop_unknown_call"), 1);
  EXPECT_TRUE(pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).empty());
  EXPECT_TRUE(pac.connection_exists(1));
  expect_bystander_fine();
}

TEST_F(malformed, message_for_the_other_role_is_counted_and_ignored) {
  bytes b(sizeof(incoming_call_request));  // a PNS takes ICRQ; a PAC does not
  start_message<incoming_call_request>(b).call_id = 1;
  pac.feed(1, b);
  EXPECT_EQ(pac.stat("drop_unexpected_message"), 1);
  EXPECT_TRUE(pac.connection_exists(1));
  expect_bystander_fine();
}

TEST_F(malformed, unsupported_protocol_version_is_refused) {
  ASSERT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 3, {0, 9, pac_address}), PPTPKIT_OK);
  pac.feed(3, sccrq(0x0001));
  auto out = pac.poll();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(type_of(out[0].second), 2u);
  EXPECT_EQ(out[0].second[14], sccrp_result::bad_protocol_version);
  EXPECT_EQ(pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).at(0).values[0], PPTPKIT_CONTROL_REASON_REFUSED);
  EXPECT_EQ(pac.stat("rejected_version"), 1);
  expect_bystander_fine();
}

TEST_F(malformed, echo_reply_we_did_not_ask_for) {
  bytes b(sizeof(echo_reply));
  start_message<echo_reply>(b).identifier = 3;
  pac.feed(1, b);
  EXPECT_EQ(pac.stat("drop_echo_reply_mismatch"), 1);
  EXPECT_TRUE(pac.connection_exists(1));
}

TEST_F(malformed, bytes_for_an_unknown_connection) {
  pac.feed(99, echo(1));
  EXPECT_EQ(pac.stat("drop_unknown_connection"), 1);
  expect_bystander_fine();
}

TEST(malformed_pns, refused_by_the_pac) {
  side pns("pns", 4);
  pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address});
  pns.poll();
  bytes b(sizeof(start_control_connection_reply));
  auto& m = start_message<start_control_connection_reply>(b);
  m.protocol_version = protocol_version_1_0;
  m.result_code = sccrp_result::not_authorized;
  pns.feed(1, b);
  EXPECT_EQ(pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).at(0).values[0], PPTPKIT_CONTROL_REASON_REFUSED);
  EXPECT_EQ(pns.stat("rejected_refused"), 1);
}

TEST(malformed_pns, old_version_in_sccrp_is_stopped) {
  // RFC 2637 §3.1.1: a reply with an unsupported version: StopCCRQ (Stop-Protocol), wait_stop_reply.
  side pns("pns", 4);
  pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address});
  pns.poll();
  bytes b(sizeof(start_control_connection_reply));
  auto& m = start_message<start_control_connection_reply>(b);
  m.protocol_version = 0x0001;
  m.result_code = sccrp_result::success;
  pns.feed(1, b);
  auto out = pns.poll();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(type_of(out[0].second), 3u);
  EXPECT_EQ(out[0].second[12], stop_reason::stop_protocol);
  bytes rp(sizeof(stop_control_connection_reply));
  start_message<stop_control_connection_reply>(rp).result_code = stop_result::ok;
  pns.feed(1, rp);
  EXPECT_EQ(pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).at(0).values[0], PPTPKIT_CONTROL_REASON_REFUSED);
  EXPECT_EQ(pns.stat("rejected_version"), 1);
}

}  // namespace
}  // namespace pptpkit::control::testing
