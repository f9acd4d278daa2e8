// datapath.cc — the raw GRE socket and the TUN devices: batches in and out of pool buffers, no copy.
//
// Receive: each packet's buffer, from its headroom on, is one recvmmsg() iovec; the kernel writes the
// whole IPv4 datagram there, and strip_ipv4_header() moves the data start past the outer header.
// Send: each packet's data (GRE header onward) is one sendmmsg() iovec; the kernel builds the IP header.
// TUN: one read()/write() per packet (a TUN queue has no batch call), up to the batch size per call.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "netlink.hpp"
#include "pptpkit/abi.h"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/host_linux/linux_platform.hpp"

namespace pptpkit::host_linux {
namespace {

using runtime::batch_result;
using runtime::batch_status;
using runtime::handle;
using runtime::invalid_handle;

constexpr std::uint32_t kIpv4MinHeader = 20;  // RFC 791 §3.1: IHL >= 5 words
constexpr int kSocketBuffer = 4 << 20;        // room for a few batches at line rate per direction

// A TUN read error that ends this read but not the interface: nothing queued (EAGAIN), or memory short
// for a moment. Anything else repeats on every read (read(2) on a TUN descriptor has no one-off errors).
bool transient_tun_error(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ENOBUFS || err == ENOMEM;
}

// A TUN write error that says the interface is gone: EBADFD once it was deleted (the descriptor is
// detached from it); EBADF, ENODEV and ENXIO for a descriptor that no longer names a device. Other write
// errors concern one packet (EIO while the interface is down, EINVAL for a malformed packet).
bool tun_gone(int err) {
  return err == EBADFD || err == EBADF || err == ENODEV || err == ENXIO;
}

void free_packet(pptpkit_packet* p) noexcept {
  static_cast<core::packet_pool*>(p->pool)->free(p);
}

// A bigger socket buffer absorbs bursts between two epoll rounds. SO_*BUFFORCE passes the sysctl cap
// when we hold CAP_NET_ADMIN; without it the plain option is capped, which is fine.
void grow_buffers(int fd) {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kSocketBuffer, sizeof(kSocketBuffer)) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof(kSocketBuffer));
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &kSocketBuffer, sizeof(kSocketBuffer)) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof(kSocketBuffer));
  }
}

}  // namespace

bool strip_ipv4_header(pptpkit_packet& p, std::uint32_t received) noexcept {
  if (received < kIpv4MinHeader || received > p.capacity - p.offset) {
    return false;
  }
  const std::uint8_t* ip = core::data(p);
  if ((ip[0] >> 4) != 4) {
    return false;
  }
  const std::uint32_t header = (ip[0] & 0x0fu) * 4u;  // IHL, in 32-bit words (RFC 791 §3.1)
  if (header < kIpv4MinHeader || header > received) {
    return false;
  }
  p.length = received;
  core::pull(p, header);
  return true;
}

// --- GRE ---

handle linux_platform::gre_open(std::uint32_t local_address, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_GRE);
  if (fd < 0) {
    error =
        std::string("raw GRE socket: ") + std::strerror(errno) + (errno == EPERM ? " (needs root or CAP_NET_RAW)" : "");
    return invalid_handle;
  }
  if (local_address != 0) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(local_address);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &sa.sin_addr, text, sizeof(text));
      error = std::string("raw GRE socket: bind ") + text + ": " + std::strerror(errno);
      ::close(fd);
      return invalid_handle;
    }
  }
  // Let the kernel fragment outer datagrams above the path MTU instead of refusing them: a tunnel whose
  // MTU was negotiated with the peer must not silently lose its largest packets.
  const int pmtu = IP_PMTUDISC_DONT;
  ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
  grow_buffers(fd);
  return fd;
}

