// parse_authorization over an Access-Accept carrying everything a PPTP server cares about.
#include "pptpkit/radius/accept.hpp"

#include <gtest/gtest.h>

#include "radius_fixture.hpp"

namespace pptpkit::radius {
namespace {

const authenticator request_auth = test::auth_from_hex("11223344556677889900aabbccddeeff");

std::vector<std::uint8_t> u32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

TEST(Authorization, EveryField) {
  std::vector<std::uint8_t> send(16), recv(32);
  for (std::size_t i = 0; i < 16; ++i) {
    send[i] = static_cast<std::uint8_t>(i);
  }
  for (std::size_t i = 0; i < 32; ++i) {
    recv[i] = static_cast<std::uint8_t>(0x80 + i);
  }
  const std::string success = "S=0123456789ABCDEF0123456789ABCDEF01234567";
  ASSERT_EQ(success.size(), 42u);
  std::vector<std::uint8_t> success_value = {7};
  success_value.insert(success_value.end(), success.begin(), success.end());

  packet_builder b(code::access_accept, 3);
  ASSERT_TRUE(b.add_ipv4(attr::framed_ip_address, 0xc0a80a05));
  ASSERT_TRUE(b.add_ipv4(attr::framed_ip_netmask, 0xffffffff));
  ASSERT_TRUE(b.add_string(attr::framed_pool, "pool1"));
  ASSERT_TRUE(b.add_string(attr::framed_route, "10.1.0.0/16 0.0.0.0 1"));
  ASSERT_TRUE(b.add_string(attr::framed_route, "10.2.0.0/16 0.0.0.0 1"));
  ASSERT_TRUE(b.add_u32(attr::session_timeout, 3600));
  ASSERT_TRUE(b.add_u32(attr::idle_timeout, 600));
  ASSERT_TRUE(b.add_u32(attr::acct_interim_interval, 300));
  ASSERT_TRUE(b.add_u32(attr::framed_mtu, 1400));
  ASSERT_TRUE(b.add_string(attr::class_, "c1"));
  ASSERT_TRUE(b.add_string(attr::class_, "c2"));
  ASSERT_TRUE(b.add_string(attr::filter_id, "f"));
  ASSERT_TRUE(b.add_string(attr::reply_message, "Hello, "));
  ASSERT_TRUE(b.add_string(attr::reply_message, "nemo"));
  ASSERT_TRUE(b.add(attr::eap_message, std::vector<std::uint8_t>(300, 0x33)));
  ASSERT_TRUE(b.add_string(attr::state, "st"));
  ASSERT_TRUE(b.add_vendor(ms::vendor_id, ms::mppe_encryption_policy, u32(2)));
  ASSERT_TRUE(b.add_vendor(ms::vendor_id, ms::mppe_encryption_types, u32(4)));
  ASSERT_TRUE(b.add_vendor(ms::vendor_id, ms::primary_dns_server, u32(0x08080808)));
  ASSERT_TRUE(b.add_vendor(ms::vendor_id, ms::secondary_dns_server, u32(0x08080404)));
  ASSERT_TRUE(b.add_vendor(ms::vendor_id, ms::mppe_send_key, salt_encrypt(send, 0x8001, "s", request_auth)));
  ASSERT_TRUE(b.add_vendor(ms::vendor_id, ms::mppe_recv_key, salt_encrypt(recv, 0x8002, "s", request_auth)));
  ASSERT_TRUE(b.add_vendor(ms::vendor_id, ms::chap2_success, success_value));
  ASSERT_TRUE(
      b.add_vendor(ms::vendor_id, ms::primary_dns_server, std::vector<std::uint8_t>{1, 2}));  // wrong size: ignored
  const auto bytes = b.finish_response("s", request_auth);
  const auto v = parse(bytes);
  ASSERT_TRUE(v);
  ASSERT_EQ(verify_response(*v, request_auth, "s"), verdict::ok);
  const authorization a = parse_authorization(*v, "s", request_auth);
  EXPECT_EQ(a.framed_ip, 0xc0a80a05u);
  EXPECT_EQ(a.framed_netmask, 0xffffffffu);
  EXPECT_EQ(a.framed_pool, "pool1");
  EXPECT_EQ(a.framed_routes, (std::vector<std::string>{"10.1.0.0/16 0.0.0.0 1", "10.2.0.0/16 0.0.0.0 1"}));
  EXPECT_EQ(a.session_timeout, 3600u);
  EXPECT_EQ(a.idle_timeout, 600u);
  EXPECT_EQ(a.interim_interval, 300u);
  EXPECT_EQ(a.framed_mtu, 1400u);
  ASSERT_EQ(a.classes.size(), 2u);
  EXPECT_EQ(a.classes[1], (std::vector<std::uint8_t>{'c', '2'}));
  EXPECT_EQ(a.filter_ids, (std::vector<std::string>{"f"}));
  EXPECT_EQ(a.reply_message, "Hello, nemo");
  EXPECT_EQ(a.eap_message, std::vector<std::uint8_t>(300, 0x33));
  EXPECT_EQ(a.state, (std::vector<std::uint8_t>{'s', 't'}));
  EXPECT_EQ(a.mppe_policy, 2u);
  EXPECT_EQ(a.mppe_types, 4u);
  EXPECT_EQ(a.dns1, 0x08080808u);  // the malformed second one did not overwrite it
  EXPECT_EQ(a.dns2, 0x08080404u);
  ASSERT_TRUE(a.mppe_send_key);
  EXPECT_TRUE(std::equal(send.begin(), send.end(), a.mppe_send_key->begin()));
  ASSERT_TRUE(a.mppe_recv_key);
  EXPECT_TRUE(std::equal(recv.begin(), recv.begin() + 16, a.mppe_recv_key->begin()));
  EXPECT_EQ(a.mschap2_success, success);
  EXPECT_EQ(a.ignored, 1u);
}

TEST(Authorization, KeysWithTheWrongSecretOrAuthenticatorAreNotTaken) {
  const std::vector<std::uint8_t> key(16, 0xab);
  packet_builder b(code::access_accept, 1);
  ASSERT_TRUE(b.add_vendor(ms::vendor_id, ms::mppe_send_key, salt_encrypt(key, 0x8001, "s", request_auth)));
  const auto bytes = b.finish_response("s", request_auth);
  authenticator other = request_auth;
  other[15] ^= 0xff;
  const authorization a = parse_authorization(*parse(bytes), "s", other);
  EXPECT_TRUE(!a.mppe_send_key || !std::equal(key.begin(), key.end(), a.mppe_send_key->begin()));
}

TEST(Authorization, RejectCarriesMsChapError) {
  packet_builder b(code::access_reject, 1);
  const std::string text = "E=691 R=0 C=00000000000000000000000000000000 V=3";
  std::vector<std::uint8_t> value = {9};
  value.insert(value.end(), text.begin(), text.end());
  ASSERT_TRUE(b.add_vendor(ms::vendor_id, ms::chap_error, value));
  const auto bytes = b.finish_response("s", request_auth);
  EXPECT_EQ(parse_authorization(*parse(bytes), "s", request_auth).mschap_error, text);
}

}  // namespace
}  // namespace pptpkit::radius
