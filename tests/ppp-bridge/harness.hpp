// A two-ended PPP test bench: two ppp-bridge instances (or one and a scripted peer) joined by a link
// that can lose frames, driven in virtual time on the fake clock. The host side answers
// AUTH_SECRET_NEEDED from a chap-secrets-like table. Deterministic: the seed is printed on failure.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/ppp.h"
#include "pptpkit/ppp/plugin.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace pptpkit::ppp::testing {

using bytes = std::vector<std::uint8_t>;
using kv = std::vector<std::pair<std::string, std::string>>;

struct recorded_event {
  std::uint32_t type;
  std::vector<std::uint64_t> values;
  std::string text;
};

// One ppp-bridge instance and its host side.
class endpoint {
 public:
  endpoint(pptpkit::testing::test_host& host, std::string label) : host_(host), label_(std::move(label)) {
    ops_ = ppp_descriptor().ops;
    char err[256] = {};
    EXPECT_EQ(ops_->create(&host.services(), nullptr, 0, &inst_, err, sizeof(err)), PPTPKIT_OK) << err;
  }
  ~endpoint() { ops_->destroy(inst_); }

  std::int32_t open(const kv& params, std::uint32_t channel = 1) {
    std::vector<pptpkit_config_entry> entries;
    for (const auto& [k, v] : params) {
      entries.push_back({k.c_str(), v.c_str()});
    }
    pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
    cmd.type = PPTPKIT_PPP_CMD_SESSION_OPEN;
    cmd.channel = channel;
    cmd.entries = entries.data();
    cmd.entry_count = static_cast<std::uint32_t>(entries.size());
    return ops_->command(inst_, &cmd, host_.now);
  }
  std::int32_t simple_command(std::uint32_t type, std::uint32_t channel = 1) {
    pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
    cmd.type = type;
    cmd.channel = channel;
    return ops_->command(inst_, &cmd, host_.now);
  }

  // Frames this end sent to the link.
  std::vector<bytes> take_link() { return take(PPTPKIT_PPP_PORT_LINK); }
  std::vector<bytes> take_net() { return take(PPTPKIT_PPP_PORT_NET); }
  void feed_link(const bytes& frame, std::uint32_t channel = 1) { feed(PPTPKIT_PPP_PORT_LINK, frame, channel, 0); }
  void feed_net(const bytes& packet, bool v6 = false, std::uint32_t channel = 1) {
    feed(PPTPKIT_PPP_PORT_NET, packet, channel, v6 ? PPTPKIT_PACKET_F_IPV6 : 0u);
  }

  // Reads events; answers AUTH_SECRET_NEEDED from `secrets` unless `hold_secrets`.
  void drain_events() {
    pptpkit_event e = PPTPKIT_EVENT_INIT;
    while (ops_->poll_event(inst_, &e) == 1) {
      events.push_back({e.type, {e.values, e.values + 8}, e.text});
      if (e.type == PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED && !hold_secrets) {
        answer_secret(e.channel, e.text);
      }
      if (on_event) {
        on_event(events.back(), e.channel);
      }
      e = pptpkit_event PPTPKIT_EVENT_INIT;
    }
  }
  void answer_secret(std::uint32_t channel, const std::string& user) {
    const auto it = secrets.find(user);
    kv entries;
    if (it != secrets.end()) {
      entries.push_back({"secret", it->second.first});
      if (!it->second.second.empty()) {
        entries.push_back({"remote_ip", it->second.second});
      }
    }
    std::vector<pptpkit_config_entry> c;
    for (const auto& [k, v] : entries) {
      c.push_back({k.c_str(), v.c_str()});
    }
    pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
    cmd.type = PPTPKIT_PPP_CMD_AUTH_SECRET;
    cmd.channel = channel;
    cmd.values[0] = it != secrets.end() ? 1u : 0u;
    cmd.entries = c.data();
    cmd.entry_count = static_cast<std::uint32_t>(c.size());
    EXPECT_EQ(ops_->command(inst_, &cmd, host_.now), PPTPKIT_OK);
  }

  const recorded_event* find(std::uint32_t type) const {
    for (const auto& e : events) {
      if (e.type == type) {
        return &e;
      }
    }
    return nullptr;
  }
  std::uint64_t stat(const std::string& name, std::uint32_t channel = PPTPKIT_CHANNEL_ALL) const {
    pptpkit_stat s[64];
    const std::int32_t n = ops_->read_stats(inst_, channel, s, 64);
    for (std::int32_t i = 0; i < n && i < 64; ++i) {
      if (name == s[i].name) {
        return s[i].value;
      }
    }
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }
  const session* find_session(std::uint32_t channel = 1) const {
    return pptpkit::ppp::find_session(*core::detail::as_instance(static_cast<const pptpkit_instance*>(inst_)), channel);
  }
  std::uint64_t deadline() const { return ops_->next_deadline(inst_); }
  const pptpkit_plugin_ops& ops() const { return *ops_; }
  pptpkit_instance* instance() const { return inst_; }
  void tick() { ops_->tick(inst_, host_.now); }

