// Golden encode/decode vectors for all 15 messages, written byte by byte from the layouts of RFC 2637 §2.
#include "pptpkit/control/messages.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace pptpkit::control {
namespace {

using bytes = std::vector<std::uint8_t>;

// Builds a byte vector from pieces: numbers of a given width (big-endian) and padded text.
struct vec {
  bytes b;
  vec& u8(std::uint8_t v) {
    b.push_back(v);
    return *this;
  }
  vec& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
  vec& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v)); }
  vec& text(const std::string& s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      b.push_back(i < s.size() ? static_cast<std::uint8_t>(s[i]) : 0);
    }
    return *this;
  }
  // The common header of RFC 2637 §2: Length, PPTP Message Type 1, Magic Cookie, type, Reserved0.
  static vec header(std::uint16_t length, std::uint16_t type) {
    vec v;
    v.u16(length).u16(1).u32(0x1A2B3C4D).u16(type).u16(0);
    return v;
  }
};

template <class T>
bytes encode(void (*fill)(T&)) {
  bytes out(sizeof(T));
  fill(start_message<T>(out));
  return out;
}

template <class T>
const T& decode(const bytes& b) {
  EXPECT_EQ(b.size(), sizeof(T));
  EXPECT_EQ(check_header(*reinterpret_cast<const header*>(b.data())), header_status::ok);
  return *core::view<T>(std::span<const std::uint8_t>(b));
}

TEST(messages, sizes_are_the_rfc_sizes) {
  const std::size_t expected[] = {0, 156, 156, 16, 16, 16, 20, 168, 32, 220, 24, 28, 16, 148, 40, 24};
  for (std::uint16_t t = 0; t <= 15; ++t) {
    EXPECT_EQ(message_size(t), expected[t]) << message_name(t);
  }
  EXPECT_EQ(message_size(16), 0u);
  EXPECT_EQ(message_size(0xffff), 0u);
}

TEST(messages, sccrq) {
  const bytes wire =
      vec::header(156, 1).u16(0x0100).u16(0).u32(3).u32(2).u16(0).u16(0x0601).text("client", 64).text("vendor-x", 64).b;
  EXPECT_EQ(encode<start_control_connection_request>([](auto& m) {
              m.protocol_version = 0x0100;
              m.framing_capabilities = 3;
              m.bearer_capabilities = 2;
              m.firmware_revision = 0x0601;
              set_text(m.host_name, "client");
              set_text(m.vendor_string, "vendor-x");
            }),
            wire);
  const auto& m = decode<start_control_connection_request>(wire);
  EXPECT_EQ(m.protocol_version.value(), 0x0100);
  EXPECT_EQ(m.framing_capabilities.value(), 3u);
  EXPECT_EQ(m.bearer_capabilities.value(), 2u);
  EXPECT_EQ(m.firmware_revision.value(), 0x0601);
  EXPECT_EQ(text(m.host_name), "client");
  EXPECT_EQ(text(m.vendor_string), "vendor-x");
}

TEST(messages, sccrp) {
  const bytes wire =
      vec::header(156, 2).u16(0x0100).u8(1).u8(0).u32(1).u32(1).u16(1).u16(1).text("local", 64).text("linux", 64).b;
  EXPECT_EQ(encode<start_control_connection_reply>([](auto& m) {
              m.protocol_version = 0x0100;
              m.result_code = 1;
              m.framing_capability = 1;
              m.bearer_capability = 1;
              m.maximum_channels = 1;
              m.firmware_revision = 1;
              set_text(m.host_name, "local");
              set_text(m.vendor_string, "linux");
            }),
            wire);
  const auto& m = decode<start_control_connection_reply>(wire);
  EXPECT_EQ(m.result_code.value(), 1);
  EXPECT_EQ(m.maximum_channels.value(), 1);
  EXPECT_EQ(text(m.vendor_string), "linux");
}

TEST(messages, stop_request_and_reply) {
  const bytes rq = vec::header(16, 3).u8(3).u8(0).u16(0).b;
  EXPECT_EQ(encode<stop_control_connection_request>([](auto& m) { m.reason = 3; }), rq);
  EXPECT_EQ(decode<stop_control_connection_request>(rq).reason.value(), 3);
  const bytes rp = vec::header(16, 4).u8(2).u8(6).u16(0).b;
  EXPECT_EQ(encode<stop_control_connection_reply>([](auto& m) {
              m.result_code = 2;
              m.error_code = 6;
            }),
            rp);
  EXPECT_EQ(decode<stop_control_connection_reply>(rp).error_code.value(), 6);
}

