// pptpkit/host_bsd/gre.hpp — the GRE capture paths, above the system-call layer.
//
//   raw     a raw IPPROTO_GRE socket delivers IP header + GRE; the header length is ip_hl, the packet
//           length what recvfrom returned (ip_len is never read: its byte order differs between
//           FreeBSD versions). Only enhanced GRE (version 1, protocol 0x880B, RFC 2637 §4.1) goes up,
//           with the sender (the IP header's source) in aux.
//   divert  ipfw `divert PORT` / pf `divert-packet port PORT` hand whole IP packets to a divert socket.
//           PPTP GRE goes up; anything else that the rule caught (TCP 1723, other GRE) is re-injected
//           at once, unchanged, with the sockaddr it came with. GRE is sent through a raw GRE socket
//           whose receive side is shut down (the kernel builds the outer IP header).
// Receives land in pool buffers and the IP header is pulled in place; sends go out of the pool buffer.
// No allocation, no payload copy; every packet given to gre_send is freed to its pool; drops are
// named counters.
#pragma once

#include <cstdint>
#include <string>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/host_bsd/bsd_sys.hpp"
#include "pptpkit/host_bsd/counters.hpp"
#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::host_bsd {

// RFC 2637 §4.1: enhanced GRE has version 1 and protocol type 0x880B (PPP).
inline constexpr std::uint16_t gre_protocol_ppp = 0x880B;
inline constexpr std::uint8_t gre_version_enhanced = 1;

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
// ok or pool_empty (runtime::platform::gre_receive).
runtime::batch_result gre_receive(bsd_sys& sys, const gre_state& state, core::packet_pool& pool, core::packet_list& out,
                                  std::uint32_t max, host_counters& counters) noexcept;
std::uint32_t gre_send(bsd_sys& sys, const gre_state& state, core::packet_list& in, host_counters& counters) noexcept;

// Opens a divert socket bound to `port`: PF_DIVERT first (FreeBSD 14), then PF_INET/IPPROTO_DIVERT.
fd_t divert_open(bsd_sys& sys, std::uint16_t port, std::string& error);

}  // namespace pptpkit::host_bsd
