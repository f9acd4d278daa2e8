// auth_verify=host (pptpkit/ppp.h 1.1): our client against our server as a NAS, the test playing the
// host that asks RADIUS. It reads each AUTH_VERIFY's data through the pptpkit.ppp.auth.v1 extension,
// verifies it with the crypto functions from the password it knows, and answers with CMD_AUTH_VERDICT —
// for MS-CHAPv2 with the authenticator response and the MPPE keys a RADIUS server would send, for EAP by
// relaying an EAP-MD5 exchange it runs itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "harness.hpp"
#include "mppe/mppe_test_util.hpp"
#include "pptpkit/ppp/crypto.hpp"
#include "pptpkit/ppp/mppe_keys.hpp"
#include "pptpkit/ppp/protocol.hpp"

namespace {

using namespace pptpkit::ppp;
using namespace pptpkit::ppp::testing;

const pptpkit_ppp_auth_extension& auth_extension() {
  const void* e = ppp_descriptor().get_extension(PPTPKIT_PPP_AUTH_EXTENSION_V1);
  EXPECT_NE(e, nullptr);
  return *static_cast<const pptpkit_ppp_auth_extension*>(e);
}

std::string hex(std::span<const std::uint8_t> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t v : b) {
    out += digits[v >> 4];
    out += digits[v & 0xf];
  }
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> slice(const bytes& b, std::size_t at) {
  std::array<std::uint8_t, N> out{};
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), N, out.begin());
  return out;
}

// A PPP control packet seen on the link.
struct seen_control {
  std::uint16_t protocol;
  std::uint8_t code, id;
  bytes data;
};

class auth_relay : public ::testing::Test {
 protected:
  void SetUp() override {
    l.a.on_event = [this](const recorded_event& e, std::uint32_t channel) {
      if (e.type != PPTPKIT_PPP_EVENT_AUTH_VERIFY) {
        return;
      }
      const bytes data = request_data(channel);
      EXPECT_EQ(data.size(), e.values[1]);
      verifies.push_back(e);
      verify_data.push_back(data);
      if (host) {
        host(e, data);
      }
    };
    // Every control packet on the link, both ways, as the peer sees it.
    l.rewrite = [this](bool a_to_b, const bytes& f) {
      if (const auto h = parse_frame_header(f)) {
        if (const auto c = parse_control(std::span(f).subspan(h->size))) {
          (a_to_b ? to_client : to_server)
              .push_back({h->protocol, c->code, c->id, bytes(c->data.begin(), c->data.end())});
        }
      }
      return f;
    };
  }

  void open(const std::string& auth, const kv& server_extra = {}, const kv& client_extra = {}) {
    kv s = server_params(auth);
    s.push_back({"auth_verify", "host"});
    s.insert(s.end(), server_extra.begin(), server_extra.end());
    kv c = client_params(auth);
    c.insert(c.end(), client_extra.begin(), client_extra.end());
    ASSERT_EQ(l.a.open(s), PPTPKIT_OK);
    ASSERT_EQ(l.b.open(c), PPTPKIT_OK);
  }

  bytes request_data(std::uint32_t channel = 1) {
    const pptpkit_ppp_auth_extension& x = auth_extension();
    const std::int32_t n = x.request_data(l.a.instance(), channel, nullptr, 0);
    EXPECT_GE(n, 0);
    bytes out(static_cast<std::size_t>(std::max(n, 0)));
    EXPECT_EQ(x.request_data(l.a.instance(), channel, out.data(), static_cast<std::uint32_t>(out.size())), n);
    return out;
  }

  std::int32_t verdict(std::uint32_t decision, const kv& entries = {}, std::uint32_t code = 0,
                       std::uint32_t channel = 1) {
    std::vector<pptpkit_config_entry> c;
    for (const auto& [k, v] : entries) {
      c.push_back({k.c_str(), v.c_str()});
    }
    pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
    cmd.type = PPTPKIT_PPP_CMD_AUTH_VERDICT;
    cmd.channel = channel;
    cmd.values[0] = decision;
    cmd.values[1] = code;
    cmd.entries = c.data();
    cmd.entry_count = static_cast<std::uint32_t>(c.size());
    return l.a.ops().command(l.a.instance(), &cmd, l.host.now);
  }

