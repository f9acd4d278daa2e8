// A fake `ppp` plugin (pptpkit/ppp.h) for the runtime tests.
//
// Frames are [protocol u16][payload]. The client sends 0xc223 "user\0password" when its session
// opens; the server asks the host for the user's secret (EVENT_AUTH_SECRET_NEEDED), compares and
// answers 0xc224 (addresses: client, server, DNS1, DNS2) or 0xc225 (reason). Both sides then report
// AUTH_SUCCESS, ENCRYPTION_UP (unless mppe=refused), IPV4_UP and IPV6_UP like the real core. 0xc021
// is an LCP Terminate-Request. IP packets (0x0021, IPv6 0x0057) pass only while the session is up.
#include <cstdlib>
#include <map>
#include <string>

#include "fake_common.hpp"
#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/ppp.h"

namespace pptpkit::fake {
namespace {

constexpr std::uint32_t proto_ipv4 = 0x0021;
constexpr std::uint32_t proto_ipv6 = 0x0057;
constexpr std::uint32_t proto_lcp = 0xc021;
constexpr std::uint32_t proto_auth_request = 0xc223;
constexpr std::uint32_t proto_auth_ok = 0xc224;
constexpr std::uint32_t proto_auth_fail = 0xc225;

std::uint32_t ip(const std::string& text) {
  std::uint32_t a = 0, part = 0;
  for (char c : text) {
    if (c == '.') {
      a = (a << 8) | part;
      part = 0;
    } else {
      part = part * 10 + static_cast<std::uint32_t>(c - '0');
    }
  }
  return (a << 8) | part;
}

struct session {
  bool server = false;
  bool up = false;
  bool waiting_secret = false;
  std::string user, password, given_password;
  std::uint32_t local = 0, remote = 0, dns1 = 0, dns2 = 0;
  bool mppe = true;
  std::uint64_t rx = 0, tx = 0;
};

class ppp final : public core::instance {
 public:
  ppp(const core::host& h, const core::config_map&) : host_(h) {}
  ~ppp() override {
    host_.free(to_link_);
    host_.free(to_net_);
  }

  std::int32_t feed(std::uint32_t port, pptpkit_batch& in, std::uint64_t) noexcept override {
    core::packet_list l;
    l.adopt(in);
    while (pptpkit_packet* p = l.pop_front()) {
      auto it = sessions_.find(p->channel);
      if (it == sessions_.end()) {
        ++drop_no_session_;
        host_.free(p);
      } else if (port == PPTPKIT_PPP_PORT_NET) {
        from_net(it->second, *p);
      } else {
        from_link(p->channel, it->second, *p);
      }
    }
    return 0;
  }

  std::int32_t poll(std::uint32_t port, pptpkit_batch& out, std::uint32_t max, std::uint64_t) noexcept override {
    core::packet_list& q = port == PPTPKIT_PPP_PORT_LINK ? to_link_ : to_net_;
    core::packet_list moved;
    std::int32_t n = 0;
    while (static_cast<std::uint32_t>(n) < max && !q.empty()) {
      moved.push_back(*q.pop_front());
      ++n;
    }
    moved.release(out);
    return n;
  }

