#include "pptpkit/core/wire.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace {

using namespace pptpkit::core;

struct sample_header {
  big_uint16_buf_t length;
  big_uint32_buf_t cookie;
};
static_assert(sizeof(sample_header) == 6);

TEST(wire, view_needs_the_whole_header) {
  std::array<std::uint8_t, 6> bytes{0x00, 0x9c, 0x1a, 0x2b, 0x3c, 0x4d};
  EXPECT_EQ(view<sample_header>(std::span<std::uint8_t>(bytes.data(), 5)), nullptr);
  const sample_header* h = view<sample_header>(std::span<const std::uint8_t>(bytes));
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->length.value(), 156);
  EXPECT_EQ(h->cookie.value(), 0x1A2B3C4Du);
}

TEST(wire, reader_fails_cleanly_past_the_end) {
  std::vector<std::uint8_t> bytes{1, 2, 3};
  wire_reader r(bytes);
  EXPECT_EQ(r.u16(), 0x0102);
  EXPECT_EQ(r.u16(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.u8(), 0);  // stays failed
}

TEST(wire, padded_text_never_trusts_a_terminator) {
  std::vector<std::uint8_t> bytes{'a', 'b', 'c', 'd'};
  wire_reader r(bytes);
  EXPECT_EQ(r.padded_text(4), "abcd");
  std::vector<std::uint8_t> padded{'h', 'i', 0, 0, 'x'};
  wire_reader r2(padded);
  EXPECT_EQ(r2.padded_text(4), "hi");
  EXPECT_EQ(r2.u8(), 'x');
}

TEST(wire, writer_round_trips_and_pads) {
  std::array<std::uint8_t, 12> out{};
  out.fill(0xee);
  wire_writer w(out);
  w.u16(0xabcd);
  w.u32(0x01020304);
  w.padded_text("toolongtext", 4);
  w.u16(0x9999);
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.written(), 12u);
  w.u8(1);
  EXPECT_FALSE(w.ok());
  wire_reader r(out);
  EXPECT_EQ(r.u16(), 0xabcd);
  EXPECT_EQ(r.u32(), 0x01020304u);
  EXPECT_EQ(r.padded_text(4), "tool");
  std::array<std::uint8_t, 6> pad{};
  pad.fill(0xee);
  wire_writer w2(pad);
  w2.padded_text("ab", 6);
  EXPECT_EQ(pad, (std::array<std::uint8_t, 6>{'a', 'b', 0, 0, 0, 0}));
}

}  // namespace