  // The first packet of `protocol` and `code` the client received.
  const seen_control* received(std::uint16_t protocol, std::uint8_t code) const {
    for (const auto& c : to_client) {
      if (c.protocol == protocol && c.code == code) {
        return &c;
      }
    }
    return nullptr;
  }

  bool both_up() const { return l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP) && l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP); }
  bool client_down() const { return l.b.find(PPTPKIT_PPP_EVENT_LINK_DOWN) != nullptr; }

  link_pair l{21};
  std::function<void(const recorded_event&, const bytes&)> host;  // the test's host: answers each verify
  std::vector<recorded_event> verifies;
  std::vector<bytes> verify_data;
  std::vector<seen_control> to_client, to_server;
};

// ---- PAP ----

TEST_F(auth_relay, pap_accept_hands_the_password_to_the_host_and_sends_its_message) {
  host = [&](const recorded_event& e, const bytes& data) {
    EXPECT_EQ(e.values[0], PPTPKIT_PPP_AUTH_PAP);
    EXPECT_EQ(e.text, "alice");
    EXPECT_EQ(data, bytes({'s', '3', 'c', 'r', 'e', 't'}));
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, {{"message", "Welcome via RADIUS"},
                                                   {"remote_ip", "10.0.0.77"},
                                                   {"dns1", "10.0.0.53"},
                                                   {"dns2", "10.0.0.54"}}),
              PPTPKIT_OK);
  };
  open("pap");
  ASSERT_TRUE(l.run([&] { return both_up(); }));
  EXPECT_EQ(verifies.size(), 1u);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED), nullptr);  // never asked for the secret
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS)->text, "alice");
  ASSERT_NE(l.b.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);
  const seen_control* ack = received(proto_pap, 2);
  ASSERT_NE(ack, nullptr);
  const std::string msg = "Welcome via RADIUS";
  bytes want = {static_cast<std::uint8_t>(msg.size())};
  want.insert(want.end(), msg.begin(), msg.end());
  EXPECT_EQ(ack->data, want);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP)->values[1], 0x0a00004du);  // the verdict's remote_ip
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP)->values[2], 0x0a000035u);  // and its DNS servers
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP)->values[3], 0x0a000036u);
}

TEST_F(auth_relay, pap_reject_sends_a_nak_with_the_hosts_text) {
  host = [&](const recorded_event&, const bytes&) {
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_REJECT, {{"message", "Denied by RADIUS"}}), PPTPKIT_OK);
  };
  open("pap");
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  const auto* fail = l.b.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
  ASSERT_NE(fail, nullptr);
  EXPECT_NE(fail->text.find("Denied by RADIUS"), std::string::npos) << fail->text;
  ASSERT_NE(l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE), nullptr);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_AUTH_FAILED);
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);
}

// ---- CHAP-MD5 ----

// The host checks what a RADIUS server checks (CHAP-Password against CHAP-Challenge, RFC 2865 §5.3).
std::uint32_t chap_verdict(const bytes& data, std::string_view password) {
  EXPECT_EQ(data.size(), 33u);
  const bool ok = chap_md5_response(data[0], password, slice<16>(data, 1)) == slice<16>(data, 17);
  return ok ? PPTPKIT_PPP_VERDICT_ACCEPT : PPTPKIT_PPP_VERDICT_REJECT;
}

TEST_F(auth_relay, chap_md5_data_is_identifier_challenge_and_response_and_an_accept_lets_the_peer_in) {
  std::int32_t rc = -100;
  host = [&](const recorded_event& e, const bytes& data) {
    EXPECT_EQ(e.values[0], PPTPKIT_PPP_AUTH_CHAP_MD5);
    EXPECT_EQ(e.text, "alice");
    rc = verdict(chap_verdict(data, "s3cret"), {{"message", "Hello from RADIUS"}});
  };
  open("chap");
  ASSERT_TRUE(l.run([&] { return both_up(); }));
  EXPECT_EQ(rc, PPTPKIT_OK);
  ASSERT_EQ(verify_data.size(), 1u);
  const bytes& data = verify_data[0];
  // Byte for byte against what crossed the link: [0] identifier, [1..16] challenge, [17..32] response.
  const seen_control* challenge = received(proto_chap, 1);
  ASSERT_NE(challenge, nullptr);
  const auto response = std::find_if(to_server.begin(), to_server.end(),
                                     [](const seen_control& c) { return c.protocol == proto_chap && c.code == 2; });
  ASSERT_NE(response, to_server.end());
  ASSERT_EQ(data.size(), 33u);
  EXPECT_EQ(data[0], challenge->id);
  EXPECT_EQ(bytes(data.begin() + 1, data.begin() + 17),
            bytes(challenge->data.begin() + 1, challenge->data.begin() + 17));
  EXPECT_EQ(bytes(data.begin() + 17, data.end()), bytes(response->data.begin() + 1, response->data.begin() + 17));
  EXPECT_EQ(slice<16>(data, 17), chap_md5_response(challenge->id, "s3cret", slice<16>(data, 1)));
  const seen_control* success = received(proto_chap, 3);
  ASSERT_NE(success, nullptr);
  EXPECT_EQ(std::string(success->data.begin(), success->data.end()), "Hello from RADIUS");
  ASSERT_NE(l.b.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);
}

