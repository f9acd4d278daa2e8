// Tests of the Linux platform against the kernel: the raw GRE socket, TUN devices, rtnetlink and
// capabilities. Each test moves into a fresh network namespace (unshare) and returns to the original
// one at the end, so the namespace and every interface in it vanish with the test. Needs root; skipped
// with one line otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/host_linux/linux_platform.hpp"
#include "pptpkit/testing/alloc_counter.hpp"

namespace pptpkit::host_linux {
namespace {

using runtime::handle;

constexpr std::uint32_t kLoopback = 0x7f000001;
constexpr std::uint64_t kSecond = 1000000000u;
constexpr std::uint32_t kLocal = 0x0a090001;  // 10.9.0.1
constexpr std::uint32_t kPeer = 0x0a090002;   // 10.9.0.2

class netns_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (network namespace, TUN, raw GRE): run as root to include it";
    }
    original_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(original_, 0);
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    ifr.ifr_flags = IFF_UP;
    ASSERT_EQ(::ioctl(s, SIOCSIFFLAGS, &ifr), 0);
    ::close(s);
    platform_ = linux_platform::create();
    pool_ = core::packet_pool::create({.packets = 256});
  }
  void TearDown() override {
    platform_.reset();
    if (original_ >= 0) {
      EXPECT_EQ(::setns(original_, CLONE_NEWNET), 0);
      ::close(original_);
    }
  }

  // Waits (bounded) until `h` is readable.
  bool wait_readable(handle h) {
    const std::uint64_t end = platform_->now_ns() + 5 * kSecond;
    ready_.clear();
    while (platform_->now_ns() < end) {
      platform_->wait(end, ready_);
      for (const auto& r : ready_) {
        if (r.h == h && r.readable) {
          return true;
        }
      }
      ready_.clear();
    }
    return false;
  }

  // Collects `want` GRE packets (bounded wait).
  void receive_gre(handle h, core::packet_list& out, std::uint32_t want) {
    while (out.size() < want && wait_readable(h)) {
      platform_->gre_receive(h, *pool_, out, 64);
    }
  }

  pptpkit_packet& packet_with(const std::vector<std::uint8_t>& bytes, std::uint32_t aux = 0) {
    pptpkit_packet* p = pool_->alloc();
    std::memcpy(core::put(*p, static_cast<std::uint32_t>(bytes.size())), bytes.data(), bytes.size());
    p->aux = aux;
    return *p;
  }

  handle open_tun(const std::string& name, std::string& actual) {
    std::string error;
    const handle h = platform_->tun_open({name, 1400, kLocal, kPeer}, actual, error);
    EXPECT_GE(h, 0) << error;
    return h;
  }

  int original_ = -1;
  std::unique_ptr<linux_platform> platform_;
  std::unique_ptr<core::packet_pool> pool_;
  std::vector<runtime::readiness> ready_;
};

// An enhanced GRE header (RFC 2637 §4.1: K and S set, version 1, PPP 0x880b) and a payload pattern.
std::vector<std::uint8_t> gre_frame(std::uint16_t call_id, std::uint32_t seq, std::size_t payload) {
  std::vector<std::uint8_t> f = {0x30,
                                 0x81,
                                 0x88,
                                 0x0b,
                                 static_cast<std::uint8_t>(payload >> 8),
                                 static_cast<std::uint8_t>(payload),
                                 static_cast<std::uint8_t>(call_id >> 8),
                                 static_cast<std::uint8_t>(call_id),
                                 0,
                                 0,
                                 0,
                                 static_cast<std::uint8_t>(seq)};
  for (std::size_t i = 0; i < payload; ++i) {
    f.push_back(static_cast<std::uint8_t>(i * 7 + seq));
  }
  return f;
}

