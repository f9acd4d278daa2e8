// Helpers shared by the gre-tunnel tests: a tunnel on a test_host, GRE packet builders and drains.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/gre/header.hpp"
#include "pptpkit/gre/tunnel.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace pptpkit::gre::testing {

inline constexpr std::uint64_t ms = 1'000'000;
inline constexpr std::uint32_t peer_ip = 0x0a000002;  // 10.0.0.2

using config_list = std::vector<std::pair<std::string, std::string>>;

inline std::unique_ptr<tunnel> make_tunnel(pptpkit::testing::test_host& host, const config_list& config = {}) {
  std::vector<pptpkit_config_entry> entries;
  for (const auto& [k, v] : config) {
    entries.push_back({k.c_str(), v.c_str()});
  }
  return tunnel::create(core::host(host.services()),
                        core::config_map(entries.data(), static_cast<std::uint32_t>(entries.size())));
}

// A payload that names itself: 4 bytes of id, then filler.
inline std::vector<std::uint8_t> payload(std::uint32_t id, std::size_t size = 16) {
  std::vector<std::uint8_t> b(size, 0xab);
  b[0] = static_cast<std::uint8_t>(id >> 24);
  b[1] = static_cast<std::uint8_t>(id >> 16);
  b[2] = static_cast<std::uint8_t>(id >> 8);
  b[3] = static_cast<std::uint8_t>(id);
  return b;
}
inline std::uint32_t payload_id(const std::vector<std::uint8_t>& b) {
  return std::uint32_t{b.at(0)} << 24 | std::uint32_t{b.at(1)} << 16 | std::uint32_t{b.at(2)} << 8 | b.at(3);
}

class gre_test : public ::testing::Test {
 protected:
  void make(const config_list& config = {}) { t = make_tunnel(host, config); }
  void open(std::uint16_t call = 100, std::uint16_t peer_call = 200, std::uint32_t window = 64,
            std::uint32_t address = peer_ip) {
    session_params p;
    p.call_id = call;
    p.peer_call_id = peer_call;
    p.peer_window = window;
    p.peer_address = address;
    ASSERT_EQ(t->open_session(p, host.now), PPTPKIT_OK);
  }
  // A GRE packet from the peer to our call `call`.
  pptpkit_packet* gre(std::optional<std::uint32_t> seq, std::optional<std::uint32_t> ack,
                      const std::vector<std::uint8_t>& data, std::uint16_t call = 100, std::uint32_t from = peer_ip) {
    pptpkit_packet* p = host.make_packet(data);
    encode_params e;
    e.peer_call_id = call;
    e.has_sequence = seq.has_value();
    e.sequence = seq.value_or(0);
    e.has_ack = ack.has_value();
    e.ack = ack.value_or(0);
    EXPECT_TRUE(encode(*p, e));
    p->aux = from;
    return p;
  }
  void feed_net(pptpkit_packet* p) {
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    core::packet_list l;
    l.push_back(*p);
    l.release(b);
    ASSERT_EQ(t->feed(PPTPKIT_GRE_PORT_NET, b, host.now), PPTPKIT_OK);
    EXPECT_EQ(b.count, 0u);
  }
  void data(std::uint32_t seq, std::optional<std::uint32_t> ack = std::nullopt, std::uint16_t call = 100) {
    feed_net(gre(seq, ack, payload(seq), call));
  }
  void send(std::uint32_t id, std::uint32_t flags = 0, std::uint16_t call = 100) {
    pptpkit_packet* p = host.make_packet(payload(id), call);
    p->flags = flags;
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    core::packet_list l;
    l.push_back(*p);
    l.release(b);
    ASSERT_EQ(t->feed(PPTPKIT_GRE_PORT_PPP, b, host.now), PPTPKIT_OK);
  }
  std::vector<std::vector<std::uint8_t>> poll(std::uint32_t port) {
    std::vector<std::vector<std::uint8_t>> all;
    for (;;) {
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      const std::int32_t n = t->poll(port, b, PPTPKIT_BATCH_MAX, host.now);
      EXPECT_GE(n, 0);
      if (n <= 0) {
        return all;
      }
      for (auto& bytes : host.drain(b)) {
        all.push_back(std::move(bytes));
      }
    }
  }
  // Ids of the PPP frames delivered so far.
  std::vector<std::uint32_t> delivered() {
    std::vector<std::uint32_t> ids;
    for (const auto& f : poll(PPTPKIT_GRE_PORT_PPP)) {
      ids.push_back(payload_id(f));
    }
    return ids;
  }
  // Decoded GRE headers of what the tunnel sent.
  std::vector<header_info> sent() {
    std::vector<header_info> out;
    for (const auto& g : poll(PPTPKIT_GRE_PORT_NET)) {
      header_info h;
      EXPECT_EQ(decode(g, h), verdict::ok);
      out.push_back(h);
    }
    return out;
  }
  void advance(std::uint64_t ns) {
    host.now += ns;
    ASSERT_EQ(t->tick(host.now), PPTPKIT_OK);
  }
  const gre_counters& c(std::uint16_t call = 100) { return t->find(call)->counters(); }

  pptpkit::testing::test_host host{1};
  std::unique_ptr<tunnel> t;
};

}  // namespace pptpkit::gre::testing
