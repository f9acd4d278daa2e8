// CCP (RFC 1962) carrying MPPE (RFC 3078) inside a whole session: our client meets our server for every
// strength and mode, stateful mode survives loss through Reset-Requests, required MPPE ends the link
// cleanly when it cannot be had, and scripted pppd/pptpd- and Windows-like peers converge.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "harness.hpp"
#include "mppe/mppe_test_util.hpp"
#include "pptpkit/ppp/crypto.hpp"
#include "pptpkit/ppp/mppe_ccp.hpp"

namespace {

using namespace pptpkit::ppp;
using namespace pptpkit::ppp::testing;

bool encrypted_and_up(const link_pair& l) {
  return l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP) && l.b.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP) &&
         l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP) && l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP) &&
         l.a.find(PPTPKIT_PPP_EVENT_IPV6_UP) && l.b.find(PPTPKIT_PPP_EVENT_IPV6_UP);
}

kv with(kv params, const kv& extra) {
  params.insert(params.end(), extra.begin(), extra.end());
  return params;
}

std::uint16_t protocol_of(const bytes& f) {
  const auto h = parse_frame_header(f);
  return h ? h->protocol : 0;
}

// The identification field ipv4_datagram() puts the packet number in.
std::uint32_t datagram_id(const bytes& d) {
  return (std::uint32_t{d[4]} << 8) | d[5];
}

struct strength_case {
  const char* name;
  kv server, client;
  std::uint64_t bits;
  std::uint64_t stateless;
};

class mppe_agreement : public ::testing::TestWithParam<strength_case> {};

