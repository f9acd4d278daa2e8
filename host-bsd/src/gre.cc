#include "pptpkit/host_bsd/gre.hpp"

#include <charconv>

#include "pptpkit/core/packet.hpp"
#include "wire_util.hpp"

namespace pptpkit::host_bsd {

using detail::failed;
using detail::free_packet;
using detail::load_be32;

namespace {

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

runtime::batch_result gre_receive(bsd_sys& sys, const gre_state& state, core::packet_pool& pool, core::packet_list& out,
                                  std::uint32_t max, host_counters& counters) noexcept {
  const os_constants& c = sys.constants();
  const bool divert = state.mode == capture_mode::divert;
  std::uint32_t appended = 0;
  raw_sockaddr from;
  bool truncated = false;
  while (appended < max) {
    pptpkit_packet* p = pool.alloc();
    if (p == nullptr) {
      ++counters.rx_pool_exhausted;
      return {.packets = appended, .status = runtime::batch_status::pool_empty, .error = {}};
    }
    const sys_result r = sys.recvfrom(state.receive_fd, {core::data(*p), core::tailroom(*p)}, from, truncated);
    if (!r.ok() || r.value <= 0) {
      pool.free(p);
      if (!r.ok() && r.err != c.eagain && r.err != c.eintr) {
        ++counters.gre_rx_error;
      }
      break;
    }
    if (truncated) {
      // Passing it up, or re-injecting it, cut short would corrupt it (a divert socket hands over whole
      // reassembled packets, up to 64 KiB): drop it, counted.
      ++counters.gre_rx_truncated;
      pool.free(p);
      continue;
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
  return {.packets = appended, .status = runtime::batch_status::ok, .error = {}};
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