  std::vector<recorded_event> events;
  std::map<std::string, std::pair<std::string, std::string>> secrets;  // user -> secret, remote_ip
  bool hold_secrets = false;
  // Called for each event after it is recorded (a test playing the host, e.g. for EVENT_AUTH_VERIFY).
  std::function<void(const recorded_event&, std::uint32_t channel)> on_event;
  const std::string& label() const { return label_; }

 private:
  std::vector<bytes> take(std::uint32_t port) {
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    std::vector<bytes> all;
    while (ops_->poll(inst_, port, &b, PPTPKIT_BATCH_MAX, host_.now) > 0) {
      for (auto& f : host_.drain(b)) {
        all.push_back(std::move(f));
      }
    }
    return all;
  }
  void feed(std::uint32_t port, const bytes& data, std::uint32_t channel, std::uint32_t flags) {
    pptpkit_packet* p = host_.make_packet(data, channel);
    p->flags = flags;
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    core::packet_list l;
    l.push_back(*p);
    l.release(b);
    EXPECT_EQ(ops_->feed(inst_, port, &b, host_.now), PPTPKIT_OK);
  }

  pptpkit::testing::test_host& host_;
  std::string label_;
  const pptpkit_plugin_ops* ops_ = nullptr;
  pptpkit_instance* inst_ = nullptr;
};

// Two endpoints joined by a link; `lose` may drop a frame (true = lost), `rewrite` may change one (a
// hostile peer built from our well-behaved one).
class link_pair {
 public:
  explicit link_pair(std::uint64_t seed = 1) : host(seed), a(host, "server"), b(host, "client") {}

  // Moves frames both ways and drains events until nothing moves.
  void pump() {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      for (auto& f : a.take_link()) {
        moved = true;
        ++frames_a_to_b;
        if (!(lose && lose(true, f))) {
          b.feed_link(rewrite ? rewrite(true, f) : f);
        }
      }
      for (auto& f : b.take_link()) {
        moved = true;
        ++frames_b_to_a;
        if (!(lose && lose(false, f))) {
          a.feed_link(rewrite ? rewrite(false, f) : f);
        }
      }
      const std::size_t before = a.events.size() + b.events.size();
      a.drain_events();
      b.drain_events();
      moved = moved || a.events.size() + b.events.size() != before;
      if (!moved) {
        return;
      }
    }
    ADD_FAILURE() << "link never settled (seed " << host.seed() << ")";
  }

  // Runs in virtual time until `done` or `limit_ns` passes: pump, then jump to the next deadline.
  bool run(const std::function<bool()>& done, std::uint64_t limit_ns = 120'000'000'000ull) {
    const std::uint64_t end = host.now + limit_ns;
    pump();
    while (!done()) {
      const std::uint64_t next = std::min(a.deadline(), b.deadline());
      if (next == PPTPKIT_NO_DEADLINE || next > end) {
        return false;
      }
      host.now = std::max(host.now, next);
      a.tick();
      b.tick();
      pump();
    }
    return true;
  }

  pptpkit::testing::test_host host;
  endpoint a;  // the server in most tests
  endpoint b;  // the client
  std::function<bool(bool a_to_b, const bytes& frame)> lose;
  std::function<bytes(bool a_to_b, const bytes& frame)> rewrite;
  std::uint64_t frames_a_to_b = 0;
  std::uint64_t frames_b_to_a = 0;
};

inline kv server_params(const std::string& auth) {
  return {{"role", "server"},    {"auth", auth},        {"local_ip", "10.0.0.1"},  {"remote_ip", "10.0.0.2"},
          {"dns1", "10.0.0.53"}, {"dns2", "10.0.0.54"}, {"lcp_echo_interval", "0"}};
}
inline kv client_params(const std::string& auth, const std::string& password = "s3cret") {
  return {{"role", "client"}, {"auth", auth}, {"user", "alice"}, {"password", password}, {"lcp_echo_interval", "0"}};
}

// An IPv4 packet of n bytes (header fields are not looked at by PPP).
inline bytes ipv4_packet(std::size_t n, std::uint8_t fill = 0x5a) {
  bytes p(n, fill);
  p[0] = 0x45;
  return p;
}

}  // namespace pptpkit::ppp::testing
