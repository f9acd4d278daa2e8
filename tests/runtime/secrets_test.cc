#include "pptpkit/runtime/secrets.hpp"

#include <gtest/gtest.h>

#include "pptpkit/testing/sim_platform.hpp"

namespace {

using namespace pptpkit::runtime;

TEST(ipv4, parses_and_formats_dotted_quads) {
  EXPECT_EQ(parse_ipv4("10.0.0.1"), 0x0a000001u);
  EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xffffffffu);
  EXPECT_EQ(format_ipv4(0xc0a80001u), "192.168.0.1");
  for (const char* bad : {"", "10.0.0", "10.0.0.1.2", "256.0.0.1", "10.0.0.-1", "10..0.1", "010.0.0.1", "a.b.c.d",
                          "10.0.0.1 ", "10.0.0.01"}) {
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
  }
}

TEST(cidr, parses_networks_and_refuses_host_bits) {
  EXPECT_EQ(parse_cidr("10.1.0.0/16"), (cidr{0x0a010000u, 16}));
  EXPECT_EQ(parse_cidr("0.0.0.0/0"), (cidr{0, 0}));
  EXPECT_EQ(parse_cidr("10.1.2.3"), (cidr{0x0a010203u, 32}));
  EXPECT_THROW(parse_cidr("10.1.2.3/16"), parse_error);
  EXPECT_THROW(parse_cidr("10.1.0.0/33"), parse_error);
  EXPECT_THROW(parse_cidr("10.1.0.0/"), parse_error);
  try {
    parse_cidr("10.1.2.3/16");
  } catch (const parse_error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 10.1.0.0/16"), std::string::npos) << e.what();
  }
}

TEST(ranges, accept_every_pptpd_remoteip_form) {
  const auto r = parse_ranges("10.0.0.100-149,10.0.1.5, 10.0.2.1-10.0.3.2");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], (address_range{0x0a000064u, 0x0a000095u}));
  EXPECT_EQ(r[1], (address_range{0x0a000105u, 0x0a000105u}));
  EXPECT_EQ(r[2], (address_range{0x0a000201u, 0x0a000302u}));
}

TEST(ranges, reject_backwards_malformed_and_huge_ranges_naming_the_item) {
  for (const char* bad : {"10.0.0.149-100", "10.0.0.300-5", "10.0.0.1-", "10.0.0.1,,10.0.0.2", "", "10.0.0.1-10.0.0.0",
                          "10.0.0.0-10.255.255.255", "10.0.0.1-256"}) {
    EXPECT_THROW(parse_ranges(bad), parse_error) << bad;
  }
  try {
    parse_ranges("10.0.0.5,10.0.0.9-3");
    FAIL();
  } catch (const parse_error& e) {
    EXPECT_NE(std::string(e.what()).find("'10.0.0.9-3'"), std::string::npos) << e.what();
  }
}

TEST(address_pool, hands_out_lowest_free_and_takes_back) {
  address_pool pool(parse_ranges("10.0.0.10-11,10.0.0.20"));
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_EQ(pool.acquire(), 0x0a00000au);
  EXPECT_EQ(pool.acquire(), 0x0a00000bu);
  EXPECT_EQ(pool.acquire(), 0x0a000014u);
  EXPECT_FALSE(pool.acquire());
  pool.release(0x0a00000bu);
  EXPECT_EQ(pool.acquire(), 0x0a00000bu);
  // A per-user address outside the ranges is tracked so it cannot be given twice.
  EXPECT_TRUE(pool.acquire(0x0a000063u));
  EXPECT_FALSE(pool.acquire(0x0a000063u));
  EXPECT_FALSE(pool.contains(0x0a000063u));
  EXPECT_TRUE(pool.contains(0x0a000014u));
}

TEST(chap_secrets, parses_fields_quotes_comments_and_addresses) {
  const auto s = chap_secrets::parse(
      "# client server secret IP addresses\n"
      "alice  *  \"pass word\"  *\n"
      "bob\tpptpd\t'it''s'\t10.0.0.200   # fixed address\n"
      "\n"
      "\"carol smith\" * \"\" -\n"
      "dave * se\\#cret 10.0.0.7 10.0.0.8\n"
      "eve * a\\\\b\\s\\101\n");
  ASSERT_EQ(s.entries().size(), 5u);
  EXPECT_EQ(s.entries()[0].secret, "pass word");
  EXPECT_EQ(s.entries()[0].addresses, std::vector<std::string>{"*"});
  EXPECT_EQ(s.entries()[1].secret, "its");  // adjacent quoted parts join, as in a shell word
  EXPECT_EQ(s.entries()[1].line, 3u);
  EXPECT_EQ(s.entries()[2].client, "carol smith");
  EXPECT_EQ(s.entries()[2].secret, "");
  EXPECT_EQ(s.entries()[3].secret, "se#cret");
  EXPECT_EQ(s.entries()[3].addresses.size(), 2u);
  EXPECT_EQ(s.entries()[4].secret, "a\\b A");
}

TEST(chap_secrets, continues_an_entry_after_a_backslash_newline) {
  const auto s = chap_secrets::parse("alice * \\\n  secret \\\n 10.0.0.9\nbob * x\n");
  ASSERT_EQ(s.entries().size(), 2u);
  EXPECT_EQ(s.entries()[0].secret, "secret");
  EXPECT_EQ(s.entries()[0].addresses, std::vector<std::string>{"10.0.0.9"});
  EXPECT_EQ(s.entries()[1].line, 4u);
}