TEST_P(mppe_agreement, our_client_and_server_agree_and_move_traffic_both_ways) {
  const strength_case& c = GetParam();
  link_pair l(11);
  SCOPED_TRACE("seed " + std::to_string(l.host.seed()));
  l.a.secrets["alice"] = {"s3cret", ""};
  ASSERT_EQ(l.a.open(with(server_params("mschapv2"), c.server)), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(with(client_params("mschapv2"), c.client)), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] { return encrypted_and_up(l); }));
  for (const endpoint* e : {&l.a, &l.b}) {
    const auto* up = e->find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP);
    EXPECT_EQ(up->values[0], c.bits) << e->label();
    EXPECT_EQ(up->values[1], c.stateless) << e->label();
    EXPECT_EQ(e->find(PPTPKIT_PPP_EVENT_IPV4_UP)->values[4], 1396u) << e->label();  // MRU 1400 - 4
    EXPECT_TRUE(e->find_session()->ccp().mppe_up());
  }

  // 300 datagrams each way, IPv4 up to the full MTU and IPv6, byte for byte; the link sees only 0x00FD.
  for (std::uint32_t i = 0; i < 300; ++i) {
    const bool v6 = i % 7 == 3;
    const std::uint32_t size = i == 0 ? 1396 : 40 + (i * 37) % 1356;
    const bytes to_server = v6 ? ipv6_datagram(i, size) : ipv4_datagram(i, size);
    const bytes to_client = ipv4_datagram(i + 5000, size);
    l.b.feed_net(to_server, v6);
    l.a.feed_net(to_client);
    for (auto& f : l.b.take_link()) {
      ASSERT_EQ(protocol_of(f), ppp_protocol_compressed);
      ASSERT_EQ(std::search(f.begin(), f.end(), to_server.end() - 16, to_server.end()), f.end())
          << "plaintext on the link";
      l.a.feed_link(f);
    }
    for (auto& f : l.a.take_link()) {
      ASSERT_EQ(protocol_of(f), ppp_protocol_compressed);
      l.b.feed_link(f);
    }
    const auto at_server = l.a.take_net();
    const auto at_client = l.b.take_net();
    ASSERT_EQ(at_server.size(), 1u) << "packet " << i;
    ASSERT_EQ(at_client.size(), 1u) << "packet " << i;
    EXPECT_EQ(at_server[0], to_server);
    EXPECT_EQ(at_client[0], to_client);
  }
  EXPECT_EQ(l.a.stat("mppe_tx_packets"), 300u);
  EXPECT_EQ(l.a.stat("mppe_rx_delivered"), 300u);
  EXPECT_EQ(l.b.stat("mppe_rx_dropped"), 0u);
  EXPECT_EQ(l.a.stat("drop_unencrypted"), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    ccp, mppe_agreement,
    ::testing::Values(strength_case{"mppe128_stateless", {}, {}, 128, 1},
                      strength_case{"mppe128_stateful", {{"mppe_stateful", "1"}}, {{"mppe_stateful", "1"}}, 128, 0},
                      strength_case{"mppe40", {{"mppe_bits", "40"}}, {}, 40, 1},
                      strength_case{"mppe56", {{"mppe_bits", "128,56,40"}}, {{"mppe_bits", "56,40"}}, 56, 1},
                      strength_case{"stateful_only_one_side_is_stateless", {{"mppe_stateful", "1"}}, {}, 128, 1}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ccp, stateful_mppe_survives_ten_percent_loss_through_reset_requests) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    link_pair l(seed);
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay: link_pair l(seed), std::mt19937_64 rng(seed))");
    l.a.secrets["alice"] = {"s3cret", ""};
    ASSERT_EQ(l.a.open(with(server_params("mschapv2"), {{"mppe_stateful", "1"}})), PPTPKIT_OK);
    ASSERT_EQ(l.b.open(with(client_params("mschapv2"), {{"mppe_stateful", "1"}})), PPTPKIT_OK);
    ASSERT_TRUE(l.run([&] { return encrypted_and_up(l); }));
    ASSERT_EQ(l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP)->values[1], 0u);

    // From here on 10% of all frames are lost both ways: data, Reset-Requests and Reset-Acks alike.
    std::mt19937_64 rng(seed);
    auto lossy = [&](endpoint& from, endpoint& to) {
      for (auto& f : from.take_link()) {
        if (rng() % 10 != 0) {
          to.feed_link(f);
        }
      }
    };
    std::uint64_t sent = 0, delivered = 0;
    auto check = [&](endpoint& e, std::uint32_t base) {
      for (const auto& d : e.take_net()) {
        const std::uint32_t id = datagram_id(d);
        ASSERT_GE(id, base);
        ASSERT_EQ(d, ipv4_datagram(id, static_cast<std::uint32_t>(d.size()))) << "corrupt packet " << id;
        ++delivered;
      }
    };
    for (std::uint32_t i = 0; i < 3000; ++i) {
      // 10 packets a second each way: a lost Reset-Request or flushed frame costs the 1 s until the
      // decryptor asks again (pppd's interval too), a lost data frame one Reset round trip.
      l.host.now += 100'000'000;
      l.a.tick();
      l.b.tick();
      l.b.feed_net(ipv4_datagram(i % 30000, 60 + i % 1300));
      l.a.feed_net(ipv4_datagram(30000 + i % 30000, 1396 - i % 1300));
      sent += 2;
      lossy(l.b, l.a);
      lossy(l.a, l.b);
      lossy(l.b, l.a);  // the Reset-Acks answering Reset-Requests that just arrived
      check(l.a, 0);
      check(l.b, 30000);
    }
    // Every loss costs the frames until the peer's next flushed one; most still arrive.
    EXPECT_GT(delivered, sent / 2);
    // Once the loss ends, the next Reset round trip resynchronises both ways and everything passes.
    for (std::uint32_t i = 0; i < 40; ++i) {
      l.host.now += 100'000'000;
      l.a.tick();
      l.b.tick();
      l.pump();
      l.a.take_net();
      l.b.take_net();
      l.b.feed_net(ipv4_datagram(100, 200));
      l.a.feed_net(ipv4_datagram(30100, 200));
    }
    l.pump();
    l.a.take_net();
    l.b.take_net();
    for (std::uint32_t i = 0; i < 100; ++i) {
      const bytes up = ipv4_datagram(i, 300 + i), down = ipv4_datagram(30000 + i, 900 - i);
      l.b.feed_net(up);
      l.a.feed_net(down);
      l.pump();
      const auto at_a = l.a.take_net(), at_b = l.b.take_net();
      ASSERT_EQ(at_a.size(), 1u) << "after the loss, packet " << i;
      ASSERT_EQ(at_b.size(), 1u) << "after the loss, packet " << i;
      EXPECT_EQ(at_a[0], up);
      EXPECT_EQ(at_b[0], down);
    }
    EXPECT_GT(l.a.stat("ccp_reset_requests_sent"), 0u);
    EXPECT_GT(l.b.stat("ccp_reset_requests_sent"), 0u);
    EXPECT_GT(l.b.stat("ccp_reset_requests_received"), 0u);
    EXPECT_GT(l.a.stat("mppe_rx_dropped"), 0u);
    EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN), nullptr);
    EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_LINK_DOWN), nullptr);
  }
}