TEST_F(auth_relay, chap_md5_reject_fails_the_login_on_both_ends) {
  std::int32_t rc = -100;
  host = [&](const recorded_event&, const bytes& data) { rc = verdict(chap_verdict(data, "the-real-password")); };
  open("chap");
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  EXPECT_EQ(rc, PPTPKIT_OK);
  ASSERT_NE(received(proto_chap, 4), nullptr);  // Failure
  ASSERT_NE(l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE), nullptr);
  ASSERT_NE(l.b.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE), nullptr);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_AUTH_FAILED);
}

// ---- MS-CHAPv2 ----

struct mschapv2_view {
  challenge16 auth_challenge, peer_challenge;
  nt_response_t nt;
};
mschapv2_view parse_mschapv2(const bytes& data) {
  // [0] id, [1..16] authenticator challenge, [17..65] peer challenge 16, reserved 8, NT-Response 24, flags.
  EXPECT_EQ(data.size(), 66u);
  EXPECT_EQ(bytes(data.begin() + 33, data.begin() + 41), bytes(8, 0));
  EXPECT_EQ(data.back(), 0);
  return {slice<16>(data, 1), slice<16>(data, 17), slice<24>(data, 41)};
}

// What RADIUS returns for a good MS-CHAPv2 login: MS-CHAP2-Success and MS-MPPE-Send-Key/Recv-Key.
kv radius_accept(const bytes& data, std::string_view password, bool with_keys = true) {
  const mschapv2_view v = parse_mschapv2(data);
  EXPECT_EQ(v.nt, mschapv2_nt_response(v.auth_challenge, v.peer_challenge, "alice", password));
  const authenticator_response s =
      mschapv2_authenticator_response(password, v.nt, v.peer_challenge, v.auth_challenge, "alice");
  kv out = {{"message", std::string(s.begin(), s.end())}};
  if (with_keys) {
    const mppe_start_keys k =
        mppe_derive_start_keys(mppe_role::server, hash_nt_password_hash(nt_password_hash(password)), v.nt);
    out.push_back({"mppe_send_key", hex(k.send)});
    out.push_back({"mppe_recv_key", hex(k.receive)});
  }
  return out;
}

TEST_F(auth_relay, mschapv2_accept_with_radius_keys_brings_up_mppe_and_traffic_passes_encrypted) {
  host = [&](const recorded_event& e, const bytes& data) {
    EXPECT_EQ(e.values[0], PPTPKIT_PPP_AUTH_MSCHAP_V2);
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, radius_accept(data, "s3cret")), PPTPKIT_OK);
  };
  open("mschapv2", {{"mppe", "required"}}, {{"mppe", "required"}});
  ASSERT_TRUE(l.run([&] {
    return both_up() && l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP) && l.b.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP);
  }));
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP)->values[0], 128u);
  ASSERT_EQ(verify_data.size(), 1u);
  const seen_control* challenge = received(proto_chap, 1);
  ASSERT_NE(challenge, nullptr);
  EXPECT_EQ(verify_data[0][0], challenge->id);
  // The client derived its keys from the password; the server was given RADIUS's. Both must match.
  l.rewrite = nullptr;
  for (std::uint32_t i = 0; i < 50; ++i) {
    const bytes up = ipv4_datagram(i, 60 + i * 20);
    const bytes down = ipv4_datagram(i + 1000, 1396 - i * 20);
    l.b.feed_net(up);
    l.a.feed_net(down);
    for (auto& f : l.b.take_link()) {
      ASSERT_EQ(parse_frame_header(f)->protocol, ppp_protocol_compressed);
      l.a.feed_link(f);
    }
    for (auto& f : l.a.take_link()) {
      ASSERT_EQ(parse_frame_header(f)->protocol, ppp_protocol_compressed);
      l.b.feed_link(f);
    }
    EXPECT_EQ(l.a.take_net(), std::vector<bytes>{up}) << i;
    EXPECT_EQ(l.b.take_net(), std::vector<bytes>{down}) << i;
  }
  EXPECT_EQ(l.a.stat("mppe_rx_delivered"), 50u);
  EXPECT_EQ(l.b.stat("mppe_rx_delivered"), 50u);
}

