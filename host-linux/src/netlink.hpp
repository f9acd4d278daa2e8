// netlink.hpp — the few rtnetlink requests a TUN session needs (private to host-linux).
//
// Each call opens a NETLINK_ROUTE socket, sends one request with NLM_F_ACK and reads the kernel's answer,
// so an error comes back as the kernel's errno, turned into text naming what was asked. rtnetlink rather
// than ioctl/sysctl because it needs only CAP_NET_ADMIN: it keeps working after privileges are dropped.
// Configuration path only (allocates, blocks for the kernel's answer, which is immediate).
#pragma once

#include <cstdint>
#include <string>

namespace pptpkit::host_linux::netlink {

// Sets the MTU (when non-zero) and brings the link up or down.
bool set_link(int ifindex, std::uint32_t mtu, bool up, std::string& error);
// Tells the kernel not to generate an IPv6 link-local address itself (IN6_ADDR_GEN_MODE_NONE): PPP
// negotiates the interface identifiers (RFC 5072 §4.1).
bool disable_ipv6_autoconf(int ifindex, std::string& error);
// Adds a point-to-point IPv4 address: local/32 with peer (both host order).
bool add_ipv4_peer_address(int ifindex, std::uint32_t local, std::uint32_t peer, std::string& error);
// Adds fe80::<local_id>/128 with peer fe80::<peer_id> (RFC 5072 §5), link scope.
bool add_ipv6_link_local(int ifindex, std::uint64_t local_id, std::uint64_t peer_id, std::string& error);
// Adds a route to destination/prefix_length (host order) through the interface, in the main table.
// Fails with "File exists" when the same route is there already (never replaces someone else's route).
bool add_ipv4_route(int ifindex, std::uint32_t destination, std::uint8_t prefix_length, std::string& error);

}  // namespace pptpkit::host_linux::netlink