// The code of a CCP frame (RFC 1661 §5: the byte after the protocol field), 0 for other frames.
std::uint8_t ccp_code(const bytes& f) {
  const auto h = parse_frame_header(f);
  return h && h->protocol == proto_ccp && f.size() > h->size ? f[h->size] : 0;
}

std::size_t count_events(const endpoint& e, std::uint32_t type) {
  return static_cast<std::size_t>(
      std::count_if(e.events.begin(), e.events.end(), [&](const auto& ev) { return ev.type == type; }));
}

// Opens an MS-CHAPv2 session between l.a (server) and l.b (client) on a link that loses the client's
// first CCP Configure-Ack, and counts the server's CCP requests after that loss.
struct lost_ccp_ack {
  explicit lost_ccp_ack(link_pair& l) {
    l.a.secrets["alice"] = {"s3cret", ""};
    l.lose = [this](bool a_to_b, const bytes& f) {
      if (a_to_b && ccp_code(f) == configure_request && dropped) {
        ++requests_after;
      }
      if (!a_to_b && ccp_code(f) == configure_ack && !dropped) {
        dropped = true;
        return true;
      }
      return false;
    };
    EXPECT_EQ(l.a.open(server_params("mschapv2")), PPTPKIT_OK);
    EXPECT_EQ(l.b.open(client_params("mschapv2")), PPTPKIT_OK);
  }
  bool dropped = false;
  std::size_t requests_after = 0;
};

// The client's Configure-Ack of the server's (final, 128-bit) CCP request is lost; the client is Opened. RFC 1661 would
// have the server send its request again, which pppd takes as a renegotiation and answers by ending
// the link ("MPPE disabled"). The server waits a period for the peer's own request instead, hears
// nothing, and opens: no further request, one ENCRYPTION_UP each side, no renegotiation.
TEST(ccp, a_lost_configure_ack_opens_without_a_second_request) {
  link_pair l(5);
  lost_ccp_ack loss(l);
  const std::uint64_t start = l.host.now;
  ASSERT_TRUE(l.run([&] { return encrypted_and_up(l); }));
  EXPECT_TRUE(loss.dropped);
  EXPECT_EQ(loss.requests_after, 0u);
  EXPECT_EQ(l.a.stat("ccp_assumed_acks"), 1u);
  EXPECT_EQ(l.b.stat("ccp_assumed_acks"), 0u);
  // Two restart periods (3 s each) of patience, not more.
  EXPECT_GE(l.host.now - start, 6'000'000'000u);
  EXPECT_LT(l.host.now - start, 9'000'000'000u);
  for (const endpoint* e : {&l.a, &l.b}) {
    EXPECT_EQ(count_events(*e, PPTPKIT_PPP_EVENT_ENCRYPTION_UP), 1u) << e->label();
    EXPECT_EQ(e->find(PPTPKIT_PPP_EVENT_LINK_DOWN), nullptr) << e->label();
  }
  // And the tunnel carries traffic both ways.
  l.b.feed_net(ipv4_datagram(1, 100));
  l.a.feed_net(ipv4_datagram(2, 100));
  l.pump();
  EXPECT_EQ(l.a.take_net(), std::vector<bytes>{ipv4_datagram(1, 100)});
  EXPECT_EQ(l.b.take_net(), std::vector<bytes>{ipv4_datagram(2, 100)});
}

// Same loss, but the client sends a packet at once: only an Opened peer sends MPPE, so the frame stands
// in for the lost Ack — the server opens on it and delivers it rather than dropping it.
TEST(ccp, an_mppe_frame_stands_in_for_a_lost_configure_ack) {
  link_pair l(5);
  lost_ccp_ack loss(l);
  ASSERT_TRUE(l.run([&] { return l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP) != nullptr; }));
  ASSERT_TRUE(loss.dropped);
  ASSERT_EQ(l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP), nullptr);  // still waiting for the Ack
  const std::uint64_t before = l.host.now;
  l.b.feed_net(ipv4_datagram(7, 200));
  l.pump();
  EXPECT_EQ(l.host.now, before);  // no timer needed
  EXPECT_EQ(l.a.stat("ccp_assumed_acks"), 1u);
  EXPECT_NE(l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP), nullptr);
  EXPECT_EQ(l.a.take_net(), std::vector<bytes>{ipv4_datagram(7, 200)});
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN), nullptr);
}

