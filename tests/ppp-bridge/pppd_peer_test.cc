// Our server and client against scripted peers that send what pppd 2.4.9 sends (captured), plus the
// awkward ones: Nak loops, rejected options, echo before Opened, unknown protocols.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "pptpkit/ppp/crypto.hpp"

namespace {

using namespace pptpkit::ppp;
using namespace pptpkit::ppp::testing;

bytes frame(std::uint16_t proto, std::uint8_t code, std::uint8_t id, const bytes& data) {
  const std::size_t len = data.size() + 4;
  const bytes header = {0xff, 0x03, static_cast<std::uint8_t>(proto >> 8), static_cast<std::uint8_t>(proto),
                        code, id,   static_cast<std::uint8_t>(len >> 8),   static_cast<std::uint8_t>(len)};
  bytes f(header.size() + data.size());
  std::copy(header.begin(), header.end(), f.begin());
  std::copy(data.begin(), data.end(), f.begin() + 8);
  return f;
}

struct parsed {
  std::uint16_t proto;
  std::uint8_t code;
  std::uint8_t id;
  bytes data;
};
parsed parse(const bytes& f) {
  const auto h = parse_frame_header(f);
  EXPECT_TRUE(h.has_value());
  const auto c = parse_control(std::span<const std::uint8_t>(f).subspan(h->size));
  EXPECT_TRUE(c.has_value());
  return {h->protocol, c->code, c->id, bytes(c->data.begin(), c->data.end())};
}
// The one frame of `proto` among `frames` (fails the test when there is not exactly one).
parsed only(const std::vector<bytes>& frames, std::uint16_t proto) {
  std::vector<parsed> hits;
  for (const auto& f : frames) {
    if (parse_frame_header(f)->protocol == proto) {
      hits.push_back(parse(f));
    }
  }
  EXPECT_EQ(hits.size(), 1u) << "frames of protocol 0x" << std::hex << proto;
  return hits.empty() ? parsed{} : hits[0];
}
bytes concat(const bytes& a, const bytes& b) {
  bytes r(a.size() + b.size());
  std::copy(a.begin(), a.end(), r.begin());
  std::copy(b.begin(), b.end(), r.begin() + static_cast<std::ptrdiff_t>(a.size()));
  return r;
}
bool contains(const bytes& hay, const bytes& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// pppd 2.4.9's client LCP request: mru 1400, asyncmap 0x0, magic, pcomp, accomp.
const bytes pppd_lcp_request = {0x01, 0x04, 0x05, 0x78, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00,
                                0x05, 0x06, 0x1a, 0x2b, 0x3c, 0x4d, 0x07, 0x02, 0x08, 0x02};

TEST(pppd_client, meets_our_server_through_lcp_mschapv2_and_ipcp) {
  pptpkit::testing::test_host host(3);
  endpoint srv(host, "server");
  srv.secrets["pppd-user"] = {"pppd-pass", ""};
  // LCP, MS-CHAPv2 and IPCP as pppd does them; CCP/MPPE with pppd's options is ccp_test.cc's.
  auto params = server_params("mschapv2");
  params.push_back({"mppe", "refused"});
  ASSERT_EQ(srv.open(params), PPTPKIT_OK);

  // Our request: mru 1400, auth chap MS-v2, magic, pcomp, accomp.
  const parsed our_req = only(srv.take_link(), proto_lcp);
  ASSERT_EQ(our_req.code, configure_request);
  EXPECT_TRUE(contains(our_req.data, {0x01, 0x04, 0x05, 0x78}));
  EXPECT_TRUE(contains(our_req.data, {0x03, 0x05, 0xc2, 0x23, 0x81}));
  EXPECT_TRUE(contains(our_req.data, {0x07, 0x02, 0x08, 0x02}));

  // An Echo-Request before LCP is Opened is silently discarded (RFC 1661 §5.8).
  srv.feed_link(frame(proto_lcp, echo_request, 9, {0x1a, 0x2b, 0x3c, 0x4d}));
  EXPECT_TRUE(srv.take_link().empty());
  EXPECT_EQ(srv.stat("drop_echo_not_opened"), 1u);

  srv.feed_link(frame(proto_lcp, configure_request, 1, pppd_lcp_request));
  const parsed ack = only(srv.take_link(), proto_lcp);
  EXPECT_EQ(ack.code, configure_ack);
  EXPECT_EQ(ack.id, 1);
  EXPECT_EQ(ack.data, pppd_lcp_request);

  srv.feed_link(frame(proto_lcp, configure_ack, our_req.id, our_req.data));
  const parsed challenge = only(srv.take_link(), proto_chap);  // LCP Opened: the Challenge goes out
  ASSERT_EQ(challenge.code, 1);
  ASSERT_EQ(challenge.data[0], 16);
  EXPECT_EQ(srv.find_session()->lcp().state(), fsm_state::opened);

  // pppd's Echo-Request right after LCP opens is answered with our magic.
  srv.feed_link(frame(proto_lcp, echo_request, 10, {0x1a, 0x2b, 0x3c, 0x4d}));
  const parsed reply = only(srv.take_link(), proto_lcp);
  EXPECT_EQ(reply.code, echo_reply);
  EXPECT_EQ(reply.id, 10);

  // The MS-CHAPv2 Response pppd computes.
  challenge16 auth_challenge;
  std::copy_n(challenge.data.begin() + 1, 16, auth_challenge.begin());
  const challenge16 peer_challenge = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const auto nt = mschapv2_nt_response(auth_challenge, peer_challenge, "pppd-user", "pppd-pass");
  bytes resp = {49};
  resp.insert(resp.end(), peer_challenge.begin(), peer_challenge.end());
  resp.insert(resp.end(), 8, 0);
  resp.insert(resp.end(), nt.begin(), nt.end());
  resp.push_back(0);
  const std::string user = "pppd-user";
  resp.insert(resp.end(), user.begin(), user.end());
  srv.feed_link(frame(proto_chap, 2, challenge.id, resp));
  srv.drain_events();
  auto out = srv.take_link();
  const parsed success = only(out, proto_chap);
  ASSERT_EQ(success.code, 3);
  const auto expected_s = mschapv2_authenticator_response("pppd-pass", nt, peer_challenge, auth_challenge, "pppd-user");
  EXPECT_EQ(std::string(success.data.begin(), success.data.begin() + 42), std::string(expected_s.data(), 42));

  // Network phase: our IPCP request, then pppd's "compress VJ 0f 01, addr 0.0.0.0".
  const parsed ipcp_req = only(out, proto_ipcp);
  EXPECT_EQ(ipcp_req.data, (bytes{0x03, 0x06, 10, 0, 0, 1}));
  const bytes vj = {0x02, 0x06, 0x00, 0x2d, 0x0f, 0x01};
  const bytes pppd_ipcp = concat(vj, {0x03, 0x06, 0, 0, 0, 0});
  srv.feed_link(frame(proto_ipcp, configure_request, 1, pppd_ipcp));
  const parsed rej = only(srv.take_link(), proto_ipcp);
  EXPECT_EQ(rej.code, configure_reject);
  EXPECT_EQ(rej.data, vj);
  srv.feed_link(frame(proto_ipcp, configure_request, 2, {0x03, 0x06, 0, 0, 0, 0}));
  const parsed nak = only(srv.take_link(), proto_ipcp);
  EXPECT_EQ(nak.code, configure_nak);
  EXPECT_EQ(nak.data, (bytes{0x03, 0x06, 10, 0, 0, 2}));
  srv.feed_link(frame(proto_ipcp, configure_request, 3, {0x03, 0x06, 10, 0, 0, 2}));
  EXPECT_EQ(only(srv.take_link(), proto_ipcp).code, configure_ack);
  srv.feed_link(frame(proto_ipcp, configure_ack, ipcp_req.id, ipcp_req.data));
  srv.drain_events();
  const auto* up = srv.find(PPTPKIT_PPP_EVENT_IPV4_UP);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->values[1], 0x0a000002u);
  EXPECT_EQ(up->values[4], 1400u);  // the MRU itself: MPPE refused here

  // pppd negotiated pcomp/accomp: we may send compressed, and accept both forms.
  srv.feed_net(ipv4_packet(60));
  const auto data = srv.take_link();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0][0], 0x21);  // no FF 03, one-octet protocol
  EXPECT_EQ(data[0].size(), 61u);
  const bytes pkt = ipv4_packet(80);
  const bytes compressed = concat({0x21}, pkt);
  const bytes full = concat({0xff, 0x03, 0x00, 0x21}, pkt);
  srv.feed_link(compressed);
  srv.feed_link(full);
  const auto delivered = srv.take_net();
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(delivered[0], pkt);
  EXPECT_EQ(delivered[1], pkt);

  // Windows announces itself with LCP Identification (RFC 1570): accepted silently, not Code-Rejected.
  srv.feed_link(frame(proto_lcp, identification, 11, {0x1a, 0x2b, 0x3c, 0x4d, 'M', 'S', 'R', 'A', 'S', 'V', '5'}));
  EXPECT_TRUE(srv.take_link().empty());
  EXPECT_EQ(srv.stat("lcp_informational"), 1u);

  // mppe=refused: CCP is not run; pppd's CCP gets a Protocol-Reject (RFC 1661 §5.7, pppd's noccp).
  srv.feed_link(frame(proto_ccp, configure_request, 1, {0x12, 0x06, 0x01, 0x00, 0x00, 0x40}));
  const parsed prej = only(srv.take_link(), proto_lcp);
  EXPECT_EQ(prej.code, protocol_reject);
  EXPECT_EQ(prej.data[0], 0x80);
  EXPECT_EQ(prej.data[1], 0xfd);
  EXPECT_EQ(srv.stat("protocol_rejects_sent"), 1u);
}

