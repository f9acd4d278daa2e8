// libFuzzer target: the tunnel's receive path driven by arbitrary sequences of operations — raw GRE
// bytes, well-formed data with any sequence and ack numbers (reordering, duplicates, jumps, wraps),
// time passing, frames sent, polls, sessions closed and reopened.
// Properties checked after every step: each data packet a session received is accounted for exactly
// once (delivered, held, or dropped by a named reason); and when the tunnel is destroyed every packet
// is back in the pool (nothing leaked, nothing freed twice — ASan catches the rest).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "pptpkit/core/pool.hpp"
#include "pptpkit/gre/tunnel.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::gre;

constexpr std::uint32_t peer_ip = 0x0a000002;

struct input {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
  bool done() const { return pos >= size; }
  std::uint8_t u8() { return pos < size ? data[pos++] : 0; }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      v = v << 8 | u8();
    }
    return v;
  }
};

void no_log(void*, std::uint32_t, const char*, const char*) {}
std::uint64_t no_clock(void*) {
  return 0;
}
std::int32_t zero_random(void*, std::uint8_t* out, std::uint32_t n) {
  std::memset(out, 0, n);
  return 0;
}

void check_accounting(const tunnel& t, std::uint32_t call) {
  const session* s = t.find(call);
  if (s == nullptr) {
    return;
  }
  const gre_counters& k = s->counters();
  if (k.delivered + k.duplicates + k.stale + k.out_of_window + k.far_behind + s->held() !=
      k.received - k.received_ack_only) {
    std::abort();
  }
}

void open(tunnel& t, std::uint16_t call, std::uint32_t window, std::uint64_t now) {
  session_params p;
  p.call_id = call;
  p.peer_call_id = static_cast<std::uint16_t>(call + 100);
  p.peer_window = window;
  p.peer_address = peer_ip;
  t.open_session(p, now);
}

void free_all(core::packet_pool& pool, tunnel& t, std::uint32_t port, std::uint64_t now) {
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  while (t.poll(port, b, PPTPKIT_BATCH_MAX, now) > 0) {
    pool.free_batch(b);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::unique_ptr<core::packet_pool> pool = core::packet_pool::create({.packets = 256});
  pptpkit_host_services services = PPTPKIT_HOST_SERVICES_INIT;
  services.host_ctx = pool.get();
  services.log = &no_log;
  services.now_ns = &no_clock;
  services.random_bytes = &zero_random;
  services.packet_alloc = &core::packet_pool::host_alloc;
  services.packet_free = &core::packet_pool::host_free;

  input in{data, size};
  const std::uint8_t shape = in.u8();
  tunnel_config config;
  config.receive_window = 1u + (shape & 0x3f);
  config.reorder_depth = std::min<std::uint32_t>(config.receive_window, 1u + (in.u8() & 0x3f));
  config.enforce_peer_window = (shape & 0x40) != 0;
  config.reorder_timeout_ns = (shape & 0x80) != 0 ? 0 : 80'000'000;
  config.send_queue_limit = 8;
  {
    tunnel t{core::host(services), config};
    std::uint64_t now = 0;
    const std::uint32_t window = in.u8() & 0x0f;
    open(t, 1, window, now);
    open(t, 2, window, now);
    while (!in.done()) {
      const std::uint8_t op = in.u8();
      const std::uint16_t call = (op & 0x80) != 0 ? 2 : 1;
      switch (op & 0x07) {
        case 0: {  // raw bytes as a GRE packet
          const std::uint8_t n = in.u8();
          pptpkit_packet* p = pool->alloc();
          if (p == nullptr) {
            break;
          }
          for (std::uint8_t i = 0; i < n && !in.done(); ++i) {
            p->base[p->offset + p->length++] = in.u8();
          }
          p->aux = (op & 0x40) != 0 ? 0x0b000001 : peer_ip;
          pptpkit_batch b = PPTPKIT_BATCH_INIT;
          b.head = b.tail = &p->link;
          b.count = 1;
          t.feed(PPTPKIT_GRE_PORT_NET, b, now);
          break;
        }
        case 1:
        case 2: {  // a well-formed data packet (case 2: with an ack)
          const std::uint32_t seq = (op & 0x40) != 0 ? in.u32() : in.u8();
          const std::uint32_t ack = (op & 0x07) == 2 ? in.u32() : 0;
          pptpkit_packet* p = pool->alloc();
          if (p == nullptr) {
            break;
          }
          std::memcpy(p->base + p->offset, &seq, 4);
          p->length = 4;
          encode_params e{
              .peer_call_id = call, .has_sequence = true, .sequence = seq, .has_ack = (op & 0x07) == 2, .ack = ack};
          encode(*p, e);
          p->aux = peer_ip;
          pptpkit_batch b = PPTPKIT_BATCH_INIT;
          b.head = b.tail = &p->link;
          b.count = 1;
          t.feed(PPTPKIT_GRE_PORT_NET, b, now);
          break;
        }
        case 3: {  // an ack-only packet
          pptpkit_packet* p = pool->alloc();
          if (p == nullptr) {
            break;
          }
          encode(*p, {.peer_call_id = call, .has_ack = true, .ack = in.u32()});
          p->aux = peer_ip;
          pptpkit_batch b = PPTPKIT_BATCH_INIT;
          b.head = b.tail = &p->link;
          b.count = 1;
          t.feed(PPTPKIT_GRE_PORT_NET, b, now);
          break;
        }
        case 4:  // time passes
          now += std::uint64_t{in.u8()} * 2'000'000;
          t.tick(now);
          break;
        case 5: {  // PPP sends a frame (data or control)
          pptpkit_packet* p = pool->alloc();
          if (p == nullptr) {
            break;
          }
          p->length = 8;
          p->channel = call;
          p->flags = (op & 0x40) != 0 ? PPTPKIT_PACKET_F_CONTROL : 0;
          pptpkit_batch b = PPTPKIT_BATCH_INIT;
          b.head = b.tail = &p->link;
          b.count = 1;
          t.feed(PPTPKIT_GRE_PORT_PPP, b, now);
          break;
        }
        case 6:  // the host drains its ports
          free_all(*pool, t, PPTPKIT_GRE_PORT_NET, now);
          free_all(*pool, t, PPTPKIT_GRE_PORT_PPP, now);
          break;
        case 7:  // the call ends and a new one takes its id
          t.close_session(call);
          open(t, call, window, now);
          break;
      }
      check_accounting(t, 1);
      check_accounting(t, 2);
    }
    pptpkit_event e = PPTPKIT_EVENT_INIT;
    while (t.poll_event(e) == 1) {
    }
  }
  if (pool->available() != pool->capacity()) {
    std::abort();  // a packet leaked
  }
  return 0;
}
