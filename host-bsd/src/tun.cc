#include "pptpkit/host_bsd/tun.hpp"

#include "pptpkit/core/packet.hpp"
#include "wire_util.hpp"

namespace pptpkit::host_bsd {

using detail::failed;
using detail::free_packet;
using detail::load_be32;
using detail::store_be32;

namespace {

bool starts_with_tun(const std::string& name) {
  return name.size() > 3 && name.compare(0, 3, "tun") == 0;
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

}  // namespace

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

runtime::batch_result tun_read(bsd_sys& sys, fd_t fd, core::packet_pool& pool, core::packet_list& out,
                               std::uint32_t max, host_counters& counters) {
  const os_constants& c = sys.constants();
  runtime::batch_result result;
  while (result.packets < max) {
    pptpkit_packet* p = pool.alloc();
    if (p == nullptr) {
      ++counters.rx_pool_exhausted;
      result.status = runtime::batch_status::pool_empty;
      break;
    }
    // The frame lands at the packet's data start; its 4-byte header is pulled off in place below.
    const sys_result r = sys.read(fd, {core::data(*p), core::tailroom(*p)});
    if (!r.ok() || r.value <= 0) {
      pool.free(p);
      if (!r.ok() && r.err == c.eintr) {
        continue;
      }
      if (!r.ok() && r.err != c.eagain) {
        ++counters.tun_rx_error;
        if (r.err != c.enobufs && r.err != c.enomem) {
          // It would repeat on every read: the device is gone (ENXIO once destroyed), or worse.
          result.status = runtime::batch_status::failed;
          result.error = failed(sys, "tun read", r);
        }
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
    ++result.packets;
  }
  return result;
}

runtime::batch_result tun_write(bsd_sys& sys, fd_t fd, core::packet_list& in, host_counters& counters) {
  const os_constants& c = sys.constants();
  runtime::batch_result result;
  while (pptpkit_packet* p = in.pop_front()) {
    const bool v6 = (p->flags & PPTPKIT_PACKET_F_IPV6) != 0;
    std::uint8_t* header = core::push(*p, tun_af_header_size);
    if (header == nullptr) {
      ++counters.tun_tx_no_headroom;
    } else if (result.status == runtime::batch_status::failed) {
      ++counters.tun_tx_error;  // the device is gone: the rest is dropped unwritten
    } else {
      store_be32(header, static_cast<std::uint32_t>(v6 ? c.af_inet6 : c.af_inet));
      const sys_result r = sys.write(fd, core::bytes(*p));
      if (r.ok() && r.value == static_cast<std::int64_t>(p->length)) {
        ++counters.tun_tx_packets;
        ++result.packets;
      } else {
        ++counters.tun_tx_error;
        if (!r.ok() && (r.err == c.enxio || r.err == c.ebadf || r.err == c.enodev)) {
          result.status = runtime::batch_status::failed;
          result.error = failed(sys, "tun write", r);
        }
      }
    }
    free_packet(p);
  }
  return result;
}

}  // namespace pptpkit::host_bsd