TEST(pppd_client, ipv6cp_with_link_local_interface_ids) {
  link_pair l;
  l.a.secrets["alice"] = {"s3cret", ""};
  ASSERT_EQ(l.a.open(server_params("chap")), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(client_params("chap")), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] { return l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP) != nullptr; }));
  // A peer proposing our own identifier is Nak'd with a fresh one (RFC 5072 §4.1).
  ASSERT_TRUE(l.run([&] { return l.a.find(PPTPKIT_PPP_EVENT_IPV6_UP) != nullptr; }));
  const std::uint64_t ours = l.a.find(PPTPKIT_PPP_EVENT_IPV6_UP)->values[0];
  bytes same = {0x01, 0x0a};
  for (int i = 7; i >= 0; --i) {
    same.push_back(static_cast<std::uint8_t>(ours >> (8 * i)));
  }
  l.a.take_link();
  l.a.feed_link(frame(proto_ipv6cp, configure_request, 77, same));
  const auto out = l.a.take_link();
  bool nak_seen = false;
  for (const auto& f : out) {
    const parsed p = parse(f);
    if (p.proto == proto_ipv6cp && p.code == configure_nak) {
      nak_seen = true;
      EXPECT_EQ(p.id, 77);
      EXPECT_NE(bytes(p.data.begin() + 2, p.data.end()), bytes(same.begin() + 2, same.end()));
    }
  }
  EXPECT_TRUE(nak_seen);
}

