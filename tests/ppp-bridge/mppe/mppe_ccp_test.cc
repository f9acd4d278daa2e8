// CCP option 18 codec, the pppd-like policy, negotiations between two policies, and the Reset hooks.
#include "pptpkit/ppp/mppe_ccp.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "mppe_test_util.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::ppp;

mppe_policy pppd(std::initializer_list<std::string_view> words) {
  std::vector<std::string_view> w(words);
  return mppe_policy::from_pppd(w);
}

TEST(mppe_option, codec_round_trip_and_malformed_options) {
  std::array<std::uint8_t, 6> buf{};
  ASSERT_EQ(mppe_encode_option(mppe_opt_h | mppe_opt_s, buf), 6u);
  EXPECT_EQ(buf, (std::array<std::uint8_t, 6>{18, 6, 0x01, 0x00, 0x00, 0x40}));
  EXPECT_EQ(mppe_decode_option(buf), mppe_opt_h | mppe_opt_s);
  EXPECT_EQ(mppe_encode_option(0, std::span<std::uint8_t>(buf.data(), 5)), 0u);
  const std::vector<std::vector<std::uint8_t>> bad = {
      {}, {18}, {18, 6, 1, 0, 0}, {18, 5, 1, 0, 0, 0x40}, {17, 6, 1, 0, 0, 0x40}, {18, 7, 1, 0, 0, 0x40, 0}};
  for (const auto& b : bad) {
    EXPECT_FALSE(mppe_decode_option(b).has_value()) << b.size();
  }
}

// pptpd logs this for `require-mppe-128` stateless: the names are RFC 3078's (M is 56-bit, C is MPPC).
TEST(mppe_option, describe_like_pppd) {
  EXPECT_EQ(mppe_describe(mppe_opt_h | mppe_opt_s), "+H -M +S -L -D -C");
  EXPECT_EQ(mppe_describe(mppe_opt_m | mppe_opt_l | mppe_opt_d | mppe_opt_c), "-H +M -S +L +D +C");
  EXPECT_EQ(mppe_describe(0x00800000 | mppe_opt_s), "-H -M +S -L -D -C +0x00800000");
}

TEST(mppe_policy, pppd_words) {
  const mppe_policy d = pppd({});
  EXPECT_EQ(d.requirement, mppe_requirement::optional);
  EXPECT_EQ(d.strength_bits(), mppe_opt_s | mppe_opt_l);
  EXPECT_FALSE(d.allow_stateful);

  const mppe_policy r128 = pppd({"require-mppe-128"});
  EXPECT_EQ(r128.requirement, mppe_requirement::required);
  EXPECT_EQ(r128.strength_bits(), mppe_opt_s);

  const mppe_policy r = pppd({"require-mppe", "nomppe-40", "mppe-stateful"});
  EXPECT_EQ(r.requirement, mppe_requirement::required);
  EXPECT_EQ(r.strength_bits(), mppe_opt_s);
  EXPECT_TRUE(r.allow_stateful);
  EXPECT_FALSE(pppd({"mppe-stateful", "nomppe-stateful"}).allow_stateful);

  EXPECT_EQ(pppd({"refuse-mppe"}).requirement, mppe_requirement::refused);
  EXPECT_EQ(pppd({"nomppe"}).requirement, mppe_requirement::refused);

  const mppe_policy list = pppd({"mppe", "required,stateless,no40"});
  EXPECT_EQ(list.requirement, mppe_requirement::required);
  EXPECT_EQ(list.strength_bits(), mppe_opt_s);

  EXPECT_THROW(pppd({"require-mppe-129"}), core::config_error);
  EXPECT_THROW(pppd({"mppe"}), core::config_error);
  EXPECT_THROW(pppd({"mppe", "required,bogus"}), core::config_error);
  EXPECT_THROW(pppd({"require-mppe-128", "nomppe-128"}), core::config_error);  // nothing left
}

