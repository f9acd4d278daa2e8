// Fuzzes strip_ipv4_header(), the one parser of peer bytes in host-linux: whatever a raw socket hands
// over, it either refuses the datagram untouched or leaves data inside the received bytes, after a
// header of 20..60 bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/host_linux/linux_platform.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  static auto pool = pptpkit::core::packet_pool::create({.packets = 1});
  pptpkit_packet* p = pool->alloc();
  const std::uint32_t room = pptpkit::core::tailroom(*p);
  const auto n = static_cast<std::uint32_t>(size < room ? size : room);
  std::memcpy(pptpkit::core::data(*p), bytes, n);
  // The fuzzer also picks the claimed received length (first byte scales it), so lengths beyond what
  // was written and beyond the buffer are tried too.
  const std::uint32_t received = size > 0 ? n + (bytes[0] & 1u) * room : 0;
  const std::uint32_t offset = p->offset;
  if (pptpkit::host_linux::strip_ipv4_header(*p, received)) {
    const std::uint32_t header = p->offset - offset;
    if (header < 20 || header > 60 || header + p->length != received || received > room) {
      std::abort();
    }
  } else if (p->offset != offset || p->length != 0) {
    std::abort();
  }
  pool->free(p);
  return 0;
}