  std::int32_t command(const pptpkit_command& cmd, std::uint64_t) override {
    auto it = sessions_.find(cmd.channel);
    switch (cmd.type) {
      case PPTPKIT_PPP_CMD_SESSION_OPEN: {
        if (it != sessions_.end()) {
          return PPTPKIT_ERR_STATE;
        }
        const core::config_map c(cmd.entries, cmd.entry_count);
        c.reject_unknown({"role", "auth", "user", "password", "name", "local_ip", "remote_ip", "dns1", "dns2", "mppe",
                          "mppe_bits", "mppe_stateful", "lcp_echo_interval", "lcp_echo_failure"});
        session& s = sessions_[cmd.channel];
        s.server = c.get("role") == "server";
        s.mppe = c.get("mppe", "optional") != "refused";
        if (s.server) {
          s.local = ip(c.get("local_ip"));
          s.remote = ip(c.get("remote_ip"));
          s.dns1 = c.has("dns1") ? ip(c.get("dns1")) : 0;
          s.dns2 = c.has("dns2") ? ip(c.get("dns2")) : 0;
        } else {
          s.user = c.get("user");
          s.password = c.get("password");
          std::string payload = s.user + std::string(1, '\0') + s.password;
          frame(cmd.channel, proto_auth_request, payload.data(), payload.size(), true);
        }
        return 0;
      }
      case PPTPKIT_PPP_CMD_SESSION_CLOSE:
        if (it == sessions_.end()) {
          return PPTPKIT_ERR_NOT_FOUND;
        }
        frame(cmd.channel, proto_lcp, "\x05", 1, true);  // RFC 1661 §5.5 Terminate-Request
        down(cmd.channel, PPTPKIT_PPP_REASON_CLOSED, "closed by us");
        return 0;
      case PPTPKIT_PPP_CMD_LOWER_DOWN:
        if (it == sessions_.end()) {
          return PPTPKIT_ERR_NOT_FOUND;
        }
        down(cmd.channel, PPTPKIT_PPP_REASON_CLOSED, "lower layer down");
        return 0;
      case PPTPKIT_PPP_CMD_AUTH_SECRET: {
        if (it == sessions_.end() || !it->second.waiting_secret) {
          return PPTPKIT_ERR_STATE;
        }
        session& s = it->second;
        s.waiting_secret = false;
        const core::config_map c(cmd.entries, cmd.entry_count);
        if (cmd.values[0] == 0) {
          fail(cmd.channel, "unknown user");
        } else if (c.get("secret") != s.given_password) {
          fail(cmd.channel, "wrong password");
        } else {
          if (c.has("remote_ip")) {
            s.remote = ip(c.get("remote_ip"));
          }
          std::uint8_t payload[16];
          put32(payload, s.remote);
          put32(payload + 4, s.local);
          put32(payload + 8, s.dns1);
          put32(payload + 12, s.dns2);
          frame(cmd.channel, proto_auth_ok, payload, sizeof(payload), true);
          come_up(cmd.channel, s, s.user, 1);
        }
        return 0;
      }
      default:
        return PPTPKIT_ERR_NOT_SUPPORTED;
    }
  }

  std::int32_t poll_event(pptpkit_event& out) noexcept override { return events_.pop(&out); }
  std::uint64_t next_deadline() const noexcept override { return PPTPKIT_NO_DEADLINE; }
  std::int32_t tick(std::uint64_t) noexcept override { return 0; }
  std::int32_t read_stats(std::uint32_t channel, pptpkit_stat* out, std::uint32_t max) const noexcept override {
    std::uint64_t rx = 0, tx = 0;
    if (channel != PPTPKIT_CHANNEL_ALL) {
      auto it = sessions_.find(channel);
      if (it == sessions_.end()) {
        return PPTPKIT_ERR_NOT_FOUND;
      }
      rx = it->second.rx;
      tx = it->second.tx;
    }
    const pptpkit_stat s[] = {{"rx_packets", rx}, {"tx_packets", tx}, {"drop_not_up", drop_not_up_}};
    for (std::uint32_t i = 0; i < 3 && i < max; ++i) {
      out[i] = s[i];
    }
    return 3;
  }

 private:
  void frame(std::uint32_t channel, std::uint32_t proto, const void* payload, std::size_t n, bool control) {
    pptpkit_packet* p = host_.alloc_one();
    if (p == nullptr) {
      return;
    }
    std::uint8_t* d = core::put(*p, static_cast<std::uint32_t>(2 + n));
    put16(d, proto);
    std::memcpy(d + 2, payload, n);
    p->channel = channel;
    p->flags = control ? PPTPKIT_PACKET_F_CONTROL : 0;
    to_link_.push_back(*p);
  }

  void come_up(std::uint32_t channel, session& s, const std::string& peer, std::uint64_t we_authenticated) {
    s.up = true;
    events_.push(PPTPKIT_PPP_EVENT_AUTH_SUCCESS, channel, {PPTPKIT_PPP_AUTH_MSCHAP_V2, we_authenticated}, peer);
    if (s.mppe) {
      events_.push(PPTPKIT_PPP_EVENT_ENCRYPTION_UP, channel, {128, 1});
    }
    events_.push(PPTPKIT_PPP_EVENT_IPV4_UP, channel, {s.local, s.remote, s.dns1, s.dns2, 1400});
    events_.push(PPTPKIT_PPP_EVENT_IPV6_UP, channel,
                 {0x0200000000000000ull | s.local, 0x0200000000000000ull | s.remote});
    if (we_authenticated == 0) {
      return;
    }
    // Scripted peers for the runtime's tests (server side): IPCP renegotiated (RFC 1661 §4.3) with the
    // same addresses or another one for the peer, and a second login under another name.
    if (const char* again = std::getenv("PPTPKIT_FAKE_PPP_RENEGOTIATE"); again != nullptr) {
      const std::uint32_t remote = std::string(again) == "other" ? s.remote + 1 : s.remote;
      events_.push(PPTPKIT_PPP_EVENT_IPV4_UP, channel, {s.local, remote, s.dns1, s.dns2, 1400});
    }
    if (const char* name = std::getenv("PPTPKIT_FAKE_PPP_REAUTH_AS"); name != nullptr) {
      s.waiting_secret = true;
      events_.push(PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED, channel, {PPTPKIT_PPP_AUTH_MSCHAP_V2}, name);
    }
  }