TEST(scripted_peer, a_nak_loop_turns_into_a_reject_after_max_failure) {
  pptpkit::testing::test_host host;
  endpoint srv(host, "server");
  ASSERT_EQ(srv.open(server_params("mschapv2")), PPTPKIT_OK);
  srv.take_link();
  // A peer that insists on an MRU of 64: Nak'd with 128 Max-Failure (5) times, then rejected.
  for (int i = 1; i <= 7; ++i) {
    srv.feed_link(frame(proto_lcp, configure_request, static_cast<std::uint8_t>(i), {0x01, 0x04, 0x00, 0x40}));
    const parsed r = only(srv.take_link(), proto_lcp);
    if (i <= 5) {
      EXPECT_EQ(r.code, configure_nak) << "request " << i;
      EXPECT_EQ(r.data, (bytes{0x01, 0x04, 0x00, 0x80}));
    } else {
      EXPECT_EQ(r.code, configure_reject) << "request " << i;
      EXPECT_EQ(r.data, (bytes{0x01, 0x04, 0x00, 0x40}));
    }
  }
}

TEST(scripted_peer, rejected_options_are_dropped_from_our_next_request) {
  pptpkit::testing::test_host host;
  endpoint cli(host, "client");
  ASSERT_EQ(cli.open(client_params("mschapv2")), PPTPKIT_OK);
  const parsed req = only(cli.take_link(), proto_lcp);
  // A peer that does not do magic numbers or header compression.
  cli.feed_link(frame(proto_lcp, configure_reject, req.id,
                      {0x05, 0x06, req.data[6], req.data[7], req.data[8], req.data[9], 0x07, 0x02, 0x08, 0x02}));
  const parsed next = only(cli.take_link(), proto_lcp);
  EXPECT_EQ(next.code, configure_request);
  EXPECT_NE(next.id, req.id);
  EXPECT_EQ(next.data, (bytes{0x01, 0x04, 0x05, 0x78}));
  // An Ack with a stale identifier or other options is ignored and counted.
  cli.feed_link(frame(proto_lcp, configure_ack, req.id, next.data));
  cli.feed_link(frame(proto_lcp, configure_ack, next.id, {0x01, 0x04, 0x05, 0xdc}));
  EXPECT_EQ(cli.stat("drop_fsm_bad_id"), 1u);
  EXPECT_EQ(cli.stat("drop_fsm_bad_ack"), 1u);
  EXPECT_EQ(cli.find_session()->lcp().state(), fsm_state::req_sent);
}

