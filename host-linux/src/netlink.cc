// netlink.cc — rtnetlink requests for TUN configuration (see netlink.hpp).
#include "netlink.hpp"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace pptpkit::host_linux::netlink {
namespace {

// A request being built: header, family-specific struct, then attributes (nested ones by begin/end).
class request {
 public:
  request(std::uint16_t type, std::uint16_t flags) {
    buffer_.resize(NLMSG_HDRLEN);
    auto* h = header();
    h->nlmsg_type = type;
    h->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    h->nlmsg_seq = 1;
    h->nlmsg_len = NLMSG_HDRLEN;
  }
  template <class T>
  void body(const T& value) {
    append(&value, sizeof(value));
  }
  void attr(std::uint16_t type, const void* value, std::size_t length) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<unsigned short>(RTA_LENGTH(length));
    append(&a, sizeof(a));
    append(value, length);
  }
  template <class T>
  void attr(std::uint16_t type, const T& value) {
    attr(type, &value, sizeof(value));
  }
  std::size_t begin_nested(std::uint16_t type) {
    const std::size_t at = buffer_.size();
    attr(type, nullptr, 0);
    return at;
  }
  void end_nested(std::size_t at) {
    auto* a = reinterpret_cast<rtattr*>(buffer_.data() + at);
    a->rta_len = static_cast<unsigned short>(buffer_.size() - at);
  }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buffer_.data()); }
  const std::vector<std::uint8_t>& bytes() const { return buffer_; }

 private:
  void append(const void* p, std::size_t n) {
    const std::size_t at = buffer_.size();
    buffer_.resize(at + NLMSG_ALIGN(n));
    if (n > 0) {
      std::memcpy(buffer_.data() + at, p, n);
    }
    header()->nlmsg_len = static_cast<std::uint32_t>(buffer_.size());
  }
  std::vector<std::uint8_t> buffer_;
};

// Sends the request, waits for the kernel's acknowledgement; error = "<what>: <strerror>" on failure.
bool transact(request& r, const std::string& what, std::string& error) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    error = what + ": netlink socket: " + std::strerror(errno);
    return false;
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  const auto& bytes = r.bytes();
  bool ok = false;
  if (::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    error = what + ": netlink send: " + std::strerror(errno);
  } else {
    alignas(nlmsghdr) std::uint8_t answer[8192];
    for (;;) {
      const ssize_t n = ::recv(fd, answer, sizeof(answer), 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        error = what + ": netlink receive: " + std::strerror(errno);
        break;
      }
      auto* h = reinterpret_cast<nlmsghdr*>(answer);
      auto len = static_cast<std::uint32_t>(n);
      bool done = false;
      for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == NLMSG_ERROR) {
          const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
          if (e->error == 0) {
            ok = true;
          } else {
            error = what + ": " + std::strerror(-e->error);
          }
          done = true;
          break;
        }
      }
      if (done) {
        break;
      }
    }
  }
  ::close(fd);
  return ok;
}

std::string if_label(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
    return "interface " + std::to_string(ifindex);
  }
  return name;
}

std::string ipv4_text(std::uint32_t host_order) {
  const in_addr a{htonl(host_order)};
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, text, sizeof(text));
  return text;
}

}  // namespace

bool set_link(int ifindex, std::uint32_t mtu, bool up, std::string& error) {
  request r(RTM_NEWLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = ifindex;
  info.ifi_flags = up ? static_cast<unsigned>(IFF_UP) : 0u;
  info.ifi_change = IFF_UP;
  r.body(info);
  if (mtu != 0) {
    r.attr(IFLA_MTU, mtu);
  }
  return transact(r, "set " + if_label(ifindex) + " mtu " + std::to_string(mtu) + (up ? " up" : " down"), error);
}

bool disable_ipv6_autoconf(int ifindex, std::string& error) {
  request r(RTM_NEWLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = ifindex;
  r.body(info);
  const auto spec = r.begin_nested(IFLA_AF_SPEC);
  const auto inet6 = r.begin_nested(AF_INET6);
  const std::uint8_t mode = IN6_ADDR_GEN_MODE_NONE;
  r.attr(IFLA_INET6_ADDR_GEN_MODE, mode);
  r.end_nested(inet6);
  r.end_nested(spec);
  return transact(r, "set " + if_label(ifindex) + " addrgenmode none", error);
}

bool add_ipv4_peer_address(int ifindex, std::uint32_t local, std::uint32_t peer, std::string& error) {
  request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg a{};
  a.ifa_family = AF_INET;
  a.ifa_prefixlen = 32;
  a.ifa_scope = RT_SCOPE_UNIVERSE;
  a.ifa_index = static_cast<std::uint32_t>(ifindex);
  r.body(a);
  const std::uint32_t local_n = htonl(local);
  const std::uint32_t peer_n = htonl(peer);
  r.attr(IFA_LOCAL, local_n);
  r.attr(IFA_ADDRESS, peer_n);
  return transact(r, "add address " + ipv4_text(local) + " peer " + ipv4_text(peer) + " on " + if_label(ifindex),
                  error);
}

bool add_ipv6_link_local(int ifindex, std::uint64_t local_id, std::uint64_t peer_id, std::string& error) {
  auto link_local = [](std::uint64_t id) {
    in6_addr a{};
    a.s6_addr[0] = 0xfe;
    a.s6_addr[1] = 0x80;
    for (int i = 0; i < 8; ++i) {
      a.s6_addr[8 + i] = static_cast<std::uint8_t>(id >> (56 - 8 * i));
    }
    return a;
  };
  request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg a{};
  a.ifa_family = AF_INET6;
  a.ifa_prefixlen = 128;
  a.ifa_scope = RT_SCOPE_LINK;
  a.ifa_flags = IFA_F_NODAD;  // a point-to-point link whose identifiers PPP already made unique
  a.ifa_index = static_cast<std::uint32_t>(ifindex);
  r.body(a);
  const in6_addr local = link_local(local_id);
  const in6_addr peer = link_local(peer_id);
  r.attr(IFA_LOCAL, local);
  r.attr(IFA_ADDRESS, peer);
  char l[INET6_ADDRSTRLEN] = {};
  char p[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, &local, l, sizeof(l));
  ::inet_ntop(AF_INET6, &peer, p, sizeof(p));
  return transact(r, std::string("add address ") + l + " peer " + p + " on " + if_label(ifindex), error);
}

bool add_ipv4_route(int ifindex, std::uint32_t destination, std::uint8_t prefix_length, std::string& error) {
  request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  rtmsg m{};
  m.rtm_family = AF_INET;
  m.rtm_dst_len = prefix_length;
  m.rtm_table = RT_TABLE_MAIN;
  m.rtm_protocol = RTPROT_BOOT;
  m.rtm_scope = RT_SCOPE_LINK;
  m.rtm_type = RTN_UNICAST;
  r.body(m);
  if (prefix_length > 0) {
    const std::uint32_t dst = htonl(destination);
    r.attr(RTA_DST, dst);
  }
  const auto oif = static_cast<std::uint32_t>(ifindex);
  r.attr(RTA_OIF, oif);
  return transact(
      r, "add route " + ipv4_text(destination) + "/" + std::to_string(prefix_length) + " dev " + if_label(ifindex),
      error);
}

}  // namespace pptpkit::host_linux::netlink
