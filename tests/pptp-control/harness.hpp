// Test harness: two control instances (a PNS and a PAC) driven through the C function table, their
// streams connected back to back with a configurable split, in virtual time.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "pptpkit/control.h"
#include "pptpkit/control/messages.hpp"
#include "pptpkit/control/plugin.hpp"
#include "pptpkit/core/batch.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace pptpkit::control::testing {

using bytes = std::vector<std::uint8_t>;

inline constexpr std::uint64_t second = 1'000'000'000;
inline constexpr std::uint32_t pns_address = 0xC0000201;  // 192.0.2.1
inline constexpr std::uint32_t pac_address = 0xC0000202;  // 192.0.2.2

// One instance with its fake host and every event it produced.
class side {
 public:
  side(const char* role, std::uint64_t seed, std::vector<std::pair<std::string, std::string>> extra = {},
       const pptpkit_plugin_ops* ops = nullptr)
      : host(seed), ops_(ops != nullptr ? ops : plugin_descriptor().ops), services_(counting(host.services())) {
    config_.emplace_back("role", role);
    config_.emplace_back("host_name", std::string(role) + "-host");
    for (auto& e : extra) {
      config_.push_back(std::move(e));
    }
    std::vector<pptpkit_config_entry> entries;
    for (const auto& [k, v] : config_) {
      entries.push_back({k.c_str(), v.c_str()});
    }
    char error[256] = {0};
    const std::int32_t rc = ops_->create(&services_, entries.data(), static_cast<std::uint32_t>(entries.size()), &inst,
                                         error, sizeof(error));
    if (rc != PPTPKIT_OK) {
      ADD_FAILURE() << "create: " << rc << " " << error;
    }
  }
  ~side() { ops_->destroy(inst); }
  side(const side&) = delete;
  side& operator=(const side&) = delete;

  std::int32_t command(std::uint32_t type, std::uint32_t channel, std::vector<std::uint64_t> values = {},
                       std::vector<pptpkit_config_entry> entries = {}) {
    pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
    cmd.type = type;
    cmd.channel = channel;
    for (std::size_t i = 0; i < values.size() && i < 8; ++i) {
      cmd.values[i] = values[i];
    }
    cmd.entries = entries.empty() ? nullptr : entries.data();
    cmd.entry_count = static_cast<std::uint32_t>(entries.size());
    const std::int32_t rc = ops_->command(inst, &cmd, host.now);
    collect_events();
    return rc;
  }

  // Feeds stream bytes for `channel` as one packet.
  void feed(std::uint32_t channel, const bytes& b) {
    core::packet_list l;
    l.push_back(*host.make_packet(b, channel));
    pptpkit_batch in = PPTPKIT_BATCH_INIT;
    l.release(in);
    EXPECT_EQ(ops_->feed(inst, PPTPKIT_CONTROL_PORT_STREAM, &in, host.now), PPTPKIT_OK);
    EXPECT_EQ(in.count, 0u);
    collect_events();
  }

  // Every message waiting on the stream port, with its connection id.
  std::vector<std::pair<std::uint32_t, bytes>> poll() {
    std::vector<std::pair<std::uint32_t, bytes>> out;
    for (;;) {
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      const std::int32_t n = ops_->poll(inst, PPTPKIT_CONTROL_PORT_STREAM, &b, 16, host.now);
      EXPECT_GE(n, 0);
      if (n <= 0) {
        break;
      }
      std::vector<std::uint32_t> channels;
      core::for_each_packet(b, [&](const pptpkit_packet& p) { channels.push_back(p.channel); });
      auto data = host.drain(b);
      for (std::size_t i = 0; i < data.size(); ++i) {
        out.emplace_back(channels[i], std::move(data[i]));
      }
    }
    collect_events();
    return out;
  }

  void tick() {
    EXPECT_EQ(ops_->tick(inst, host.now), PPTPKIT_OK);
    collect_events();
  }
  std::uint64_t next_deadline() const { return ops_->next_deadline(inst); }

