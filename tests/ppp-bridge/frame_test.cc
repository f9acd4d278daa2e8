// The frame and control headers (RFC 1661 §2, §5, §6.5-6.6): both forms accepted, malformed refused.
#include <gtest/gtest.h>

#include <vector>

#include "pptpkit/core/pool.hpp"
#include "pptpkit/ppp/protocol.hpp"

namespace {

using namespace pptpkit::ppp;
using bytes = std::vector<std::uint8_t>;

TEST(frame_header, accepts_every_compression_combination) {
  EXPECT_EQ(parse_frame_header(bytes{0xff, 0x03, 0x00, 0x21})->protocol, proto_ipv4);
  EXPECT_EQ(parse_frame_header(bytes{0xff, 0x03, 0x00, 0x21})->size, 4u);
  EXPECT_EQ(parse_frame_header(bytes{0xff, 0x03, 0x21})->size, 3u);  // PFC only
  EXPECT_EQ(parse_frame_header(bytes{0x00, 0x21})->size, 2u);        // ACFC only
  EXPECT_EQ(parse_frame_header(bytes{0x21})->size, 1u);              // both
  EXPECT_EQ(parse_frame_header(bytes{0xc0, 0x21})->protocol, proto_lcp);
}

TEST(frame_header, refuses_what_rfc_1661_forbids) {
  EXPECT_FALSE(parse_frame_header(bytes{}));
  EXPECT_FALSE(parse_frame_header(bytes{0xff}));
  EXPECT_FALSE(parse_frame_header(bytes{0xff, 0x05, 0x00, 0x21}));  // control must be UI
  EXPECT_FALSE(parse_frame_header(bytes{0xff, 0x03}));              // no protocol
  EXPECT_FALSE(parse_frame_header(bytes{0x00, 0x20}));              // protocol must be odd
  EXPECT_FALSE(parse_frame_header(bytes{0x00}));                    // even first octet needs a second
}

TEST(frame_header, push_compresses_only_what_was_agreed_and_never_a_long_protocol) {
  auto pool = pptpkit::core::packet_pool::create({.packets = 1});
  pptpkit_packet* p = pool->alloc();
  ASSERT_TRUE(push_frame_header(*p, proto_ipv4, true, true));
  EXPECT_EQ(p->length, 1u);
  ASSERT_TRUE(push_frame_header(*p, proto_lcp, true, true));  // 0xc021 cannot be one octet
  EXPECT_EQ(p->length, 3u);
  ASSERT_TRUE(push_frame_header(*p, proto_ipv6, false, false));
  EXPECT_EQ(p->length, 7u);
  p->offset = 1;  // too little headroom: fails and leaves the packet alone
  EXPECT_FALSE(push_frame_header(*p, proto_ipv4, false, false));
  EXPECT_EQ(p->offset, 1u);
  EXPECT_EQ(p->length, 7u);
  pool->free(p);
}

TEST(control_header, length_bounds_the_data_and_padding_is_ignored) {
  const auto c = parse_control(bytes{1, 7, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->data.size(), 2u);
  EXPECT_FALSE(parse_control(bytes{1, 7, 0, 9, 0xaa}));  // length beyond the frame
  EXPECT_FALSE(parse_control(bytes{1, 7, 0, 3}));        // length below the header
  EXPECT_FALSE(parse_control(bytes{1, 7, 0}));
}

TEST(options, a_malformed_option_list_is_reported) {
  int seen = 0;
  EXPECT_TRUE(for_each_option(bytes{1, 4, 5, 0x78, 7, 2}, [&](auto, auto) { ++seen; }));
  EXPECT_EQ(seen, 2);
  EXPECT_FALSE(for_each_option(bytes{1, 1}, [](auto, auto) {}));     // length below 2
  EXPECT_FALSE(for_each_option(bytes{1, 9, 0}, [](auto, auto) {}));  // runs past the end
  EXPECT_FALSE(for_each_option(bytes{1}, [](auto, auto) {}));
}

}  // namespace
