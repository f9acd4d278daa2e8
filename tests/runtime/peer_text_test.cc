#include "pptpkit/runtime/peer_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pptpkit::runtime {
namespace {

using namespace std::string_literals;

// Issue row 8: a CHAP name with a newline and a forged line must not print a well-formed line.
TEST(peer_text, a_newline_cannot_forge_a_log_line) {
  const std::string name = "x\n2026-12-04 pptpkit: session up: user=admin auth=MS-CHAPv2";
  EXPECT_EQ(peer_text::line(name).find('\n'), std::string::npos);
  EXPECT_EQ(peer_text::field(name).find('\n'), std::string::npos);
  EXPECT_EQ(peer_text::field(name).find(' '), std::string::npos);  // no forged fields either
  EXPECT_EQ(peer_text::line("a\r\nb"), "a\\x0d\\x0ab");
}

TEST(peer_text, field_escapes_spaces_and_controls_and_keeps_the_rest) {
  EXPECT_EQ(peer_text::field("alice"), "alice");
  EXPECT_EQ(peer_text::field("DOMAIN\\bob"), "DOMAIN\\x5cbob");
  EXPECT_EQ(peer_text::field("a b=c"), "a\\x20b=c");
  EXPECT_EQ(peer_text::field("\x7f\xc3\xa9"), "\\x7f\\xc3\\xa9");
  EXPECT_EQ(peer_text::field("nul\0x"s), "nul\\x00x");
}

TEST(peer_text, line_keeps_spaces_and_printables) {
  EXPECT_EQ(peer_text::line("Linux pptp 1.10 (vendor)"), "Linux pptp 1.10 (vendor)");
  EXPECT_EQ(peer_text::line("tab\there"), "tab\\x09here");
}

// Escaping never maps two names to one text: the escape character itself is escaped.
TEST(peer_text, escaping_is_injective) {
  EXPECT_NE(peer_text::field("a\\x0a"), peer_text::field("a\n"));
  EXPECT_NE(peer_text::line("a\\x0a"), peer_text::line("a\n"));
}

}  // namespace
}  // namespace pptpkit::runtime
