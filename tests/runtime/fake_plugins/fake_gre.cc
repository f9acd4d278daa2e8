// A fake `gre` plugin (pptpkit/gre.h) for the runtime tests.
//
// Header (8 bytes, shaped like RFC 2637 §4.1 without sequence numbers): 0x30 0x01, protocol 0x880b,
// payload length, key = the receiver's call id. Demultiplexes by key, checks the sender's address,
// reports the first GRE of a session and, after no_data_warning_ms without any, EVENT_NO_PEER_DATA.
// Headers are pushed and pulled in place; no payload is copied.
#include <cstdlib>
#include <map>

#include "fake_common.hpp"
#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/gre.h"

namespace pptpkit::fake {
namespace {

constexpr std::uint32_t header = 8;

struct session {
  std::uint32_t peer_call_id = 0;
  std::uint32_t peer_address = 0;
  std::uint64_t opened_ns = 0;
  bool seen = false;
  bool warned = false;
  std::uint64_t rx = 0;
  std::uint64_t tx = 0;
};

class gre final : public core::instance {
 public:
  gre(const core::host& h, const core::config_map& c)
      : host_(h),
        warning_ns_(c.get_u64("no_data_warning_ms", 5000) * 1'000'000),
        // Scripted misbehaviour for the runtime's test: a deadline that stays due whatever tick does.
        stuck_deadline_(std::getenv("PPTPKIT_FAKE_GRE_STUCK_DEADLINE") != nullptr),
        // Another: every packet from the peer is held this long before it is passed on, as a reorder
        // queue does, so a burst can hold the whole packet pool.
        hoard_ns_(std::getenv("PPTPKIT_FAKE_GRE_HOARD_MS") != nullptr
                      ? std::strtoull(std::getenv("PPTPKIT_FAKE_GRE_HOARD_MS"), nullptr, 10) * 1'000'000
                      : 0) {}
  ~gre() override {
    host_.free(to_net_);
    host_.free(to_ppp_);
    host_.free(hoard_);
  }

  std::int32_t feed(std::uint32_t port, pptpkit_batch& in, std::uint64_t now) noexcept override {
    core::packet_list l;
    l.adopt(in);
    while (pptpkit_packet* p = l.pop_front()) {
      if (port == PPTPKIT_GRE_PORT_NET) {
        receive(*p, now);
      } else if (port == PPTPKIT_GRE_PORT_PPP) {
        send(*p);
      } else {
        host_.free(p);
      }
    }
    return 0;
  }

  std::int32_t poll(std::uint32_t port, pptpkit_batch& out, std::uint32_t max, std::uint64_t) noexcept override {
    core::packet_list& q = port == PPTPKIT_GRE_PORT_NET ? to_net_ : to_ppp_;
    core::packet_list moved;
    std::int32_t n = 0;
    while (static_cast<std::uint32_t>(n) < max && !q.empty()) {
      moved.push_back(*q.pop_front());
      ++n;
    }
    moved.release(out);
    return n;
  }

  std::int32_t command(const pptpkit_command& cmd, std::uint64_t now) override {
    if (cmd.type == PPTPKIT_GRE_CMD_SESSION_OPEN) {
      if (sessions_.contains(cmd.channel)) {
        return PPTPKIT_ERR_STATE;
      }
      session& s = sessions_[cmd.channel];
      s.peer_call_id = static_cast<std::uint32_t>(cmd.values[0]);
      s.peer_address = static_cast<std::uint32_t>(cmd.values[3]);
      s.opened_ns = now;
      return 0;
    }
    if (cmd.type == PPTPKIT_GRE_CMD_SESSION_CLOSE) {
      return sessions_.erase(cmd.channel) != 0 ? 0 : PPTPKIT_ERR_NOT_FOUND;
    }
    return PPTPKIT_ERR_NOT_SUPPORTED;
  }

  std::int32_t poll_event(pptpkit_event& out) noexcept override { return events_.pop(&out); }

  std::uint64_t next_deadline() const noexcept override {
    if (stuck_deadline_) {
      return 0;
    }
    std::uint64_t d = hoard_.empty() ? PPTPKIT_NO_DEADLINE : const_cast<core::packet_list&>(hoard_).front().user;
    for (const auto& [id, s] : sessions_) {
      if (warning_ns_ != 0 && !s.seen && !s.warned) {
        d = std::min(d, s.opened_ns + warning_ns_);
      }
    }
    return d;
  }