// Our (128-bit, the client's own options) request was lost instead: the client never opens and repeats
// its request every restart period. The server Acks each repeat without sending its own at once (a
// repeat can cross our delayed request, as pptpd delivers it); after the client's second repeat it
// sends its request again, and never takes the client's silence for an Ack.
TEST(ccp, a_lost_request_goes_out_again_once_the_peer_keeps_asking) {
  link_pair l(5);
  l.a.secrets["alice"] = {"s3cret", ""};
  std::size_t server_requests = 0;
  l.lose = [&](bool a_to_b, const bytes& f) {
    if (a_to_b && ccp_code(f) == configure_request) {
      return ++server_requests == 2;  // the first (128 and 40 bits) gets the client's Nak; its answer is lost
    }
    return false;
  };
  ASSERT_EQ(l.a.open(server_params("mschapv2")), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(client_params("mschapv2")), PPTPKIT_OK);
  const std::uint64_t start = l.host.now;
  ASSERT_TRUE(l.run([&] { return encrypted_and_up(l); }));
  EXPECT_EQ(server_requests, 3u);
  EXPECT_EQ(l.a.stat("ccp_assumed_acks"), 0u);
  EXPECT_EQ(l.b.stat("ccp_assumed_acks"), 0u);
  // The client repeats at 3 s and 6 s; the server's request goes out at its 9 s expiry.
  EXPECT_GE(l.host.now - start, 9'000'000'000u);
  EXPECT_LT(l.host.now - start, 12'000'000'000u);
  for (const endpoint* e : {&l.a, &l.b}) {
    EXPECT_EQ(count_events(*e, PPTPKIT_PPP_EVENT_ENCRYPTION_UP), 1u) << e->label();
    EXPECT_EQ(e->find(PPTPKIT_PPP_EVENT_LINK_DOWN), nullptr) << e->label();
  }
}

TEST(ccp, required_mppe_against_a_peer_refusing_ccp_ends_with_reason_encryption) {
  link_pair l;
  l.a.secrets["alice"] = {"s3cret", ""};
  ASSERT_EQ(l.a.open(with(server_params("mschapv2"), {{"mppe", "required"}})), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(with(client_params("mschapv2"), {{"mppe", "refused"}})), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] { return l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN) && l.b.find(PPTPKIT_PPP_EVENT_LINK_DOWN); }));
  const auto* down = l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN);
  EXPECT_EQ(down->values[0], PPTPKIT_PPP_REASON_ENCRYPTION);
  EXPECT_EQ(down->text, "MPPE required but peer negotiation failed");
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_PEER_TERMINATE);
  EXPECT_GE(l.b.stat("protocol_rejects_sent"), 1u);  // the refusing side does not run CCP (pppd's noccp)
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP), nullptr);
}

TEST(ccp, no_key_length_in_common_ends_a_required_session) {
  link_pair l;
  l.a.secrets["alice"] = {"s3cret", ""};
  ASSERT_EQ(l.a.open(with(server_params("mschapv2"), {{"mppe", "required"}, {"mppe_bits", "128"}})), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(with(client_params("mschapv2"), {{"mppe_bits", "40"}})), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] { return l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN) && l.b.find(PPTPKIT_PPP_EVENT_LINK_DOWN); }));
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_ENCRYPTION);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->text, "MPPE required but peer negotiation failed");
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP), nullptr);
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP), nullptr);
}

TEST(ccp, required_mppe_holds_every_packet_back_until_ccp_gives_up) {
  link_pair l;
  l.a.secrets["alice"] = {"s3cret", ""};
  // The client's CCP frames never arrive: IPCP opens, CCP does not.
  l.lose = [](bool a_to_b, const bytes& f) { return !a_to_b && protocol_of(f) == proto_ccp; };
  ASSERT_EQ(l.a.open(with(server_params("mschapv2"), {{"mppe", "required"}})), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(client_params("mschapv2")), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] { return l.a.find_session()->ipcp().is_opened() && l.b.find_session()->ipcp().is_opened(); }));
  ASSERT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN), nullptr);
  ASSERT_FALSE(l.a.find_session()->ccp().mppe_up());
  // While CCP may still agree MPPE, the host is not told the network is up (no interface yet).
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP), nullptr);
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP), nullptr);

  l.a.feed_net(ipv4_datagram(1, 100));
  l.b.feed_net(ipv4_datagram(2, 100));  // optional on its side: goes out in clear...
  l.pump();
  EXPECT_TRUE(l.a.take_net().empty());  // ...and is refused by the side that requires MPPE
  EXPECT_TRUE(l.b.take_net().empty());
  EXPECT_EQ(l.a.stat("drop_mppe_not_up"), 1u);
  EXPECT_EQ(l.a.stat("drop_unencrypted"), 1u);

  // CCP's Max-Configure runs out (RFC 1661 §4.6 TO-): the link ends with REASON_ENCRYPTION.
  ASSERT_TRUE(l.run([&] { return l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN) != nullptr; }));
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_ENCRYPTION);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP), nullptr);  // never reported: no clear-text interface
}