// RADIUS's MS-MPPE-Encryption-Policy/-Types narrow the session's policy: with "required" a session
// that allowed a tunnel without MPPE ends instead when the peer refuses it.
TEST_F(auth_relay, an_accept_may_require_mppe_where_the_session_did_not) {
  host = [&](const recorded_event&, const bytes& data) {
    auto entries = radius_accept(data, "s3cret");
    entries.push_back({"mppe", "required"});
    entries.push_back({"mppe_bits", "128,56"});
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, entries), PPTPKIT_OK);
  };
  open("mschapv2", {{"mppe", "optional"}, {"mppe_bits", "128,40"}}, {{"mppe", "refused"}});
  ASSERT_TRUE(l.run([&] { return l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN) != nullptr; }));
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_ENCRYPTION);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP), nullptr);
}

TEST_F(auth_relay, an_accept_that_leaves_no_key_length_is_a_reject) {
  host = [&](const recorded_event&, const bytes& data) {
    auto entries = radius_accept(data, "s3cret");
    entries.push_back({"mppe_bits", "40"});  // the session allows 128 only
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, entries), PPTPKIT_OK);
  };
  open("mschapv2", {{"mppe", "required"}, {"mppe_bits", "128"}}, {{"mppe", "required"}});
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP), nullptr);
  EXPECT_EQ(l.a.stat("auth_verdict_malformed"), 1u);
}

TEST_F(auth_relay, mschapv2_accept_with_a_wrong_authenticator_response_is_refused_by_the_client) {
  host = [&](const recorded_event&, const bytes& data) {
    const mschapv2_view v = parse_mschapv2(data);
    // An authenticator that does not know the password cannot compute S= (RFC 2759 §5).
    const authenticator_response s =
        mschapv2_authenticator_response("not-the-password", v.nt, v.peer_challenge, v.auth_challenge, "alice");
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, {{"message", std::string(s.begin(), s.end())}}), PPTPKIT_OK);
  };
  open("mschapv2");
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  ASSERT_NE(l.a.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);  // the server took the host's word
  const auto* fail = l.b.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
  ASSERT_NE(fail, nullptr);
  EXPECT_NE(fail->text.find("bad authenticator response"), std::string::npos) << fail->text;
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP), nullptr);
}

TEST_F(auth_relay, mschapv2_reject_carries_the_hosts_error_code_and_text) {
  host = [&](const recorded_event&, const bytes&) {
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_REJECT, {{"message", "Account disabled"}}, 647), PPTPKIT_OK);
  };
  open("mschapv2");
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  const seen_control* failure = received(proto_chap, 4);
  ASSERT_NE(failure, nullptr);
  const std::string text(failure->data.begin(), failure->data.end());
  EXPECT_EQ(text.substr(0, 10), "E=647 R=0 ");
  EXPECT_NE(text.find(" M=Account disabled"), std::string::npos) << text;
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE)->values[2], 647u);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE)->values[2], 647u);
}

TEST_F(auth_relay, mppe_required_and_an_accept_without_keys_fails_the_login) {
  host = [&](const recorded_event&, const bytes& data) {
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, radius_accept(data, "s3cret", false)), PPTPKIT_OK);
  };
  open("mschapv2", {{"mppe", "required"}}, {{"mppe", "required"}});
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);
  const auto* fail = l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
  ASSERT_NE(fail, nullptr);
  EXPECT_NE(fail->text.find("no MPPE keys"), std::string::npos) << fail->text;
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_AUTH_FAILED);
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE)->values[2], 691u);  // the peer got an E=691 Failure
  EXPECT_EQ(l.a.stat("auth_verdict_no_keys"), 1u);
}