  std::int32_t tick(std::uint64_t now) noexcept override {
    while (!hoard_.empty() && hoard_.front().user <= now) {
      to_ppp_.push_back(*hoard_.pop_front());
    }
    for (auto& [id, s] : sessions_) {
      if (warning_ns_ != 0 && !s.seen && !s.warned && now >= s.opened_ns + warning_ns_) {
        s.warned = true;
        events_.push(PPTPKIT_GRE_EVENT_NO_PEER_DATA, id, {(now - s.opened_ns) / 1'000'000},
                     "a firewall dropping protocol 47, or a NAT without the PPTP helper");
      }
    }
    return 0;
  }

  std::int32_t read_stats(std::uint32_t channel, pptpkit_stat* out, std::uint32_t max) const noexcept override {
    std::uint64_t rx = 0, tx = 0;
    if (channel == PPTPKIT_CHANNEL_ALL) {
      rx = rx_;
      tx = tx_;
    } else {
      auto it = sessions_.find(channel);
      if (it == sessions_.end()) {
        return PPTPKIT_ERR_NOT_FOUND;
      }
      rx = it->second.rx;
      tx = it->second.tx;
    }
    const pptpkit_stat s[] = {{"rx_packets", rx},
                              {"tx_packets", tx},
                              {"drop_unknown_call", drop_unknown_call_},
                              {"drop_wrong_peer", drop_wrong_peer_},
                              {"reordered", 0}};
    for (std::uint32_t i = 0; i < 5 && i < max; ++i) {
      out[i] = s[i];
    }
    return 5;
  }

 private:
  void receive(pptpkit_packet& p, std::uint64_t now) {
    const std::uint8_t* d = core::data(p);
    if (p.length < header || d[0] != 0x30 || get16(d + 2) != 0x880b || get16(d + 4) != p.length - header) {
      ++drop_malformed_;
      host_.free(&p);
      return;
    }
    const std::uint32_t key = get16(d + 6);
    auto it = sessions_.find(key);
    if (it == sessions_.end()) {
      ++drop_unknown_call_;
      host_.free(&p);
      return;
    }
    if (p.aux != it->second.peer_address) {
      ++drop_wrong_peer_;
      host_.free(&p);
      return;
    }
    if (!it->second.seen) {
      it->second.seen = true;
      events_.push(PPTPKIT_GRE_EVENT_FIRST_PEER_DATA, key);
    }
    ++it->second.rx;
    ++rx_;
    core::pull(p, header);
    p.channel = key;
    p.aux = 0;
    if (hoard_ns_ != 0) {
      p.user = now + hoard_ns_;
      hoard_.push_back(p);
      return;
    }
    to_ppp_.push_back(p);
  }

  void send(pptpkit_packet& p) {
    auto it = sessions_.find(p.channel);
    std::uint8_t* d = it == sessions_.end() ? nullptr : core::push(p, header);
    if (d == nullptr) {
      ++drop_unknown_call_;
      host_.free(&p);
      return;
    }
    d[0] = 0x30;
    d[1] = 0x01;
    put16(d + 2, 0x880b);
    put16(d + 4, p.length - header);
    put16(d + 6, it->second.peer_call_id);
    p.aux = it->second.peer_address;
    ++it->second.tx;
    ++tx_;
    to_net_.push_back(p);
  }

  core::host host_;
  std::uint64_t warning_ns_;
  bool stuck_deadline_;
  std::uint64_t hoard_ns_;
  core::packet_list hoard_;
  std::map<std::uint32_t, session> sessions_;
  core::packet_list to_net_, to_ppp_;
  core::event_queue events_;
  std::uint64_t rx_ = 0, tx_ = 0, drop_unknown_call_ = 0, drop_wrong_peer_ = 0, drop_malformed_ = 0;
};

struct factory {
  static std::unique_ptr<core::instance> create(const core::host& h, const core::config_map& c) {
    return std::make_unique<gre>(h, c);
  }
};

const pptpkit_plugin_descriptor& descriptor() noexcept {
  static const pptpkit_plugin_ops ops = core::make_ops<factory>();
  static const pptpkit_plugin_descriptor d =
      core::make_descriptor(PPTPKIT_KIND_GRE, "fake-gre", "0.0.1", &ops, nullptr);
  return d;
}

}  // namespace
}  // namespace pptpkit::fake

PPTPKIT_EXPORT_PLUGIN(pptpkit::fake::descriptor)