TEST(ccp, authentication_without_keys_and_required_mppe_fails_cleanly) {
  for (const char* auth : {"pap", "chap", "eap"}) {
    SCOPED_TRACE(auth);
    link_pair l;
    l.a.secrets["alice"] = {"s3cret", ""};
    ASSERT_EQ(l.a.open(with(server_params(auth), {{"mppe", "required"}})), PPTPKIT_OK);
    ASSERT_EQ(l.b.open(with(client_params(auth), {{"mppe", "required"}})), PPTPKIT_OK);
    ASSERT_TRUE(l.run([&] { return l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN) && l.b.find(PPTPKIT_PPP_EVENT_LINK_DOWN); }));
    const auto* server_down = l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN);
    const auto* client_down = l.b.find(PPTPKIT_PPP_EVENT_LINK_DOWN);
    // Whichever side noticed first ends it with REASON_ENCRYPTION; the other hears a Terminate.
    EXPECT_TRUE(server_down->values[0] == PPTPKIT_PPP_REASON_ENCRYPTION ||
                client_down->values[0] == PPTPKIT_PPP_REASON_ENCRYPTION);
    for (const auto* d : {server_down, client_down}) {
      EXPECT_NE(d->text.find("MPPE required, but keys are not available"), std::string::npos) << d->text;
    }
    EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP), nullptr);
    EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP), nullptr);
  }
}

TEST(ccp, optional_mppe_without_keys_runs_ccp_and_stays_in_clear) {
  link_pair l;
  l.a.secrets["alice"] = {"s3cret", ""};
  ASSERT_EQ(l.a.open(server_params("chap")), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(client_params("chap")), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] {
    return l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP) && l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP) &&
           l.a.find_session()->ccp().automaton().is_opened() && l.b.find_session()->ccp().automaton().is_opened();
  }));
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP), nullptr);
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP)->values[4], 1400u);
  const bytes d = ipv4_datagram(9, 1400);
  l.b.feed_net(d);
  l.pump();
  const auto got = l.a.take_net();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], d);
}

// ---- scripted peers ----------------------------------------------------------------------------------

bytes control_frame(std::uint16_t proto, std::uint8_t code, std::uint8_t id, const bytes& data) {
  const std::size_t len = data.size() + 4;
  bytes f(8 + data.size());  // sized first: g++-12's -Warray-bounds misreads inserts into a small vector
  f[0] = 0xff;
  f[1] = 0x03;
  f[2] = static_cast<std::uint8_t>(proto >> 8);
  f[3] = static_cast<std::uint8_t>(proto);
  f[4] = code;
  f[5] = id;
  f[6] = static_cast<std::uint8_t>(len >> 8);
  f[7] = static_cast<std::uint8_t>(len);
  std::copy(data.begin(), data.end(), f.begin() + 8);
  return f;
}

struct control {
  std::uint8_t code = 0, id = 0;
  bytes data;
};
std::vector<control> of_protocol(const std::vector<bytes>& frames, std::uint16_t proto) {
  std::vector<control> out;
  for (const auto& f : frames) {
    const auto h = parse_frame_header(f);
    if (h && h->protocol == proto) {
      const auto c = parse_control(std::span<const std::uint8_t>(f).subspan(h->size));
      if (c) {
        out.push_back({c->code, c->id, bytes(c->data.begin(), c->data.end())});
      }
    }
  }
  return out;
}

bytes mppe_option(std::uint32_t bits) {
  return {ccp_option_mppe,
          6,
          static_cast<std::uint8_t>(bits >> 24),
          static_cast<std::uint8_t>(bits >> 16),
          static_cast<std::uint8_t>(bits >> 8),
          static_cast<std::uint8_t>(bits)};
}

// Our server brought to the Network phase by a scripted pppd client (LCP, then MS-CHAPv2 as pppd
// computes it). Returns what the peer needs for MPPE, and leaves our CCP Configure-Request in `ccp_req`.
struct scripted_client {
  pptpkit::testing::test_host host{5};
  endpoint srv{host, "server"};
  mschapv2_key_material keys{};
  control ccp_req;

