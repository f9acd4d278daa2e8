#include "pptpkit/ppp/plugin.hpp"

#include <algorithm>
#include <boost/intrusive/set.hpp>
#include <cstring>
#include <unordered_map>

#include "pptpkit/ppp.h"

namespace pptpkit::ppp {

namespace {

// Hex digits (either case) to bytes; nullopt for an odd count or another character.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
      return (c | 0x20) - 'a' + 10;
    }
    return -1;
  };
  if (text.size() % 2 != 0) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = digit(text[i]);
    const int lo = digit(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
  }
  return out;
}

// CMD_AUTH_VERDICT's values and entries (pptpkit/ppp.h). Never throws for a bad entry: what is wrong goes
// into `malformed` and the session turns the verdict into a reject.
host_verdict parse_verdict(const pptpkit_command& cmd, const core::config_map& entries, std::uint32_t& remote_ip,
                           std::uint32_t (&dns)[2]) {
  host_verdict v;
  std::string& bad = v.malformed;
  switch (cmd.values[0]) {
    case PPTPKIT_PPP_VERDICT_REJECT:
      v.what = host_verdict::decision::reject;
      break;
    case PPTPKIT_PPP_VERDICT_ACCEPT:
      v.what = host_verdict::decision::accept;
      break;
    case PPTPKIT_PPP_VERDICT_CONTINUE:
      v.what = host_verdict::decision::next;
      break;
    default:
      bad = "values[0]: unknown verdict " + std::to_string(cmd.values[0]);
      break;
  }
  v.code = cmd.values[1] <= UINT32_MAX ? static_cast<std::uint32_t>(cmd.values[1]) : 0u;
  if (entries.has("message")) {
    v.message = entries.get("message");
  }
  const bool send = entries.has("mppe_send_key");
  if (send || entries.has("mppe_recv_key")) {
    const auto s = from_hex(entries.get("mppe_send_key"));
    const auto r = from_hex(entries.get("mppe_recv_key"));
    if (!send || !entries.has("mppe_recv_key")) {
      bad = "mppe_send_key and mppe_recv_key come together";
    } else if (!s || !r || s->size() != 16 || r->size() != 16) {
      bad = "mppe_send_key, mppe_recv_key: expected 32 hex digits each (16-byte keys)";
    } else {
      mppe_start_keys k;
      std::memcpy(k.send.data(), s->data(), 16);
      std::memcpy(k.receive.data(), r->data(), 16);
      v.keys = k;
    }
  }
  if (entries.has("mppe")) {
    const std::string m = entries.get("mppe");
    if (m != "required" && m != "optional") {
      bad = "mppe: expected required or optional (a verdict narrows the session's policy, never widens it)";
    }
    v.mppe_required = m == "required";
  }
  if (entries.has("mppe_bits")) {
    v.mppe_bits = entries.get("mppe_bits");
  }
  if (entries.has("eap")) {
    auto packet = from_hex(entries.get("eap"));
    if (!packet || packet->empty()) {
      bad = "eap: expected an EAP packet in hex";
    } else {
      v.eap = std::move(*packet);
    }
  }
  if (entries.has("remote_ip")) {
    try {
      remote_ip = parse_ipv4_key(entries, "remote_ip");
    } catch (const core::config_error& e) {
      bad = e.what();
    }
  }
  for (std::uint32_t i = 0; i < 2; ++i) {
    const char* key = i == 0 ? "dns1" : "dns2";
    if (entries.has(key)) {
      try {
        dns[i] = parse_ipv4_key(entries, key);
      } catch (const core::config_error& e) {
        bad = e.what();
      }
    }
  }
  return v;
}

}  // namespace

void reject_unknown_session_keys(const core::config_map& config) {
  config.reject_unknown({"role",
                         "auth",
                         "user",
                         "password",
                         "name",
                         "mru",
                         "lcp_echo_interval",
                         "lcp_echo_failure",
                         "restart_timer_ms",
                         "max_configure",
                         "max_terminate",
                         "max_failure",
                         "auth_secret_timeout_ms",
                         "auth_verify",
                         "local_ip",
                         "remote_ip",
                         "dns1",
                         "dns2",
                         "nbns1",
                         "nbns2",
                         "ipv6",
                         "mppe",
                         "mppe_bits",
                         "mppe_stateful"});
}

struct timer_key_of {
  using type = std::uint64_t;
  const type& operator()(const session& s) const noexcept { return s.timer_key; }
};

class ppp_instance final : public core::instance {
 public:
  ppp_instance(const core::host& host, core::config_map defaults) : host_(host), defaults_(std::move(defaults)) {
    reject_unknown_session_keys(defaults_);
  }
  ~ppp_instance() override {
    timers_.clear();
    sessions_.clear();
    host_.free(link_out_);
    host_.free(net_out_);
  }