TEST_F(netns_test, gre_batch_round_trip_over_loopback_without_allocation_or_copy) {
  std::string error;
  const handle gre = platform_->gre_open(0, error);
  ASSERT_GE(gre, 0) << error;
  platform_->watch(gre, true, false);
  ready_.reserve(64);

  std::vector<std::vector<std::uint8_t>> frames;
  core::packet_list out;
  for (std::uint32_t i = 0; i < 40; ++i) {
    frames.push_back(gre_frame(7, i, 1 + i * 37));
    out.push_back(packet_with(frames.back(), kLoopback));
  }
  core::packet_list in;
  {
    testing::allocation_scope scope;
    EXPECT_EQ(platform_->gre_send(gre, out), 40u);
    EXPECT_TRUE(out.empty());
    receive_gre(gre, in, 40);  // the raw socket sees its own datagrams come back through lo
    EXPECT_EQ(scope.allocations(), 0u) << "the GRE data path allocated";
  }
  ASSERT_EQ(in.size(), 40u);
  std::uint32_t i = 0;
  in.for_each([&](pptpkit_packet& p) {
    EXPECT_EQ(p.aux, kLoopback);
    EXPECT_EQ(p.offset, pool_->headroom() + 20) << "data must start right after the IP header, in place";
    ASSERT_EQ(p.length, frames[i].size());
    EXPECT_EQ(std::memcmp(core::data(p), frames[i].data(), p.length), 0) << "frame " << i;
    ++i;
  });
  pool_->free_list(in);
  EXPECT_EQ(platform_->counters().gre_tx_packets, 40u);
  EXPECT_EQ(platform_->counters().gre_rx_packets, 40u);
  EXPECT_EQ(pool_->available(), pool_->capacity());
  platform_->close(gre);
}

TEST_F(netns_test, gre_receive_strips_an_outer_header_with_options) {
  std::string error;
  const handle gre = platform_->gre_open(kLoopback, error);
  ASSERT_GE(gre, 0) << error;
  platform_->watch(gre, true, false);
  // Another sender whose datagrams carry 4 bytes of IP options (IHL 6): NOP NOP NOP EOL.
  const int sender = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_GRE);
  const std::uint8_t options[] = {1, 1, 1, 0};
  ASSERT_EQ(::setsockopt(sender, IPPROTO_IP, IP_OPTIONS, options, sizeof(options)), 0);
  const auto frame = gre_frame(9, 1, 100);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(kLoopback);
  ASSERT_EQ(::sendto(sender, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
            static_cast<ssize_t>(frame.size()));
  core::packet_list in;
  receive_gre(gre, in, 1);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in.front().offset, pool_->headroom() + 24);
  ASSERT_EQ(in.front().length, frame.size());
  EXPECT_EQ(std::memcmp(core::data(in.front()), frame.data(), frame.size()), 0);
  pool_->free_list(in);
  ::close(sender);
  platform_->close(gre);
}

TEST_F(netns_test, gre_datagram_larger_than_a_buffer_is_counted_and_dropped) {
  std::string error;
  const handle gre = platform_->gre_open(0, error);
  ASSERT_GE(gre, 0) << error;
  platform_->watch(gre, true, false);
  core::packet_list out;
  out.push_back(packet_with(gre_frame(1, 1, 100), kLoopback));
  platform_->gre_send(gre, out);
  // Larger than a 2048-byte pool buffer: sent from a plain socket (a packet could not hold it).
  const int sender = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_GRE);
  const auto big = gre_frame(1, 2, 3000);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(kLoopback);
  ::sendto(sender, big.data(), big.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  out.push_back(packet_with(gre_frame(1, 3, 100), kLoopback));
  platform_->gre_send(gre, out);
  core::packet_list in;
  receive_gre(gre, in, 2);
  EXPECT_EQ(in.size(), 2u);
  EXPECT_EQ(platform_->counters().gre_rx_truncated, 1u);
  pool_->free_list(in);
  ::close(sender);
  platform_->close(gre);
}

TEST_F(netns_test, gre_send_to_an_unreachable_peer_drops_only_that_packet) {
  std::string error;
  const handle gre = platform_->gre_open(0, error);
  ASSERT_GE(gre, 0) << error;
  platform_->watch(gre, true, false);
  core::packet_list out;
  out.push_back(packet_with(gre_frame(1, 1, 10), kLoopback));
  out.push_back(packet_with(gre_frame(1, 2, 10), 0xc6336401));  // 198.51.100.1: no route in this namespace
  out.push_back(packet_with(gre_frame(1, 3, 10), kLoopback));
  EXPECT_EQ(platform_->gre_send(gre, out), 2u);
  EXPECT_EQ(platform_->counters().gre_tx_errors, 1u);
  EXPECT_EQ(pool_->available(), pool_->capacity() - 0) << "every packet goes back to its pool";
  core::packet_list in;
  receive_gre(gre, in, 2);
  EXPECT_EQ(in.size(), 2u);
  pool_->free_list(in);
  platform_->close(gre);
}