TEST(scripted_peer, a_server_nak_of_our_auth_picks_the_suggested_protocol) {
  pptpkit::testing::test_host host;
  endpoint srv(host, "server");
  ASSERT_EQ(srv.open(server_params("mschapv2,chap")), PPTPKIT_OK);
  const parsed req = only(srv.take_link(), proto_lcp);
  srv.feed_link(frame(proto_lcp, configure_nak, req.id, {0x03, 0x05, 0xc2, 0x23, 0x05}));
  const parsed next = only(srv.take_link(), proto_lcp);
  EXPECT_TRUE(contains(next.data, {0x03, 0x05, 0xc2, 0x23, 0x05}));
}

TEST(scripted_peer, unknown_codes_get_a_code_reject_and_garbage_is_counted) {
  pptpkit::testing::test_host host;
  endpoint srv(host, "server");
  ASSERT_EQ(srv.open(server_params("mschapv2")), PPTPKIT_OK);
  srv.take_link();
  srv.feed_link(frame(proto_lcp, 42, 5, {1, 2, 3}));
  const parsed cj = only(srv.take_link(), proto_lcp);
  EXPECT_EQ(cj.code, code_reject);
  EXPECT_EQ(cj.data, (bytes{42, 5, 0, 7, 1, 2, 3}));
  srv.feed_link({0xff, 0x05, 0xc0, 0x21});               // bad control field
  srv.feed_link({0xff, 0x03, 0xc0});                     // truncated protocol
  srv.feed_link({0xff, 0x03, 0xc0, 0x21, 1, 1});         // truncated control header
  srv.feed_link({0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 99});  // length beyond the frame
  EXPECT_EQ(srv.stat("drop_malformed_frame"), 2u);
  EXPECT_EQ(srv.stat("drop_malformed_control"), 2u);
  EXPECT_EQ(srv.stat("code_rejects_sent"), 1u);
  EXPECT_TRUE(srv.take_link().empty());
  srv.feed_link(frame(proto_lcp, 1, 1, pppd_lcp_request), 99);  // no such session
  EXPECT_EQ(srv.stat("drop_unknown_session"), 1u);
}

TEST(scripted_peer, lcp_gives_up_after_max_configure_unanswered_requests) {
  pptpkit::testing::test_host host;
  endpoint cli(host, "client");
  ASSERT_EQ(cli.open(client_params("mschapv2")), PPTPKIT_OK);
  int requests = static_cast<int>(cli.take_link().size());
  while (cli.deadline() != PPTPKIT_NO_DEADLINE) {
    host.now = cli.deadline();
    cli.tick();
    requests += static_cast<int>(cli.take_link().size());
  }
  cli.drain_events();
  EXPECT_EQ(requests, 10);  // Max-Configure (RFC 1661 §4.6)
  EXPECT_EQ(host.now, 30'000'000'000u);
  const auto* down = cli.find(PPTPKIT_PPP_EVENT_LINK_DOWN);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->values[0], PPTPKIT_PPP_REASON_NEGOTIATION);
}

TEST(bridging, network_packets_before_their_ncp_opens_are_counted_and_dropped) {
  pptpkit::testing::test_host host;
  endpoint srv(host, "server");
  ASSERT_EQ(srv.open(server_params("mschapv2")), PPTPKIT_OK);
  srv.feed_net(ipv4_packet(100));
  srv.feed_link({0xff, 0x03, 0x00, 0x21, 0x45, 0, 0, 0});
  srv.feed_link({0x57, 0x60, 0, 0, 0});
  EXPECT_TRUE(srv.take_net().empty());
  EXPECT_EQ(srv.stat("drop_ncp_not_open"), 3u);
}

}  // namespace

namespace {

using namespace pptpkit::ppp;
using namespace pptpkit::ppp::testing;

TEST(scripted_peer, a_looped_back_link_is_detected_by_magic_number) {
  pptpkit::testing::test_host host(11);
  endpoint e(host, "looped");
  ASSERT_EQ(e.open(client_params("mschapv2")), PPTPKIT_OK);
  for (int step = 0; step < 200 && !e.find(PPTPKIT_PPP_EVENT_LINK_DOWN); ++step) {
    auto frames = e.take_link();
    for (const auto& f : frames) {
      e.feed_link(f);  // everything we send comes straight back
    }
    if (frames.empty()) {
      host.now = e.deadline();
      e.tick();
    }
    e.drain_events();
  }
  const auto* down = e.find(PPTPKIT_PPP_EVENT_LINK_DOWN);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->values[0], PPTPKIT_PPP_REASON_LOOPBACK);
  EXPECT_GE(e.stat("loopback_suspected"), 1u);
}

}  // namespace

