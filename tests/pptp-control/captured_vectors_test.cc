// The control messages pptp-linux 1.10.0 and pptpd 1.4.0 put on the wire (tests/data, see its
// CAPTURES.md): each is framed and decoded by our codec, re-encoded to the same bytes, and the client's
// SCCRQ and OCRQ are answered by a PAC instance.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "harness.hpp"
#include "pptpkit/control/framer.hpp"
#include "pptpkit/control/messages.hpp"

namespace pptpkit::control::testing {
namespace {

bytes read_vector(const std::string& name) {
  const std::string path = std::string(PPTPKIT_TEST_DATA_DIR) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Frames `wire` as a TCP stream would deliver it: exactly one message, whose header passes the checks.
template <class T>
const T* decode(const bytes& wire) {
  stream_framer framer;
  std::size_t messages = 0;
  EXPECT_EQ(framer.feed(wire,
                        [&](std::span<const std::uint8_t> m) {
                          ++messages;
                          EXPECT_EQ(m.size(), wire.size());
                          return true;
                        }),
            header_status::ok);
  EXPECT_EQ(messages, 1u);
  EXPECT_EQ(framer.buffered(), 0u);
  if (wire.size() != sizeof(T) || type_of(wire) != static_cast<std::uint16_t>(T::type)) {
    ADD_FAILURE() << "not a " << message_name(static_cast<std::uint16_t>(T::type)) << ": " << wire.size() << " bytes";
    return nullptr;
  }
  return core::view<T>(std::span<const std::uint8_t>(wire));
}

// Encodes a message the way the engine does (start_message, then its fields) from a decoded one.
template <class T, class Fill>
bytes encode(Fill&& fill) {
  bytes out(sizeof(T));
  fill(start_message<T>(out));
  return out;
}

TEST(captured_vectors, pptp_linux_sccrq) {
  const bytes wire = read_vector("pptp-linux-1.10.0/sccrq.bin");
  const auto* m = decode<start_control_connection_request>(wire);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->protocol_version.value(), protocol_version_1_0);
  EXPECT_EQ(text(m->host_name), "local");
  EXPECT_EQ(text(m->vendor_string), "cananian");
  EXPECT_EQ(encode<start_control_connection_request>([&](auto& e) {
              e.protocol_version = m->protocol_version.value();
              e.framing_capabilities = m->framing_capabilities.value();
              e.bearer_capabilities = m->bearer_capabilities.value();
              e.maximum_channels = m->maximum_channels.value();
              e.firmware_revision = m->firmware_revision.value();
              set_text(e.host_name, text(m->host_name));
              set_text(e.vendor_string, text(m->vendor_string));
            }),
            wire);
}

TEST(captured_vectors, pptpd_sccrp) {
  const bytes wire = read_vector("pptpd-1.4.0/sccrp.bin");
  const auto* m = decode<start_control_connection_reply>(wire);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->protocol_version.value(), protocol_version_1_0);
  EXPECT_EQ(m->result_code.value(), sccrp_result::success);
  // pptpd's known quirks: no framing or bearer capability, Maximum Channels 1.
  EXPECT_EQ(m->framing_capability.value(), 0u);
  EXPECT_EQ(m->bearer_capability.value(), 0u);
  EXPECT_EQ(m->maximum_channels.value(), 1u);
  EXPECT_EQ(encode<start_control_connection_reply>([&](auto& e) {
              e.protocol_version = m->protocol_version.value();
              e.result_code = m->result_code.value();
              e.error_code = m->error_code.value();
              e.framing_capability = m->framing_capability.value();
              e.bearer_capability = m->bearer_capability.value();
              e.maximum_channels = m->maximum_channels.value();
              e.firmware_revision = m->firmware_revision.value();
              set_text(e.host_name, text(m->host_name));
              set_text(e.vendor_string, text(m->vendor_string));
            }),
            wire);
}

TEST(captured_vectors, pptp_linux_ocrq_and_pptpd_ocrp) {
  const bytes rq = read_vector("pptp-linux-1.10.0/ocrq.bin");
  const bytes rp = read_vector("pptpd-1.4.0/ocrp.bin");
  const auto* q = decode<outgoing_call_request>(rq);
  const auto* p = decode<outgoing_call_reply>(rp);
  ASSERT_NE(q, nullptr);
  ASSERT_NE(p, nullptr);
  EXPECT_NE(q->call_id.value(), 0u);
  EXPECT_LE(q->minimum_bps.value(), q->maximum_bps.value());
  EXPECT_NE(q->packet_recv_window_size.value(), 0u);
  // pptpd answers the client's call id with Call ID 0, and connects.
  EXPECT_EQ(p->call_id.value(), 0u);
  EXPECT_EQ(p->peer_call_id.value(), q->call_id.value());
  EXPECT_EQ(p->result_code.value(), ocrp_result::connected);
  EXPECT_EQ(encode<outgoing_call_request>([&](auto& e) {
              e.call_id = q->call_id.value();
              e.call_serial_number = q->call_serial_number.value();
              e.minimum_bps = q->minimum_bps.value();
              e.maximum_bps = q->maximum_bps.value();
              e.bearer_type = q->bearer_type.value();
              e.framing_type = q->framing_type.value();
              e.packet_recv_window_size = q->packet_recv_window_size.value();
              e.packet_processing_delay = q->packet_processing_delay.value();
              e.phone_number_length = q->phone_number_length.value();
              set_text(e.phone_number, text(q->phone_number));
              set_text(e.subaddress, text(q->subaddress));
            }),
            rq);
  EXPECT_EQ(encode<outgoing_call_reply>([&](auto& e) {
              e.call_id = p->call_id.value();
              e.peer_call_id = p->peer_call_id.value();
              e.result_code = p->result_code.value();
              e.error_code = p->error_code.value();
              e.cause_code = p->cause_code.value();
              e.connect_speed = p->connect_speed.value();
              e.packet_recv_window_size = p->packet_recv_window_size.value();
              e.packet_processing_delay = p->packet_processing_delay.value();
              e.physical_channel_id = p->physical_channel_id.value();
            }),
            rp);
}

TEST(captured_vectors, pptp_linux_ccrq) {
  const bytes wire = read_vector("pptp-linux-1.10.0/ccrq.bin");
  const bytes ocrq = read_vector("pptp-linux-1.10.0/ocrq.bin");
  const auto* m = decode<call_clear_request>(wire);
  const auto* q = decode<outgoing_call_request>(ocrq);
  ASSERT_NE(m, nullptr);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(m->call_id.value(), q->call_id.value());  // clears the call it opened
  EXPECT_EQ(encode<call_clear_request>([&](auto& e) { e.call_id = m->call_id.value(); }), wire);
}

TEST(captured_vectors, pac_answers_pptp_linux) {
  const bytes sccrq = read_vector("pptp-linux-1.10.0/sccrq.bin");
  const bytes ocrq = read_vector("pptp-linux-1.10.0/ocrq.bin");
  const bytes ccrq = read_vector("pptp-linux-1.10.0/ccrq.bin");
  const auto* q = decode<outgoing_call_request>(ocrq);
  ASSERT_NE(q, nullptr);

  side pac("pac", 11);
  const std::uint32_t ch = 1;
  ASSERT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, ch, {0, pns_address, pac_address}), PPTPKIT_OK);
  pac.feed(ch, sccrq);
  auto out = pac.poll();
  ASSERT_EQ(out.size(), 1u);
  const auto* rp = decode<start_control_connection_reply>(out[0].second);
  ASSERT_NE(rp, nullptr);
  EXPECT_EQ(rp->result_code.value(), sccrp_result::success);
  auto up = pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_STREQ(up[0].text, "local|cananian");

  pac.feed(ch, ocrq);
  out = pac.poll();
  ASSERT_EQ(out.size(), 1u);
  const auto* cp = decode<outgoing_call_reply>(out[0].second);
  ASSERT_NE(cp, nullptr);
  EXPECT_EQ(cp->result_code.value(), ocrp_result::connected);
  EXPECT_EQ(cp->peer_call_id.value(), q->call_id.value());
  auto call = pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP);
  ASSERT_EQ(call.size(), 1u);
  EXPECT_EQ(call[0].values[1], q->call_id.value());
  EXPECT_EQ(call[0].values[2], q->packet_recv_window_size.value());
  const std::uint16_t pac_call = cp->call_id.value();  // `out` is reused below

  // The client's Call-Clear-Request names its own call id; the PAC answers with a CDN for the call.
  pac.feed(ch, ccrq);
  out = pac.poll();
  ASSERT_EQ(out.size(), 1u);
  const auto* cdn = decode<call_disconnect_notify>(out[0].second);
  ASSERT_NE(cdn, nullptr);
  EXPECT_EQ(cdn->call_id.value(), pac_call);
  EXPECT_EQ(pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).size(), 1u);
}

}  // namespace
}  // namespace pptpkit::control::testing