// ---- EAP, relayed (RFC 3579 §2.1) ----

bytes eap_packet(std::uint8_t code, std::uint8_t id, const bytes& data) {
  const std::size_t n = 4 + data.size();
  bytes p(n);
  p[0] = code;
  p[1] = id;
  p[2] = static_cast<std::uint8_t>(n >> 8);
  p[3] = static_cast<std::uint8_t>(n);
  std::copy(data.begin(), data.end(), p.begin() + 4);
  return p;
}

TEST_F(auth_relay, eap_md5_is_relayed_packet_by_packet_and_the_hosts_success_ends_it) {
  const challenge16 challenge = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
                                 0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f};
  std::uint8_t request_id = 0;
  host = [&](const recorded_event& e, const bytes& data) {
    EXPECT_EQ(e.values[0], PPTPKIT_PPP_AUTH_EAP);
    EXPECT_EQ(e.text, "alice");
    ASSERT_GE(data.size(), 5u);
    EXPECT_EQ(data[0], 2);                                          // Response
    EXPECT_EQ((std::size_t{data[2]} << 8 | data[3]), data.size());  // its own length
    if (verifies.size() == 1) {
      // Response/Identity "alice"; the RADIUS server answers with an EAP-MD5 challenge.
      EXPECT_EQ(data, eap_packet(2, data[1], {1, 'a', 'l', 'i', 'c', 'e'}));
      request_id = static_cast<std::uint8_t>(data[1] + 1);
      bytes md5 = {4, 16};
      md5.insert(md5.end(), challenge.begin(), challenge.end());
      md5.insert(md5.end(), {'r', 'a', 'd', 'i', 'u', 's'});
      EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_CONTINUE, {{"eap", hex(eap_packet(1, request_id, md5))}}), PPTPKIT_OK);
      return;
    }
    // Response/MD5-Challenge to the relayed Request (RFC 3748 §5.4).
    EXPECT_EQ(data[1], request_id);
    EXPECT_EQ(data[4], 4);
    EXPECT_EQ(data[5], 16);
    EXPECT_EQ(slice<16>(data, 6), chap_md5_response(request_id, "s3cret", challenge));
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, {{"eap", hex(eap_packet(3, request_id, {}))}}), PPTPKIT_OK);
  };
  open("eap");
  ASSERT_TRUE(l.run([&] { return both_up(); }));
  EXPECT_EQ(verifies.size(), 2u);
  ASSERT_NE(l.b.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);
  ASSERT_NE(l.a.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);
  const seen_control* success = received(proto_eap, 3);
  ASSERT_NE(success, nullptr);
  EXPECT_EQ(success->id, request_id);
  // The relayed request reached the client as the host built it.
  const auto md5 = std::find_if(to_client.begin(), to_client.end(), [](const seen_control& c) {
    return c.protocol == proto_eap && c.code == 1 && !c.data.empty() && c.data[0] == 4;
  });
  ASSERT_NE(md5, to_client.end());
  EXPECT_EQ(md5->id, request_id);
  EXPECT_EQ(bytes(md5->data.end() - 6, md5->data.end()), bytes({'r', 'a', 'd', 'i', 'u', 's'}));
}

TEST_F(auth_relay, eap_reject_without_a_packet_gets_a_failure_the_plugin_builds) {
  host = [&](const recorded_event&, const bytes&) { EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_REJECT), PPTPKIT_OK); };
  open("eap");
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  ASSERT_NE(received(proto_eap, 4), nullptr);
  ASSERT_NE(l.b.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE), nullptr);
}

// ---- the host's mistakes ----

TEST_F(auth_relay, a_verdict_without_a_pending_verify_is_ignored_and_counted) {
  open("mschapv2");
  EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT), PPTPKIT_ERR_STATE);  // LCP has not even opened
  EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, {}, 0, 99), PPTPKIT_ERR_NOT_FOUND);
  EXPECT_EQ(l.a.stat("auth_verdict_unexpected"), 1u);
  host = [&](const recorded_event&, const bytes& data) {
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, radius_accept(data, "s3cret")), PPTPKIT_OK);
  };
  ASSERT_TRUE(l.run([&] { return both_up(); }));
  EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_REJECT), PPTPKIT_ERR_STATE);  // answered twice: the second is ignored
  EXPECT_EQ(l.a.stat("auth_verdict_unexpected"), 2u);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN), nullptr);
  // In auth_verify=host the secret is never asked for, so a CMD_AUTH_SECRET answers nothing.
  pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
  cmd.type = PPTPKIT_PPP_CMD_AUTH_SECRET;
  cmd.channel = 1;
  EXPECT_EQ(l.a.ops().command(l.a.instance(), &cmd, l.host.now), PPTPKIT_ERR_STATE);
}