// Interface facts read back from the kernel.
struct if_facts {
  bool up = false;
  int mtu = 0;
  std::uint32_t ipv4 = 0;
  std::uint32_t ipv4_peer = 0;
  std::vector<std::string> ipv6;
};

if_facts facts(const std::string& name) {
  if_facts f;
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    f.up = (ifr.ifr_flags & IFF_UP) != 0;
  }
  if (::ioctl(s, SIOCGIFMTU, &ifr) == 0) {
    f.mtu = ifr.ifr_mtu;
  }
  ::close(s);
  ifaddrs* list = nullptr;
  ::getifaddrs(&list);
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || name != a->ifa_name) {
      continue;
    }
    if (a->ifa_addr->sa_family == AF_INET) {
      f.ipv4 = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
      if (a->ifa_dstaddr != nullptr) {
        f.ipv4_peer = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_dstaddr)->sin_addr.s_addr);
      }
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      char text[INET6_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, text, sizeof(text));
      f.ipv6.emplace_back(text);
    }
  }
  ::freeifaddrs(list);
  return f;
}

TEST_F(netns_test, tun_is_created_addressed_sized_and_up) {
  std::string name;
  const handle tun = open_tun("pptp7", name);
  ASSERT_GE(tun, 0);
  EXPECT_EQ(name, "pptp7");
  const if_facts f = facts(name);
  EXPECT_TRUE(f.up);
  EXPECT_EQ(f.mtu, 1400);
  EXPECT_EQ(f.ipv4, kLocal);
  EXPECT_EQ(f.ipv4_peer, kPeer);
  EXPECT_TRUE(f.ipv6.empty()) << "the kernel generated " << f.ipv6.front() << "; PPP negotiates the link-local";

  std::string error;
  std::string other;
  EXPECT_EQ(platform_->tun_open({"pptp7", 1400, 0, 0}, other, error), runtime::invalid_handle);
  EXPECT_NE(error.find("pptp7"), std::string::npos) << error;
  EXPECT_EQ(platform_->tun_open({"a-name-far-too-long", 1400, 0, 0}, other, error), runtime::invalid_handle);
  EXPECT_NE(error.find("longer than 15"), std::string::npos) << error;

  platform_->close(tun);
  EXPECT_EQ(::if_nametoindex("pptp7"), 0u) << "closing the handle removes the interface";
}

// An IPv4/UDP packet from `src` to `dst`:`port` (UDP checksum 0 = none, RFC 768).
std::vector<std::uint8_t> udp4(std::uint32_t src, std::uint32_t dst, std::uint16_t port, std::string_view text) {
  const auto total = static_cast<std::uint16_t>(28 + text.size());
  std::vector<std::uint8_t> b(total, 0);
  b[0] = 0x45;
  b[2] = static_cast<std::uint8_t>(total >> 8);
  b[3] = static_cast<std::uint8_t>(total);
  b[8] = 64;
  b[9] = IPPROTO_UDP;
  for (int i = 0; i < 4; ++i) {
    b[12 + i] = static_cast<std::uint8_t>(src >> (24 - 8 * i));
    b[16 + i] = static_cast<std::uint8_t>(dst >> (24 - 8 * i));
  }
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) {
    sum += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
  }
  sum = (sum & 0xffff) + (sum >> 16);
  sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
  b[10] = static_cast<std::uint8_t>(sum >> 8);
  b[11] = static_cast<std::uint8_t>(sum);
  b[20] = 0x30;  // source port 12345
  b[21] = 0x39;
  b[22] = static_cast<std::uint8_t>(port >> 8);
  b[23] = static_cast<std::uint8_t>(port);
  b[24] = static_cast<std::uint8_t>((total - 20) >> 8);
  b[25] = static_cast<std::uint8_t>(total - 20);
  std::memcpy(b.data() + 28, text.data(), text.size());
  return b;
}