  void collect_events() {
    for (;;) {
      pptpkit_event e = PPTPKIT_EVENT_INIT;
      if (ops_->poll_event(inst, &e) != 1) {
        break;
      }
      events.push_back(e);
    }
  }
  // Events of one type, in order.
  std::vector<pptpkit_event> of_type(std::uint32_t type) const {
    std::vector<pptpkit_event> v;
    for (const auto& e : events) {
      if (e.type == type) {
        v.push_back(e);
      }
    }
    return v;
  }
  // A counter, instance-wide (channel = PPTPKIT_CHANNEL_ALL) or of one connection; -1 if absent.
  std::int64_t stat(const std::string& name, std::uint32_t channel = PPTPKIT_CHANNEL_ALL) const {
    pptpkit_stat stats[128];
    const std::int32_t n = ops_->read_stats(inst, channel, stats, 128);
    for (std::int32_t i = 0; i < n && i < 128; ++i) {
      if (name == stats[i].name) {
        return static_cast<std::int64_t>(stats[i].value);
      }
    }
    return -1;
  }
  bool connection_exists(std::uint32_t channel) const {
    pptpkit_stat s;
    return ops_->read_stats(inst, channel, &s, 1) >= 0;
  }

  pptpkit::testing::test_host host;
  pptpkit_instance* inst = nullptr;
  std::vector<pptpkit_event> events;
  std::uint64_t random_calls = 0;  // reads of the host's random source (each one a syscall in a real host)

 private:
  // The fake host's table with random_bytes counted: host_ctx points at this side, the rest forwards.
  pptpkit_host_services counting(const pptpkit_host_services& real) {
    pptpkit_host_services t = real;
    t.host_ctx = this;
    t.log = [](void* ctx, std::uint32_t level, const char* component, const char* text) {
      const auto& h = static_cast<side*>(ctx)->host.services();
      h.log(h.host_ctx, level, component, text);
    };
    t.now_ns = [](void* ctx) {
      const auto& h = static_cast<side*>(ctx)->host.services();
      return h.now_ns(h.host_ctx);
    };
    t.random_bytes = [](void* ctx, std::uint8_t* out, std::uint32_t n) {
      auto* self = static_cast<side*>(ctx);
      ++self->random_calls;
      const auto& h = self->host.services();
      return h.random_bytes(h.host_ctx, out, n);
    };
    t.packet_alloc = [](void* ctx, pptpkit_packet** out, std::uint32_t n) {
      const auto& h = static_cast<side*>(ctx)->host.services();
      return h.packet_alloc(h.host_ctx, out, n);
    };
    t.packet_free = [](void* ctx, pptpkit_packet* const* p, std::uint32_t n) {
      const auto& h = static_cast<side*>(ctx)->host.services();
      h.packet_free(h.host_ctx, p, n);
    };
    t.get_service = [](void* ctx, const char* id) -> const void* {
      const auto& h = static_cast<side*>(ctx)->host.services();
      return h.get_service != nullptr ? h.get_service(h.host_ctx, id) : nullptr;
    };
    return t;
  }

  const pptpkit_plugin_ops* ops_;
  pptpkit_host_services services_;
  std::vector<std::pair<std::string, std::string>> config_;
};

// One message as it crossed the wire, for checks and the pcap.
struct wire_message {
  bool from_pns;
  bytes data;
};

// A PNS and a PAC with one control connection between them (channel `ch` on both).
class session {
 public:
  // chunk: how the bytes of one burst reach the peer: 0 = every message in its own packet, n = the
  // burst's concatenated bytes cut into n-byte packets (1 = byte by byte).
  explicit session(std::size_t chunk = 0, std::uint64_t seed = 1,
                   std::vector<std::pair<std::string, std::string>> pns_extra = {},
                   std::vector<std::pair<std::string, std::string>> pac_extra = {},
                   const pptpkit_plugin_ops* ops = nullptr)
      : pns("pns", seed, std::move(pns_extra), ops), pac("pac", seed + 1, std::move(pac_extra), ops), chunk_(chunk) {}