  explicit scripted_client(const kv& extra = {}) {
    srv.secrets["pppd-user"] = {"pppd-pass", ""};
    EXPECT_EQ(srv.open(with(server_params("mschapv2"), extra)), PPTPKIT_OK);
    const control lcp_req = of_protocol(srv.take_link(), proto_lcp).at(0);
    const bytes pppd_lcp = {0x01, 0x04, 0x05, 0x78, 0x05, 0x06, 0x1a, 0x2b, 0x3c, 0x4d};
    srv.feed_link(control_frame(proto_lcp, configure_request, 1, pppd_lcp));
    srv.feed_link(control_frame(proto_lcp, configure_ack, lcp_req.id, lcp_req.data));
    const control challenge = of_protocol(srv.take_link(), proto_chap).at(0);
    challenge16 auth_challenge;
    std::copy_n(challenge.data.begin() + 1, 16, auth_challenge.begin());
    const challenge16 peer_challenge = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
    const auto nt = mschapv2_nt_response(auth_challenge, peer_challenge, "pppd-user", "pppd-pass");
    bytes resp = {49};
    resp.insert(resp.end(), peer_challenge.begin(), peer_challenge.end());
    resp.insert(resp.end(), 8, 0);
    resp.insert(resp.end(), nt.begin(), nt.end());
    resp.push_back(0);
    const std::string user = "pppd-user";
    resp.insert(resp.end(), user.begin(), user.end());
    srv.feed_link(control_frame(proto_chap, 2, challenge.id, resp));
    srv.drain_events();
    const auto out = srv.take_link();
    EXPECT_EQ(of_protocol(out, proto_chap).at(0).code, 3);  // Success
    const auto ccp = of_protocol(out, proto_ccp);
    EXPECT_EQ(ccp.size(), 1u);
    ccp_req = ccp.empty() ? control{} : ccp[0];
    // IPCP as pppd ends it: our address acked, its own assigned one requested.
    const control ipcp_req = of_protocol(out, proto_ipcp).at(0);
    srv.feed_link(control_frame(proto_ipcp, configure_ack, ipcp_req.id, ipcp_req.data));
    srv.feed_link(control_frame(proto_ipcp, configure_request, 1, {0x03, 0x06, 10, 0, 0, 2}));
    EXPECT_EQ(of_protocol(srv.take_link(), proto_ipcp).at(0).code, configure_ack);
    EXPECT_TRUE(srv.find_session()->ipcp().is_opened());
    keys.password_hash_hash = hash_nt_password_hash(nt_password_hash("pppd-pass"));
    keys.nt_response = nt;
  }
  void feed_ccp(std::uint8_t code, std::uint8_t id, const bytes& data) {
    srv.feed_link(control_frame(proto_ccp, code, id, data));
  }
  std::vector<control> ccp_out() { return of_protocol(srv.take_link(), proto_ccp); }
};

// The peer's end of the tunnel, keyed independently from the MS-CHAPv2 values, moves traffic both ways.
void exchange_traffic(scripted_client& s, mppe_params params) {
  const mppe_start_keys peer = mppe_derive_start_keys(mppe_role::client, s.keys.password_hash_hash, s.keys.nt_response);
  mppe_encryptor tx(peer.send, params);
  mppe_decryptor rx(peer.receive, params);
  s.srv.drain_events();
  ASSERT_NE(s.srv.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP), nullptr);
  for (std::uint32_t i = 0; i < 50; ++i) {
    const bytes d = ipv4_datagram(i, 100 + i * 20);
    frame f(d);
    ASSERT_EQ(tx.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_OK);
    bytes wire = {0xff, 0x03, 0x00, 0xfd};
    const bytes body = f.bytes();
    wire.insert(wire.end(), body.begin(), body.end());
    s.srv.feed_link(wire);
    const auto got = s.srv.take_net();
    ASSERT_EQ(got.size(), 1u) << i;
    EXPECT_EQ(got[0], d);

    s.srv.feed_net(d);
    const auto out = s.srv.take_link();
    ASSERT_EQ(out.size(), 1u);
    const auto h = parse_frame_header(out[0]);
    ASSERT_EQ(h->protocol, ppp_protocol_compressed);
    frame back(bytes(out[0].begin() + h->size, out[0].end()));
    ASSERT_EQ(rx.decrypt(back.p, 0).verdict, mppe_verdict::deliver) << i;
    EXPECT_EQ(back.bytes(), d);
  }
}

