// What the daemon sends RADIUS as a NAS: the secrets file, each protocol's Access-Request, accounting
// records and terminate causes (pptpkit/runtime/radius_nas.hpp).
#include "pptpkit/runtime/radius_nas.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "pptpkit/ppp.h"
#include "pptpkit/radius/codec.hpp"
#include "pptpkit/runtime/secrets.hpp"

namespace pptpkit::runtime {
namespace {

namespace attr = radius::attr;

class radius_nas_test : public ::testing::Test {
 protected:
  // The values of every standard attribute of `type` (vendor 0), or of one Microsoft attribute.
  static std::vector<std::vector<std::uint8_t>> values(const radius::request& r, std::uint8_t type,
                                                       std::uint32_t vendor = 0) {
    std::vector<std::vector<std::uint8_t>> out;
    for (const radius::attribute& a : r.attributes) {
      if (a.type == type && a.vendor == vendor) {
        out.push_back(a.value);
      }
    }
    return out;
  }
  static std::uint32_t u32(const std::vector<std::uint8_t>& v) {
    EXPECT_EQ(v.size(), 4u);
    return v.size() == 4 ? (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) | (std::uint32_t{v[2]} << 8) | v[3]
                         : 0;
  }
  static std::string text(const std::vector<std::uint8_t>& v) { return {v.begin(), v.end()}; }