void send_udp4(std::uint32_t dst, std::string_view text) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(dst);
  to.sin_port = htons(9);
  ::sendto(s, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  ::close(s);
}

TEST_F(netns_test, tun_reads_and_writes_ip_packets_in_batches) {
  std::string name;
  const handle tun = open_tun("pptp0", name);
  ASSERT_GE(tun, 0);
  platform_->watch(tun, true, false);
  ready_.reserve(64);

  // Kernel -> tun: datagrams routed to the peer come out of the interface.
  for (int i = 0; i < 5; ++i) {
    send_udp4(kPeer, "to the peer " + std::to_string(i));
  }
  core::packet_list in;
  while (in.size() < 5 && wait_readable(tun)) {
    testing::allocation_scope scope;
    platform_->tun_read(tun, *pool_, in, 64);
    EXPECT_EQ(scope.allocations(), 0u);
  }
  ASSERT_EQ(in.size(), 5u);
  in.for_each([&](pptpkit_packet& p) {
    EXPECT_EQ(p.flags, 0u);
    EXPECT_EQ(core::data(p)[0] >> 4, 4);
    EXPECT_EQ(core::data(p)[9], IPPROTO_UDP);
    EXPECT_EQ(p.offset, pool_->headroom());
  });
  pool_->free_list(in);

  // tun -> kernel: packets written to the interface arrive at a local socket.
  const int listener = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(kLocal);
  at.sin_port = htons(5000);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof(at)), 0);
  core::packet_list out;
  out.push_back(packet_with(udp4(kPeer, kLocal, 5000, "hello")));
  out.push_back(packet_with(udp4(kPeer, kLocal, 5000, "world")));
  {
    testing::allocation_scope scope;
    EXPECT_EQ(platform_->tun_write(tun, out).packets, 2u);
    EXPECT_EQ(scope.allocations(), 0u);
  }
  char buf[64] = {};
  timeval tv{5, 0};
  ::setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ASSERT_EQ(::recv(listener, buf, sizeof(buf), 0), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  ASSERT_EQ(::recv(listener, buf, sizeof(buf), 0), 5);
  EXPECT_EQ(std::string(buf, 5), "world");
  ::close(listener);

  out.push_back(packet_with({0x00, 0x01, 0x02}));  // not an IP packet: the kernel refuses it
  EXPECT_EQ(platform_->tun_write(tun, out).packets, 0u);
  EXPECT_EQ(platform_->counters().tun_tx_errors, 1u);
  EXPECT_EQ(pool_->available(), pool_->capacity());
  platform_->close(tun);
}

// Row 7 of issue 14: an interface deleted under the daemon (`ip link del`, a network manager). The
// descriptor stays open but is detached from the interface: epoll reports EPOLLERR on every wait (not
// EPOLLIN, not EPOLLHUP), read and write fail with EBADFD, forever. tun_read and tun_write say `failed`
// each time, and the readiness says `failed`, so the runtime can end the session instead of spinning.
TEST_F(netns_test, a_deleted_interface_fails_reads_and_writes_and_the_poller_says_failed) {
  std::string name;
  const handle tun = open_tun("pptp3", name);
  ASSERT_GE(tun, 0);
  platform_->watch(tun, true, false);
  send_udp4(kPeer, "queued before the delete");
  ASSERT_TRUE(wait_readable(tun));
  ASSERT_EQ(std::system("ip link del pptp3"), 0);

  for (int round = 0; round < 3; ++round) {  // the same answer every time: it never goes away
    ready_.clear();
    platform_->wait(platform_->now_ns() + kSecond, ready_);
    ASSERT_EQ(ready_.size(), 1u);
    EXPECT_EQ(ready_[0].h, tun);
    EXPECT_TRUE(ready_[0].failed);
    EXPECT_FALSE(ready_[0].readable);

    core::packet_list in;
    const runtime::batch_result r = platform_->tun_read(tun, *pool_, in, 64);
    EXPECT_EQ(r.status, runtime::batch_status::failed);
    EXPECT_EQ(r.packets, 0u);
    EXPECT_EQ(r.error, "TUN read: File descriptor in bad state");

    core::packet_list out;
    out.push_back(packet_with(udp4(kPeer, kLocal, 5000, "one")));
    out.push_back(packet_with(udp4(kPeer, kLocal, 5000, "two")));
    const runtime::batch_result w = platform_->tun_write(tun, out);
    EXPECT_EQ(w.status, runtime::batch_status::failed);
    EXPECT_EQ(w.packets, 0u);
    EXPECT_EQ(w.error, "TUN write: File descriptor in bad state");
    EXPECT_TRUE(out.empty());
  }
  EXPECT_EQ(pool_->available(), pool_->capacity());
  EXPECT_EQ(platform_->counters().tun_failed, 6u);
  platform_->close(tun);
}