TEST(ccp_scripted, pptpd_like_peer_with_mppe_128_stateless_and_deflate_converges) {
  scripted_client s;
  // Ours offers what we allow: "+H -M +S +L -D -C" (mppe_bits defaults to 128,40).
  ASSERT_EQ(s.ccp_req.code, configure_request);
  EXPECT_EQ(s.ccp_req.data, mppe_option(mppe_opt_h | mppe_opt_s | mppe_opt_l));

  // pppd offers Deflate and BSD-Compress beside "mppe +H -M +S -L -D -C": both are Rejected.
  const bytes deflate = {0x1a, 0x04, 0x78, 0x00};
  const bytes bsd = {0x15, 0x03, 0x2f};
  bytes first = deflate;
  first.insert(first.end(), bsd.begin(), bsd.end());
  const bytes mppe128 = mppe_option(mppe_opt_h | mppe_opt_s);
  first.insert(first.end(), mppe128.begin(), mppe128.end());
  s.feed_ccp(configure_request, 1, first);
  auto out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, configure_reject);
  bytes rejected = deflate;
  rejected.insert(rejected.end(), bsd.begin(), bsd.end());
  EXPECT_EQ(out[0].data, rejected);
  EXPECT_EQ(s.srv.stat("ccp_rejected_options"), 2u);

  s.feed_ccp(configure_request, 2, mppe128);
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, configure_ack);
  EXPECT_EQ(out[0].data, mppe128);

  // pppd with require-mppe-128 Naks our 40-bit offer down to +H +S; we ask again with that and it acks.
  s.feed_ccp(configure_nak, s.ccp_req.id, mppe128);
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, configure_request);
  EXPECT_EQ(out[0].data, mppe128);
  s.feed_ccp(configure_ack, out[0].id, mppe128);
  s.srv.drain_events();
  const auto* up = s.srv.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->values[0], 128u);
  EXPECT_EQ(up->values[1], 1u);
  exchange_traffic(s, {mppe_strength::bits_128, true});

  // A Reset-Request is answered with a Reset-Ack of the same identifier (RFC 1962 §5.3-5.4).
  s.feed_ccp(ccp_code_reset_request, 0x42, {});
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, ccp_code_reset_ack);
  EXPECT_EQ(out[0].id, 0x42);
  EXPECT_EQ(s.srv.stat("ccp_reset_requests_received"), 1u);
  // An unknown CCP code is Code-Rejected (RFC 1661 §5.6).
  s.feed_ccp(99, 7, {});
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, code_reject);
}