TEST(mppe_policy, session_config_keys) {
  const std::array<pptpkit_config_entry, 3> e = {
      {{"mppe", "required"}, {"mppe_bits", "128,56"}, {"mppe_stateful", "1"}}};
  const mppe_policy p = mppe_policy::from_config(core::config_map(e.data(), 3));
  EXPECT_EQ(p.requirement, mppe_requirement::required);
  EXPECT_EQ(p.strength_bits(), mppe_opt_s | mppe_opt_m);
  EXPECT_TRUE(p.allow_stateful);
  const mppe_policy d = mppe_policy::from_config(core::config_map());
  EXPECT_EQ(d.requirement, mppe_requirement::optional);
  EXPECT_EQ(d.strength_bits(), mppe_opt_s | mppe_opt_l);
  const std::array<pptpkit_config_entry, 1> bad_mode = {{{"mppe", "maybe"}}};
  EXPECT_THROW(mppe_policy::from_config(core::config_map(bad_mode.data(), 1)), core::config_error);
  const std::array<pptpkit_config_entry, 1> bad_bits = {{{"mppe_bits", "64"}}};
  EXPECT_THROW(mppe_policy::from_config(core::config_map(bad_bits.data(), 1)), core::config_error);
}

TEST(mppe_negotiation, our_request) {
  EXPECT_EQ(mppe_our_request(pppd({})), mppe_opt_h | mppe_opt_s | mppe_opt_l);
  EXPECT_EQ(mppe_our_request(pppd({"require-mppe-128"})), mppe_opt_h | mppe_opt_s);
  EXPECT_EQ(mppe_our_request(pppd({"mppe-stateful"})), mppe_opt_s | mppe_opt_l);
  EXPECT_FALSE(mppe_our_request(pppd({"refuse-mppe"})).has_value());
}

TEST(mppe_negotiation, judging_the_peers_request) {
  const mppe_policy d = pppd({});
  // pptpd's `mppe +H -M +S -L -D -C`: acked as it is.
  EXPECT_EQ(mppe_judge_peer_request(d, mppe_opt_h | mppe_opt_s).verdict, ccp_verdict::ack);
  EXPECT_EQ(mppe_judge_peer_request(pppd({"require-mppe-128"}), mppe_opt_h | mppe_opt_s).verdict, ccp_verdict::ack);
  // A Windows-style offer of everything: Nak with the strongest allowed, stateless, no MPPC.
  mppe_judgement j = mppe_judge_peer_request(d, mppe_opt_h | mppe_opt_strengths | mppe_opt_c);
  EXPECT_EQ(j.verdict, ccp_verdict::nak);
  EXPECT_EQ(j.bits, mppe_opt_h | mppe_opt_s);
  // Stateful asked for, nomppe-stateful: Nak with H; mppe-stateful: Ack.
  j = mppe_judge_peer_request(d, mppe_opt_s);
  EXPECT_EQ(j.verdict, ccp_verdict::nak);
  EXPECT_EQ(j.bits, mppe_opt_h | mppe_opt_s);
  EXPECT_EQ(mppe_judge_peer_request(pppd({"mppe-stateful"}), mppe_opt_s).verdict, ccp_verdict::ack);
  // Stateless is always fine even when stateful is allowed.
  EXPECT_EQ(mppe_judge_peer_request(pppd({"mppe-stateful"}), mppe_opt_h | mppe_opt_l).verdict, ccp_verdict::ack);
  // D and unknown bits are cleared by a Nak.
  j = mppe_judge_peer_request(d, mppe_opt_h | mppe_opt_l | mppe_opt_d | 0x00100000);
  EXPECT_EQ(j.verdict, ccp_verdict::nak);
  EXPECT_EQ(j.bits, mppe_opt_h | mppe_opt_l);
  // MPPC alone, no key length in common, or MPPE refused: Reject.
  EXPECT_EQ(mppe_judge_peer_request(d, mppe_opt_c).verdict, ccp_verdict::reject);
  EXPECT_EQ(mppe_judge_peer_request(pppd({"require-mppe-128"}), mppe_opt_h | mppe_opt_l).verdict, ccp_verdict::reject);
  EXPECT_EQ(mppe_judge_peer_request(d, mppe_opt_h | mppe_opt_m).verdict, ccp_verdict::reject);  // 56 not allowed
  EXPECT_EQ(mppe_judge_peer_request(pppd({"refuse-mppe"}), mppe_opt_h | mppe_opt_s).verdict, ccp_verdict::reject);
}

