// pptpkit/host_bsd/devices.hpp — tun(4), the raw GRE socket and divert(4), above the system-call layer.
//
// Data path (tun_read/tun_write, gre_receive/gre_send): reads go straight into pool buffers, writes go
// straight out of them; the tun address-family header is pushed into / pulled from the packet's headroom
// (PPTPKIT_HDR_TUN_AF), never copied; nothing allocates. Every packet given to a write/send is freed to
// its pool, sent or dropped; every drop is a named counter.
//
//   tun(4)  each frame = 4-byte address family (network order) + IP packet. FreeBSD: only after
//           TUNSIFHEAD (set at open); OpenBSD: always.
//   GRE     a raw IPPROTO_GRE socket delivers IP header + GRE; the header length is ip_hl, the packet
//           length what recvfrom returned (ip_len is never read: its byte order differs between
//           FreeBSD versions). Only enhanced GRE (version 1, protocol 0x880B, RFC 2637 §4.1) goes up.
//   divert  ipfw `divert PORT` / pf `divert-packet port PORT` hand whole IP packets to a divert socket.
//           PPTP GRE goes up; anything else that the rule caught (TCP 1723, other GRE) is re-injected
//           at once, unchanged, with the sockaddr it came with. GRE is sent through a raw GRE socket
//           whose receive side is shut down (the kernel builds the outer IP header).
#pragma once

#include <cstdint>
#include <string>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/counters.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/host_bsd/bsd_sys.hpp"
#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::host_bsd {

#define PPTPKIT_HOST_BSD_COUNTERS(X)                                                                    \
  X(tun_rx_packets, "IP packets read from tun interfaces")                                              \
  X(tun_rx_runt, "tun frames shorter than the 4-byte address-family header (dropped)")                  \
  X(tun_rx_bad_family, "tun frames whose address family is neither AF_INET nor AF_INET6 (dropped)")     \
  X(tun_rx_error, "tun reads that failed with an error")                                                \
  X(tun_tx_packets, "IP packets written to tun interfaces")                                             \
  X(tun_tx_no_headroom, "packets without 4 bytes of headroom for the address family (dropped)")         \
  X(tun_tx_error, "tun writes that failed (dropped)")                                                   \
  X(gre_rx_packets, "enhanced GRE packets received")                                                    \
  X(gre_rx_bad_ip_header, "datagrams with a short, non-IPv4 or overlong IP header (dropped)")           \
  X(gre_rx_not_pptp, "GRE packets that are not enhanced GRE v1 / PPP 0x880B (ignored on a raw socket)") \
  X(gre_rx_error, "GRE socket reads that failed with an error")                                         \
  X(gre_tx_packets, "GRE packets sent")                                                                 \
  X(gre_tx_error, "GRE sends that failed (dropped)")                                                    \
  X(divert_reinjected, "diverted packets that were not PPTP GRE, re-injected unchanged")                \
  X(divert_reinject_error, "re-injections that failed (the packet is lost, as if the rule dropped it)") \
  X(rx_pool_exhausted, "reads cut short because the packet pool was empty")
PPTPKIT_DEFINE_COUNTERS(host_counters, PPTPKIT_HOST_BSD_COUNTERS);

// The 4-byte tun(4) header, network order.
inline constexpr std::uint32_t tun_af_header_size = PPTPKIT_HDR_TUN_AF;
// RFC 2637 §4.1: enhanced GRE has version 1 and protocol type 0x880B (PPP).
inline constexpr std::uint16_t gre_protocol_ppp = 0x880B;
inline constexpr std::uint8_t gre_version_enhanced = 1;

// --- tun(4) ---
struct tun_state {
  std::string name;
  bool cloned = false;  // created by opening /dev/tun: destroyed when closed
};
// Opens and configures a tun interface (see the file comment); -1 and `error` on failure.
fd_t tun_open(bsd_sys& sys, const runtime::tun_config& config, tun_state& state, std::string& error);
void tun_close(bsd_sys& sys, fd_t fd, const tun_state& state);
bool tun_set_ipv6(bsd_sys& sys, const tun_state& state, std::uint64_t local_id, std::uint64_t peer_id,
                  std::string& error);
std::uint32_t tun_read(bsd_sys& sys, fd_t fd, core::packet_pool& pool, core::packet_list& out, std::uint32_t max,
                       host_counters& counters) noexcept;
std::uint32_t tun_write(bsd_sys& sys, fd_t fd, core::packet_list& in, host_counters& counters) noexcept;

// --- GRE and divert ---
enum class capture_mode : std::uint8_t { raw, divert };

struct capture_options {
  capture_mode mode = capture_mode::raw;
  std::uint16_t divert_port = 1723;  // divert ports are their own namespace; 1723 is easy to remember
};
// Parses "raw", "divert" or "divert:PORT"; false + error otherwise.
bool parse_capture(const std::string& text, capture_options& out, std::string& error);

struct gre_state {
  capture_mode mode = capture_mode::raw;
  fd_t receive_fd = -1;  // the handle the runtime watches: raw GRE or divert socket
  fd_t send_fd = -1;     // raw GRE socket (== receive_fd in raw mode)
};
bool gre_open(bsd_sys& sys, std::uint32_t local_address, const capture_options& options, gre_state& state,
              std::string& error);
void gre_close(bsd_sys& sys, const gre_state& state);
std::uint32_t gre_receive(bsd_sys& sys, const gre_state& state, core::packet_pool& pool, core::packet_list& out,
                          std::uint32_t max, host_counters& counters) noexcept;
std::uint32_t gre_send(bsd_sys& sys, const gre_state& state, core::packet_list& in, host_counters& counters) noexcept;

// Opens a divert socket bound to `port`: PF_DIVERT first (FreeBSD 14), then PF_INET/IPPROTO_DIVERT.
fd_t divert_open(bsd_sys& sys, std::uint16_t port, std::string& error);

// Sets O_NONBLOCK (fcntl F_GETFL + F_SETFL).
sys_result set_nonblocking(bsd_sys& sys, fd_t fd);

}  // namespace pptpkit::host_bsd