TEST(ccp_scripted, windows_like_all_bits_offers_converge_on_128_stateless) {
  scripted_client s;
  // Windows offers every strength, stateless, and MPPC (C): "+H +M +S +L -D +C".
  const std::uint32_t all = mppe_opt_h | mppe_opt_m | mppe_opt_s | mppe_opt_l | mppe_opt_c;
  s.feed_ccp(configure_request, 1, mppe_option(all));
  auto out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, configure_nak);  // RFC 3078 §2: one strength, no MPPC
  EXPECT_EQ(out[0].data, mppe_option(mppe_opt_h | mppe_opt_s));
  s.feed_ccp(configure_request, 2, out[0].data);
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, configure_ack);

  // It Naks our offer with all its bits again; we pick the strongest we allow from them.
  s.feed_ccp(configure_nak, s.ccp_req.id, mppe_option(all));
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, configure_request);
  EXPECT_EQ(out[0].data, mppe_option(mppe_opt_h | mppe_opt_s));
  s.feed_ccp(configure_ack, out[0].id, out[0].data);
  s.srv.drain_events();
  const auto* up = s.srv.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->values[0], 128u);
  EXPECT_EQ(up->values[1], 1u);
  exchange_traffic(s, {mppe_strength::bits_128, true});

  // A new Configure-Request takes CCP out of Opened (RFC 1661 §4.1 RCR in Opened): nothing passes in
  // clear meanwhile, and MPPE comes back from the start keys once it reopens.
  s.feed_ccp(configure_request, 3, mppe_option(mppe_opt_h | mppe_opt_s));
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].code, configure_request);
  EXPECT_EQ(out[1].code, configure_ack);
  EXPECT_FALSE(s.srv.find_session()->ccp().mppe_up());
  s.srv.feed_net(ipv4_datagram(77, 100));
  s.srv.feed_link({0xff, 0x03, 0x00, 0x21, 0x45});
  EXPECT_TRUE(s.srv.take_link().empty());
  EXPECT_TRUE(s.srv.take_net().empty());
  EXPECT_EQ(s.srv.stat("drop_mppe_not_up"), 1u);
  EXPECT_EQ(s.srv.stat("drop_unencrypted"), 1u);
  // Our offer starts over from the policy (+H +S +L): Nak'ed to +H +S again, then acked.
  EXPECT_EQ(out[0].data, mppe_option(mppe_opt_h | mppe_opt_s | mppe_opt_l));
  s.feed_ccp(configure_nak, out[0].id, mppe_option(mppe_opt_h | mppe_opt_s));
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  s.feed_ccp(configure_ack, out[0].id, out[0].data);
  EXPECT_TRUE(s.srv.find_session()->ccp().mppe_up());
  exchange_traffic(s, {mppe_strength::bits_128, true});
  EXPECT_EQ(s.srv.stat("mppe_rx_dropped"), 0u);
  EXPECT_EQ(s.srv.stat("drop_mppe_unexpected"), 0u);

  // Renegotiated without MPPE: an encrypted tunnel does not go on in clear (pppd: "MPPE disabled").
  s.feed_ccp(configure_request, 4, {});
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 2u);
  s.feed_ccp(configure_reject, out[0].id, out[0].data);
  out = s.ccp_out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].data.empty());  // we ask for nothing now: CCP would open without MPPE
  s.feed_ccp(configure_ack, out[0].id, out[0].data);
  s.srv.drain_events();
  const auto lcp = of_protocol(s.srv.take_link(), proto_lcp);
  ASSERT_FALSE(lcp.empty());
  EXPECT_EQ(lcp[0].code, terminate_request);
  s.srv.feed_link(control_frame(proto_lcp, terminate_ack, lcp[0].id, {}));
  s.srv.drain_events();
  const auto* down = s.srv.find(PPTPKIT_PPP_EVENT_LINK_DOWN);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->values[0], PPTPKIT_PPP_REASON_ENCRYPTION);
  EXPECT_EQ(down->text, "MPPE disabled: CCP renegotiated without it");
}

TEST(ccp_scripted, a_peer_rejecting_mppe_ends_a_required_session) {
  scripted_client s(kv{{"mppe", "required"}});
  s.feed_ccp(configure_reject, s.ccp_req.id, s.ccp_req.data);
  s.srv.drain_events();
  const auto out = of_protocol(s.srv.take_link(), proto_lcp);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].code, terminate_request);  // RFC 1661 §3.6: the link closes
  s.srv.feed_link(control_frame(proto_lcp, terminate_ack, out[0].id, {}));
  s.srv.drain_events();
  const auto* down = s.srv.find(PPTPKIT_PPP_EVENT_LINK_DOWN);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->values[0], PPTPKIT_PPP_REASON_ENCRYPTION);
  EXPECT_EQ(down->text, "MPPE required but peer negotiation failed");
}

TEST(ccp_scripted, a_protocol_reject_of_ccp_leaves_optional_mppe_in_clear) {
  scripted_client s;
  bytes prej = {0x80, 0xfd};
  prej.insert(prej.end(), {configure_request, s.ccp_req.id, 0x00, 0x0a});
  prej.insert(prej.end(), s.ccp_req.data.begin(), s.ccp_req.data.end());
  s.srv.feed_link(control_frame(proto_lcp, protocol_reject, 3, prej));
  s.srv.drain_events();
  EXPECT_EQ(s.srv.find(PPTPKIT_PPP_EVENT_LINK_DOWN), nullptr);
  EXPECT_FALSE(s.srv.find_session()->ccp().automaton().is_opened());
  EXPECT_EQ(s.srv.find_session()->ccp().automaton().deadline(), UINT64_MAX);  // no more Configure-Requests
}

TEST(ccp_scripted, mppe_frames_before_ccp_opens_are_dropped_and_counted) {
  scripted_client s;
  s.srv.feed_link({0xff, 0x03, 0x00, 0xfd, 0x90, 0x00, 0x12, 0x34});
  EXPECT_TRUE(s.srv.take_net().empty());
  EXPECT_EQ(s.srv.stat("drop_mppe_unexpected"), 1u);
  // A Reset-Request before MPPE is up is discarded and counted (RFC 1962 §5.3: only in Opened).
  s.feed_ccp(ccp_code_reset_request, 1, {});
  EXPECT_TRUE(s.ccp_out().empty());
  EXPECT_EQ(s.srv.stat("ccp_malformed_reset"), 1u);
}

}  // namespace
