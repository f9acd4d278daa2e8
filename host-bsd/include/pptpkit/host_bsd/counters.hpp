// pptpkit/host_bsd/counters.hpp — every packet host-bsd drops or re-injects, and every connection it
// could not accept, by reason, listed once.
//
// bsd_platform keeps one host_counters; tun_*, gre_* and divert paths add to it. Each name says why a
// packet did not go where it was headed, so a drop is never silent.
#pragma once

#include "pptpkit/core/counters.hpp"

namespace pptpkit::host_bsd {

#define PPTPKIT_HOST_BSD_COUNTERS(X)                                                                     \
  X(tun_rx_packets, "IP packets read from tun interfaces")                                               \
  X(tun_rx_runt, "tun frames shorter than the 4-byte address-family header (dropped)")                   \
  X(tun_rx_bad_family, "tun frames whose address family is neither AF_INET nor AF_INET6 (dropped)")      \
  X(tun_rx_error, "tun reads that failed with an error")                                                 \
  X(tun_tx_packets, "IP packets written to tun interfaces")                                              \
  X(tun_tx_no_headroom, "packets without 4 bytes of headroom for the address family (dropped)")          \
  X(tun_tx_error, "tun writes that failed (dropped)")                                                    \
  X(gre_rx_packets, "enhanced GRE packets received")                                                     \
  X(gre_rx_bad_ip_header, "datagrams with a short, non-IPv4 or overlong IP header (dropped)")            \
  X(gre_rx_not_pptp, "GRE packets that are not enhanced GRE v1 / PPP 0x880B (ignored on a raw socket)")  \
  X(gre_rx_error, "GRE socket reads that failed with an error")                                          \
  X(gre_rx_truncated, "datagrams longer than a packet buffer: dropped whole, never passed on cut short") \
  X(gre_tx_packets, "GRE packets sent")                                                                  \
  X(gre_tx_error, "GRE sends that failed (dropped)")                                                     \
  X(divert_reinjected, "diverted packets that were not PPTP GRE, re-injected unchanged")                 \
  X(divert_reinject_error, "re-injections that failed (the packet is lost, as if the rule dropped it)")  \
  X(rx_pool_exhausted, "reads cut short because the packet pool was empty")                              \
  X(accept_exhausted, "accepts refused for want of descriptors or memory")                               \
  X(accept_shed, "connections closed at once while out of descriptors (reserve)")
PPTPKIT_DEFINE_COUNTERS(host_counters, PPTPKIT_HOST_BSD_COUNTERS);

}  // namespace pptpkit::host_bsd
