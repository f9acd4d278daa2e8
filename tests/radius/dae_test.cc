// RFC 5176 Disconnect/CoA: accepted only from configured clients with both authenticators right.
#include "pptpkit/radius/dae.hpp"

#include <gtest/gtest.h>
#include <nettle/md5.h>

#include <cstring>

#include "radius_fixture.hpp"

namespace pptpkit::radius {
namespace {

const std::vector<dae_client> clients = {{0x0a000001, "dae-one"}, {0x0a000002, "dae-two"}};

std::vector<std::uint8_t> disconnect(std::string_view secret, std::uint8_t id = 17) {
  packet_builder b(code::disconnect_request, id);
  b.add_string(attr::acct_session_id, "0000002a");
  b.add_string(attr::user_name, "nemo");
  b.add_ipv4(attr::framed_ip_address, 0xc0a80a05);
  b.add_string(attr::proxy_state, "ps1");
  return b.finish_dae_request(secret);
}

TEST(Dae, DisconnectFromAConfiguredClient) {
  const auto bytes = disconnect("dae-two");
  const auto parsed = parse_dae_request(bytes, 0x0a000002, clients);
  ASSERT_TRUE(std::holds_alternative<dae_request>(parsed));
  const dae_request& r = std::get<dae_request>(parsed);
  EXPECT_EQ(r.what, code::disconnect_request);
  EXPECT_EQ(r.identifier, 17);
  EXPECT_EQ(r.client, 1u);
  EXPECT_EQ(r.acct_session_id, "0000002a");
  EXPECT_EQ(r.user_name, "nemo");
  EXPECT_EQ(r.framed_ip, 0xc0a80a05u);
  EXPECT_FALSE(r.has_unsupported_attribute);
  EXPECT_EQ(0, std::memcmp(r.request_authenticator.data(), bytes.data() + 4, 16));

  const auto reply = build_dae_reply(r, false, error_cause::session_context_not_found, "dae-two");
  const auto v = parse(reply);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->packet_code(), code::disconnect_nak);
  EXPECT_EQ(v->identifier(), 17);
  EXPECT_EQ(verify_response(*v, r.request_authenticator, "dae-two"), verdict::ok);
  EXPECT_EQ(value_u32(v->find(attr::error_cause)->value), 503u);
  EXPECT_EQ(value_string(v->find(attr::proxy_state)->value), "ps1");

  const auto ack_bytes = build_dae_reply(r, true, std::nullopt, "dae-two");  // parse() borrows: keep it
  const auto ack = parse(ack_bytes);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->packet_code(), code::disconnect_ack);
  EXPECT_FALSE(ack->find(attr::error_cause));
  EXPECT_EQ(verify_response(*ack, r.request_authenticator, "dae-two"), verdict::ok);
}

TEST(Dae, RefusesUnknownClientsAndBadAuthenticators) {
  EXPECT_EQ(std::get<dae_error>(parse_dae_request(disconnect("dae-one"), 0x0a000009, clients)),
            dae_error::unknown_client);
  EXPECT_EQ(std::get<dae_error>(parse_dae_request(disconnect("dae-one"), 0x0a000002, clients)),
            dae_error::bad_authenticator);
  auto tampered = disconnect("dae-one");
  tampered[25] ^= 1;
  EXPECT_EQ(std::get<dae_error>(parse_dae_request(tampered, 0x0a000001, clients)), dae_error::bad_authenticator);
  EXPECT_EQ(std::get<dae_error>(parse_dae_request(std::vector<std::uint8_t>(5, 0), 0x0a000001, clients)),
            dae_error::malformed);
  packet_builder accept(code::access_accept, 1);
  EXPECT_EQ(std::get<dae_error>(parse_dae_request(accept.finish_dae_request("dae-one"), 0x0a000001, clients)),
            dae_error::not_a_request);
}

TEST(Dae, MessageAuthenticatorIsRequired) {
  // A Disconnect-Request with a correct request authenticator and no Message-Authenticator.
  std::vector<std::uint8_t> p = {40, 3, 0, 0};
  p.insert(p.end(), 16, 0);
  p.insert(p.end(), {attr::user_name, 6, 'n', 'e', 'm', 'o'});
  p[3] = static_cast<std::uint8_t>(p.size());
  md5_ctx ctx;
  md5_init(&ctx);
  md5_update(&ctx, p.size(), p.data());
  md5_update(&ctx, 7, reinterpret_cast<const std::uint8_t*>("dae-one"));
  md5_digest(&ctx, 16, p.data() + 4);
  EXPECT_EQ(std::get<dae_error>(parse_dae_request(p, 0x0a000001, clients)), dae_error::missing_message_authenticator);
  // And a wrong one: a valid request whose Message-Authenticator is flipped and whose request
  // authenticator is recomputed to match.
  auto q = disconnect("dae-one");
  q[q.size() - 1] ^= 1;
  std::memset(q.data() + 4, 0, 16);
  md5_init(&ctx);
  md5_update(&ctx, q.size(), q.data());
  md5_update(&ctx, 7, reinterpret_cast<const std::uint8_t*>("dae-one"));
  md5_digest(&ctx, 16, q.data() + 4);
  EXPECT_EQ(std::get<dae_error>(parse_dae_request(q, 0x0a000001, clients)), dae_error::bad_message_authenticator);
}

TEST(Dae, CoaChangesAndUnsupportedAttributes) {
  packet_builder b(code::coa_request, 9);
  b.add_string(attr::acct_session_id, "s");
  b.add_u32(attr::session_timeout, 60);
  b.add_u32(attr::idle_timeout, 30);
  b.add_string(attr::filter_id, "nope");
  const auto parsed = parse_dae_request(b.finish_dae_request("dae-one"), 0x0a000001, clients);
  ASSERT_TRUE(std::holds_alternative<dae_request>(parsed));
  const auto& r = std::get<dae_request>(parsed);
  EXPECT_EQ(r.what, code::coa_request);
  EXPECT_EQ(r.session_timeout, 60u);
  EXPECT_EQ(r.idle_timeout, 30u);
  EXPECT_TRUE(r.has_unsupported_attribute);
  EXPECT_EQ(r.unsupported_attribute, attr::filter_id);
  const auto reply_bytes = build_dae_reply(r, false, error_cause::unsupported_attribute, "dae-one");
  const auto reply = parse(reply_bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->packet_code(), code::coa_nak);
  EXPECT_EQ(verify_response(*reply, r.request_authenticator, "dae-one"), verdict::ok);
}

}  // namespace
}  // namespace pptpkit::radius
