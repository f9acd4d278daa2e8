#include "pptpkit/host_bsd/devices.hpp"

#include <charconv>

#include "pptpkit/core/packet.hpp"

namespace pptpkit::host_bsd {

namespace {

std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

void free_packet(pptpkit_packet* p) noexcept {
  static_cast<core::packet_pool*>(p->pool)->free(p);
}

bool starts_with_tun(const std::string& name) {
  return name.size() > 3 && name.compare(0, 3, "tun") == 0;
}

std::string failed(bsd_sys& sys, const std::string& what, const sys_result& r) {
  return what + ": " + sys.error_text(r.err);
}

// Interface ioctls go through an AF_INET datagram socket, as ifconfig(8) does.
struct control_socket {
  bsd_sys& sys;
  fd_t fd;
  ~control_socket() {
    if (fd >= 0) {
      sys.close(fd);
    }
  }
};

// An IPv4 header as received: length checked against what recvfrom returned, never ip_len.
struct ip_view {
  std::uint32_t header_length = 0;
  std::uint8_t protocol = 0;
  std::uint32_t source = 0;
};
bool parse_ip(std::span<const std::uint8_t> b, ip_view& out) noexcept {
  if (b.size() < 20 || (b[0] >> 4) != 4) {
    return false;
  }
  out.header_length = (b[0] & 0x0fu) * 4u;
  if (out.header_length < 20 || out.header_length > b.size()) {
    return false;
  }
  out.protocol = b[9];
  out.source = load_be32(b.data() + 12);
  return true;
}

// RFC 2637 §4.1: version 1 in the low 3 bits of the second byte, protocol type 0x880B.
bool is_pptp_gre(std::span<const std::uint8_t> gre) noexcept {
  return gre.size() >= 8 && (gre[1] & 0x07u) == gre_version_enhanced &&
         ((std::uint16_t{gre[2]} << 8) | gre[3]) == gre_protocol_ppp;
}

}  // namespace

sys_result set_nonblocking(bsd_sys& sys, fd_t fd) {
  const os_constants& c = sys.constants();
  const sys_result flags = sys.fcntl(fd, c.f_getfl, 0);
  if (!flags.ok()) {
    return flags;
  }
  return sys.fcntl(fd, c.f_setfl, static_cast<std::int32_t>(flags.value) | c.o_nonblock);
}

// ---------------------------------------------------------------- tun(4)

fd_t tun_open(bsd_sys& sys, const runtime::tun_config& config, tun_state& state, std::string& error) {
  const os_constants& c = sys.constants();
  const bool is_freebsd = c.kind == os_kind::freebsd;
  fd_t fd = -1;
  if (starts_with_tun(config.name)) {
    // A named unit: /dev/tunN (created on open by both systems).
    const sys_result r = sys.open("/dev/" + config.name, c.o_rdwr);
    if (!r.ok()) {
      error = failed(sys, "open /dev/" + config.name, r);
      return -1;
    }
    fd = static_cast<fd_t>(r.value);
    state.name = config.name;
  } else if (is_freebsd) {
    // Cloning device: every open makes a new tunN, destroyed again when we close it.
    const sys_result r = sys.open("/dev/tun", c.o_rdwr);
    if (!r.ok()) {
      error = failed(sys, "open /dev/tun", r);
      return -1;
    }
    fd = static_cast<fd_t>(r.value);
    state.cloned = true;
    ifreq_args name{.name = {}, .field = ifreq_field::name_out, .value = 0, .new_name = {}};
    const sys_result g = sys.ioctl_ifreq(fd, c.tungifname, name);
    if (!g.ok()) {
      error = failed(sys, "TUNGIFNAME", g);
      tun_close(sys, fd, state);
      return -1;
    }
    state.name = name.name;
  } else {
    // OpenBSD has no cloning device: take the first free unit.
    for (int unit = 0; unit < 256 && fd < 0; ++unit) {
      const std::string name = "tun" + std::to_string(unit);
      const sys_result r = sys.open("/dev/" + name, c.o_rdwr);
      if (r.ok()) {
        fd = static_cast<fd_t>(r.value);
        state.name = name;
      } else if (r.err != c.ebusy) {
        error = failed(sys, "open /dev/" + name, r);
        return -1;
      }
    }
    if (fd < 0) {
      error = "no free tun unit (/dev/tun0../dev/tun255 busy)";
      return -1;
    }
  }

  const auto fail = [&](const std::string& what, const sys_result& r) {
    error = failed(sys, state.name + ": " + what, r);
    tun_close(sys, fd, state);
    return -1;
  };
  sys_result r;
  if (is_freebsd) {
    // Every frame carries its address family, so IPv6 works (tun(4) TUNSIFHEAD).
    if (r = sys.ioctl_int(fd, c.tunsifhead, 1); !r.ok()) {
      return fail("TUNSIFHEAD", r);
    }
    if (r = sys.ioctl_int(fd, c.tunsifmode, c.iff_pointopoint | c.iff_multicast); !r.ok()) {
      return fail("TUNSIFMODE", r);
    }
  }
  if (r = set_nonblocking(sys, fd); !r.ok()) {
    return fail("O_NONBLOCK", r);
  }
  const sys_result s = sys.socket(c.af_inet, c.sock_dgram, 0);
  if (!s.ok()) {
    return fail("control socket", s);
  }
  control_socket ctl{sys, static_cast<fd_t>(s.value)};
  if (is_freebsd && !config.name.empty() && config.name != state.name) {
    ifreq_args rename{.name = state.name, .field = ifreq_field::new_name, .value = 0, .new_name = config.name};
    if (r = sys.ioctl_ifreq(ctl.fd, c.siocsifname, rename); !r.ok()) {
      return fail("rename to " + config.name, r);
    }
    state.name = rename.new_name;
  }
  ifreq_args mtu{
      .name = state.name, .field = ifreq_field::mtu, .value = static_cast<std::int32_t>(config.mtu), .new_name = {}};
  if (r = sys.ioctl_ifreq(ctl.fd, c.siocsifmtu, mtu); !r.ok()) {
    return fail("SIOCSIFMTU " + std::to_string(config.mtu), r);
  }
  if (config.local != 0 || config.peer != 0) {
    const inet_alias alias{.ifname = state.name, .local = config.local, .peer = config.peer, .mask = 0xffffffffu};
    if (r = sys.ioctl_inet_alias(ctl.fd, c.siocaifaddr, alias); !r.ok()) {
      return fail("SIOCAIFADDR", r);
    }
  }
  ifreq_args flags{.name = state.name, .field = ifreq_field::flags, .value = 0, .new_name = {}};
  if (r = sys.ioctl_ifreq(ctl.fd, c.siocgifflags, flags); !r.ok()) {
    return fail("SIOCGIFFLAGS", r);
  }
  flags.value |= c.iff_up;
  if (r = sys.ioctl_ifreq(ctl.fd, c.siocsifflags, flags); !r.ok()) {
    return fail("SIOCSIFFLAGS up", r);
  }
  return fd;
}

void tun_close(bsd_sys& sys, fd_t fd, const tun_state& state) {
  sys.close(fd);
  const os_constants& c = sys.constants();
  if (state.cloned && !state.name.empty() && c.siocifdestroy != 0) {
    // A cloned interface outlives its descriptor on FreeBSD: destroy it like `ifconfig tunN destroy`.
    const sys_result s = sys.socket(c.af_inet, c.sock_dgram, 0);
    if (s.ok()) {
      control_socket ctl{sys, static_cast<fd_t>(s.value)};
      ifreq_args args{.name = state.name, .field = ifreq_field::flags, .value = 0, .new_name = {}};
      sys.ioctl_ifreq(ctl.fd, c.siocifdestroy, args);
    }
  }
}

bool tun_set_ipv6(bsd_sys& sys, const tun_state& state, std::uint64_t local_id, std::uint64_t peer_id,
                  std::string& error) {
  const os_constants& c = sys.constants();
  // RFC 5072 §5: fe80::/64 + the negotiated interface identifier.
  const auto link_local = [](std::uint64_t id) {
    std::array<std::uint8_t, 16> a{};
    a[0] = 0xfe;
    a[1] = 0x80;
    for (int i = 0; i < 8; ++i) {
      a[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(id >> (56 - 8 * i));
    }
    return a;
  };
  const sys_result s = sys.socket(c.af_inet6, c.sock_dgram, 0);
  if (!s.ok()) {
    error = failed(sys, state.name + ": IPv6 control socket", s);
    return false;
  }
  control_socket ctl{sys, static_cast<fd_t>(s.value)};
  const inet6_alias alias{
      .ifname = state.name, .local = link_local(local_id), .peer = link_local(peer_id), .prefix_length = 64};
  const sys_result r = sys.ioctl_inet6_alias(ctl.fd, c.siocaifaddr_in6, alias);
  if (!r.ok()) {
    error = failed(sys, state.name + ": SIOCAIFADDR_IN6", r);
    return false;
  }
  return true;
}

std::uint32_t tun_read(bsd_sys& sys, fd_t fd, core::packet_pool& pool, core::packet_list& out, std::uint32_t max,
                       host_counters& counters) noexcept {
  const os_constants& c = sys.constants();
  std::uint32_t appended = 0;
  while (appended < max) {
    pptpkit_packet* p = pool.alloc();
    if (p == nullptr) {
      ++counters.rx_pool_exhausted;
      break;
    }
    // The frame lands at the packet's data start; its 4-byte header is pulled off in place below.
    const sys_result r = sys.read(fd, {core::data(*p), core::tailroom(*p)});
    if (!r.ok() || r.value <= 0) {
      pool.free(p);
      if (!r.ok() && r.err != c.eagain && r.err != c.eintr) {
        ++counters.tun_rx_error;
      }
      break;
    }
    p->length = static_cast<std::uint32_t>(r.value);
    if (p->length < tun_af_header_size) {
      ++counters.tun_rx_runt;
      pool.free(p);
      continue;
    }
    const std::uint32_t family = load_be32(core::data(*p));
    if (family == static_cast<std::uint32_t>(c.af_inet)) {
      p->flags = 0;
    } else if (family == static_cast<std::uint32_t>(c.af_inet6)) {
      p->flags = PPTPKIT_PACKET_F_IPV6;
    } else {
      ++counters.tun_rx_bad_family;
      pool.free(p);
      continue;
    }
    core::pull(*p, tun_af_header_size);
    out.push_back(*p);
    ++counters.tun_rx_packets;
    ++appended;
  }
  return appended;
}

std::uint32_t tun_write(bsd_sys& sys, fd_t fd, core::packet_list& in, host_counters& counters) noexcept {
  const os_constants& c = sys.constants();
  std::uint32_t written = 0;
  while (pptpkit_packet* p = in.pop_front()) {
    const bool v6 = (p->flags & PPTPKIT_PACKET_F_IPV6) != 0;
    std::uint8_t* header = core::push(*p, tun_af_header_size);
    if (header == nullptr) {
      ++counters.tun_tx_no_headroom;
    } else {
      store_be32(header, static_cast<std::uint32_t>(v6 ? c.af_inet6 : c.af_inet));
      const sys_result r = sys.write(fd, core::bytes(*p));
      if (r.ok() && r.value == static_cast<std::int64_t>(p->length)) {
        ++counters.tun_tx_packets;
        ++written;
      } else {
        ++counters.tun_tx_error;
      }
    }
    free_packet(p);
  }
  return written;
}

// ---------------------------------------------------------------- GRE and divert

bool parse_capture(const std::string& text, capture_options& out, std::string& error) {
  if (text == "raw") {
    out = {.mode = capture_mode::raw, .divert_port = out.divert_port};
    return true;
  }
  if (text == "divert") {
    out = {.mode = capture_mode::divert, .divert_port = capture_options{}.divert_port};
    return true;
  }
  if (text.starts_with("divert:")) {
    unsigned port = 0;
    const char* first = text.data() + 7;
    const char* last = text.data() + text.size();
    const auto [end, ec] = std::from_chars(first, last, port);
    if (ec == std::errc{} && end == last && first != last && port >= 1 && port <= 65535) {
      out = {.mode = capture_mode::divert, .divert_port = static_cast<std::uint16_t>(port)};
      return true;
    }
  }
  error = "capture: expected raw, divert or divert:PORT (1-65535), got \"" + text + "\"";
  return false;
}

fd_t divert_open(bsd_sys& sys, std::uint16_t port, std::string& error) {
  const os_constants& c = sys.constants();
  sys_result s{.value = -1, .err = c.eafnosupport};
  if (c.pf_divert != 0) {
    // FreeBSD 14: divert(4) is its own protocol family. A 13.x kernel answers EAFNOSUPPORT (or
    // EPROTONOSUPPORT): fall back to the IPPROTO_DIVERT raw socket that both versions know.
    s = sys.socket(c.pf_divert, c.sock_raw, 0);
  }
  if (!s.ok() && (s.err == c.eafnosupport || s.err == c.eprotonosupport)) {
    s = sys.socket(c.af_inet, c.sock_raw, c.ipproto_divert);
  }
  if (!s.ok()) {
    error = failed(sys, "divert socket", s);
    return -1;
  }
  const auto fd = static_cast<fd_t>(s.value);
  sys_result r = sys.bind_inet(fd, {.address = 0, .port = port});
  if (r.ok()) {
    r = set_nonblocking(sys, fd);
  }
  if (!r.ok()) {
    error = failed(sys, "divert socket: bind port " + std::to_string(port), r);
    sys.close(fd);
    return -1;
  }
  return fd;
}

bool gre_open(bsd_sys& sys, std::uint32_t local_address, const capture_options& options, gre_state& state,
              std::string& error) {
  const os_constants& c = sys.constants();
  const sys_result s = sys.socket(c.af_inet, c.sock_raw, c.ipproto_gre);
  if (!s.ok()) {
    error = failed(sys, "raw GRE socket", s);
    return false;
  }
  const auto raw = static_cast<fd_t>(s.value);
  sys_result r = set_nonblocking(sys, raw);
  if (r.ok() && local_address != 0) {
    r = sys.bind_inet(raw, {.address = local_address, .port = 0});
  }
  if (!r.ok()) {
    error = failed(sys, "raw GRE socket: bind", r);
    sys.close(raw);
    return false;
  }
  state = {.mode = options.mode, .receive_fd = raw, .send_fd = raw};
  if (options.mode == capture_mode::divert) {
    // Captured packets come from the divert socket; the raw socket only sends. Its receive side is
    // shut down: nothing reads it, and whatever a kernel still queues there is bounded by the buffer.
    sys.shutdown(raw, c.shut_rd);
    const fd_t divert = divert_open(sys, options.divert_port, error);
    if (divert < 0) {
      sys.close(raw);
      return false;
    }
    state.receive_fd = divert;
  }
  return true;
}

void gre_close(bsd_sys& sys, const gre_state& state) {
  if (state.receive_fd != state.send_fd && state.receive_fd >= 0) {
    sys.close(state.receive_fd);
  }
  if (state.send_fd >= 0) {
    sys.close(state.send_fd);
  }
}

std::uint32_t gre_receive(bsd_sys& sys, const gre_state& state, core::packet_pool& pool, core::packet_list& out,
                          std::uint32_t max, host_counters& counters) noexcept {
  const os_constants& c = sys.constants();
  const bool divert = state.mode == capture_mode::divert;
  std::uint32_t appended = 0;
  raw_sockaddr from;
  while (appended < max) {
    pptpkit_packet* p = pool.alloc();
    if (p == nullptr) {
      ++counters.rx_pool_exhausted;
      break;
    }
    const sys_result r = sys.recvfrom(state.receive_fd, {core::data(*p), core::tailroom(*p)}, from);
    if (!r.ok() || r.value <= 0) {
      pool.free(p);
      if (!r.ok() && r.err != c.eagain && r.err != c.eintr) {
        ++counters.gre_rx_error;
      }
      break;
    }
    // The datagram's length is what recvfrom returned; ip_len is never read.
    p->length = static_cast<std::uint32_t>(r.value);
    ip_view ip;
    if (!parse_ip(core::bytes(*p), ip)) {
      ++counters.gre_rx_bad_ip_header;
      if (divert) {
        // Not ours to judge: the kernel decides what to do with a malformed packet.
        if (sys.sendto(state.receive_fd, core::bytes(*p), from).ok()) {
          ++counters.divert_reinjected;
        } else {
          ++counters.divert_reinject_error;
        }
      }
      pool.free(p);
      continue;
    }
    const auto gre = core::bytes(*p).subspan(ip.header_length);
    if (ip.protocol != c.ipproto_gre || !is_pptp_gre(gre)) {
      if (divert) {
        // TCP 1723, or GRE of another tunnel: back into the stack exactly as it came.
        if (sys.sendto(state.receive_fd, core::bytes(*p), from).ok()) {
          ++counters.divert_reinjected;
        } else {
          ++counters.divert_reinject_error;
        }
      } else {
        ++counters.gre_rx_not_pptp;  // the kernel gave this copy to its own GRE code too
      }
      pool.free(p);
      continue;
    }
    // The sender is the IP header's source: on a divert socket the sockaddr names our interface.
    p->aux = ip.source;
    core::pull(*p, ip.header_length);
    out.push_back(*p);
    ++counters.gre_rx_packets;
    ++appended;
  }
  return appended;
}

std::uint32_t gre_send(bsd_sys& sys, const gre_state& state, core::packet_list& in, host_counters& counters) noexcept {
  std::uint32_t sent = 0;
  while (pptpkit_packet* p = in.pop_front()) {
    const sys_result r = sys.sendto_inet(state.send_fd, core::bytes(*p), {.address = p->aux, .port = 0});
    if (r.ok()) {
      ++counters.gre_tx_packets;
      ++sent;
    } else {
      ++counters.gre_tx_error;
    }
    free_packet(p);
  }
  return sent;
}

}  // namespace pptpkit::host_bsd