  void open() {
    EXPECT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, ch, {0, pns_address, pac_address}), PPTPKIT_OK);
    EXPECT_EQ(pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, ch, {1, pac_address, pns_address}), PPTPKIT_OK);
    pump();
  }

  // Moves bytes both ways until both are quiet.
  void pump() {
    for (int round = 0; round < 100; ++round) {
      const bool a = transfer(pns, pac, true);
      const bool b = transfer(pac, pns, false);
      if (!a && !b) {
        return;
      }
    }
    ADD_FAILURE() << "pump: no quiescence";
  }

  void advance(std::uint64_t ns) {
    pns.host.now += ns;
    pac.host.now += ns;
    pns.tick();
    pac.tick();
    pump();
  }

  side pns;
  side pac;
  std::uint32_t ch = 7;
  std::vector<wire_message> wire;

 private:
  bool transfer(side& from, side& to, bool from_pns) {
    auto msgs = from.poll();
    if (msgs.empty()) {
      return false;
    }
    bytes burst;
    for (auto& [channel, data] : msgs) {
      EXPECT_EQ(channel, ch);
      wire.push_back({from_pns, data});
      if (chunk_ == 0) {
        to.feed(ch, data);
      } else {
        burst.insert(burst.end(), data.begin(), data.end());
      }
    }
    for (std::size_t at = 0; chunk_ != 0 && at < burst.size(); at += chunk_) {
      const std::size_t n = std::min(chunk_, burst.size() - at);
      to.feed(ch, bytes(burst.begin() + static_cast<std::ptrdiff_t>(at),
                        burst.begin() + static_cast<std::ptrdiff_t>(at + n)));
    }
    return true;
  }
  std::size_t chunk_;
};

inline std::uint16_t type_of(const bytes& m) {
  return static_cast<std::uint16_t>((m[8] << 8) | m[9]);
}

// What full_session() saw, for the callers' own checks.
struct full_session_result {
  std::uint16_t pns_outgoing = 0, pac_outgoing = 0;  // the OCRQ call: PNS's id, PAC's id
  std::uint16_t pns_incoming = 0, pac_incoming = 0;  // the ICRQ call
};