TEST_F(auth_relay, bad_hex_in_a_key_makes_the_verdict_a_reject) {
  host = [&](const recorded_event&, const bytes& data) {
    kv entries = radius_accept(data, "s3cret");
    entries[1].second[7] = 'g';  // mppe_send_key is no longer hex
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, entries), PPTPKIT_OK);
  };
  open("mschapv2");
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);
  const auto* fail = l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
  ASSERT_NE(fail, nullptr);
  EXPECT_NE(fail->text.find("malformed verdict"), std::string::npos) << fail->text;
  EXPECT_EQ(l.a.stat("auth_verdict_malformed"), 1u);
  ASSERT_NE(l.b.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE), nullptr);
}

TEST_F(auth_relay, a_key_of_the_wrong_length_makes_the_verdict_a_reject) {
  host = [&](const recorded_event&, const bytes& data) {
    kv entries = radius_accept(data, "s3cret");
    entries[2].second += "00";  // 17 bytes
    EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT, entries), PPTPKIT_OK);
  };
  open("mschapv2");
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  EXPECT_EQ(l.a.stat("auth_verdict_malformed"), 1u);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_AUTH_FAILED);
}

TEST_F(auth_relay, a_host_that_never_answers_fails_the_login_after_the_timeout) {
  open("chap", {{"auth_secret_timeout_ms", "5000"}});
  ASSERT_TRUE(l.run([&] { return client_down(); }));
  ASSERT_EQ(verifies.size(), 1u);
  const auto* fail = l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
  ASSERT_NE(fail, nullptr);
  EXPECT_NE(fail->text.find("no verdict from the host in time"), std::string::npos) << fail->text;
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_AUTH_FAILED);
  EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_ACCEPT), PPTPKIT_ERR_NOT_FOUND);  // too late: the session is gone
}

TEST_F(auth_relay, request_data_says_what_is_wrong) {
  const pptpkit_ppp_auth_extension& x = auth_extension();
  EXPECT_GE(x.struct_size, sizeof(pptpkit_ppp_auth_extension));
  EXPECT_EQ(ppp_descriptor().get_extension("pptpkit.ppp.no.such.v1"), nullptr);
  std::uint8_t buf[80];
  open("chap");
  EXPECT_EQ(x.request_data(l.a.instance(), 7, buf, sizeof(buf)), PPTPKIT_ERR_NOT_FOUND);
  EXPECT_EQ(x.request_data(l.a.instance(), 1, buf, sizeof(buf)), PPTPKIT_ERR_STATE);  // nothing pending yet
  EXPECT_EQ(x.request_data(l.a.instance(), 1, nullptr, 4), PPTPKIT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(x.request_data(nullptr, 1, buf, sizeof(buf)), PPTPKIT_ERR_INVALID_ARGUMENT);
  l.pump();
  ASSERT_EQ(verifies.size(), 1u);
  std::memset(buf, 0xee, sizeof(buf));
  EXPECT_EQ(x.request_data(l.a.instance(), 1, buf, 32), 33);  // too small: the length, nothing copied
  EXPECT_TRUE(std::all_of(buf, buf + sizeof(buf), [](std::uint8_t b) { return b == 0xee; }));
  EXPECT_EQ(x.request_data(l.a.instance(), 1, buf, 33), 33);
  EXPECT_EQ(bytes(buf, buf + 33), verify_data[0]);
  EXPECT_EQ(verdict(PPTPKIT_PPP_VERDICT_REJECT), PPTPKIT_OK);
  EXPECT_EQ(x.request_data(l.a.instance(), 1, buf, sizeof(buf)), PPTPKIT_ERR_STATE);  // answered
}

TEST_F(auth_relay, auth_verify_takes_only_secret_or_host) {
  kv s = server_params("chap");
  s.push_back({"auth_verify", "radius"});
  EXPECT_EQ(l.a.open(s), PPTPKIT_ERR_CONFIG);
}

}  // namespace
