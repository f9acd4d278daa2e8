// libFuzzer target: one ppp-bridge instance (server or client) driven by an arbitrary sequence of
// frames, timer ticks, secret answers and IP packets. After every step the output is drained (so
// memory stays bounded) and the automata must be in one of their ten states.
//
// Input: byte 0 picks the role (bit 0 clear: server, set: client) and bit 1 allows stateful MPPE; then
// records [op][len][len bytes]:
//   op % 4 == 0  a frame from the link      1  advance the clock by data[0] * 100 ms and tick
//   op % 4 == 2  answer a pending secret     3  an IP packet from the interface (data[0] & 1: IPv6)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/ppp.h"
#include "pptpkit/ppp/plugin.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace {

using namespace pptpkit;

void check(const ppp::session* s) {
  if (s == nullptr) {
    return;  // ended (LINK_DOWN): a valid outcome
  }
  for (const ppp::fsm* f : {&s->lcp(), &s->ipcp(), &s->ipv6cp(), &s->ccp().automaton()}) {
    if (static_cast<unsigned>(f->state()) > static_cast<unsigned>(ppp::fsm_state::opened)) {
      std::abort();
    }
  }
  // Network traffic only in the Network phase with LCP Opened.
  if ((s->ipcp().is_opened() || s->ipv6cp().is_opened()) && !s->lcp().is_opened()) {
    std::abort();
  }
  // MPPE runs only while CCP is Opened (RFC 1962 §2).
  if (s->ccp().mppe_up() && !s->ccp().automaton().is_opened()) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  testing::test_host host(1, {.packets = 256});
  const pptpkit_plugin_ops& ops = *ppp::ppp_descriptor().ops;
  pptpkit_instance* inst = nullptr;
  char err[128];
  if (ops.create(&host.services(), nullptr, 0, &inst, err, sizeof(err)) != PPTPKIT_OK) {
    std::abort();
  }
  const bool server = (data[0] & 1u) == 0;
  const char* stateful = (data[0] & 2u) != 0 ? "1" : "0";
  const pptpkit_config_entry server_cfg[] = {{"role", "server"},         {"auth", "mschapv2,chap,eap,pap"},
                                             {"local_ip", "10.0.0.1"},   {"remote_ip", "10.0.0.2"},
                                             {"dns1", "10.0.0.53"},      {"max_failure", "2"},
                                             {"mppe_stateful", stateful}};
  const pptpkit_config_entry client_cfg[] = {{"role", "client"},
                                             {"auth", "mschapv2,chap,eap,pap"},
                                             {"user", "u"},
                                             {"password", "p"},
                                             {"mppe_stateful", stateful}};
  pptpkit_command open = PPTPKIT_COMMAND_INIT;
  open.type = PPTPKIT_PPP_CMD_SESSION_OPEN;
  open.channel = 1;
  open.entries = server ? server_cfg : client_cfg;
  open.entry_count = server ? 7u : 5u;
  if (ops.command(inst, &open, host.now) != PPTPKIT_OK) {
    std::abort();
  }
  const core::instance& core_inst = *core::detail::as_instance(static_cast<const pptpkit_instance*>(inst));

  std::size_t pos = 1;
  bool secret_pending = false;
  while (pos + 2 <= size) {
    const std::uint8_t op = data[pos];
    const std::size_t len = std::min<std::size_t>(data[pos + 1], size - pos - 2);
    const std::uint8_t* rec = data + pos + 2;
    pos += 2 + len;
    switch (op % 4) {
      case 0:
      case 3: {
        pptpkit_packet* p = host.pool().alloc();
        if (p == nullptr) {
          break;
        }
        std::memcpy(p->base + p->offset, rec, len);
        p->length = static_cast<std::uint32_t>(len);
        p->channel = 1;
        if (op % 4 == 3 && len > 0 && (rec[0] & 1u) != 0) {
          p->flags = PPTPKIT_PACKET_F_IPV6;
        }
        pptpkit_batch b = PPTPKIT_BATCH_INIT;
        b.head = b.tail = &p->link;
        b.count = 1;
        ops.feed(inst, op % 4 == 0 ? PPTPKIT_PPP_PORT_LINK : PPTPKIT_PPP_PORT_NET, &b, host.now);
        break;
      }
      case 1:
        host.now += std::uint64_t{len > 0 ? rec[0] : 1u} * 100'000'000u;
        if (ops.next_deadline(inst) <= host.now) {
          ops.tick(inst, host.now);
        }
        break;
      case 2:
        if (secret_pending) {
          const pptpkit_config_entry e[] = {{"secret", "p"}};
          pptpkit_command c = PPTPKIT_COMMAND_INIT;
          c.type = PPTPKIT_PPP_CMD_AUTH_SECRET;
          c.channel = 1;
          c.values[0] = len > 0 ? rec[0] & 1u : 1u;
          c.entries = e;
          c.entry_count = 1;
          ops.command(inst, &c, host.now);
          secret_pending = false;
        }
        break;
    }
    // Drain everything: what a host does every loop, and what keeps memory bounded.
    for (std::uint32_t port : {PPTPKIT_PPP_PORT_LINK, PPTPKIT_PPP_PORT_NET}) {
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      while (ops.poll(inst, port, &b, PPTPKIT_BATCH_MAX, host.now) > 0) {
        host.drain(b);
      }
    }
    pptpkit_event e = PPTPKIT_EVENT_INIT;
    while (ops.poll_event(inst, &e) == 1) {
      if (e.type == PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED) {
        secret_pending = true;
      }
      e = pptpkit_event PPTPKIT_EVENT_INIT;
    }
    check(ppp::find_session(core_inst, 1));
  }
  ops.destroy(inst);
  // Every packet came back to the pool: nothing leaked or was held.
  if (host.pool().available() != host.pool().capacity()) {
    std::abort();
  }
  return 0;
}
