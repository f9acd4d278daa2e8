// bare_forwarder — the reference for bench/e2e: the least a userspace PPTP data path must do.
//
// Moves IP packets between a TUN device and a raw GRE socket, one packet per syscall, no protocol state
// beyond a sequence number: TUN -> PPP header (RFC 1661 §2) -> enhanced GRE header (RFC 2637 §4.1,
// key = peer's call id, sequence number) -> raw socket; and back, checking only the key. pptpkit
// without MPPE must reach at least 0.8 of its throughput in the same namespaces.
//
// Usage: bare_forwarder TUN_NAME PEER_IPV4 SEND_CALL_ID RECEIVE_CALL_ID
// (the caller addresses the TUN and brings it up).
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr std::size_t kHeadroom = 64;  // outer room for GRE 12 + PPP 4
constexpr std::size_t kBuffer = 2048;

void put16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: bare_forwarder TUN_NAME PEER_IPV4 SEND_CALL_ID RECEIVE_CALL_ID\n");
    return 2;
  }
  const auto send_call = static_cast<std::uint32_t>(std::atoi(argv[3]));
  const auto receive_call = static_cast<std::uint32_t>(std::atoi(argv[4]));
  const int tun = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  const int gre = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_GRE);
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  if (tun < 0 || ::ioctl(tun, TUNSETIFF, &ifr) != 0 || gre < 0 || ::inet_pton(AF_INET, argv[2], &peer.sin_addr) != 1) {
    std::perror("bare_forwarder: setup");
    return 1;
  }
  const int dont = IP_PMTUDISC_DONT;
  ::setsockopt(gre, IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof(dont));
  static std::uint8_t buffer[kBuffer];
  std::uint32_t seq = 0;
  pollfd fds[2] = {{tun, POLLIN, 0}, {gre, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      continue;
    }
    // TUN -> GRE: the IP packet lands after the headroom; the headers go in front of it in place.
    for (;;) {
      const ssize_t n = ::read(tun, buffer + kHeadroom, kBuffer - kHeadroom);
      if (n <= 0) {
        break;
      }
      std::uint8_t* ppp = buffer + kHeadroom - 4;
      ppp[0] = 0xff;  // address, control (RFC 1662 §3.1), protocol: IPv4 0x0021 or IPv6 0x0057
      ppp[1] = 0x03;
      put16(ppp + 2, (buffer[kHeadroom] >> 4) == 6 ? 0x0057 : 0x0021);
      std::uint8_t* h = ppp - 12;
      h[0] = 0x30;  // K and S present (RFC 2637 §4.1)
      h[1] = 0x01;  // version 1
      put16(h + 2, 0x880b);
      put16(h + 4, static_cast<std::uint32_t>(n + 4));
      put16(h + 6, send_call);
      const std::uint32_t s = seq++;
      put16(h + 8, s >> 16);
      put16(h + 10, s & 0xffff);
      ::sendto(gre, h, static_cast<std::size_t>(n) + 16, 0, reinterpret_cast<sockaddr*>(&peer), sizeof(peer));
    }
    // GRE -> TUN: strip the outer IP header (IHL), the GRE header (its flags say how long) and PPP.
    for (;;) {
      const ssize_t n = ::recv(gre, buffer, kBuffer, 0);
      if (n <= 0) {
        break;
      }
      const std::size_t ihl = (buffer[0] & 0x0fu) * 4u;
      if (static_cast<std::size_t>(n) < ihl + 12) {
        continue;
      }
      const std::uint8_t* h = buffer + ihl;
      const std::size_t gre_length = 8 + ((h[0] & 0x10) ? 4 : 0) + ((h[1] & 0x80) ? 4 : 0);
      const std::uint32_t call = static_cast<std::uint32_t>(h[6] << 8 | h[7]);
      const std::size_t payload = static_cast<std::size_t>(h[4] << 8 | h[5]);
      if (call != receive_call || payload < 4 || ihl + gre_length + payload > static_cast<std::size_t>(n)) {
        continue;
      }
      ::write(tun, h + gre_length + 4, payload - 4);
    }
  }
}