batch_result linux_platform::gre_receive(handle h, core::packet_pool& pool, core::packet_list& out, std::uint32_t max) {
  max = std::min(max, batch_max);
  if (max == 0) {
    return {};
  }
  const std::uint32_t got = pool.alloc_bulk({packets_.data(), max});
  if (got == 0) {
    ++counters_.gre_rx_pool_exhausted;
    log_first(counters_.gre_rx_pool_exhausted, "GRE receive skipped: packet pool empty", 0);
    return {0, batch_status::pool_empty, {}};
  }
  for (std::uint32_t i = 0; i < got; ++i) {
    pptpkit_packet& p = *packets_[i];
    iovs_[i] = {core::data(p), core::tailroom(p)};
    msgs_[i] = mmsghdr{};
    msgs_[i].msg_hdr.msg_name = &addrs_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof(addrs_[i]);
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  int n = -1;
  do {
    n = ::recvmmsg(h, msgs_.data(), got, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      log(PPTPKIT_LOG_WARNING, "host", std::string("GRE receive: ") + std::strerror(errno));
    }
    n = 0;
  }
  std::uint32_t appended = 0;
  const auto received = static_cast<std::uint32_t>(n);
  for (std::uint32_t i = 0; i < received; ++i) {
    pptpkit_packet& p = *packets_[i];
    if ((msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      ++counters_.gre_rx_truncated;
      log_first(counters_.gre_rx_truncated, "GRE datagram larger than a packet buffer dropped", 0);
      pool.free(&p);
      continue;
    }
    if (!strip_ipv4_header(p, msgs_[i].msg_len)) {
      ++counters_.gre_rx_bad_ip_header;
      log_first(counters_.gre_rx_bad_ip_header, "datagram with a malformed IPv4 header dropped", 0);
      pool.free(&p);
      continue;
    }
    p.aux = ntohl(addrs_[i].sin_addr.s_addr);
    out.push_back(p);
    ++appended;
  }
  pool.free_bulk({packets_.data() + received, got - received});
  counters_.gre_rx_packets += appended;
  // Fewer buffers than asked for, all filled: the pool, not the socket, ended the batch.
  const bool pool_short = got < max && received == got;
  if (pool_short) {
    ++counters_.gre_rx_pool_exhausted;
  }
  return {appended, pool_short ? batch_status::pool_empty : batch_status::ok, {}};
}

std::uint32_t linux_platform::gre_send(handle h, core::packet_list& in) {
  std::uint32_t sent = 0;
  while (!in.empty()) {
    std::uint32_t count = 0;
    while (count < batch_max && !in.empty()) {
      pptpkit_packet* p = in.pop_front();
      packets_[count] = p;
      addrs_[count] = sockaddr_in{};
      addrs_[count].sin_family = AF_INET;
      addrs_[count].sin_addr.s_addr = htonl(p->aux);
      iovs_[count] = {core::data(*p), p->length};
      msgs_[count] = mmsghdr{};
      msgs_[count].msg_hdr.msg_name = &addrs_[count];
      msgs_[count].msg_hdr.msg_namelen = sizeof(addrs_[count]);
      msgs_[count].msg_hdr.msg_iov = &iovs_[count];
      msgs_[count].msg_hdr.msg_iovlen = 1;
      ++count;
    }
    std::uint32_t at = 0;
    while (at < count) {
      const int n = ::sendmmsg(h, msgs_.data() + at, count - at, MSG_DONTWAIT);
      if (n > 0) {
        at += static_cast<std::uint32_t>(n);
        sent += static_cast<std::uint32_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        // A full socket buffer: GRE is a datagram service, the PPP/TCP above recover (RFC 2637 §4.4).
        counters_.gre_tx_would_block += count - at;
        log_first(counters_.gre_tx_would_block, "GRE send buffer full, packets dropped", 0);
        break;
      }
      // This one packet was refused (EMSGSIZE, EPERM from a firewall, no route): drop it, go on.
      ++counters_.gre_tx_errors;
      log_first(counters_.gre_tx_errors, "GRE send failed", n < 0 ? errno : 0);
      ++at;
    }
    for (std::uint32_t i = 0; i < count; ++i) {
      free_packet(packets_[i]);
    }
  }
  counters_.gre_tx_packets += sent;
  return sent;
}

// --- TUN ---

handle linux_platform::tun_open(const runtime::tun_config& config, std::string& actual_name, std::string& error) {
  if (config.name.size() >= IFNAMSIZ) {
    error = "interface name '" + config.name + "' is longer than " + std::to_string(IFNAMSIZ - 1) + " characters";
    return invalid_handle;
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("open /dev/net/tun: ") + std::strerror(errno) +
            (errno == EACCES && ::geteuid() != 0
                 ? " (running unprivileged: the device must be readable and writable by this user, as udev's "
                   "default mode 0666 makes it)"
                 : "");
    return invalid_handle;
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;  // raw IP packets, no 4-byte packet-information prefix
  std::memcpy(ifr.ifr_name, config.name.data(), config.name.size());
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
    error = "create tun " + config.name + ": " + std::strerror(errno) +
            (errno == EBUSY ? " (an interface of that name is in use)" : "");
    ::close(fd);
    return invalid_handle;
  }
  actual_name.assign(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));
  const int ifindex = static_cast<int>(::if_nametoindex(actual_name.c_str()));
  if (ifindex == 0) {
    error = "tun " + actual_name + ": " + std::strerror(errno);
    ::close(fd);
    return invalid_handle;
  }
  std::string ipv6_error;
  if (!netlink::disable_ipv6_autoconf(ifindex, ipv6_error)) {
    // A kernel without IPv6 has nothing to disable; the interface works for IPv4 all the same.
    log(PPTPKIT_LOG_DEBUG, "host", ipv6_error);
  }
  if (!netlink::set_link(ifindex, config.mtu, false, error) ||
      (config.local != 0 && !netlink::add_ipv4_peer_address(ifindex, config.local, config.peer, error)) ||
      !netlink::set_link(ifindex, 0, true, error)) {
    ::close(fd);  // not persistent: closing removes the interface
    return invalid_handle;
  }
  tun_ifindex_.emplace_back(fd, ifindex);
  return fd;
}

int linux_platform::tun_ifindex(handle h, std::string& error) {
  for (const auto& [fd, index] : tun_ifindex_) {
    if (fd == h) {
      return index;
    }
  }
  assert(false && "not a handle from tun_open");
  error = "not a tun handle";
  return 0;
}

bool linux_platform::tun_set_ipv6(handle h, std::uint64_t local_interface_id, std::uint64_t peer_interface_id,
                                  std::string& error) {
  const int ifindex = tun_ifindex(h, error);
  return ifindex != 0 && netlink::add_ipv6_link_local(ifindex, local_interface_id, peer_interface_id, error);
}

bool linux_platform::tun_add_route(handle h, const runtime::route& r, std::string& error) {
  const int ifindex = tun_ifindex(h, error);
  if (ifindex == 0) {
    return false;
  }
  if (r.prefix_length > 32) {
    error = "route prefix length " + std::to_string(r.prefix_length) + " is larger than 32";
    return false;
  }
  const std::uint32_t mask = r.prefix_length == 0 ? 0u : ~0u << (32 - r.prefix_length);
  return netlink::add_ipv4_route(ifindex, r.destination & mask, r.prefix_length, error);
}

batch_result linux_platform::tun_read(handle h, core::packet_pool& pool, core::packet_list& out, std::uint32_t max) {
  batch_result result;
  while (result.packets < max) {
    pptpkit_packet* p = pool.alloc();
    if (p == nullptr) {
      ++counters_.tun_rx_pool_exhausted;
      log_first(counters_.tun_rx_pool_exhausted, "TUN read cut short: packet pool empty", 0);
      result.status = batch_status::pool_empty;
      break;
    }
    const std::uint32_t room = core::tailroom(*p);
    const ssize_t n = ::read(h, core::data(*p), room);
    if (n <= 0) {
      const int err = n < 0 ? errno : 0;
      pool.free(p);
      if (err == EINTR) {
        continue;
      }
      if (n < 0 && !transient_tun_error(err)) {
        // EBADFD: the interface was deleted; this descriptor will fail, and epoll report EPOLLERR, forever.
        ++counters_.tun_failed;
        result.status = batch_status::failed;
        result.error = std::string("TUN read: ") + std::strerror(err);
      }
      break;
    }
    const auto length = static_cast<std::uint32_t>(n);
    if (length >= room) {  // filled the buffer: the packet may have been cut
      ++counters_.tun_rx_truncated;
      log_first(counters_.tun_rx_truncated, "TUN packet larger than a packet buffer dropped", 0);
      pool.free(p);
      continue;
    }
    const unsigned version = core::data(*p)[0] >> 4;
    if (version != 4 && version != 6) {
      ++counters_.tun_rx_bad_version;
      log_first(counters_.tun_rx_bad_version, "TUN packet neither IPv4 nor IPv6 dropped", 0);
      pool.free(p);
      continue;
    }
    p->length = length;
    p->flags = version == 6 ? PPTPKIT_PACKET_F_IPV6 : 0u;
    out.push_back(*p);
    ++result.packets;
  }
  counters_.tun_rx_packets += result.packets;
  return result;
}

batch_result linux_platform::tun_write(handle h, core::packet_list& in) {
  batch_result result;
  while (pptpkit_packet* p = in.pop_front()) {
    ssize_t n = -1;
    if (result.status != batch_status::failed) {
      do {
        n = ::write(h, core::data(*p), p->length);
      } while (n < 0 && errno == EINTR);
    }
    if (n == static_cast<ssize_t>(p->length)) {
      ++result.packets;
    } else if (n < 0 && result.status != batch_status::failed && tun_gone(errno)) {
      ++counters_.tun_failed;
      ++counters_.tun_tx_errors;
      result.status = batch_status::failed;
      result.error = std::string("TUN write: ") + std::strerror(errno);
    } else {
      // One packet refused (EIO while the interface is down, EINVAL for a malformed one), or every
      // packet after the interface was found gone.
      ++counters_.tun_tx_errors;
      if (result.status != batch_status::failed) {
        log_first(counters_.tun_tx_errors, "TUN write failed", n < 0 ? errno : 0);
      }
    }
    free_packet(p);
  }
  counters_.tun_tx_packets += result.packets;
  return result;
}

}  // namespace pptpkit::host_linux