// The acceptance scenario: setup, an outgoing and an incoming call, Set-Link-Info, WAN-Error-Notify,
// keepalive echoes both ways, Call-Clear-Request, Call-Disconnect-Notify and stop: every one of the 15
// message types crosses the wire at least once.
inline full_session_result full_session(session& s) {
  full_session_result r;
  s.open();
  EXPECT_EQ(s.pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP).size(), 1u);
  EXPECT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP).size(), 1u);

  // Outgoing call (PNS: OCRQ; PAC: OCRP).
  const std::string phone = "5551234";
  const std::int32_t out_id = s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch, {}, {{"phone", phone.c_str()}});
  EXPECT_GT(out_id, 0);
  s.pump();
  // Incoming call (PAC: ICRQ; PNS: ICRP; PAC: ICCN).
  const std::int32_t in_id = s.pac.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
  EXPECT_GT(in_id, 0);
  s.pump();
  auto pns_up = s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP);
  auto pac_up = s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP);
  EXPECT_EQ(pns_up.size(), 2u);
  EXPECT_EQ(pac_up.size(), 2u);
  if (pns_up.size() == 2 && pac_up.size() == 2) {
    r.pns_outgoing = static_cast<std::uint16_t>(pns_up[0].values[0]);
    r.pac_outgoing = static_cast<std::uint16_t>(pac_up[0].values[0]);
    r.pns_incoming = static_cast<std::uint16_t>(pns_up[1].values[0]);
    r.pac_incoming = static_cast<std::uint16_t>(pac_up[1].values[0]);
    EXPECT_EQ(r.pns_outgoing, out_id);
    EXPECT_EQ(r.pac_incoming, in_id);
    EXPECT_EQ(pns_up[0].values[1], r.pac_outgoing);  // each side knows the other's id
    EXPECT_EQ(pac_up[0].values[1], r.pns_outgoing);
    EXPECT_EQ(pns_up[1].values[1], r.pac_incoming);
    EXPECT_EQ(pac_up[1].values[1], r.pns_incoming);
    EXPECT_EQ(pns_up[0].values[6], 1u);  // outgoing
    EXPECT_EQ(pac_up[0].values[6], 1u);
    EXPECT_EQ(pns_up[1].values[6], 2u);  // incoming
    EXPECT_EQ(pac_up[1].values[6], 2u);
    EXPECT_EQ(pns_up[0].values[2], 64u);                  // the peer's receive window (default)
    EXPECT_EQ(pac_up[0].values[5], pns_up[0].values[5]);  // one call serial number on both sides
  }

  // Set-Link-Info (PNS -> PAC) and WAN-Error-Notify (PAC -> PNS).
  EXPECT_EQ(s.pns.command(PPTPKIT_CONTROL_CMD_SET_LINK_INFO, s.ch, {r.pns_outgoing, 0xffffffff, 0x000a0000}),
            PPTPKIT_OK);
  EXPECT_EQ(s.pac.command(PPTPKIT_CONTROL_CMD_WAN_ERROR, s.ch, {r.pac_incoming, 1, 2, 3, 4, 5, 6}), PPTPKIT_OK);
  s.pump();
  auto sli = s.pac.of_type(PPTPKIT_CONTROL_EVENT_SET_LINK_INFO);
  EXPECT_EQ(sli.size(), 1u);
  if (!sli.empty()) {
    EXPECT_EQ(sli[0].values[0], r.pac_outgoing);
    EXPECT_EQ(sli[0].values[1], 0xffffffffu);
    EXPECT_EQ(sli[0].values[2], 0x000a0000u);
  }
  auto wen = s.pns.of_type(PPTPKIT_CONTROL_EVENT_WAN_ERROR);
  EXPECT_EQ(wen.size(), 1u);
  if (!wen.empty()) {
    EXPECT_EQ(wen[0].values[0], r.pns_incoming);
    for (int i = 1; i <= 6; ++i) {
      EXPECT_EQ(wen[0].values[i], static_cast<std::uint64_t>(i));
    }
  }

  // Keepalive: 60 s of silence, both send an Echo-Request and both answer.
  s.advance(60 * second);
  EXPECT_EQ(s.pns.stat("echo_replies_received"), 1);
  EXPECT_EQ(s.pac.stat("echo_replies_received"), 1);

  // PNS clears the outgoing call: CCRQ, then the PAC's CDN.
  EXPECT_EQ(s.pns.command(PPTPKIT_CONTROL_CMD_CALL_CLEAR, s.ch, {r.pns_outgoing}), PPTPKIT_OK);
  s.pump();
  // PAC clears the incoming call: CDN.
  EXPECT_EQ(s.pac.command(PPTPKIT_CONTROL_CMD_CALL_CLEAR, s.ch, {r.pac_incoming, 3}), PPTPKIT_OK);
  s.pump();
  EXPECT_EQ(s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).size(), 2u);
  EXPECT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).size(), 2u);

  // Stop: StopCCRQ, StopCCRP.
  EXPECT_EQ(s.pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_STOP, s.ch, {1}), PPTPKIT_OK);
  s.pump();
  for (side* x : {&s.pns, &s.pac}) {
    auto down = x->of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN);
    EXPECT_EQ(down.size(), 1u);
    if (!down.empty()) {
      EXPECT_EQ(down[0].values[0], PPTPKIT_CONTROL_REASON_STOPPED) << down[0].text;
    }
    EXPECT_FALSE(x->connection_exists(s.ch));
  }
  return r;
}

}  // namespace pptpkit::control::testing
