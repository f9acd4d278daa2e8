// The enhanced GRE header (RFC 2637 §4.1): byte layout, round trips and every reject reason.
#include "pptpkit/gre/header.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "pptpkit/testing/test_host.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::gre;

std::vector<std::uint8_t> encoded(const std::vector<std::uint8_t>& payload, const encode_params& e) {
  pptpkit::testing::test_host host;
  pptpkit_packet* p = host.make_packet(payload);
  EXPECT_TRUE(encode(*p, e));
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  b.head = b.tail = &p->link;
  b.count = 1;
  return host.drain(b).at(0);
}

TEST(gre_header, data_with_ack_matches_rfc_2637_layout) {
  encode_params e{
      .peer_call_id = 0x1234, .has_sequence = true, .sequence = 0x01020304, .has_ack = true, .ack = 0xa0b0c0d0};
  const std::vector<std::uint8_t> want = {0x30, 0x81, 0x88, 0x0b, 0x00, 0x03, 0x12, 0x34, 0x01, 0x02,
                                          0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0, 0xff, 0x03, 0x21};
  EXPECT_EQ(encoded({0xff, 0x03, 0x21}, e), want);
  header_info h;
  ASSERT_EQ(decode(want, h), verdict::ok);
  EXPECT_EQ(h.call_id, 0x1234);
  EXPECT_EQ(h.payload_length, 3);
  EXPECT_EQ(h.header_length, 16u);
  EXPECT_TRUE(h.has_sequence && h.has_ack);
  EXPECT_EQ(h.sequence, 0x01020304u);
  EXPECT_EQ(h.ack, 0xa0b0c0d0u);
}

TEST(gre_header, data_without_ack_is_twelve_bytes_of_header) {
  encode_params e{.peer_call_id = 7, .has_sequence = true, .sequence = 0};
  const auto bytes = encoded({1, 2}, e);
  EXPECT_EQ(bytes, (std::vector<std::uint8_t>{0x30, 0x01, 0x88, 0x0b, 0, 2, 0, 7, 0, 0, 0, 0, 1, 2}));
  header_info h;
  ASSERT_EQ(decode(bytes, h), verdict::ok);
  EXPECT_FALSE(h.has_ack);
  EXPECT_EQ(h.header_length, 12u);
}

TEST(gre_header, ack_only_is_twelve_bytes_without_sequence) {
  encode_params e{.peer_call_id = 9, .has_ack = true, .ack = 0xffffffff};
  const auto bytes = encoded({}, e);
  EXPECT_EQ(bytes, (std::vector<std::uint8_t>{0x20, 0x81, 0x88, 0x0b, 0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(bytes.size(), ack_only_length);
  header_info h;
  ASSERT_EQ(decode(bytes, h), verdict::ok);
  EXPECT_FALSE(h.has_sequence);
  EXPECT_TRUE(h.has_ack);
  EXPECT_EQ(h.payload_length, 0);
}

TEST(gre_header, encode_fails_cleanly_without_headroom) {
  pptpkit::testing::test_host host;
  pptpkit_packet* p = host.make_packet({});
  p->offset = 8;  // a packet from a host that reserved too little headroom
  p->length = 3;
  EXPECT_FALSE(encode(*p, {.peer_call_id = 1, .has_sequence = true}));
  EXPECT_EQ(p->offset, 8u);
  EXPECT_EQ(p->length, 3u);
  host.pool().free(p);
}

struct reject_case {
  const char* name;
  std::vector<std::uint8_t> bytes;
  verdict want;
};

TEST(gre_header, every_reject_reason) {
  // A valid data packet: K S, v1 A, PPP, length 1, call 5, seq 1, ack 2, payload 0xee.
  const std::vector<std::uint8_t> good = {0x30, 0x81, 0x88, 0x0b, 0, 1, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0xee};
  auto with = [&](std::size_t i, std::uint8_t v) {
    auto b = good;
    b[i] = v;
    return b;
  };
  const std::vector<reject_case> cases = {
      {"empty", {}, verdict::reject_too_short},
      {"seven bytes", {0x30, 0x81, 0x88, 0x0b, 0, 0, 0}, verdict::reject_too_short},
      {"flags announce 16, 12 present", {0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 5, 0, 0, 0, 1}, verdict::reject_too_short},
      {"version 0 (plain GRE)", with(1, 0x80), verdict::reject_version},
      {"version 2", with(1, 0x82), verdict::reject_version},
      {"protocol IPv4", with(2, 0x08), verdict::reject_protocol},
      {"no key", with(0, 0x10), verdict::reject_no_key},
      {"checksum", with(0, 0xb0), verdict::reject_checksum},
      {"routing", with(0, 0x70), verdict::reject_routing},
      {"strict source route", with(0, 0x38), verdict::reject_strict_route},
      {"recursion", with(0, 0x31), verdict::reject_recursion},
      {"reserved flags", with(1, 0x89), verdict::reject_reserved_flags},
      {"length says 2, 1 present", with(5, 2), verdict::reject_truncated},
      {"length says 0, 1 present", with(5, 0), verdict::reject_trailing},
      {"payload without sequence",
       {0x20, 0x81, 0x88, 0x0b, 0, 1, 0, 5, 0, 0, 0, 2, 0xee},
       verdict::reject_payload_without_sequence},
      {"sequence without payload",
       {0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 5, 0, 0, 0, 1},
       verdict::reject_sequence_without_payload},
      {"nothing at all", {0x20, 0x01, 0x88, 0x0b, 0, 0, 0, 5}, verdict::reject_empty},
  };
  for (const auto& c : cases) {
    header_info h;
    EXPECT_EQ(decode(c.bytes, h), c.want) << c.name;
  }
  header_info h;
  EXPECT_EQ(decode(good, h), verdict::ok);
}

}  // namespace
