// Private helpers shared by tun.cc and gre.cc: byte order, freeing to a packet's pool, error text.
#pragma once

#include <cstdint>
#include <string>

#include "pptpkit/core/pool.hpp"
#include "pptpkit/host_bsd/bsd_sys.hpp"

namespace pptpkit::host_bsd::detail {

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

inline void free_packet(pptpkit_packet* p) noexcept {
  static_cast<core::packet_pool*>(p->pool)->free(p);
}

inline std::string failed(bsd_sys& sys, const std::string& what, const sys_result& r) {
  return what + ": " + sys.error_text(r.err);
}

}  // namespace pptpkit::host_bsd::detail