// Row 14 of issue 14: with the pool empty, nothing is read; the packets wait in the kernel, the handle
// stays readable (level-triggered), and the result says pool_empty, not "nothing there" nor an error.
TEST_F(netns_test, an_empty_pool_reads_nothing_and_says_so_for_tun_and_gre) {
  std::string name;
  const handle tun = open_tun("pptp4", name);
  ASSERT_GE(tun, 0);
  platform_->watch(tun, true, false);
  std::string error;
  const handle gre = platform_->gre_open(kLoopback, error);
  ASSERT_GE(gre, 0) << error;
  for (int i = 0; i < 3; ++i) {
    send_udp4(kPeer, "waits in the tun queue " + std::to_string(i));
  }
  core::packet_list to_self;
  for (int i = 0; i < 3; ++i) {
    to_self.push_back(packet_with(gre_frame(0x1234, static_cast<std::uint32_t>(i), 16), kLoopback));
  }
  ASSERT_EQ(platform_->gre_send(gre, to_self), 3u);
  platform_->watch(gre, true, false);
  ASSERT_TRUE(wait_readable(gre));
  ASSERT_TRUE(wait_readable(tun));

  // All but two packets taken: a short batch, then nothing.
  std::vector<pptpkit_packet*> taken(pool_->capacity() - 2);
  ASSERT_EQ(pool_->alloc_bulk(taken), taken.size());
  core::packet_list in;
  runtime::batch_result r = platform_->tun_read(tun, *pool_, in, 64);
  EXPECT_EQ(r.packets, 2u);
  EXPECT_EQ(r.status, runtime::batch_status::pool_empty);
  r = platform_->tun_read(tun, *pool_, in, 64);
  EXPECT_EQ(r.packets, 0u);
  EXPECT_EQ(r.status, runtime::batch_status::pool_empty);
  EXPECT_TRUE(r.error.empty());
  r = platform_->gre_receive(gre, *pool_, in, 64);
  EXPECT_EQ(r.packets, 0u);
  EXPECT_EQ(r.status, runtime::batch_status::pool_empty);
  ASSERT_TRUE(wait_readable(tun));  // still readable: the kernel kept the rest
  ASSERT_TRUE(wait_readable(gre));

  pool_->free_list(in);
  pool_->free_bulk(taken);
  r = platform_->tun_read(tun, *pool_, in, 64);
  EXPECT_EQ(r.packets, 1u);
  EXPECT_EQ(r.status, runtime::batch_status::ok);
  r = platform_->gre_receive(gre, *pool_, in, 64);
  EXPECT_EQ(r.packets, 3u);
  EXPECT_EQ(r.status, runtime::batch_status::ok);
  pool_->free_list(in);
  platform_->close(gre);
  platform_->close(tun);
}