  std::int32_t feed(std::uint32_t port, pptpkit_batch& in, std::uint64_t now) noexcept override {
    core::packet_list list;
    list.adopt(in);
    while (pptpkit_packet* p = list.pop_front()) {
      if (port != PPTPKIT_PPP_PORT_LINK && port != PPTPKIT_PPP_PORT_NET) {
        ++instance_counters_.drop_unknown_port;
        host_.free(p);
        continue;
      }
      const auto it = sessions_.find(p->channel);
      if (it == sessions_.end()) {
        ++instance_counters_.drop_unknown_session;
        host_.free(p);
        continue;
      }
      if (port == PPTPKIT_PPP_PORT_LINK) {
        it->second->feed_link(*p, now);
      } else {
        it->second->feed_net(*p, now);
      }
      rearm(*it->second);
    }
    reap();
    return port == PPTPKIT_PPP_PORT_LINK || port == PPTPKIT_PPP_PORT_NET ? PPTPKIT_OK : PPTPKIT_ERR_NOT_SUPPORTED;
  }

  std::int32_t poll(std::uint32_t port, pptpkit_batch& out, std::uint32_t max, std::uint64_t) noexcept override {
    core::packet_list* from = port == PPTPKIT_PPP_PORT_LINK  ? &link_out_
                              : port == PPTPKIT_PPP_PORT_NET ? &net_out_
                                                             : nullptr;
    if (from == nullptr) {
      return PPTPKIT_ERR_NOT_SUPPORTED;
    }
    core::packet_list taken;
    std::uint32_t n = 0;
    while (n < max && out.count + n < PPTPKIT_BATCH_MAX) {
      pptpkit_packet* p = from->pop_front();
      if (p == nullptr) {
        break;
      }
      taken.push_back(*p);
      ++n;
    }
    taken.release(out);
    return static_cast<std::int32_t>(n);
  }

  std::int32_t command(const pptpkit_command& cmd, std::uint64_t now) override {
    const auto it = sessions_.find(cmd.channel);
    std::int32_t rc = PPTPKIT_OK;
    switch (cmd.type) {
      case PPTPKIT_PPP_CMD_SESSION_OPEN: {
        if (it != sessions_.end()) {
          return PPTPKIT_ERR_STATE;
        }
        core::config_map entries(cmd.entries, cmd.entry_count);
        reject_unknown_session_keys(entries);
        auto config = session_config::from(defaults_.merged(entries));
        auto s = std::make_unique<session>(cmd.channel, std::move(config),
                                           session_env{host_, link_out_, net_out_, events_, finished_sessions_});
        session& ref = *s;
        sessions_.emplace(cmd.channel, std::move(s));
        ref.open(now);
        rearm(ref);
        break;
      }
      case PPTPKIT_PPP_CMD_SESSION_CLOSE:
      case PPTPKIT_PPP_CMD_LOWER_DOWN:
        if (it == sessions_.end()) {
          return PPTPKIT_ERR_NOT_FOUND;
        }
        if (cmd.type == PPTPKIT_PPP_CMD_SESSION_CLOSE) {
          it->second->close(now);
        } else {
          it->second->lower_down(now);
        }
        rearm(*it->second);
        break;
      case PPTPKIT_PPP_CMD_AUTH_SECRET: {
        if (it == sessions_.end()) {
          return PPTPKIT_ERR_NOT_FOUND;
        }
        core::config_map entries(cmd.entries, cmd.entry_count);
        const std::string secret = entries.get("secret");
        std::uint32_t remote = 0;
        if (entries.has("remote_ip")) {
          remote = parse_ipv4_key(entries, "remote_ip");
        }
        if (!it->second->auth_secret(cmd.values[0] == 1, secret, remote, now)) {
          rc = PPTPKIT_ERR_STATE;
        }
        rearm(*it->second);
        break;
      }
      case PPTPKIT_PPP_CMD_AUTH_VERDICT: {
        if (it == sessions_.end()) {
          return PPTPKIT_ERR_NOT_FOUND;
        }
        core::config_map entries(cmd.entries, cmd.entry_count);
        std::uint32_t remote = 0;
        std::uint32_t dns[2] = {0, 0};
        const host_verdict v = parse_verdict(cmd, entries, remote, dns);
        if (!it->second->auth_verdict(v, remote, dns, now)) {
          rc = PPTPKIT_ERR_STATE;
        }
        rearm(*it->second);
        break;
      }
      default:
        rc = PPTPKIT_ERR_NOT_SUPPORTED;
        break;
    }
    reap();
    return rc;
  }

  std::int32_t poll_event(pptpkit_event& out) noexcept override { return events_.pop(&out); }

  std::uint64_t next_deadline() const noexcept override {
    return timers_.empty() ? PPTPKIT_NO_DEADLINE : timers_.begin()->timer_key;
  }