namespace {

using namespace pptpkit::ppp;
using namespace pptpkit::ppp::testing;

// Brings our client to the point where it has answered an MS-CHAPv2 Challenge from a scripted server;
// returns the Response's identifier.
std::uint8_t client_answers_a_challenge(pptpkit::testing::test_host& host, endpoint& cli) {
  (void)host;
  EXPECT_EQ(cli.open(client_params("mschapv2")), PPTPKIT_OK);
  const parsed req = only(cli.take_link(), proto_lcp);
  cli.feed_link(frame(proto_lcp, configure_request, 1, {0x03, 0x05, 0xc2, 0x23, 0x81, 0x05, 0x06, 1, 2, 3, 4}));
  cli.feed_link(frame(proto_lcp, configure_ack, req.id, req.data));
  EXPECT_EQ(cli.find_session()->lcp().state(), fsm_state::opened);
  cli.take_link();
  bytes challenge = {16};
  for (int i = 0; i < 16; ++i) {
    challenge.push_back(static_cast<std::uint8_t>(i * 7));
  }
  challenge.push_back('w');
  challenge.push_back('s');
  cli.feed_link(frame(proto_chap, 1, 0x42, challenge));
  const parsed resp = only(cli.take_link(), proto_chap);
  EXPECT_EQ(resp.code, 2);
  EXPECT_EQ(resp.data[0], 49);
  return resp.id;
}

struct failure_case {
  const char* message;
  std::uint32_t code;
  const char* shown;
};

void PrintTo(const failure_case& c, std::ostream* os) {
  *os << c.code;
}

class mschap_failure_codes : public ::testing::TestWithParam<failure_case> {};

TEST_P(mschap_failure_codes, reach_the_user_with_their_meaning) {
  pptpkit::testing::test_host host;
  endpoint cli(host, "client");
  const std::uint8_t id = client_answers_a_challenge(host, cli);
  const std::string msg = GetParam().message;
  cli.feed_link(frame(proto_chap, 4, id, bytes(msg.begin(), msg.end())));
  cli.drain_events();
  const auto* f = cli.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->values[0], PPTPKIT_PPP_AUTH_MSCHAP_V2);
  EXPECT_EQ(f->values[1], 0u);
  EXPECT_EQ(f->values[2], GetParam().code);
  EXPECT_NE(f->text.find(GetParam().shown), std::string::npos) << f->text;
  EXPECT_EQ(cli.find_session()->lcp().state(), fsm_state::closing);  // Terminate-Request sent
}

INSTANTIATE_TEST_SUITE_P(
    rfc2759, mschap_failure_codes,
    ::testing::Values(
        failure_case{"E=646 R=0 C=00112233445566778899AABBCCDDEEFF V=3 M=Logon hours", 646, "restricted logon hours"},
        failure_case{"E=647 R=0 C=00112233445566778899AABBCCDDEEFF V=3 M=Disabled", 647, "account disabled"},
        failure_case{"E=648 R=0 C=00112233445566778899AABBCCDDEEFF V=3 M=Expired", 648, "password expired"},
        failure_case{"E=649 R=0 C=00112233445566778899AABBCCDDEEFF V=3 M=No dial-in", 649, "no dial-in permission"},
        failure_case{"E=691 R=1 C=00112233445566778899AABBCCDDEEFF V=3 M=Denied", 691, "wrong password"}));

TEST(mschapv2_client, a_server_that_cannot_prove_the_password_is_refused) {
  pptpkit::testing::test_host host;
  endpoint cli(host, "client");
  const std::uint8_t id = client_answers_a_challenge(host, cli);
  const std::string forged = "S=0000000000000000000000000000000000000000 M=Welcome";
  cli.feed_link(frame(proto_chap, 3, id, bytes(forged.begin(), forged.end())));
  cli.drain_events();
  EXPECT_EQ(cli.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);
  const auto* f = cli.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->text.find("failed to prove"), std::string::npos) << f->text;
  EXPECT_FALSE(cli.find_session()->mppe_keys().has_value());
}

TEST(mschapv2_failure_text, parses_every_field) {
  const auto f = parse_mschap_failure("E=691 R=1 C=00112233445566778899AABBCCDDEEFF V=3 M=Access denied: bad");
  EXPECT_EQ(f.error, 691u);
  EXPECT_TRUE(f.retry);
  EXPECT_EQ(f.message, "Access denied: bad");
  EXPECT_EQ(parse_mschap_failure("garbage").error, 0u);
}

}  // namespace