TEST(mppe_negotiation, handling_a_nak_and_a_reject) {
  const mppe_policy d = pppd({});
  EXPECT_EQ(mppe_handle_nak(d, mppe_opt_h | mppe_opt_l), mppe_opt_h | mppe_opt_l);
  EXPECT_EQ(mppe_handle_nak(d, mppe_opt_h | mppe_opt_s | mppe_opt_l | mppe_opt_c), mppe_opt_h | mppe_opt_s);
  EXPECT_FALSE(mppe_handle_nak(d, mppe_opt_s).has_value());  // insists on stateful
  EXPECT_EQ(mppe_handle_nak(pppd({"mppe-stateful"}), mppe_opt_s), mppe_opt_s);
  EXPECT_FALSE(mppe_handle_nak(pppd({"require-mppe-128"}), mppe_opt_h | mppe_opt_l).has_value());
  EXPECT_FALSE(mppe_handle_nak(d, mppe_opt_c).has_value());
  EXPECT_TRUE(mppe_reject_is_fatal(pppd({"require-mppe"})));
  EXPECT_FALSE(mppe_reject_is_fatal(d));
  EXPECT_TRUE(mppe_blocks_network(pppd({"require-mppe"}), false));
  EXPECT_FALSE(mppe_blocks_network(pppd({"require-mppe"}), true));
  EXPECT_FALSE(mppe_blocks_network(d, false));
}

TEST(mppe_negotiation, agreed_parameters) {
  auto a = mppe_agreed(mppe_opt_h | mppe_opt_s, mppe_opt_h | mppe_opt_s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->strength, mppe_strength::bits_128);
  EXPECT_TRUE(a->stateless);
  a = mppe_agreed(mppe_opt_m, mppe_opt_m);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->strength, mppe_strength::bits_56);
  EXPECT_FALSE(a->stateless);
  EXPECT_FALSE(mppe_agreed(mppe_opt_h | mppe_opt_s, mppe_opt_s).has_value());
  EXPECT_FALSE(mppe_agreed(mppe_opt_h | mppe_opt_s, mppe_opt_h | mppe_opt_l).has_value());
  EXPECT_FALSE(mppe_agreed(mppe_opt_h | mppe_opt_s | mppe_opt_l, mppe_opt_h | mppe_opt_s | mppe_opt_l).has_value());
  EXPECT_FALSE(mppe_agreed(mppe_opt_h | mppe_opt_s | mppe_opt_c, mppe_opt_h | mppe_opt_s | mppe_opt_c).has_value());
}

// Both directions negotiated the way the CCP automaton drives these functions (RFC 1661 §4: our
// request, the peer's judgement, a Nak handled, up to max-configure rounds).
struct outcome {
  std::optional<std::uint32_t> acked;
  bool fatal = false;
};
outcome negotiate_one_direction(const mppe_policy& requester, const mppe_policy& judge) {
  std::optional<std::uint32_t> req = mppe_our_request(requester);
  for (int round = 0; round < 10 && req; ++round) {
    const mppe_judgement j = mppe_judge_peer_request(judge, *req);
    if (j.verdict == ccp_verdict::ack) {
      return {req, false};
    }
    if (j.verdict == ccp_verdict::reject) {
      return {std::nullopt, mppe_reject_is_fatal(requester)};
    }
    req = mppe_handle_nak(requester, j.bits);
  }
  return {std::nullopt, mppe_reject_is_fatal(requester)};
}
std::optional<mppe_params> negotiate(const mppe_policy& client, const mppe_policy& server) {
  const outcome a = negotiate_one_direction(client, server);
  const outcome b = negotiate_one_direction(server, client);
  if (!a.acked || !b.acked) {
    return std::nullopt;
  }
  return mppe_agreed(*a.acked, *b.acked);
}

TEST(mppe_negotiation, two_ends_agree) {
  auto p = negotiate(pppd({}), pppd({"require-mppe-128"}));  // pptpd require-mppe-128 and a default client
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->strength, mppe_strength::bits_128);
  EXPECT_TRUE(p->stateless);

  p = negotiate(pppd({"mppe-stateful"}), pppd({"require-mppe-128", "mppe-stateful"}));
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->stateless);

  p = negotiate(pppd({"require-mppe-40"}), pppd({"require-mppe"}));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->strength, mppe_strength::bits_40);

  p = negotiate(pppd({"mppe-stateful"}), pppd({}));  // one end refuses stateful: stateless
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->stateless);

  EXPECT_FALSE(negotiate(pppd({"require-mppe-40"}), pppd({"require-mppe-128"})).has_value());
  EXPECT_TRUE(negotiate_one_direction(pppd({"require-mppe-40"}), pppd({"require-mppe-128"})).fatal);
  EXPECT_FALSE(negotiate(pppd({"refuse-mppe"}), pppd({})).has_value());
}

