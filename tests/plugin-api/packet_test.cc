#include "pptpkit/core/packet.hpp"

#include <gtest/gtest.h>

#include <array>

namespace {

using namespace pptpkit::core;

struct packet_fixture : ::testing::Test {
  std::array<std::uint8_t, 256> buffer{};
  pptpkit_packet p{};
  void SetUp() override {
    p.base = buffer.data();
    p.capacity = buffer.size();
    p.offset = 64;
    p.length = 100;
  }
};

TEST_F(packet_fixture, push_prepends_in_place_without_moving_payload) {
  std::uint8_t* payload = data(p);
  std::uint8_t* hdr = push(p, 16);
  ASSERT_NE(hdr, nullptr);
  EXPECT_EQ(hdr + 16, payload);
  EXPECT_EQ(p.offset, 48u);
  EXPECT_EQ(p.length, 116u);
}

TEST_F(packet_fixture, push_past_headroom_fails_and_leaves_packet_unchanged) {
  EXPECT_EQ(push(p, 65), nullptr);
  EXPECT_EQ(p.offset, 64u);
  EXPECT_EQ(p.length, 100u);
  EXPECT_NE(push(p, 64), nullptr);
  EXPECT_EQ(headroom(p), 0u);
  EXPECT_EQ(push(p, 1), nullptr);
}

TEST_F(packet_fixture, pull_strips_and_refuses_more_than_the_data) {
  EXPECT_EQ(pull(p, 101), nullptr);
  EXPECT_EQ(p.length, 100u);
  ASSERT_NE(pull(p, 100), nullptr);
  EXPECT_EQ(p.length, 0u);
  EXPECT_EQ(p.offset, 164u);
}

TEST_F(packet_fixture, put_and_trim_respect_tailroom_and_length) {
  EXPECT_EQ(tailroom(p), 256u - 164u);
  EXPECT_EQ(put(p, 93), nullptr);
  ASSERT_NE(put(p, 92), nullptr);
  EXPECT_EQ(tailroom(p), 0u);
  EXPECT_FALSE(trim(p, 193));
  EXPECT_TRUE(trim(p, 10));
  EXPECT_EQ(p.length, 10u);
}

}  // namespace
