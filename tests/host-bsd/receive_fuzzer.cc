// libFuzzer target for what host-bsd parses from the kernel: tun(4) frames (address-family header) and
// datagrams from the raw GRE and divert sockets (IP header, GRE version/protocol), through the same code
// the platform runs, over the fake system-call layer. Byte 0 picks the path, the rest is the frame.
// Checks the invariants: every packet handed up lies inside its buffer, has the right header pulled,
// and every packet goes back to the pool.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fake_sys.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/host_bsd/gre.hpp"
#include "pptpkit/host_bsd/tun.hpp"

using namespace pptpkit;
using namespace pptpkit::host_bsd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  static auto pool = core::packet_pool::create({.packets = 8});
  const std::uint8_t path = data[0] % 4;
  const os_constants& c = (data[0] & 0x80) != 0 ? openbsd : freebsd;
  testing::fake_sys sys(c);
  sys.record_payloads = false;
  raw_sockaddr from;
  from.length = 16;
  from.inet = {.address = 0xcb007101, .port = 1723};
  sys.inbox(5).push_back({std::vector<std::uint8_t>(data + 1, data + size), from});
  host_counters counters;
  core::packet_list out;
  std::uint32_t got = 0;
  if (path == 0) {
    got = tun_read(sys, 5, *pool, out, 4, counters).packets;
  } else {
    const gre_state state{.mode = path == 1 ? capture_mode::raw : capture_mode::divert, .receive_fd = 5, .send_fd = 6};
    got = gre_receive(sys, state, *pool, out, 4, counters).packets;
  }
  assert(got == out.size() && got <= 1);
  for (pptpkit_packet& p : out) {
    assert(p.offset + p.length <= p.capacity);
    if (path == 0) {
      assert(p.length + tun_af_header_size == size - 1);
    } else {
      assert(p.length >= 8 && p.length + 20 <= size - 1);
      assert((core::data(p)[1] & 7) == 1);
    }
  }
  pool->free_list(out);
  assert(pool->available() == pool->capacity());
  return 0;
}