  void fail(std::uint32_t channel, const std::string& why) {
    frame(channel, proto_auth_fail, why.data(), why.size(), true);
    events_.push(PPTPKIT_PPP_EVENT_AUTH_FAILURE, channel, {PPTPKIT_PPP_AUTH_MSCHAP_V2, 1, 691}, why);
    down(channel, PPTPKIT_PPP_REASON_AUTH_FAILED, "authentication failed");
  }

  void down(std::uint32_t channel, std::uint32_t reason, const std::string& why) {
    sessions_.erase(channel);
    events_.push(PPTPKIT_PPP_EVENT_LINK_DOWN, channel, {reason}, why);
  }

  void from_net(session& s, pptpkit_packet& p) {
    std::uint8_t* d = s.up ? core::push(p, 2) : nullptr;
    if (d == nullptr) {
      ++drop_not_up_;
      host_.free(&p);
      return;
    }
    put16(d, (p.flags & PPTPKIT_PACKET_F_IPV6) != 0 ? proto_ipv6 : proto_ipv4);
    ++s.tx;
    to_link_.push_back(p);
  }

  void from_link(std::uint32_t channel, session& s, pptpkit_packet& p) {
    if (p.length < 2) {
      host_.free(&p);
      return;
    }
    const std::uint32_t proto = get16(core::data(p));
    core::pull(p, 2);
    if (proto == proto_ipv4 || proto == proto_ipv6) {
      if (!s.up) {
        ++drop_not_up_;
        host_.free(&p);
        return;
      }
      p.flags = proto == proto_ipv6 ? PPTPKIT_PACKET_F_IPV6 : 0;
      ++s.rx;
      to_net_.push_back(p);
      return;
    }
    const std::string payload(reinterpret_cast<const char*>(core::data(p)), p.length);
    host_.free(&p);
    if (proto == proto_auth_request && s.server && !s.up) {
      const std::size_t nul = payload.find('\0');
      s.user = payload.substr(0, nul);
      s.given_password = nul == std::string::npos ? "" : payload.substr(nul + 1);
      s.waiting_secret = true;
      events_.push(PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED, channel, {PPTPKIT_PPP_AUTH_MSCHAP_V2}, s.user);
    } else if (proto == proto_auth_ok && !s.server && payload.size() >= 16) {
      const auto* b = reinterpret_cast<const std::uint8_t*>(payload.data());
      s.local = get32(b);
      s.remote = get32(b + 4);
      s.dns1 = get32(b + 8);
      s.dns2 = get32(b + 12);
      come_up(channel, s, "pptpkit", 0);
    } else if (proto == proto_auth_fail && !s.server) {
      events_.push(PPTPKIT_PPP_EVENT_AUTH_FAILURE, channel, {PPTPKIT_PPP_AUTH_MSCHAP_V2, 0, 691}, payload);
      down(channel, PPTPKIT_PPP_REASON_AUTH_FAILED, "authentication failed");
    } else if (proto == proto_lcp) {
      down(channel, PPTPKIT_PPP_REASON_PEER_TERMINATE, "peer sent Terminate-Request");
    }
  }

  core::host host_;
  std::map<std::uint32_t, session> sessions_;
  core::packet_list to_link_, to_net_;
  core::event_queue events_;
  std::uint64_t drop_not_up_ = 0, drop_no_session_ = 0;
};

struct factory {
  static std::unique_ptr<core::instance> create(const core::host& h, const core::config_map& c) {
    return std::make_unique<ppp>(h, c);
  }
};

const pptpkit_plugin_descriptor& descriptor() noexcept {
  static const pptpkit_plugin_ops ops = core::make_ops<factory>();
  static const pptpkit_plugin_descriptor d =
      core::make_descriptor(PPTPKIT_KIND_PPP, "fake-ppp", "0.0.1", &ops, nullptr);
  return d;
}

}  // namespace
}  // namespace pptpkit::fake

PPTPKIT_EXPORT_PLUGIN(pptpkit::fake::descriptor)