TEST(messages, echo_request_and_reply) {
  const bytes rq = vec::header(16, 5).u32(0xdeadbeef).b;
  EXPECT_EQ(encode<echo_request>([](auto& m) { m.identifier = 0xdeadbeef; }), rq);
  EXPECT_EQ(decode<echo_request>(rq).identifier.value(), 0xdeadbeefu);
  const bytes rp = vec::header(20, 6).u32(0x01020304).u8(1).u8(0).u16(0).b;
  EXPECT_EQ(encode<echo_reply>([](auto& m) {
              m.identifier = 0x01020304;
              m.result_code = 1;
            }),
            rp);
  EXPECT_EQ(decode<echo_reply>(rp).identifier.value(), 0x01020304u);
}

TEST(messages, outgoing_call_request) {
  const bytes wire = vec::header(168, 7)
                         .u16(0x1234)
                         .u16(0x0042)
                         .u32(2400)
                         .u32(10000000)
                         .u32(3)
                         .u32(3)
                         .u16(64)
                         .u16(0)
                         .u16(7)
                         .u16(0)
                         .text("5551234", 64)
                         .text("", 64)
                         .b;
  EXPECT_EQ(encode<outgoing_call_request>([](auto& m) {
              m.call_id = 0x1234;
              m.call_serial_number = 0x42;
              m.minimum_bps = 2400;
              m.maximum_bps = 10000000;
              m.bearer_type = 3;
              m.framing_type = 3;
              m.packet_recv_window_size = 64;
              m.phone_number_length = 7;
              set_text(m.phone_number, "5551234");
            }),
            wire);
  const auto& m = decode<outgoing_call_request>(wire);
  EXPECT_EQ(m.call_id.value(), 0x1234);
  EXPECT_EQ(m.maximum_bps.value(), 10000000u);
  EXPECT_EQ(text(m.phone_number), "5551234");
}

TEST(messages, outgoing_call_reply) {
  const bytes wire = vec::header(32, 8).u16(0xabcd).u16(0x1234).u8(1).u8(0).u16(0).u32(64000).u16(16).u16(0).u32(0).b;
  EXPECT_EQ(encode<outgoing_call_reply>([](auto& m) {
              m.call_id = 0xabcd;
              m.peer_call_id = 0x1234;
              m.result_code = 1;
              m.connect_speed = 64000;
              m.packet_recv_window_size = 16;
            }),
            wire);
  const auto& m = decode<outgoing_call_reply>(wire);
  EXPECT_EQ(m.call_id.value(), 0xabcd);
  EXPECT_EQ(m.peer_call_id.value(), 0x1234);
  EXPECT_EQ(m.connect_speed.value(), 64000u);
}

TEST(messages, incoming_call_request) {
  const bytes wire = vec::header(220, 9)
                         .u16(0x0102)
                         .u16(9)
                         .u32(2)
                         .u32(0x77)
                         .u16(3)
                         .u16(4)
                         .text("123", 64)
                         .text("4567", 64)
                         .text("sub", 64)
                         .b;
  EXPECT_EQ(encode<incoming_call_request>([](auto& m) {
              m.call_id = 0x0102;
              m.call_serial_number = 9;
              m.call_bearer_type = 2;
              m.physical_channel_id = 0x77;
              m.dialed_number_length = 3;
              m.dialing_number_length = 4;
              set_text(m.dialed_number, "123");
              set_text(m.dialing_number, "4567");
              set_text(m.subaddress, "sub");
            }),
            wire);
  const auto& m = decode<incoming_call_request>(wire);
  EXPECT_EQ(text(m.dialing_number), "4567");
  EXPECT_EQ(text(m.subaddress), "sub");
}

TEST(messages, incoming_call_reply_and_connected) {
  const bytes rp = vec::header(24, 10).u16(0x0a0b).u16(0x0102).u8(1).u8(0).u16(32).u16(5).u16(0).b;
  EXPECT_EQ(encode<incoming_call_reply>([](auto& m) {
              m.call_id = 0x0a0b;
              m.peer_call_id = 0x0102;
              m.result_code = 1;
              m.packet_recv_window_size = 32;
              m.packet_transmit_delay = 5;
            }),
            rp);
  EXPECT_EQ(decode<incoming_call_reply>(rp).packet_transmit_delay.value(), 5);
  const bytes cn = vec::header(28, 11).u16(0x0a0b).u16(0).u32(100000000).u16(64).u16(0).u32(1).b;
  EXPECT_EQ(encode<incoming_call_connected>([](auto& m) {
              m.peer_call_id = 0x0a0b;
              m.connect_speed = 100000000;
              m.packet_recv_window_size = 64;
              m.framing_type = 1;
            }),
            cn);
  EXPECT_EQ(decode<incoming_call_connected>(cn).connect_speed.value(), 100000000u);
}