TEST(chap_secrets, quoted_hash_is_not_a_comment_and_crlf_files_work) {
  const auto s = chap_secrets::parse("alice * \"a#b\" *\r\nbob * c\r\n");
  ASSERT_EQ(s.entries().size(), 2u);
  EXPECT_EQ(s.entries()[0].secret, "a#b");
  EXPECT_EQ(s.entries()[1].secret, "c");
}

TEST(chap_secrets, exact_names_beat_wildcards_and_the_first_of_equals_wins) {
  const auto s = chap_secrets::parse(
      "* * anyone\n"
      "alice * wild-server\n"
      "alice pptpkit exact\n"
      "alice pptpkit second\n");
  EXPECT_EQ(s.find("alice", "pptpkit")->secret, "exact");
  EXPECT_EQ(s.find("alice", "other")->secret, "wild-server");
  EXPECT_EQ(s.find("bob", "pptpkit")->secret, "anyone");
  const auto strict = chap_secrets::parse("alice pptpd x\n");
  EXPECT_EQ(strict.find("alice", "pptpkit"), nullptr);
  EXPECT_EQ(strict.find("Alice", "pptpd"), nullptr);  // names are case-sensitive, as in pppd
}

TEST(chap_secrets, address_policies) {
  const auto s = chap_secrets::parse("a * x\nb * x *\nc * x -\nd * x 10.0.0.5 10.0.0.6\ne * x 10.1.0.0/16\n");
  EXPECT_EQ(chap_secrets::addresses_of(s.entries()[0]).what, address_policy::kind::any);
  EXPECT_EQ(chap_secrets::addresses_of(s.entries()[1]).what, address_policy::kind::any);
  EXPECT_EQ(chap_secrets::addresses_of(s.entries()[2]).what, address_policy::kind::none);
  const auto d = chap_secrets::addresses_of(s.entries()[3]);
  EXPECT_EQ(d.what, address_policy::kind::fixed);
  EXPECT_EQ(d.address, 0x0a000005u);
  EXPECT_EQ(chap_secrets::addresses_of(s.entries()[4]).what, address_policy::kind::any);
}

TEST(chap_secrets, errors_name_the_file_and_line) {
  const auto message = [](const char* text) {
    try {
      chap_secrets::parse(text, "secrets.txt");
    } catch (const parse_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("alice * x\nbob *\n"),
            "secrets.txt:2: an entry needs at least client, server and secret (found 2 fields)");
  EXPECT_EQ(message("alice * \"unterminated\n"), "secrets.txt:1: unterminated quote");
  EXPECT_NE(message("alice * x 10.0.0.300\n").find("'10.0.0.300' is not an IPv4 address"), std::string::npos);
  EXPECT_NE(message("alice * x - 10.0.0.1\n").find("'-' must be the only address"), std::string::npos);
  EXPECT_EQ(message("# only a comment\n\n"), "no error");
}

// Row 12 of issue 14: the daemon reads chap-secrets through the platform (which can still read it after
// dropping privileges), keeps the platform's warning about the file's mode even when parsing fails, and
// reports an unreadable file as a parse_error, so the caller keeps its old secrets.
TEST(chap_secrets, loaded_through_the_platform_with_its_warning) {
  pptpkit::testing::sim_network net(1);
  pptpkit::testing::sim_host& host = net.add_host("server", 0xc0000201);
  host.files["/etc/ppp/chap-secrets"] = {"alice * alice-pw *\n", 0644, true};
  std::string warning;
  const chap_secrets s = chap_secrets::load(host, "/etc/ppp/chap-secrets", warning);
  ASSERT_EQ(s.entries().size(), 1u);
  EXPECT_EQ(s.entries()[0].secret, "alice-pw");
  EXPECT_EQ(warning, "/etc/ppp/chap-secrets is mode 0644 (readable by others): a secrets file should be 0600 or 0640");

  host.files["/etc/ppp/chap-secrets"] = {"alice *\n", 0666, true};
  warning.clear();
  EXPECT_THROW(chap_secrets::load(host, "/etc/ppp/chap-secrets", warning), parse_error);
  EXPECT_NE(warning.find("is mode 0666"), std::string::npos) << warning;

  host.files["/etc/ppp/chap-secrets"].readable = false;
  try {
    chap_secrets::load(host, "/etc/ppp/chap-secrets", warning);
    ADD_FAILURE() << "an unreadable file must throw";
  } catch (const parse_error& e) {
    EXPECT_STREQ(e.what(), "/etc/ppp/chap-secrets: cannot open: Permission denied");
  }
  EXPECT_EQ(host.private_reads, 3u);
}

TEST(config, key_value_lines_comments_quotes_and_flags) {
  const auto c = parse_config(
      "# server settings\n"
      "listen 0.0.0.0:1723\n"
      "  remoteip   10.0.0.100-149   # pool\n"
      "--dns \"10.0.0.1,10.0.0.2\"\n"
      "persist\n"
      "ip-up /etc/ppp/ip-up#not-a-comment\n",
      "test.conf");
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0], (std::pair<std::string, std::string>{"listen", "0.0.0.0:1723"}));
  EXPECT_EQ(c[1].second, "10.0.0.100-149");
  EXPECT_EQ(c[2], (std::pair<std::string, std::string>{"dns", "10.0.0.1,10.0.0.2"}));
  EXPECT_EQ(c[3], (std::pair<std::string, std::string>{"persist", ""}));
  EXPECT_EQ(c[4].second, "/etc/ppp/ip-up#not-a-comment");
  EXPECT_THROW(parse_config("dns \"10.0.0.1\n", "x"), parse_error);
}

}  // namespace