  std::int32_t tick(std::uint64_t now) noexcept override {
    while (!timers_.empty() && timers_.begin()->timer_key <= now) {
      session& s = *timers_.begin();
      timers_.erase(timers_.begin());
      if (s.deadline() <= now) {  // an early key (see rearm) only costs this visit
        s.tick(now);
      }
      const std::uint64_t d = s.deadline();
      if (d != PPTPKIT_NO_DEADLINE) {
        s.timer_key = std::max(d, now + 1);  // tick ran everything due at now
        timers_.insert(s);
      }
    }
    reap();
    return PPTPKIT_OK;
  }

  std::int32_t read_stats(std::uint32_t channel, pptpkit_stat* out, std::uint32_t max) const noexcept override {
    session_counters c;
    if (channel == PPTPKIT_CHANNEL_ALL) {
      c = retired_;
      c += instance_counters_;
      for (const auto& [id, s] : sessions_) {
        c += s->counters();
      }
    } else {
      const auto it = sessions_.find(channel);
      if (it == sessions_.end()) {
        return PPTPKIT_ERR_NOT_FOUND;
      }
      c = it->second->counters();
    }
    return static_cast<std::int32_t>(c.export_to(out, out == nullptr ? 0 : max));
  }

  const session* find(std::uint32_t channel) const noexcept {
    const auto it = sessions_.find(channel);
    return it == sessions_.end() ? nullptr : it->second.get();
  }

 private:
  using timer_index = boost::intrusive::multiset<
      session, boost::intrusive::member_hook<session, boost::intrusive::set_member_hook<>, &session::timer_hook>,
      boost::intrusive::key_of_value<timer_key_of>>;

  // Files s in the timer index after something may have moved its deadline. Only an earlier deadline
  // moves the key: a later one costs one early visit in tick(), not a re-file per packet.
  void rearm(session& s) noexcept {
    const std::uint64_t d = s.deadline();
    if (s.timer_hook.is_linked()) {
      if (s.timer_key <= d) {
        return;
      }
      timers_.erase(timers_.iterator_to(s));
    } else if (d == PPTPKIT_NO_DEADLINE) {
      return;
    }
    s.timer_key = d;
    timers_.insert(s);
  }

  // Sessions that emitted LINK_DOWN are destroyed between calls, never inside their own callbacks.
  void reap() noexcept {
    if (finished_sessions_ == 0) {
      return;  // the common case: no walk over every session on the data path
    }
    finished_sessions_ = 0;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second->finished()) {
        retired_ += it->second->counters();
        if (it->second->timer_hook.is_linked()) {
          timers_.erase(timers_.iterator_to(*it->second));
        }
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }

  core::host host_;
  core::config_map defaults_;
  core::packet_list link_out_;
  core::packet_list net_out_;
  core::event_queue events_;
  std::unordered_map<std::uint32_t, std::unique_ptr<session>> sessions_;
  timer_index timers_;  // after sessions_: unlinked (cleared) before the sessions go
  session_counters retired_;
  session_counters instance_counters_;
  std::uint32_t finished_sessions_ = 0;
};

std::unique_ptr<core::instance> ppp_instance_factory::create(const core::host& host, const core::config_map& config) {
  return std::make_unique<ppp_instance>(host, config);
}

const session* find_session(const core::instance& inst, std::uint32_t channel) noexcept {
  const auto* p = dynamic_cast<const ppp_instance*>(&inst);
  return p == nullptr ? nullptr : p->find(channel);
}

namespace {

// pptpkit_ppp_auth_extension::request_data.
std::int32_t request_data(const pptpkit_instance* inst, std::uint32_t channel, std::uint8_t* out,
                          std::uint32_t max) noexcept {
  if (inst == nullptr || (out == nullptr && max != 0)) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  const session* s = find_session(*core::detail::as_instance(inst), channel);
  if (s == nullptr) {
    return PPTPKIT_ERR_NOT_FOUND;
  }
  const auto data = s->auth_verify_data();
  if (!data) {
    return PPTPKIT_ERR_STATE;
  }
  if (data->size() <= max && !data->empty()) {
    std::memcpy(out, data->data(), data->size());
  }
  return static_cast<std::int32_t>(data->size());
}

const void* get_extension(const char* id) noexcept {
  static const pptpkit_ppp_auth_extension auth = {sizeof(pptpkit_ppp_auth_extension), 0u, &request_data};
  if (id != nullptr && std::strcmp(id, PPTPKIT_PPP_AUTH_EXTENSION_V1) == 0) {
    return &auth;
  }
  return nullptr;  // STYLE A9: an unknown id is not supported
}

}  // namespace

const pptpkit_plugin_descriptor& ppp_descriptor() noexcept {
  static const pptpkit_plugin_ops ops = core::make_ops<ppp_instance_factory>();
  static const pptpkit_plugin_descriptor d =
      core::make_descriptor(PPTPKIT_KIND_PPP, "ppp-bridge", "0.1.0", &ops, &get_extension);
  return d;
}

}  // namespace pptpkit::ppp
