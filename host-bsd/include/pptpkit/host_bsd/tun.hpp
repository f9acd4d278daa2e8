// pptpkit/host_bsd/tun.hpp — tun(4) interfaces, above the system-call layer.
//
// Each frame is a 4-byte address family (network order) followed by the IP packet. FreeBSD adds it only
// after TUNSIFHEAD, which tun_open sets; OpenBSD always does. tun_read reads a frame straight into a
// pool buffer at its headroom and pulls the header off in place; tun_write pushes it into the headroom
// (PPTPKIT_HDR_TUN_AF) and writes from the pool buffer. No allocation, no payload copy. Every packet
// given to tun_write is freed to its pool, written or dropped; each drop is a named counter.
//
// Opening: FreeBSD clones /dev/tun (TUNGIFNAME names it) and renames it to the requested name; a
// `tunN` name opens that unit. OpenBSD has no cloning device and no rename: the first free /dev/tunN.
#pragma once

#include <cstdint>
#include <string>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/host_bsd/bsd_sys.hpp"
#include "pptpkit/host_bsd/counters.hpp"
#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::host_bsd {

// The 4-byte tun(4) header, network order.
inline constexpr std::uint32_t tun_af_header_size = PPTPKIT_HDR_TUN_AF;

struct tun_state {
  std::string name;
  bool cloned = false;  // created by opening /dev/tun: destroyed when closed
};
// Opens and configures a tun interface (see the file comment); -1 and `error` on failure.
fd_t tun_open(bsd_sys& sys, const runtime::tun_config& config, tun_state& state, std::string& error);
void tun_close(bsd_sys& sys, fd_t fd, const tun_state& state);
bool tun_set_ipv6(bsd_sys& sys, const tun_state& state, std::uint64_t local_id, std::uint64_t peer_id,
                  std::string& error);
// As runtime::platform::tun_read / tun_write. A read error other than EAGAIN, EINTR, ENOBUFS or ENOMEM,
// and a write error that names a vanished device (ENXIO, EBADF, ENODEV), is `failed`.
runtime::batch_result tun_read(bsd_sys& sys, fd_t fd, core::packet_pool& pool, core::packet_list& out,
                               std::uint32_t max, host_counters& counters);
runtime::batch_result tun_write(bsd_sys& sys, fd_t fd, core::packet_list& in, host_counters& counters);

}  // namespace pptpkit::host_bsd