  nas_identity nas{"pptpkit-a", 0xc0000201};
  nas_session session{7, "0000000100000007", 0xcb007105, 0xc0000201};
};

TEST_F(radius_nas_test, secrets_file_takes_one_shared_secret_and_per_address_lines) {
  const radius_secrets s = parse_radius_secrets("# shared\ntesting123\n\n10.1.0.5  other-secret\n", "radius");
  EXPECT_EQ(s.shared, "testing123");
  ASSERT_NE(s.find(0x0a010005), nullptr);
  EXPECT_EQ(*s.find(0x0a010005), "other-secret");
  EXPECT_EQ(*s.find(0x7f000001), "testing123");
  const radius_secrets only = parse_radius_secrets("10.1.0.5 x\n", "radius");
  EXPECT_EQ(only.find(0x7f000001), nullptr);

  EXPECT_THROW(parse_radius_secrets("", "radius"), parse_error);
  EXPECT_THROW(parse_radius_secrets("a\nb\n", "radius"), parse_error);
  try {
    parse_radius_secrets("ok\n10.0.0.300 x\n", "/etc/pptpkit/radius");
    FAIL();
  } catch (const parse_error& e) {
    EXPECT_NE(std::string(e.what()).find("/etc/pptpkit/radius:2:"), std::string::npos) << e.what();
  }
}

TEST_F(radius_nas_test, every_request_says_who_the_nas_and_the_caller_are) {
  const std::uint8_t password[] = {'p', 'w'};
  const auto r = access_request(PPTPKIT_PPP_AUTH_PAP, password, "alice", nas, session, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(text(values(*r, attr::user_name).at(0)), "alice");
  EXPECT_EQ(u32(values(*r, attr::nas_ip_address).at(0)), 0xc0000201u);
  EXPECT_EQ(text(values(*r, attr::nas_identifier).at(0)), "pptpkit-a");
  EXPECT_EQ(u32(values(*r, attr::nas_port).at(0)), 7u);
  EXPECT_EQ(u32(values(*r, attr::nas_port_type).at(0)), 5u);  // Virtual
  EXPECT_EQ(u32(values(*r, attr::service_type).at(0)), 2u);   // Framed
  EXPECT_EQ(u32(values(*r, attr::framed_protocol).at(0)), 1u);
  EXPECT_EQ(text(values(*r, attr::calling_station_id).at(0)), "203.0.113.5");
  EXPECT_EQ(u32(values(*r, attr::tunnel_type).at(0)), 1u);  // PPTP, tag 0
  EXPECT_EQ(u32(values(*r, attr::tunnel_medium_type).at(0)), 1u);
  EXPECT_EQ(text(values(*r, attr::tunnel_client_endpoint).at(0)), "203.0.113.5");
  EXPECT_EQ(text(values(*r, attr::acct_session_id).at(0)), "0000000100000007");
  // PAP: the password is hidden per server by the client core, never carried in the attributes.
  EXPECT_EQ(r->user_password, "pw");
  EXPECT_TRUE(values(*r, attr::user_password).empty());
}

TEST_F(radius_nas_test, chap_md5_splits_identifier_challenge_and_response) {
  std::vector<std::uint8_t> data(33);
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<std::uint8_t>(i);
  }
  const auto r = access_request(PPTPKIT_PPP_AUTH_CHAP_MD5, data, "bob", nas, session, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(values(*r, attr::chap_challenge).at(0), std::vector<std::uint8_t>(data.begin() + 1, data.begin() + 17));
  std::vector<std::uint8_t> expected{0};
  expected.insert(expected.end(), data.begin() + 17, data.end());
  EXPECT_EQ(values(*r, attr::chap_password).at(0), expected);
  EXPECT_FALSE(access_request(PPTPKIT_PPP_AUTH_CHAP_MD5, std::span(data).first(32), "bob", nas, session, {}));
}

// RFC 2548 §2.3.2 (as MS-CHAPv2 uses it): Ident, Flags, Peer-Challenge, Reserved, Response — while PPP's
// Response value (RFC 2759 §4) puts the flags last.
TEST_F(radius_nas_test, mschapv2_reorders_the_response_value_as_radius_carries_it) {
  std::vector<std::uint8_t> data(66);
  data[0] = 0x42;  // identifier
  for (std::size_t i = 1; i < 17; ++i) {
    data[i] = 0xa0;  // authenticator challenge
  }
  for (std::size_t i = 17; i < 33; ++i) {
    data[i] = 0xb0;  // peer challenge
  }
  for (std::size_t i = 41; i < 65; ++i) {
    data[i] = 0xc0;  // NT-Response
  }
  data[65] = 0x00;  // flags
  const auto r = access_request(PPTPKIT_PPP_AUTH_MSCHAP_V2, data, "carol", nas, session, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(values(*r, radius::ms::chap_challenge, radius::ms::vendor_id).at(0), std::vector<std::uint8_t>(16, 0xa0));
  const auto response = values(*r, radius::ms::chap2_response, radius::ms::vendor_id).at(0);
  ASSERT_EQ(response.size(), 50u);
  EXPECT_EQ(response[0], 0x42);
  EXPECT_EQ(response[1], 0x00);
  EXPECT_TRUE(std::all_of(response.begin() + 2, response.begin() + 18, [](auto b) { return b == 0xb0; }));
  EXPECT_TRUE(std::all_of(response.begin() + 18, response.begin() + 26, [](auto b) { return b == 0; }));
  EXPECT_TRUE(std::all_of(response.begin() + 26, response.end(), [](auto b) { return b == 0xc0; }));
}

TEST_F(radius_nas_test, eap_is_split_into_253_byte_attributes_and_carries_the_state) {
  std::vector<std::uint8_t> eap(600, 0x5a);
  eap[0] = 2;
  const std::vector<std::uint8_t> state{1, 2, 3};
  const auto r = access_request(PPTPKIT_PPP_AUTH_EAP, eap, "dave", nas, session, state);
  ASSERT_TRUE(r);
  const auto parts = values(*r, attr::eap_message);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].size(), 253u);
  EXPECT_EQ(parts[2].size(), 600u - 506u);
  EXPECT_EQ(values(*r, attr::state).at(0), state);
}

TEST_F(radius_nas_test, accounting_counts_octets_in_gigawords_echoes_class_and_says_why_it_stopped) {
  session_usage u;
  u.input_octets = (std::uint64_t{3} << 32) + 17;
  u.output_octets = 1000;
  u.input_packets = 9;
  u.output_packets = 4;
  u.session_time_s = 61;
  const std::vector<std::vector<std::uint8_t>> classes{{'g', 'o', 'l', 'd'}, {1}};
  const auto stop = accounting_request(radius::acct_status::stop, nas, session, "erin", 0x0a000064, classes, u,
                                       terminate_cause(end_cause::admin_reset));
  EXPECT_EQ(stop.svc, radius::service::acct);
  EXPECT_EQ(u32(values(stop, attr::acct_status_type).at(0)), 2u);
  EXPECT_EQ(u32(values(stop, attr::acct_input_octets).at(0)), 17u);
  EXPECT_EQ(u32(values(stop, attr::acct_input_gigawords).at(0)), 3u);
  EXPECT_EQ(u32(values(stop, attr::acct_output_octets).at(0)), 1000u);
  EXPECT_EQ(u32(values(stop, attr::acct_output_gigawords).at(0)), 0u);
  EXPECT_EQ(u32(values(stop, attr::acct_input_packets).at(0)), 9u);
  EXPECT_EQ(u32(values(stop, attr::acct_session_time).at(0)), 61u);
  EXPECT_EQ(u32(values(stop, attr::acct_terminate_cause).at(0)), 6u);  // Admin-Reset
  EXPECT_EQ(u32(values(stop, attr::framed_ip_address).at(0)), 0x0a000064u);
  EXPECT_EQ(values(stop, attr::class_), classes);

  const auto start = accounting_request(radius::acct_status::start, nas, session, "erin", 0x0a000064, classes, u, 0);
  EXPECT_TRUE(values(start, attr::acct_input_octets).empty());
  EXPECT_TRUE(values(start, attr::acct_terminate_cause).empty());
  EXPECT_EQ(values(start, attr::class_), classes);
}

TEST_F(radius_nas_test, session_ids_are_sixteen_hex_digits_and_causes_follow_rfc_2866) {
  EXPECT_EQ(make_acct_session_id(0xdeadbeef, 1), "DEADBEEF00000001");
  EXPECT_NE(make_acct_session_id(1, 2), make_acct_session_id(2, 2));
  EXPECT_EQ(terminate_cause(end_cause::user_request), 1u);
  EXPECT_EQ(terminate_cause(end_cause::lost_carrier), 2u);
  EXPECT_EQ(terminate_cause(end_cause::idle_timeout), 4u);
  EXPECT_EQ(terminate_cause(end_cause::session_timeout), 5u);
  EXPECT_EQ(terminate_cause(end_cause::admin_reboot), 7u);
  EXPECT_EQ(terminate_cause(end_cause::port_error), 8u);
}

TEST_F(radius_nas_test, routed_subnets_come_from_the_netmask_and_framed_routes) {
  std::vector<std::string> refused;
  const auto routes = routed_subnets(0x0a050001, 0xffffff00,
                                     {"10.6.0.0/16 0.0.0.0 1", "192.0.2.128/25", "0.0.0.0/0", "nonsense"}, refused);
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].destination, 0x0a050000u);
  EXPECT_EQ(routes[0].prefix_length, 24u);
  EXPECT_EQ(routes[1].destination, 0x0a060000u);
  EXPECT_EQ(routes[1].prefix_length, 16u);
  EXPECT_EQ(routes[2].prefix_length, 25u);
  EXPECT_EQ(refused, (std::vector<std::string>{"0.0.0.0/0", "nonsense"}));
  refused.clear();
  EXPECT_TRUE(routed_subnets(0x0a050001, 0xffffffff, {}, refused).empty());  // a /32: the peer itself
}

TEST_F(radius_nas_test, filter_overrides_name_only_per_user_settings) {
  const auto [name, o] = parse_filter_override("students:session-timeout=3600,idle-timeout=600,pool=lab");
  EXPECT_EQ(name, "students");
  EXPECT_EQ(o.session_timeout_s, 3600u);
  EXPECT_EQ(o.idle_timeout_s, 600u);
  EXPECT_FALSE(o.interim_s);
  EXPECT_EQ(o.pool, "lab");
  EXPECT_THROW(parse_filter_override("students"), parse_error);
  EXPECT_THROW(parse_filter_override("x:mppe=none"), parse_error);
  EXPECT_THROW(parse_filter_override("x:interim=soon"), parse_error);
}

}  // namespace
}  // namespace pptpkit::runtime
