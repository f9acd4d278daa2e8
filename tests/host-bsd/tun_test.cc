// tun(4) logic against the fake system-call layer: the address-family header, opening and configuring.
#include "pptpkit/host_bsd/tun.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "fake_sys.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/testing/alloc_counter.hpp"

namespace pptpkit::host_bsd {
namespace {

using testing::fake_sys;

std::vector<std::uint8_t> frame(std::uint32_t family, const std::vector<std::uint8_t>& ip) {
  std::vector<std::uint8_t> f(4 + ip.size());
  for (std::size_t i = 0; i < 4; ++i) {
    f[i] = static_cast<std::uint8_t>(family >> (24 - 8 * i));
  }
  std::copy(ip.begin(), ip.end(), f.begin() + 4);
  return f;
}

const std::vector<std::uint8_t> ipv4_packet{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
const std::vector<std::uint8_t> ipv6_packet{0x60, 0, 0, 0, 0, 0, 58, 64};

class tun_data_path : public ::testing::TestWithParam<const os_constants*> {
 protected:
  const os_constants& c() const { return *GetParam(); }
  fake_sys sys{*GetParam()};
  std::unique_ptr<core::packet_pool> pool = core::packet_pool::create({.packets = 16});
  host_counters counters;
  core::packet_list out;
  void TearDown() override { pool->free_list(out); }
};

TEST_P(tun_data_path, read_pulls_the_af_header_in_place_and_flags_ipv6) {
  sys.inbox(7).push_back({frame(c().af_inet, ipv4_packet)});
  sys.inbox(7).push_back({frame(c().af_inet6, ipv6_packet)});
  ASSERT_EQ(tun_read(sys, 7, *pool, out, 8, counters).packets, 2u);
  pptpkit_packet& v4 = out.front();
  // The frame was read at the pool's headroom; the header was pulled, not copied away.
  EXPECT_EQ(v4.offset, pool->headroom() + tun_af_header_size);
  EXPECT_EQ(std::vector<std::uint8_t>(core::bytes(v4).begin(), core::bytes(v4).end()), ipv4_packet);
  EXPECT_EQ(v4.flags & PPTPKIT_PACKET_F_IPV6, 0u);
  pptpkit_packet& v6 = out.back();
  EXPECT_EQ(std::vector<std::uint8_t>(core::bytes(v6).begin(), core::bytes(v6).end()), ipv6_packet);
  EXPECT_NE(v6.flags & PPTPKIT_PACKET_F_IPV6, 0u);
  EXPECT_EQ(counters.tun_rx_packets, 2u);
}

TEST_P(tun_data_path, runts_and_unknown_families_are_counted_drops_and_reading_goes_on) {
  sys.inbox(7).push_back({{0, 0, 2}});                         // shorter than the header
  sys.inbox(7).push_back({frame(17, ipv4_packet)});            // AF_ROUTE: not an IP family
  sys.inbox(7).push_back({frame(c().af_inet6 == 28 ? 24 : 28,  // the *other* BSD's AF_INET6
                                ipv6_packet)});
  sys.inbox(7).push_back({frame(c().af_inet, ipv4_packet)});
  EXPECT_EQ(tun_read(sys, 7, *pool, out, 8, counters).packets, 1u);
  EXPECT_EQ(counters.tun_rx_runt, 1u);
  EXPECT_EQ(counters.tun_rx_bad_family, 2u);
  EXPECT_EQ(pool->available(), pool->capacity() - 1);  // every dropped packet went back
}

TEST_P(tun_data_path, read_stops_at_max_and_on_would_block_without_losing_packets) {
  for (int i = 0; i < 3; ++i) {
    sys.inbox(7).push_back({frame(c().af_inet, ipv4_packet)});
  }
  EXPECT_EQ(tun_read(sys, 7, *pool, out, 2, counters).packets, 2u);
  EXPECT_EQ(tun_read(sys, 7, *pool, out, 8, counters).packets, 1u);
  EXPECT_EQ(tun_read(sys, 7, *pool, out, 8, counters).packets, 0u);
  EXPECT_EQ(counters.tun_rx_error, 0u);
  EXPECT_EQ(pool->available(), pool->capacity() - 3);
}

TEST_P(tun_data_path, an_exhausted_pool_is_counted_and_leaves_the_frame_in_the_kernel) {
  auto small = core::packet_pool::create({.packets = 1});
  sys.inbox(7).push_back({frame(c().af_inet, ipv4_packet)});
  sys.inbox(7).push_back({frame(c().af_inet, ipv4_packet)});
  const runtime::batch_result r = tun_read(sys, 7, *small, out, 8, counters);
  EXPECT_EQ(r.packets, 1u);
  EXPECT_EQ(r.status, runtime::batch_status::pool_empty);  // not an error: the frame waits in the kernel
  EXPECT_EQ(counters.rx_pool_exhausted, 1u);
  EXPECT_EQ(sys.inbox(7).size(), 1u);
  EXPECT_EQ(tun_read(sys, 7, *small, out, 8, counters).status, runtime::batch_status::pool_empty);
  EXPECT_EQ(sys.inbox(7).size(), 1u);
  small->free_list(out);
}

// Row 7 of issue 14: a tun whose device is gone fails every read, and kqueue keeps reporting it. Such a
// read is `failed` — the session is over — while EAGAIN, EINTR and ENOBUFS only end this batch.
TEST_P(tun_data_path, a_vanished_device_fails_reads_and_writes_and_transient_errors_do_not) {
  sys.fail("read", c().eagain, 7);
  EXPECT_EQ(tun_read(sys, 7, *pool, out, 8, counters).status, runtime::batch_status::ok);
  sys.fail("read", c().enobufs, 7);
  EXPECT_EQ(tun_read(sys, 7, *pool, out, 8, counters).status, runtime::batch_status::ok);
  sys.fail("read", c().eintr, 7);  // retried at once
  sys.inbox(7).push_back({frame(c().af_inet, ipv4_packet)});
  EXPECT_EQ(tun_read(sys, 7, *pool, out, 8, counters).packets, 1u);
  pool->free_list(out);

  sys.fail("read", c().enxio, 7);
  const runtime::batch_result r = tun_read(sys, 7, *pool, out, 8, counters);
  EXPECT_EQ(r.status, runtime::batch_status::failed);
  EXPECT_EQ(r.error, "tun read: error 6");
  EXPECT_EQ(pool->available(), pool->capacity());

  core::packet_list in;
  for (int i = 0; i < 3; ++i) {
    pptpkit_packet* p = pool->alloc();
    std::memcpy(core::put(*p, 20), ipv4_packet.data(), 20);
    in.push_back(*p);
  }
  sys.fail("write", c().enxio, 7);
  const runtime::batch_result w = tun_write(sys, 7, in, counters);
  EXPECT_EQ(w.status, runtime::batch_status::failed);
  EXPECT_EQ(w.packets, 0u);
  EXPECT_TRUE(sys.writes.empty());  // the rest was dropped without trying again
  EXPECT_EQ(counters.tun_tx_error, 3u);
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST_P(tun_data_path, write_pushes_the_family_into_the_headroom_without_copying) {
  pptpkit_packet* v4 = pool->alloc();
  std::memcpy(core::put(*v4, 20), ipv4_packet.data(), 20);
  const std::uint8_t* ip_start = core::data(*v4);
  pptpkit_packet* v6 = pool->alloc();
  std::memcpy(core::put(*v6, 8), ipv6_packet.data(), 8);
  v6->flags = PPTPKIT_PACKET_F_IPV6;
  core::packet_list in;
  in.push_back(*v4);
  in.push_back(*v6);
  EXPECT_EQ(tun_write(sys, 7, in, counters).packets, 2u);
  EXPECT_TRUE(in.empty());
  ASSERT_EQ(sys.writes.size(), 2u);
  EXPECT_EQ(sys.writes[0].bytes, frame(c().af_inet, ipv4_packet));
  EXPECT_EQ(sys.writes[0].data, ip_start - 4);  // the kernel got the pool buffer itself
  EXPECT_EQ(sys.writes[1].bytes, frame(c().af_inet6, ipv6_packet));
  EXPECT_EQ(pool->available(), pool->capacity());  // written packets are freed
  EXPECT_EQ(counters.tun_tx_packets, 2u);
}

TEST_P(tun_data_path, write_without_headroom_or_with_an_error_drops_and_counts) {
  pptpkit_packet* full = pool->alloc();
  core::push(*full, full->offset);  // no headroom left
  pptpkit_packet* fails = pool->alloc();
  core::put(*fails, 20);
  core::packet_list in;
  in.push_back(*full);
  in.push_back(*fails);
  sys.fail("write", 55, 7);
  EXPECT_EQ(tun_write(sys, 7, in, counters).packets, 0u);
  EXPECT_EQ(counters.tun_tx_no_headroom, 1u);
  EXPECT_EQ(counters.tun_tx_error, 1u);
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST_P(tun_data_path, data_path_does_not_allocate) {
  sys.record_payloads = false;
  for (int i = 0; i < 8; ++i) {
    sys.inbox(7).push_back({frame(c().af_inet, ipv4_packet)});
  }
  pptpkit::testing::allocation_scope scope;
  EXPECT_EQ(tun_read(sys, 7, *pool, out, 8, counters).packets, 8u);
  EXPECT_EQ(tun_write(sys, 7, out, counters).packets, 8u);
  EXPECT_EQ(scope.allocations(), 0u);
}

INSTANTIATE_TEST_SUITE_P(bsd, tun_data_path, ::testing::Values(&freebsd, &openbsd),
                         [](const auto& p) { return p.param->kind == os_kind::freebsd ? "freebsd" : "openbsd"; });

// ---------------------------------------------------------------- open and configure

TEST(tun_open_freebsd, clones_sets_ifhead_mode_renames_mtu_address_and_up) {
  fake_sys sys(freebsd);
  sys.tun_name = "tun3";
  tun_state state;
  std::string error;
  const fd_t fd = tun_open(sys, {.name = "pptp0", .mtu = 1396, .local = 0x0a000001, .peer = 0x0a000064}, state, error);
  ASSERT_GE(fd, 0) << error;
  EXPECT_EQ(sys.opened, std::vector<std::string>{"/dev/tun"});
  EXPECT_EQ(state.name, "pptp0");
  EXPECT_TRUE(state.cloned);
  ASSERT_EQ(sys.ioctls.size(), 8u);
  EXPECT_EQ(sys.ioctls[0].request, freebsd.tungifname);
  EXPECT_EQ(sys.ioctls[1].request, freebsd.tunsifhead);
  EXPECT_EQ(sys.ioctls[1].int_value, 1);
  EXPECT_EQ(sys.ioctls[2].request, freebsd.tunsifmode);
  EXPECT_EQ(sys.ioctls[2].int_value, freebsd.iff_pointopoint | freebsd.iff_multicast);
  EXPECT_EQ(sys.ioctls[3].request, freebsd.siocsifname);
  EXPECT_EQ(sys.ioctls[3].ifreq->name, "tun3");
  EXPECT_EQ(sys.ioctls[3].ifreq->new_name, "pptp0");
  EXPECT_EQ(sys.ioctls[4].request, freebsd.siocsifmtu);
  EXPECT_EQ(sys.ioctls[4].ifreq->name, "pptp0");
  EXPECT_EQ(sys.ioctls[4].ifreq->value, 1396);
  EXPECT_EQ(sys.ioctls[5].request, freebsd.siocaifaddr);
  EXPECT_EQ(sys.ioctls[5].alias->local, 0x0a000001u);
  EXPECT_EQ(sys.ioctls[5].alias->peer, 0x0a000064u);
  EXPECT_EQ(sys.ioctls[5].alias->mask, 0xffffffffu);
  EXPECT_EQ(sys.ioctls[6].request, freebsd.siocgifflags);
  EXPECT_EQ(sys.ioctls[7].request, freebsd.siocsifflags);
  EXPECT_EQ(sys.ioctls[7].ifreq->value & freebsd.iff_up, freebsd.iff_up);
  EXPECT_NE(sys.fd_flags[fd] & freebsd.o_nonblock, 0);
}

TEST(tun_open_freebsd, a_named_unit_is_opened_directly_and_not_renamed) {
  fake_sys sys(freebsd);
  tun_state state;
  std::string error;
  ASSERT_GE(tun_open(sys, {.name = "tun7"}, state, error), 0) << error;
  EXPECT_EQ(sys.opened, std::vector<std::string>{"/dev/tun7"});
  EXPECT_EQ(state.name, "tun7");
  EXPECT_FALSE(state.cloned);
  for (const auto& i : sys.ioctls) {
    EXPECT_NE(i.request, freebsd.siocsifname);
    EXPECT_NE(i.request, freebsd.tungifname);
  }
}

TEST(tun_open_freebsd, a_failed_rename_closes_and_destroys_the_cloned_interface) {
  fake_sys sys(freebsd);
  sys.fail("ioctl", freebsd.eexist, static_cast<std::int64_t>(freebsd.siocsifname));
  tun_state state;
  std::string error;
  EXPECT_EQ(tun_open(sys, {.name = "pptp0"}, state, error), -1);
  EXPECT_EQ(error, "tun0: rename to pptp0: error 17");
  EXPECT_TRUE(sys.is_closed(10));
  EXPECT_EQ(sys.ioctls.back().request, freebsd.siocifdestroy);
  EXPECT_EQ(sys.ioctls.back().ifreq->name, "tun0");
}

TEST(tun_open_freebsd, open_failure_names_the_device) {
  fake_sys sys(freebsd);
  sys.fail_open("/dev/tun", freebsd.enoent);
  tun_state state;
  std::string error;
  EXPECT_EQ(tun_open(sys, {}, state, error), -1);
  EXPECT_EQ(error, "open /dev/tun: error 2");
}

TEST(tun_open_openbsd, takes_the_first_free_unit_and_never_asks_for_ifhead) {
  fake_sys sys(openbsd);
  sys.fail_open("/dev/tun0", openbsd.ebusy);
  sys.fail_open("/dev/tun1", openbsd.ebusy);
  tun_state state;
  std::string error;
  ASSERT_GE(tun_open(sys, {.name = "pptp0", .mtu = 1400, .local = 1, .peer = 2}, state, error), 0) << error;
  EXPECT_EQ(state.name, "tun2");  // OpenBSD cannot rename: the runtime gets the real name back
  EXPECT_EQ(sys.opened, (std::vector<std::string>{"/dev/tun0", "/dev/tun1", "/dev/tun2"}));
  for (const auto& i : sys.ioctls) {
    EXPECT_NE(i.request, freebsd.tunsifhead);
    EXPECT_NE(i.request, freebsd.tunsifmode);
    EXPECT_NE(i.request, freebsd.siocsifname);
  }
  EXPECT_EQ(sys.ioctls.front().request, openbsd.siocsifmtu);
  EXPECT_EQ(sys.ioctls[1].request, openbsd.siocaifaddr);
}

TEST(tun_ipv6, adds_the_link_local_pair_from_the_interface_ids) {
  fake_sys sys(freebsd);
  std::string error;
  ASSERT_TRUE(tun_set_ipv6(sys, {.name = "pptp0"}, 0x0211223344556677ull, 0x8899aabbccddeeffull, error)) << error;
  ASSERT_EQ(sys.ioctls.size(), 1u);
  EXPECT_EQ(sys.ioctls[0].request, freebsd.siocaifaddr_in6);
  const auto& a = *sys.ioctls[0].alias6;
  EXPECT_EQ(a.ifname, "pptp0");
  EXPECT_EQ(a.local, (std::array<std::uint8_t, 16>{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
                                                   0x66, 0x77}));
  EXPECT_EQ(a.peer[8], 0x88);
  EXPECT_EQ(a.prefix_length, 64u);
  EXPECT_EQ(sys.sockets.back().domain, freebsd.af_inet6);
}

}  // namespace
}  // namespace pptpkit::host_bsd
