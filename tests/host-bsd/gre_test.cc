// Raw GRE and divert(4) logic against the fake system-call layer: lengths from recvfrom, the sender
// address, what goes up and what is re-injected with which address.
#include "pptpkit/host_bsd/gre.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "fake_sys.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/testing/alloc_counter.hpp"

namespace pptpkit::host_bsd {
namespace {

using testing::fake_sys;

constexpr std::uint32_t peer = 0xc6336405;  // 198.51.100.5
constexpr std::uint32_t us = 0xcb007101;    // 203.0.113.1

// An IPv4 header (ihl words) + payload; ip_len is set to `ip_len`, deliberately independent of the size.
std::vector<std::uint8_t> ip_packet(std::uint8_t protocol, const std::vector<std::uint8_t>& payload,
                                    std::uint16_t ip_len, std::uint8_t ihl = 5) {
  std::vector<std::uint8_t> p(ihl * 4u, 0);
  p[0] = static_cast<std::uint8_t>(0x40 | ihl);
  p[2] = static_cast<std::uint8_t>(ip_len >> 8);
  p[3] = static_cast<std::uint8_t>(ip_len);
  p[8] = 64;
  p[9] = protocol;
  for (int i = 0; i < 4; ++i) {
    p[static_cast<std::size_t>(12 + i)] = static_cast<std::uint8_t>(peer >> (24 - 8 * i));
    p[static_cast<std::size_t>(16 + i)] = static_cast<std::uint8_t>(us >> (24 - 8 * i));
  }
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

// Enhanced GRE (RFC 2637 §4.1): K and S set, version 1, protocol 0x880B, payload length, call id, seq.
const std::vector<std::uint8_t> pptp_gre{0x30, 0x81, 0x88, 0x0b, 0, 4, 0x12, 0x34, 0, 0, 0, 1, 0xff, 0x03, 0xc0, 0x21};
const std::vector<std::uint8_t> plain_gre{0x00, 0x00, 0x08, 0x00, 0x45, 0, 0, 20};  // RFC 2784, IPv4 inside

raw_sockaddr sockaddr_for(std::uint32_t address, std::uint16_t port, std::uint8_t marker) {
  raw_sockaddr a;
  a.length = 16;
  a.bytes[0] = 16;
  a.bytes[1] = 2;
  a.bytes[8] = marker;  // sin_zero: FreeBSD's divert puts the interface name here
  a.bytes[9] = 'm';
  a.bytes[10] = '0';
  a.inet = {address, port};
  return a;
}

class gre_path : public ::testing::TestWithParam<const os_constants*> {
 protected:
  const os_constants& c() const { return *GetParam(); }
  fake_sys sys{*GetParam()};
  std::unique_ptr<core::packet_pool> pool = core::packet_pool::create({.packets = 16});
  host_counters counters;
  core::packet_list out;
  void TearDown() override { pool->free_list(out); }
};

TEST_P(gre_path, raw_length_comes_from_recvfrom_never_from_ip_len) {
  const gre_state raw{.mode = capture_mode::raw, .receive_fd = 5, .send_fd = 5};
  // ip_len claims 0x1000 bytes (and once in the other byte order): only what arrived counts.
  sys.inbox(5).push_back({ip_packet(47, pptp_gre, 0x1000), sockaddr_for(peer, 0, 0)});
  sys.inbox(5).push_back({ip_packet(47, pptp_gre, 0x2400), sockaddr_for(peer, 0, 0)});
  ASSERT_EQ(gre_receive(sys, raw, *pool, out, 8, counters).packets, 2u);
  for (auto& p : out) {
    EXPECT_EQ(std::vector<std::uint8_t>(core::bytes(p).begin(), core::bytes(p).end()), pptp_gre);
    EXPECT_EQ(p.aux, peer);
    EXPECT_EQ(p.offset, pool->headroom() + 20);  // the IP header was pulled in place
  }
  EXPECT_EQ(counters.gre_rx_packets, 2u);
}

TEST_P(gre_path, ip_options_are_stripped_by_ip_hl) {
  const gre_state raw{.mode = capture_mode::raw, .receive_fd = 5, .send_fd = 5};
  sys.inbox(5).push_back({ip_packet(47, pptp_gre, 0, 6), sockaddr_for(peer, 0, 0)});
  ASSERT_EQ(gre_receive(sys, raw, *pool, out, 8, counters).packets, 1u);
  EXPECT_EQ(out.front().length, pptp_gre.size());
}

TEST_P(gre_path, malformed_headers_are_counted_drops) {
  const gre_state raw{.mode = capture_mode::raw, .receive_fd = 5, .send_fd = 5};
  auto v6 = ip_packet(47, pptp_gre, 0);
  v6[0] = 0x65;
  auto long_ihl = ip_packet(47, {}, 0);
  long_ihl[0] = 0x4f;  // 60-byte header in a 20-byte datagram
  sys.inbox(5).push_back({{0x45, 0, 0}});
  sys.inbox(5).push_back({v6});
  sys.inbox(5).push_back({long_ihl});
  sys.inbox(5).push_back({ip_packet(47, plain_gre, 0)});     // valid IP, not PPTP's GRE
  sys.inbox(5).push_back({ip_packet(47, {0x30, 0x81}, 0)});  // truncated GRE
  sys.inbox(5).push_back({ip_packet(47, pptp_gre, 0)});
  EXPECT_EQ(gre_receive(sys, raw, *pool, out, 8, counters).packets, 1u);
  EXPECT_EQ(counters.gre_rx_bad_ip_header, 3u);
  EXPECT_EQ(counters.gre_rx_not_pptp, 2u);
  EXPECT_TRUE(sys.sends.empty());  // a raw socket never re-injects
  EXPECT_EQ(pool->available(), pool->capacity() - 1);
}

TEST_P(gre_path, divert_delivers_pptp_gre_with_the_ip_source_not_the_sockaddr) {
  const gre_state divert{.mode = capture_mode::divert, .receive_fd = 6, .send_fd = 5};
  // On a divert socket the sockaddr names our interface's address, not the sender.
  sys.inbox(6).push_back({ip_packet(47, pptp_gre, 0), sockaddr_for(us, 1723, 'e')});
  ASSERT_EQ(gre_receive(sys, divert, *pool, out, 8, counters).packets, 1u);
  EXPECT_EQ(out.front().aux, peer);
  EXPECT_TRUE(sys.sends.empty());
}

TEST_P(gre_path, divert_reinjects_everything_else_unchanged_with_the_address_it_came_with) {
  const gre_state divert{.mode = capture_mode::divert, .receive_fd = 6, .send_fd = 5};
  const auto tcp = ip_packet(6, {0x06, 0xbb, 0xc4, 0x01, 0, 0, 0, 1}, 0x1c00);
  const auto other_gre = ip_packet(47, plain_gre, 0);
  const auto outbound = sockaddr_for(0, 1723, 0);  // INADDR_ANY: it was on its way out
  const auto inbound = sockaddr_for(us, 1723, 'e');
  sys.inbox(6).push_back({tcp, inbound});
  sys.inbox(6).push_back({other_gre, outbound});
  sys.inbox(6).push_back({{0x45, 0, 0}, inbound});  // malformed: the kernel decides
  EXPECT_EQ(gre_receive(sys, divert, *pool, out, 8, counters).packets, 0u);
  ASSERT_EQ(sys.sends.size(), 3u);
  EXPECT_EQ(sys.sends[0].fd, 6);
  EXPECT_EQ(sys.sends[0].bytes, tcp);  // whole packet, IP header included
  EXPECT_EQ(*sys.sends[0].to, inbound);
  EXPECT_EQ(sys.sends[1].bytes, other_gre);
  EXPECT_EQ(*sys.sends[1].to, outbound);
  EXPECT_EQ(*sys.sends[2].to, inbound);
  EXPECT_EQ(counters.divert_reinjected, 3u);
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST_P(gre_path, a_failed_reinjection_is_counted_and_reading_goes_on) {
  const gre_state divert{.mode = capture_mode::divert, .receive_fd = 6, .send_fd = 5};
  sys.inbox(6).push_back({ip_packet(6, {1, 2, 3, 4}, 0), sockaddr_for(us, 1, 0)});
  sys.inbox(6).push_back({ip_packet(47, pptp_gre, 0), sockaddr_for(us, 1, 0)});
  sys.fail("sendto", c().ebusy, 6);
  EXPECT_EQ(gre_receive(sys, divert, *pool, out, 8, counters).packets, 1u);
  EXPECT_EQ(counters.divert_reinject_error, 1u);
}

TEST_P(gre_path, a_datagram_longer_than_the_buffer_is_dropped_not_cut_short) {
  // A divert socket hands over whole reassembled packets (up to 64 KiB); re-injecting or passing up a
  // truncated one would corrupt it.
  const gre_state divert{.mode = capture_mode::divert, .receive_fd = 6, .send_fd = 5};
  const std::vector<std::uint8_t> big_payload(pool->buffer_size(), 0xab);
  sys.inbox(6).push_back({ip_packet(6, big_payload, 0), sockaddr_for(us, 1723, 'e')});
  sys.inbox(6).push_back({ip_packet(47, pptp_gre, 0), sockaddr_for(us, 1723, 'e')});
  EXPECT_EQ(gre_receive(sys, divert, *pool, out, 8, counters).packets, 1u);
  EXPECT_EQ(counters.gre_rx_truncated, 1u);
  EXPECT_TRUE(sys.sends.empty());
  EXPECT_EQ(counters.divert_reinjected, 0u);
}

TEST_P(gre_path, receive_errors_are_counted_would_block_is_not) {
  const gre_state raw{.mode = capture_mode::raw, .receive_fd = 5, .send_fd = 5};
  EXPECT_EQ(gre_receive(sys, raw, *pool, out, 8, counters).packets, 0u);
  EXPECT_EQ(counters.gre_rx_error, 0u);
  sys.fail("recvfrom", c().ebusy, 5);
  EXPECT_EQ(gre_receive(sys, raw, *pool, out, 8, counters).packets, 0u);
  EXPECT_EQ(counters.gre_rx_error, 1u);
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST_P(gre_path, send_goes_to_the_aux_address_from_the_pool_buffer_and_frees) {
  const gre_state divert{.mode = capture_mode::divert, .receive_fd = 6, .send_fd = 5};
  pptpkit_packet* a = pool->alloc();
  std::memcpy(core::put(*a, pptp_gre.size()), pptp_gre.data(), pptp_gre.size());
  a->aux = peer;
  pptpkit_packet* b = pool->alloc();
  core::put(*b, 8);
  b->aux = peer + 1;
  core::packet_list in;
  in.push_back(*a);
  in.push_back(*b);
  sys.fail("sendto", c().ebusy, 5);  // the first send fails
  EXPECT_EQ(gre_send(sys, divert, in, counters), 1u);
  ASSERT_EQ(sys.sends.size(), 1u);
  EXPECT_EQ(sys.sends[0].fd, 5);  // the raw socket, never the divert one
  EXPECT_EQ(sys.sends[0].to_inet->address, peer + 1);
  EXPECT_EQ(sys.sends[0].data, core::data(*b));
  EXPECT_EQ(counters.gre_tx_error, 1u);
  EXPECT_EQ(pool->available(), pool->capacity());
}

// Row 14 of issue 14: with no free packet the socket is not read; the datagram stays queued (the
// descriptor stays readable) and the result says pool_empty rather than "nothing there".
TEST_P(gre_path, an_empty_pool_leaves_the_datagram_queued_and_says_so) {
  const gre_state raw{.mode = capture_mode::raw, .receive_fd = 5, .send_fd = 5};
  sys.inbox(5).push_back({ip_packet(47, pptp_gre, 0), sockaddr_for(peer, 0, 0)});
  std::vector<pptpkit_packet*> taken(pool->capacity());
  ASSERT_EQ(pool->alloc_bulk(taken), pool->capacity());
  const runtime::batch_result r = gre_receive(sys, raw, *pool, out, 8, counters);
  EXPECT_EQ(r.packets, 0u);
  EXPECT_EQ(r.status, runtime::batch_status::pool_empty);
  EXPECT_EQ(sys.inbox(5).size(), 1u);
  EXPECT_EQ(counters.rx_pool_exhausted, 1u);
  pool->free_bulk(taken);
  const runtime::batch_result again = gre_receive(sys, raw, *pool, out, 8, counters);
  EXPECT_EQ(again.packets, 1u);
  EXPECT_EQ(again.status, runtime::batch_status::ok);
  pool->free_list(out);
}

TEST_P(gre_path, data_path_does_not_allocate) {
  sys.record_payloads = false;
  const gre_state raw{.mode = capture_mode::raw, .receive_fd = 5, .send_fd = 5};
  for (int i = 0; i < 8; ++i) {
    sys.inbox(5).push_back({ip_packet(47, pptp_gre, 0), sockaddr_for(peer, 0, 0)});
  }
  pptpkit::testing::allocation_scope scope;
  EXPECT_EQ(gre_receive(sys, raw, *pool, out, 8, counters).packets, 8u);
  EXPECT_EQ(gre_send(sys, raw, out, counters), 8u);
  EXPECT_EQ(scope.allocations(), 0u);
}

INSTANTIATE_TEST_SUITE_P(bsd, gre_path, ::testing::Values(&freebsd, &openbsd),
                         [](const auto& p) { return p.param->kind == os_kind::freebsd ? "freebsd" : "openbsd"; });

// ---------------------------------------------------------------- opening

TEST(divert_open, freebsd_tries_pf_divert_first_then_falls_back_to_ipproto_divert) {
  fake_sys sys(freebsd);
  sys.fail("socket", freebsd.eafnosupport, freebsd.pf_divert);  // a FreeBSD 13 kernel
  std::string error;
  const fd_t fd = divert_open(sys, 8668, error);
  ASSERT_GE(fd, 0) << error;
  ASSERT_EQ(sys.sockets.size(), 2u);
  EXPECT_EQ(sys.sockets[0].domain, 44);
  EXPECT_EQ(sys.sockets[0].type, freebsd.sock_raw);
  EXPECT_EQ(sys.sockets[1].domain, freebsd.af_inet);
  EXPECT_EQ(sys.sockets[1].protocol, 258);
  ASSERT_EQ(sys.binds.size(), 1u);
  EXPECT_EQ(sys.binds[0].second, (inet_address{0, 8668}));
  EXPECT_NE(sys.fd_flags[fd] & freebsd.o_nonblock, 0);
}

TEST(divert_open, freebsd_14_keeps_pf_divert) {
  fake_sys sys(freebsd);
  std::string error;
  ASSERT_GE(divert_open(sys, 1723, error), 0) << error;
  ASSERT_EQ(sys.sockets.size(), 1u);
  EXPECT_EQ(sys.sockets[0].domain, freebsd.pf_divert);
}

TEST(divert_open, openbsd_uses_ipproto_divert_only) {
  fake_sys sys(openbsd);
  std::string error;
  ASSERT_GE(divert_open(sys, 700, error), 0) << error;
  ASSERT_EQ(sys.sockets.size(), 1u);
  EXPECT_EQ(sys.sockets[0].domain, openbsd.af_inet);
  EXPECT_EQ(sys.sockets[0].protocol, openbsd.ipproto_divert);
}

TEST(divert_open, other_errors_do_not_fall_back_and_bind_errors_close) {
  fake_sys sys(freebsd);
  sys.fail("socket", 1, freebsd.pf_divert);  // EPERM: falling back would not help
  std::string error;
  EXPECT_EQ(divert_open(sys, 1723, error), -1);
  EXPECT_EQ(error, "divert socket: error 1");
  EXPECT_EQ(sys.sockets.size(), 1u);

  fake_sys sys2(freebsd);
  sys2.fail("bind", 48, 10);
  EXPECT_EQ(divert_open(sys2, 1723, error), -1);
  EXPECT_EQ(error, "divert socket: bind port 1723: error 48");
  EXPECT_TRUE(sys2.is_closed(10));
}

TEST(gre_open, divert_mode_receives_on_divert_and_sends_on_a_read_shut_raw_socket) {
  fake_sys sys(freebsd);
  gre_state state;
  std::string error;
  ASSERT_TRUE(gre_open(sys, us, {.mode = capture_mode::divert, .divert_port = 9000}, state, error)) << error;
  EXPECT_EQ(sys.sockets[0].protocol, freebsd.ipproto_gre);
  EXPECT_EQ(state.send_fd, 10);
  EXPECT_EQ(state.receive_fd, 11);
  ASSERT_EQ(sys.shutdowns.size(), 1u);
  EXPECT_EQ(sys.shutdowns[0], std::make_pair(10, freebsd.shut_rd));
  EXPECT_EQ(sys.binds[0].second, (inet_address{us, 0}));
  EXPECT_EQ(sys.binds[1].second, (inet_address{0, 9000}));
  gre_close(sys, state);
  EXPECT_TRUE(sys.is_closed(10));
  EXPECT_TRUE(sys.is_closed(11));
}

TEST(gre_open, raw_mode_uses_one_socket) {
  fake_sys sys(openbsd);
  gre_state state;
  std::string error;
  ASSERT_TRUE(gre_open(sys, 0, {}, state, error)) << error;
  EXPECT_EQ(state.receive_fd, state.send_fd);
  EXPECT_TRUE(sys.binds.empty());  // 0.0.0.0: no bind
  EXPECT_TRUE(sys.shutdowns.empty());
}

TEST(capture_option, parses_raw_divert_and_divert_port) {
  capture_options o;
  std::string error;
  EXPECT_TRUE(parse_capture("raw", o, error));
  EXPECT_EQ(o.mode, capture_mode::raw);
  EXPECT_TRUE(parse_capture("divert", o, error));
  EXPECT_EQ(o.mode, capture_mode::divert);
  EXPECT_EQ(o.divert_port, 1723);
  EXPECT_TRUE(parse_capture("divert:8668", o, error));
  EXPECT_EQ(o.divert_port, 8668);
  for (const char* bad : {"", "divert:", "divert:0", "divert:65536", "divert:12x", "pcap"}) {
    EXPECT_FALSE(parse_capture(bad, o, error)) << bad;
    EXPECT_NE(error.find("expected raw, divert or divert:PORT"), std::string::npos);
  }
}

}  // namespace
}  // namespace pptpkit::host_bsd