TEST(messages, call_clear_request_and_disconnect_notify) {
  const bytes cc = vec::header(16, 12).u16(0xfe01).u16(0).b;
  EXPECT_EQ(encode<call_clear_request>([](auto& m) { m.call_id = 0xfe01; }), cc);
  EXPECT_EQ(decode<call_clear_request>(cc).call_id.value(), 0xfe01);
  const bytes cdn = vec::header(148, 13).u16(0x01fe).u8(4).u8(0).u16(0x10).u16(0).text("stats", 128).b;
  EXPECT_EQ(encode<call_disconnect_notify>([](auto& m) {
              m.call_id = 0x01fe;
              m.result_code = 4;
              m.cause_code = 0x10;
              set_text(m.call_statistics, "stats");
            }),
            cdn);
  const auto& m = decode<call_disconnect_notify>(cdn);
  EXPECT_EQ(m.call_id.value(), 0x01fe);
  EXPECT_EQ(text(m.call_statistics), "stats");
}

TEST(messages, wan_error_notify_and_set_link_info) {
  const bytes wen = vec::header(40, 14).u16(0x0203).u16(0).u32(1).u32(2).u32(3).u32(4).u32(5).u32(6).b;
  EXPECT_EQ(encode<wan_error_notify>([](auto& m) {
              m.peer_call_id = 0x0203;
              m.crc_errors = 1;
              m.framing_errors = 2;
              m.hardware_overruns = 3;
              m.buffer_overruns = 4;
              m.time_out_errors = 5;
              m.alignment_errors = 6;
            }),
            wen);
  EXPECT_EQ(decode<wan_error_notify>(wen).alignment_errors.value(), 6u);
  const bytes sli = vec::header(24, 15).u16(0x0304).u16(0).u32(0xffffffff).u32(0x000a0000).b;
  EXPECT_EQ(encode<set_link_info>([](auto& m) {
              m.peer_call_id = 0x0304;
              m.send_accm = 0xffffffff;
              m.receive_accm = 0x000a0000;
            }),
            sli);
  EXPECT_EQ(decode<set_link_info>(sli).receive_accm.value(), 0x000a0000u);
}

TEST(messages, text_fields_are_never_trusted_to_be_terminated) {
  text_field f;
  std::memset(f.data(), 'A', f.size());  // no NUL anywhere
  EXPECT_EQ(text(f).size(), 64u);
  set_text(f, std::string(100, 'B'));  // truncated to the field
  EXPECT_EQ(text(f), std::string(64, 'B'));
  set_text(f, "ab");
  EXPECT_EQ(text(f), "ab");
  EXPECT_EQ(f[2], 0);
  EXPECT_EQ(f[63], 0);
}

TEST(messages, header_checks) {
  auto h = [](std::uint16_t len, std::uint16_t ptype, std::uint32_t magic, std::uint16_t type) {
    bytes b = vec().u16(len).u16(ptype).u32(magic).u16(type).u16(0).b;
    return check_header(*reinterpret_cast<const header*>(b.data()));
  };
  EXPECT_EQ(h(16, 1, 0x1A2B3C4D, 5), header_status::ok);
  EXPECT_EQ(h(11, 1, 0x1A2B3C4D, 5), header_status::bad_length);
  EXPECT_EQ(h(221, 1, 0x1A2B3C4D, 9), header_status::bad_length);
  EXPECT_EQ(h(16, 2, 0x1A2B3C4D, 5), header_status::bad_pptp_type);
  EXPECT_EQ(h(16, 1, 0x4D3C2B1A, 5), header_status::bad_magic);
  EXPECT_EQ(h(16, 1, 0x1A2B3C4D, 16), header_status::unknown_type);
  EXPECT_EQ(h(16, 1, 0x1A2B3C4D, 0), header_status::unknown_type);
  EXPECT_EQ(h(20, 1, 0x1A2B3C4D, 5), header_status::length_mismatch);
}

}  // namespace
}  // namespace pptpkit::control