TEST(ccp_reset, codec) {
  std::array<std::uint8_t, 8> buf{};
  ASSERT_EQ(ccp_encode_reset(ccp_code_reset_request, 7, buf), 4u);
  EXPECT_EQ((std::vector<std::uint8_t>(buf.begin(), buf.begin() + 4)), (std::vector<std::uint8_t>{14, 7, 0, 4}));
  auto r = ccp_decode_reset(std::span<const std::uint8_t>(buf.data(), 4));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->code, ccp_code_reset_request);
  EXPECT_EQ(r->id, 7);
  const std::vector<std::uint8_t> with_data = {15, 9, 0, 6, 0xaa, 0xbb};
  r = ccp_decode_reset(with_data);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->code, ccp_code_reset_ack);
  const std::vector<std::vector<std::uint8_t>> bad = {{}, {14, 1, 0}, {14, 1, 0, 3}, {14, 1, 0, 5}, {1, 1, 0, 4}};
  for (const auto& b : bad) {
    EXPECT_FALSE(ccp_decode_reset(b).has_value());
  }
  EXPECT_EQ(ccp_encode_reset(ccp_code_reset_ack, 1, std::span<std::uint8_t>(buf.data(), 3)), 0u);
}

// The hooks end to end: our receiver loses a frame, its Reset-Request crosses, the peer's hook rekeys
// its sender and answers with a Reset-Ack, and the flushed frame resumes the stream.
TEST(ccp_reset, hooks_resynchronise_a_stateful_link) {
  using pptpkit::ppp::testing::frame;
  using pptpkit::ppp::testing::ipv4_datagram;
  mppe_key k{};
  k.fill(0x42);
  const mppe_params params{mppe_strength::bits_128, false};
  mppe_encryptor a_tx(k, params), b_tx(k, params);
  mppe_decryptor a_rx(k, params), b_rx(k, params);  // a sends to b
  std::array<std::uint8_t, 16> wire{};
  EXPECT_EQ(mppe_poll_ccp_reset(b_rx, 0, wire), 0u);
  frame f0(ipv4_datagram(0, 100));
  ASSERT_EQ(a_tx.encrypt(f0.p, ppp_protocol_ipv4), PPTPKIT_OK);  // lost
  frame f1(ipv4_datagram(1, 100));
  ASSERT_EQ(a_tx.encrypt(f1.p, ppp_protocol_ipv4), PPTPKIT_OK);
  EXPECT_EQ(b_rx.decrypt(f1.p, 0).verdict, mppe_verdict::drop);
  const std::size_t n = mppe_poll_ccp_reset(b_rx, 0, wire);
  ASSERT_EQ(n, 4u);
  const auto req = ccp_decode_reset(std::span<const std::uint8_t>(wire.data(), n));
  ASSERT_TRUE(req.has_value());
  std::array<std::uint8_t, 16> reply{};
  const std::size_t m = mppe_on_ccp_reset(*req, a_tx, a_rx, reply);  // at a
  ASSERT_EQ(m, 4u);
  EXPECT_EQ(reply[0], ccp_code_reset_ack);
  EXPECT_EQ(reply[1], req->id);
  const auto ack = ccp_decode_reset(std::span<const std::uint8_t>(reply.data(), m));
  EXPECT_EQ(mppe_on_ccp_reset(*ack, b_tx, b_rx, reply), 0u);  // at b
  EXPECT_EQ(b_rx.counters().reset_acks, 1u);
  frame f2(ipv4_datagram(2, 100));
  ASSERT_EQ(a_tx.encrypt(f2.p, ppp_protocol_ipv4), PPTPKIT_OK);
  ASSERT_EQ(b_rx.decrypt(f2.p, 0).verdict, mppe_verdict::deliver);
  EXPECT_EQ(f2.bytes(), ipv4_datagram(2, 100));
}

}  // namespace
