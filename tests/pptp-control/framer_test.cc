// The stream framer gives the same messages whatever the split, and stops at the first bad header.
#include "pptpkit/control/framer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pptpkit::control {
namespace {

using bytes = std::vector<std::uint8_t>;

// One valid message of every type, concatenated: 1..15.
bytes all_messages() {
  bytes stream;
  for (std::uint16_t t = 1; t <= message_type_max; ++t) {
    bytes m(message_size(t), 0);
    m[0] = static_cast<std::uint8_t>(m.size() >> 8);
    m[1] = static_cast<std::uint8_t>(m.size());
    m[3] = 1;
    m[4] = 0x1A;
    m[5] = 0x2B;
    m[6] = 0x3C;
    m[7] = 0x4D;
    m[9] = static_cast<std::uint8_t>(t);
    for (std::size_t i = 12; i < m.size(); ++i) {
      m[i] = static_cast<std::uint8_t>(t * 31 + i);  // distinct bodies
    }
    stream.insert(stream.end(), m.begin(), m.end());
  }
  return stream;
}

std::vector<bytes> frame(const bytes& stream, const std::vector<std::size_t>& cuts, header_status* status = nullptr) {
  stream_framer f;
  std::vector<bytes> out;
  std::size_t at = 0;
  header_status s = header_status::ok;
  auto piece = [&](std::size_t to) {
    s = f.feed(std::span<const std::uint8_t>(stream.data() + at, to - at), [&](std::span<const std::uint8_t> m) {
      out.emplace_back(m.begin(), m.end());
      return true;
    });
    at = to;
  };
  for (std::size_t c : cuts) {
    piece(c);
  }
  piece(stream.size());
  if (status != nullptr) {
    *status = s;
  }
  return out;
}

TEST(framer, every_single_split_point_gives_the_same_messages) {
  const bytes stream = all_messages();
  const auto whole = frame(stream, {});
  ASSERT_EQ(whole.size(), 15u);
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    EXPECT_EQ(frame(stream, {i}), whole) << "split at " << i;
  }
}

TEST(framer, every_pair_of_split_points_in_the_first_messages) {
  const bytes stream = all_messages();
  const auto whole = frame(stream, {});
  const std::size_t span = 156 + 156 + 16 + 4;  // SCCRQ, SCCRP, StopCCRQ and a bit
  for (std::size_t i = 0; i <= span; ++i) {
    for (std::size_t j = i; j <= span; j += 3) {
      ASSERT_EQ(frame(stream, {i, j}), whole) << "splits at " << i << ", " << j;
    }
  }
}

TEST(framer, byte_by_byte) {
  const bytes stream = all_messages();
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) {
    cuts.push_back(i);
  }
  EXPECT_EQ(frame(stream, cuts), frame(stream, {}));
}

TEST(framer, stops_at_a_bad_header_and_stays_failed) {
  bytes stream = all_messages();
  stream[156 + 4] = 0;  // the SCCRP's magic cookie
  header_status s;
  auto got = frame(stream, {200}, &s);
  EXPECT_EQ(got.size(), 1u);  // the SCCRQ before it
  EXPECT_EQ(s, header_status::bad_magic);
}

// Feeds `junk` one byte at a time; returns how many bytes it took to fail (0: never failed).
std::size_t bytes_to_fail(const bytes& junk, header_status* status) {
  stream_framer f;
  for (std::size_t i = 0; i < junk.size(); ++i) {
    *status = f.feed(std::span<const std::uint8_t>(&junk[i], 1), [](std::span<const std::uint8_t>) { return true; });
    if (*status != header_status::ok) {
      return i + 1;
    }
  }
  return 0;
}

TEST(framer, junk_is_refused_as_soon_as_its_bad_field_is_complete) {
  const bytes sccrq = all_messages();  // starts with a valid SCCRQ header
  struct field_case {
    std::size_t at;           // byte to break
    std::size_t fails_after;  // bytes fed when the framer must refuse
    header_status status;
  };
  for (const field_case c :
       {field_case{0, 2, header_status::bad_length}, field_case{3, 4, header_status::bad_pptp_type},
        field_case{5, 8, header_status::bad_magic}, field_case{9, 10, header_status::unknown_type}}) {
    bytes junk(sccrq.begin(), sccrq.begin() + 12);
    junk[c.at] = 0x7f;
    header_status s = header_status::ok;
    EXPECT_EQ(bytes_to_fail(junk, &s), c.fails_after) << "byte " << c.at;
    EXPECT_EQ(s, c.status) << "byte " << c.at;
    // Whole, the same header gets the same verdict.
    frame(junk, {}, &s);
    EXPECT_EQ(s, c.status) << "byte " << c.at;
  }
  // A message type whose size is not Length: known at byte 10 (SCCRQ's Length with type 3, StopCCRQ).
  bytes wrong(sccrq.begin(), sccrq.begin() + 12);
  wrong[9] = 3;
  header_status s = header_status::ok;
  EXPECT_EQ(bytes_to_fail(wrong, &s), 10u);
  EXPECT_EQ(s, header_status::length_mismatch);
}

TEST(framer, a_stray_http_request_is_refused_after_two_bytes) {
  const std::string http = "GET / HTTP/1.0\r\n\r\n";
  header_status s = header_status::ok;
  EXPECT_EQ(bytes_to_fail(bytes(http.begin(), http.end()), &s), 2u);  // Length 0x4745 is over 220
  EXPECT_EQ(s, header_status::bad_length);
}

TEST(framer, a_callback_that_stops_leaves_the_rest) {
  const bytes stream = all_messages();
  stream_framer f;
  int n = 0;
  f.feed(stream, [&](std::span<const std::uint8_t>) { return ++n < 2; });
  EXPECT_EQ(n, 2);
}

}  // namespace
}  // namespace pptpkit::control
