// libFuzzer target: the control engine (either role) driven by arbitrary sequences of well-formed
// messages, raw bytes, commands, closes and time steps on two connections. It must never crash, leak a
// packet or break its own tables (engine::invariants_hold), whatever the order.
//
// Input: byte 0 picks the role (even: PAC, odd: PNS); then steps, each an opcode byte and its operands:
//   0 raw      channel, n, n bytes                 1 message  channel, type, flags, body bytes
//   2 command  type, channel, v0 selector (0: the last call id), v0, v1, v2     3 tick  1/10 seconds
//   4 poll     (drains both connections)           5 closed   channel
// A message gets a correct header; its body comes from the input, and with flag bit 0 the first call id
// fields are set to the ids of the last call event, so call messages reach existing calls.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "pptpkit/control.h"
#include "pptpkit/control/engine.hpp"
#include "pptpkit/control/messages.hpp"
#include "pptpkit/core/batch.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace {

using namespace pptpkit;

struct input {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t next() {
    if (n == 0) {
      return 0;
    }
    --n;
    return *p++;
  }
};

void feed(testing::test_host& host, control::engine& e, std::uint32_t channel, const std::vector<std::uint8_t>& b) {
  core::packet_list l;
  l.push_back(*host.make_packet(b, channel));
  pptpkit_batch in = PPTPKIT_BATCH_INIT;
  l.release(in);
  e.feed(PPTPKIT_CONTROL_PORT_STREAM, in, host.now);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  input in{data, size};
  testing::test_host host(1, core::pool_config{600, 512, PPTPKIT_HEADROOM_DEFAULT});
  const bool pac = (in.next() & 1) == 0;
  core::config_map config;
  const pptpkit_config_entry entries[] = {{"role", pac ? "pac" : "pns"}, {"max_calls_per_connection", "4"},
                                          {"max_output_bytes", "2048"},  {"echo_interval_ms", "5000"},
                                          {"echo_timeout_ms", "3000"},   {"call_id_quarantine_ms", "2000"}};
  auto e = std::make_unique<control::engine>(core::host(host.services()),
                                             control::settings::from(core::config_map(entries, 6)));
  std::uint16_t last_local = 0, last_peer = 0;
  const auto command = [&](std::uint32_t type, std::uint32_t channel, std::uint64_t v0, std::uint64_t v1,
                           std::uint64_t v2) {
    pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
    cmd.type = type;
    cmd.channel = channel;
    cmd.values[0] = v0;
    cmd.values[1] = v1;
    cmd.values[2] = v2;
    try {
      const std::int32_t rc = e->command(cmd, host.now);
      if (type == PPTPKIT_CONTROL_CMD_CALL_OPEN && rc > 0) {
        last_local = static_cast<std::uint16_t>(rc);
      }
    } catch (const core::config_error&) {
    }
  };
  command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, pac ? 0 : 1, 0x0a000001, 0x0a000002);
  command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 2, pac ? 0 : 1, 0x0a000003, 0x0a000002);
  std::vector<std::uint8_t> buf;
  for (int steps = 0; in.n > 0 && steps < 256; ++steps) {
    (void)e->next_deadline();  // as a host asks every loop: the cached answer is then checked below
    const std::uint8_t op = in.next() % 6;
    switch (op) {
      case 0: {
        const std::uint32_t ch = 1 + in.next() % 2;
        buf.assign(in.next(), 0);
        for (auto& b : buf) {
          b = in.next();
        }
        feed(host, *e, ch, buf);
        break;
      }
      case 1: {
        const std::uint32_t ch = 1 + in.next() % 2;
        const auto type = static_cast<std::uint16_t>(1 + in.next() % control::message_type_max);
        const std::uint8_t flags = in.next();
        buf.assign(control::message_size(type), 0);
        for (std::size_t i = sizeof(control::header); i < buf.size(); ++i) {
          buf[i] = in.next();
        }
        auto& h = *reinterpret_cast<control::header*>(buf.data());
        h.length = static_cast<std::uint16_t>(buf.size());
        h.pptp_message_type = control::pptp_message_type_control;
        h.magic_cookie = control::magic_cookie;
        h.control_message_type = type;
        if ((flags & 1) != 0) {
          buf[12] = static_cast<std::uint8_t>(last_peer >> 8);
          buf[13] = static_cast<std::uint8_t>(last_peer);
          buf[14] = static_cast<std::uint8_t>(last_local >> 8);
          buf[15] = static_cast<std::uint8_t>(last_local);
          if ((flags & 2) != 0) {
            std::swap(buf[12], buf[14]);
            std::swap(buf[13], buf[15]);
          }
        }
        if ((flags & 4) != 0 && type <= 2) {
          buf[12] = 0x01;  // a version 1.0 handshake, so later messages find an established connection
          buf[13] = 0x00;
          buf[14] = 1;
        }
        feed(host, *e, ch, buf);
        break;
      }
      case 2: {
        const std::uint32_t type = 1 + in.next() % 7;
        const std::uint32_t ch = in.next() % 4;
        const std::uint64_t v0 = in.next() == 0 ? last_local : in.next();
        const std::uint64_t v1 = in.next();
        const std::uint64_t v2 = in.next();
        command(type, ch, type == PPTPKIT_CONTROL_CMD_CONNECTION_OPEN ? v0 & 1 : v0, v1, v2);
        break;
      }
      case 3:
        host.now += static_cast<std::uint64_t>(in.next()) * 100'000'000;
        e->tick(host.now);
        break;
      case 4: {
        pptpkit_batch out = PPTPKIT_BATCH_INIT;
        while (e->poll(PPTPKIT_CONTROL_PORT_STREAM, out, 16, host.now) > 0) {
          core::for_each_packet(out, [](const pptpkit_packet& p) {
            if (p.length < sizeof(control::header) ||
                p.length != static_cast<std::uint32_t>((p.base[p.offset] << 8) | p.base[p.offset + 1])) {
              std::abort();  // every polled packet is one whole message
            }
          });
          host.drain(out);
        }
        break;
      }
      case 5:
        command(PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED, 1 + in.next() % 2, 0, 0, 0);
        break;
    }
    pptpkit_event ev = PPTPKIT_EVENT_INIT;
    while (e->poll_event(ev) == 1) {
      if (ev.type == PPTPKIT_CONTROL_EVENT_CALL_UP || ev.type == PPTPKIT_CONTROL_EVENT_CALL_DOWN) {
        last_local = static_cast<std::uint16_t>(ev.values[0]);
        last_peer = static_cast<std::uint16_t>(ev.values[1]);
      }
      ev = pptpkit_event PPTPKIT_EVENT_INIT;
    }
    if (!e->invariants_hold()) {
      std::abort();
    }
  }
  e.reset();  // frees every packet it held: the pool must be whole again
  if (host.pool().available() != host.pool().capacity()) {
    std::abort();
  }
  return 0;
}