TEST_F(netns_test, tun_ipv6_link_local_from_interface_ids_and_ipv6_packets_flagged) {
  std::string name;
  const handle tun = open_tun("pptp1", name);
  ASSERT_GE(tun, 0);
  platform_->watch(tun, true, false);
  std::string error;
  ASSERT_TRUE(platform_->tun_set_ipv6(tun, 0x0211223344556677u, 0x8899aabbccddeeffu, error)) << error;
  const if_facts f = facts(name);
  ASSERT_EQ(f.ipv6.size(), 1u);
  EXPECT_EQ(f.ipv6[0], "fe80::211:2233:4455:6677");

  const int s = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, "fe80::8899:aabb:ccdd:eeff", &to.sin6_addr);
  to.sin6_port = htons(9);
  to.sin6_scope_id = ::if_nametoindex(name.c_str());
  // The kernel installs the route to the peer from a work queue just after the address: allow it a moment.
  ssize_t sent = -1;
  for (int attempt = 0; attempt < 100 && sent < 0; ++attempt) {
    sent = ::sendto(s, "six", 3, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    if (sent < 0) {
      ::usleep(10000);
    }
  }
  ASSERT_EQ(sent, 3) << std::strerror(errno);
  ::close(s);
  core::packet_list in;
  while (in.empty() && wait_readable(tun)) {
    platform_->tun_read(tun, *pool_, in, 64);
  }
  ASSERT_FALSE(in.empty());
  EXPECT_EQ(in.front().flags, PPTPKIT_PACKET_F_IPV6);
  EXPECT_EQ(core::data(in.front())[0] >> 4, 6);
  pool_->free_list(in);
  platform_->close(tun);
}

TEST_F(netns_test, tun_routes_including_the_default_route) {
  std::string name;
  const handle tun = open_tun("pptp2", name);
  ASSERT_GE(tun, 0);
  platform_->watch(tun, true, false);
  std::string error;
  ASSERT_TRUE(platform_->tun_add_route(tun, {0x0a4d0102, 16}, error)) << error;  // 10.77.1.2/16 -> 10.77.0.0/16
  EXPECT_FALSE(platform_->tun_add_route(tun, {0x0a4d0000, 16}, error));
  EXPECT_EQ(error, "add route 10.77.0.0/16 dev pptp2: File exists");
  ASSERT_TRUE(platform_->tun_add_route(tun, {0, 0}, error)) << error;

  for (const std::uint32_t dst : {0x0a4d0909u, 0xc0000201u}) {  // 10.77.9.9 by the /16, 192.0.2.1 by default
    send_udp4(dst, "routed");
    core::packet_list in;
    while (in.empty() && wait_readable(tun)) {
      platform_->tun_read(tun, *pool_, in, 64);
    }
    ASSERT_EQ(in.size(), 1u);
    const std::uint8_t* ip = core::data(in.front());
    EXPECT_EQ(static_cast<std::uint32_t>(ip[16] << 24 | ip[17] << 16 | ip[18] << 8 | ip[19]), dst);
    pool_->free_list(in);
  }
  platform_->close(tun);
}

// In a child process (the change is irreversible): keep only CAP_NET_ADMIN and CAP_NET_RAW, become
// nobody, and still open the raw GRE socket and a TUN device. Returns a failure code, 0 = success.
int drop_and_check(const char* dir) {
  // Debian's udev makes /dev/net/tun 0666; some containers leave it 0600. Give this child, in a mount
  // namespace of its own, a node with Debian's mode so the test checks capabilities, not the host's setup.
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("tmpfs", dir, "tmpfs", 0, "mode=0755") != 0) {
    return 10;
  }
  const std::string node = std::string(dir) + "/tun";
  if (::mknod(node.c_str(), S_IFCHR | 0666, ::makedev(10, 200)) != 0 || ::chmod(node.c_str(), 0666) != 0 ||
      ::mount(node.c_str(), "/dev/net/tun", nullptr, MS_BIND, nullptr) != 0) {
    return 11;
  }
  auto p = linux_platform::create({.log_level = 0});
  std::string error;
  if (!p->drop_privileges("nobody", error)) {
    std::fprintf(stderr, "drop_privileges: %s\n", error.c_str());
    return 1;
  }
  if (::getuid() != 65534 || ::geteuid() != 65534) {
    return 2;
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  ::syscall(SYS_capget, &header, data);
  const std::uint32_t wanted = (1u << CAP_NET_ADMIN) | (1u << CAP_NET_RAW);
  // CAP_DAC_READ_SEARCH stays permitted, never effective, for read_private_file().
  if (data[0].effective != wanted || data[0].permitted != (wanted | 1u << CAP_DAC_READ_SEARCH) ||
      data[1].permitted != 0 || data[0].inheritable != 0) {
    return 3;
  }
  if (::prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 || ::prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0) != 1 ||
      ::prctl(PR_CAPBSET_READ, CAP_DAC_READ_SEARCH, 0, 0, 0) != 0) {  // no hook can get it back
    return 4;
  }
  const handle gre = p->gre_open(0, error);
  if (gre < 0) {
    return 5;
  }
  std::string name;
  const handle tun = p->tun_open({"pptp9", 1400, kLocal, kPeer}, name, error);
  if (tun < 0) {
    std::fprintf(stderr, "tun_open after dropping: %s\n", error.c_str());
    return 6;
  }
  if (!p->tun_add_route(tun, {0x0a4e0000, 16}, error)) {
    return 7;
  }
  return 0;
}

