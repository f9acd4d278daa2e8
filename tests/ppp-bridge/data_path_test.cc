// The data path: IP packet -> PPP frame -> IP packet in place, without heap allocation.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/testing/alloc_counter.hpp"

namespace {

using namespace pptpkit::ppp;
using namespace pptpkit::ppp::testing;

TEST(data_path, ip_to_ppp_to_ip_allocates_nothing_and_copies_nothing) {
  link_pair l;
  l.a.secrets["alice"] = {"s3cret", ""};
  auto sp = server_params("mschapv2");
  sp.push_back({"mppe", "refused"});  // plain PPP; the MPPE data path is in ccp_test.cc
  ASSERT_EQ(l.a.open(sp), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(client_params("mschapv2")), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] {
    return l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP) && l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP) &&
           l.a.find(PPTPKIT_PPP_EVENT_IPV6_UP) && l.b.find(PPTPKIT_PPP_EVENT_IPV6_UP);
  }));
  const auto& ca = l.b.ops();
  const auto& sa = l.a.ops();
  pptpkit::testing::allocation_scope scope;
  for (int i = 0; i < 1000; ++i) {
    pptpkit_packet* p = l.host.pool().alloc();
    ASSERT_NE(p, nullptr);
    std::uint8_t* d = pptpkit::core::put(*p, 1396);
    d[0] = 0x45;
    d[1395] = static_cast<std::uint8_t>(i);
    p->channel = 1;
    const std::uint8_t* payload = d;
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    b.head = b.tail = &p->link;
    b.count = 1;
    ASSERT_EQ(ca.feed(l.b.instance(), PPTPKIT_PPP_PORT_NET, &b, l.host.now), PPTPKIT_OK);
    ASSERT_EQ(ca.poll(l.b.instance(), PPTPKIT_PPP_PORT_LINK, &b, PPTPKIT_BATCH_MAX, l.host.now), 1);
    ASSERT_EQ(PPTPKIT_PACKET_OF(b.head), p);  // the same buffer, header pushed in place
    ASSERT_EQ(p->length, 1397u);              // PFC + ACFC agreed: one octet of header
    ASSERT_EQ(sa.feed(l.a.instance(), PPTPKIT_PPP_PORT_LINK, &b, l.host.now), PPTPKIT_OK);
    ASSERT_EQ(sa.poll(l.a.instance(), PPTPKIT_PPP_PORT_NET, &b, PPTPKIT_BATCH_MAX, l.host.now), 1);
    ASSERT_EQ(PPTPKIT_PACKET_OF(b.head), p);
    ASSERT_EQ(pptpkit::core::data(*p), payload);  // pulled back: the payload never moved
    ASSERT_EQ(p->length, 1396u);
    l.host.pool().free(p);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(l.a.stat("rx_ip_packets"), 1000u);
}

TEST(data_path, packets_over_the_peer_mru_are_dropped_and_counted) {
  link_pair l;
  l.a.secrets["alice"] = {"s3cret", ""};
  ASSERT_EQ(l.a.open(server_params("chap")), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(client_params("chap")), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] { return l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP) != nullptr; }));
  l.b.feed_net(ipv4_packet(1401));
  EXPECT_TRUE(l.b.take_link().empty());
  EXPECT_EQ(l.b.stat("drop_too_big"), 1u);
}

}  // namespace

namespace {

using namespace pptpkit::ppp::testing;

TEST(data_path, mtu_inside_a_required_mppe_tunnel_is_the_mru_less_four) {
  link_pair l;
  l.a.secrets["alice"] = {"s3cret", ""};
  auto sp = server_params("mschapv2");
  sp.push_back({"mppe", "required"});
  ASSERT_EQ(l.a.open(sp), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(client_params("mschapv2")), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] { return l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP) && l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP); }));
  EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP)->values[4], 1396u);  // client's MRU 1400 - MPPE 4
  EXPECT_EQ(l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP)->values[4], 1396u);  // optional, with MS-CHAPv2 keys: too
}

}  // namespace
