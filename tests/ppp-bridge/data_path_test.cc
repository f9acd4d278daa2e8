// The data path: IP packet -> PPP frame -> IP packet in place, without heap allocation.
#include <gtest/gtest.h>

#include <cstring>

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

// The same path with MPPE: encrypted and decrypted in place (header in headroom), still no allocation.
class mppe_data_path : public ::testing::TestWithParam<bool> {};

TEST_P(mppe_data_path, encrypted_ip_to_ppp_to_ip_allocates_nothing_and_copies_nothing) {
  const bool stateful = GetParam();
  link_pair l;
  l.a.secrets["alice"] = {"s3cret", ""};
  auto sp = server_params("mschapv2");
  auto cp = client_params("mschapv2");
  sp.push_back({"mppe_stateful", stateful ? "1" : "0"});
  cp.push_back({"mppe_stateful", stateful ? "1" : "0"});
  ASSERT_EQ(l.a.open(sp), PPTPKIT_OK);
  ASSERT_EQ(l.b.open(cp), PPTPKIT_OK);
  ASSERT_TRUE(l.run([&] {
    return l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP) && l.b.find(PPTPKIT_PPP_EVENT_IPV4_UP) &&
           l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP) && l.b.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP);
  }));
  ASSERT_EQ(l.a.find(PPTPKIT_PPP_EVENT_ENCRYPTION_UP)->values[1], stateful ? 0u : 1u);
  const auto& ca = l.b.ops();
  const auto& sa = l.a.ops();
  pptpkit::testing::allocation_scope scope;
  for (int i = 0; i < 1000; ++i) {
    pptpkit_packet* p = l.host.pool().alloc();
    ASSERT_NE(p, nullptr);
    std::uint8_t* d = pptpkit::core::put(*p, 1396);
    std::memset(d, 0, 20);
    d[0] = 0x45;  // a well-formed IPv4 header: MPPE delivers nothing else
    d[2] = 1396 >> 8;
    d[3] = 1396 & 0xff;
    d[4] = static_cast<std::uint8_t>(i >> 8);
    d[5] = static_cast<std::uint8_t>(i);
    std::uint32_t sum = 0;
    for (int k = 0; k < 20; k += 2) {
      sum += static_cast<std::uint32_t>((d[k] << 8) | d[k + 1]);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    d[10] = static_cast<std::uint8_t>(~sum >> 8);
    d[11] = static_cast<std::uint8_t>(~sum);
    d[1395] = static_cast<std::uint8_t>(i);
    std::uint8_t header[20];
    std::memcpy(header, d, sizeof header);
    p->channel = 1;
    const std::uint8_t* payload = d;
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    b.head = b.tail = &p->link;
    b.count = 1;
    ASSERT_EQ(ca.feed(l.b.instance(), PPTPKIT_PPP_PORT_NET, &b, l.host.now), PPTPKIT_OK);
    ASSERT_EQ(ca.poll(l.b.instance(), PPTPKIT_PPP_PORT_LINK, &b, PPTPKIT_BATCH_MAX, l.host.now), 1);
    ASSERT_EQ(PPTPKIT_PACKET_OF(b.head), p);  // the same buffer, MPPE and PPP headers pushed in place
    ASSERT_EQ(p->length, 1396u + 4u + 1u);    // MPPE header + protocol 0x0021, PFC'd 0xFD
    ASSERT_NE(std::memcmp(pptpkit::core::data(*p) + 5, header, sizeof header), 0);  // encrypted
    ASSERT_EQ(sa.feed(l.a.instance(), PPTPKIT_PPP_PORT_LINK, &b, l.host.now), PPTPKIT_OK);
    ASSERT_EQ(sa.poll(l.a.instance(), PPTPKIT_PPP_PORT_NET, &b, PPTPKIT_BATCH_MAX, l.host.now), 1);
    ASSERT_EQ(PPTPKIT_PACKET_OF(b.head), p);
    ASSERT_EQ(pptpkit::core::data(*p), payload);  // decrypted in place: the payload never moved
    ASSERT_EQ(p->length, 1396u);
    ASSERT_EQ(std::memcmp(d, header, sizeof header), 0);
    ASSERT_EQ(d[1395], static_cast<std::uint8_t>(i));
    l.host.pool().free(p);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(l.a.stat("mppe_rx_delivered"), 1000u);
}

INSTANTIATE_TEST_SUITE_P(ppp, mppe_data_path, ::testing::Bool(),
                         [](const auto& param_info) { return param_info.param ? "stateful" : "stateless"; });

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