TEST_F(netns_test, drop_privileges_keeps_only_net_admin_and_net_raw) {
  char dir[] = "/tmp/pptpkit-dev-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::_exit(drop_and_check(dir));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::rmdir(dir);  // the tmpfs on it lived in the child's mount namespace only
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "failure code (see drop_and_check)";

  std::string error;
  const pid_t again = ::fork();
  if (again == 0) {
    auto p = linux_platform::create({.log_level = 0});
    const bool ok = p->drop_privileges("no-such-user-pptpkit", error);
    ::_exit(!ok && error == "user 'no-such-user-pptpkit': no such user" ? 0 : 1);
  }
  ASSERT_EQ(::waitpid(again, &status, 0), again);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "an unknown user must be refused with its name";
}

// Row 12 of issue 14: under --user, the 0600 root secrets file (here also in a 0700 root directory) could
// no longer be read, so SIGHUP kept the old secrets. read_private_file() reads it with CAP_DAC_READ_SEARCH
// raised for that open() alone: a plain open() still fails, and the capability is not effective after.
int read_secrets_after_dropping(const std::string& dir) {
  auto p = linux_platform::create({.log_level = 0});
  std::string error;
  if (!p->drop_privileges("nobody", error)) {
    std::fprintf(stderr, "drop_privileges: %s\n", error.c_str());
    return 1;
  }
  const std::string secrets = dir + "/chap-secrets";
  if (::open(secrets.c_str(), O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES) {
    return 2;  // the bypass must not be in force outside read_private_file()
  }
  std::string content, warning;
  if (!p->read_private_file(secrets, content, warning, error)) {
    std::fprintf(stderr, "read_private_file: %s\n", error.c_str());
    return 3;
  }
  if (content != "alice * alice-pw *\nbob * bob-pw *\n" || !warning.empty()) {
    return 4;
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  ::syscall(SYS_capget, &header, data);
  if ((data[0].effective & (1u << CAP_DAC_READ_SEARCH)) != 0) {
    return 5;
  }
  if (p->read_private_file(dir + "/absent", content, warning, error) ||
      error != dir + "/absent: cannot open: No such file or directory") {
    return 6;
  }
  if (!p->read_private_file(dir + "/open-secrets", content, warning, error) ||
      warning != dir +
                     "/open-secrets is mode 0666 (readable by others, writable by others, writable by its group): "
                     "a secrets file should be 0600 or 0640") {
    return 7;
  }
  return 0;
}

TEST_F(netns_test, the_secrets_file_stays_readable_after_dropping_privileges) {
  char dir[] = "/tmp/pptpkit-secrets-XXXXXX";  // 0700, root's
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string secrets = std::string(dir) + "/chap-secrets";
  const std::string open_secrets = std::string(dir) + "/open-secrets";
  for (const auto& [path, mode] : {std::pair{secrets, 0600}, std::pair{open_secrets, 0666}}) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, mode);
    ASSERT_GE(fd, 0);
    const std::string text = "alice * alice-pw *\nbob * bob-pw *\n";
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ASSERT_EQ(::fchmod(fd, static_cast<mode_t>(mode)), 0);
    ::close(fd);
  }
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::_exit(read_secrets_after_dropping(dir));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::unlink(secrets.c_str());
  ::unlink(open_secrets.c_str());
  ::rmdir(dir);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "failure code (see read_secrets_after_dropping)";
}

}  // namespace
}  // namespace pptpkit::host_linux
