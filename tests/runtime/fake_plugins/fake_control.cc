// A fake `control` plugin (pptpkit/control.h) for the runtime tests.
//
// Wire format (not PPTP's): each message is [length u16][type u8][0][values u32...], one message per
// polled packet. The state machine follows RFC 2637's shape: SCCRQ/SCCRP make the connection, an
// Outgoing-Call-Request/Reply makes a call (CALL_UP on both sides), Call-Clear-Request is answered by
// Call-Disconnect-Notify, Stop-Control-Connection-Request/Reply end the connection; TCP loss ends every
// call. Garbage is a protocol error that ends only that connection.
#include <map>
#include <vector>

#include "fake_common.hpp"
#include "pptpkit/control.h"
#include "pptpkit/core/plugin_shim.hpp"

namespace pptpkit::fake {
namespace {

enum msg : std::uint8_t {
  sccrq = 1,
  sccrp = 2,
  stop_rq = 3,
  stop_rp = 4,
  ocrq = 7,   // values: caller's call id
  ocrp = 8,   // values: our call id, the caller's call id
  ccrq = 12,  // values: sender's call id
  cdn = 13,   // values: sender's call id
};

struct connection {
  bool established = false;
  bool down = false;
  std::uint32_t peer_address = 0;
  std::vector<std::uint8_t> rx;
  std::map<std::uint32_t, std::uint32_t> calls;  // our call id -> peer call id
};

class control final : public core::instance {
 public:
  control(const core::host& h, const core::config_map& c) : host_(h), pac_(c.get("role") == "pac") {
    c.reject_unknown(
        {"role", "max_connections", "max_calls_per_connection", "handshake_timeout_ms", "host_name", "vendor"});
    if (c.get("role") != "pac" && c.get("role") != "pns") {
      throw core::config_error("role: expected pac or pns");
    }
  }
  ~control() override { host_.free(out_); }

  std::int32_t feed(std::uint32_t port, pptpkit_batch& in, std::uint64_t) noexcept override {
    core::packet_list l;
    l.adopt(in);
    while (pptpkit_packet* p = l.pop_front()) {
      if (port == PPTPKIT_CONTROL_PORT_STREAM) {
        auto it = conns_.find(p->channel);
        if (it != conns_.end() && !it->second.down) {
          auto bytes = core::bytes(*p);
          it->second.rx.insert(it->second.rx.end(), bytes.begin(), bytes.end());
          parse(p->channel, it->second);
        }
      }
      host_.free(p);
    }
    return 0;
  }

  std::int32_t poll(std::uint32_t port, pptpkit_batch& out, std::uint32_t max, std::uint64_t) noexcept override {
    std::int32_t n = 0;
    core::packet_list moved;
    while (port == PPTPKIT_CONTROL_PORT_STREAM && static_cast<std::uint32_t>(n) < max && !out_.empty()) {
      moved.push_back(*out_.pop_front());
      ++n;
    }
    moved.release(out);
    return n;
  }

  std::int32_t command(const pptpkit_command& cmd, std::uint64_t) override {
    auto it = conns_.find(cmd.channel);
    switch (cmd.type) {
      case PPTPKIT_CONTROL_CMD_CONNECTION_OPEN:
        if (it != conns_.end()) {
          return PPTPKIT_ERR_STATE;
        }
        conns_[cmd.channel].peer_address = static_cast<std::uint32_t>(cmd.values[1]);
        if (cmd.values[0] == 1) {
          send(cmd.channel, sccrq, {});
        }
        return 0;
      case PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED:
        if (it == conns_.end()) {
          return PPTPKIT_ERR_NOT_FOUND;
        }
        end(cmd.channel, it->second, PPTPKIT_CONTROL_REASON_PEER_CLOSED, "TCP connection closed");
        conns_.erase(it);
        return 0;
      case PPTPKIT_CONTROL_CMD_CONNECTION_STOP:
        if (it == conns_.end() || it->second.down) {
          return PPTPKIT_ERR_NOT_FOUND;
        }
        send(cmd.channel, stop_rq, {});
        return 0;
      case PPTPKIT_CONTROL_CMD_CALL_OPEN: {
        if (it == conns_.end() || !it->second.established || pac_) {
          return PPTPKIT_ERR_STATE;
        }
        const std::uint32_t id = next_call_++;
        it->second.calls[id] = 0;
        send(cmd.channel, ocrq, {id});
        return static_cast<std::int32_t>(id);
      }
      case PPTPKIT_CONTROL_CMD_CALL_CLEAR: {
        if (it == conns_.end()) {
          return PPTPKIT_ERR_NOT_FOUND;
        }
        const auto id = static_cast<std::uint32_t>(cmd.values[0]);
        auto call = it->second.calls.find(id);
        if (call == it->second.calls.end()) {
          return PPTPKIT_ERR_NOT_FOUND;
        }
        if (pac_) {
          send(cmd.channel, cdn, {id});  // RFC 2637 §2.12
          events_.push(PPTPKIT_CONTROL_EVENT_CALL_DOWN, cmd.channel, {id, call->second, 3, 0, 0}, "cleared by us");
          it->second.calls.erase(call);
        } else {
          send(cmd.channel, ccrq, {id});  // RFC 2637 §2.11; the PAC answers with CDN
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
    if (channel != PPTPKIT_CHANNEL_ALL && !conns_.contains(channel)) {
      return PPTPKIT_ERR_NOT_FOUND;
    }
    const pptpkit_stat s[] = {{"messages_in", messages_in_}, {"drop_bad_message", drop_bad_message_}};
    for (std::uint32_t i = 0; i < 2 && i < max; ++i) {
      out[i] = s[i];
    }
    return 2;
  }

 private:
  void send(std::uint32_t channel, std::uint8_t type, std::initializer_list<std::uint32_t> values) {
    pptpkit_packet* p = host_.alloc_one();
    if (p == nullptr) {
      return;
    }
    const auto len = static_cast<std::uint32_t>(4 + 4 * values.size());
    std::uint8_t* d = core::put(*p, len);
    put16(d, len);
    d[2] = type;
    d[3] = 0;
    std::uint32_t at = 4;
    for (std::uint32_t v : values) {
      put32(d + at, v);
      at += 4;
    }
    p->channel = channel;
    out_.push_back(*p);
  }

  void end(std::uint32_t channel, connection& c, std::uint32_t reason, const char* why) {
    for (const auto& [ours, theirs] : c.calls) {
      events_.push(PPTPKIT_CONTROL_EVENT_CALL_DOWN, channel, {ours, theirs, 0, 0, 0}, why);
    }
    c.calls.clear();
    c.down = true;
    events_.push(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN, channel, {reason}, why);
  }

  void parse(std::uint32_t channel, connection& c) {
    while (c.rx.size() >= 4 && !c.down) {
      const std::uint32_t len = get16(c.rx.data());
      if (len < 4 || len > 64 || len % 4 != 0) {
        ++drop_bad_message_;
        host_.log(PPTPKIT_LOG_WARNING, "control", "bad message length %u", len);
        end(channel, c, PPTPKIT_CONTROL_REASON_PROTOCOL_ERROR, "malformed message");
        return;
      }
      if (c.rx.size() < len) {
        return;
      }
      const std::uint8_t type = c.rx[2];
      const std::uint32_t v0 = len >= 8 ? get32(c.rx.data() + 4) : 0;
      const std::uint32_t v1 = len >= 12 ? get32(c.rx.data() + 8) : 0;
      c.rx.erase(c.rx.begin(), c.rx.begin() + len);
      ++messages_in_;
      handle(channel, c, type, v0, v1);
    }
  }

  void handle(std::uint32_t channel, connection& c, std::uint8_t type, std::uint32_t v0, std::uint32_t v1) {
    switch (type) {
      case sccrq:
        if (!pac_ || c.established) {
          break;
        }
        send(channel, sccrp, {});
        c.established = true;
        events_.push(PPTPKIT_CONTROL_EVENT_CONNECTION_UP, channel, {0x100, 3, 3, 0, 1}, "fake|pptpkit-test");
        return;
      case sccrp:
        if (pac_ || c.established) {
          break;
        }
        c.established = true;
        events_.push(PPTPKIT_CONTROL_EVENT_CONNECTION_UP, channel, {0x100, 3, 3, 0, 1}, "fake|pptpkit-test");
        return;
      case ocrq: {
        if (!pac_ || !c.established) {
          break;
        }
        const std::uint32_t id = next_call_++;
        c.calls[id] = v0;
        send(channel, ocrp, {id, v0});
        events_.push(PPTPKIT_CONTROL_EVENT_CALL_UP, channel, {id, v0, 64, 0, 100000000, id, 1});
        return;
      }
      case ocrp: {
        auto call = c.calls.find(v1);
        if (pac_ || call == c.calls.end()) {
          break;
        }
        call->second = v0;
        events_.push(PPTPKIT_CONTROL_EVENT_CALL_UP, channel, {v1, v0, 64, 0, 100000000, v1, 1});
        return;
      }
      case ccrq:
      case cdn: {
        for (auto call = c.calls.begin(); call != c.calls.end(); ++call) {
          if (call->second == v0) {
            if (type == ccrq) {
              send(channel, cdn, {call->first});
            }
            events_.push(PPTPKIT_CONTROL_EVENT_CALL_DOWN, channel, {call->first, v0, 3, 0, 0},
                         type == ccrq ? "peer cleared the call" : "peer disconnected the call");
            c.calls.erase(call);
            return;
          }
        }
        return;  // a call already gone: ignore, like a real PAC/PNS would
      }
      case stop_rq:
        send(channel, stop_rp, {});
        end(channel, c, PPTPKIT_CONTROL_REASON_STOPPED, "peer stopped the control connection");
        return;
      case stop_rp:
        end(channel, c, PPTPKIT_CONTROL_REASON_STOPPED, "stopped");
        return;
      default:
        break;
    }
    ++drop_bad_message_;
    host_.log(PPTPKIT_LOG_WARNING, "control", "unexpected message type %u", type);
    end(channel, c, PPTPKIT_CONTROL_REASON_PROTOCOL_ERROR, "unexpected message");
  }

  core::host host_;
  bool pac_;
  std::map<std::uint32_t, connection> conns_;
  core::packet_list out_;
  core::event_queue events_;
  std::uint32_t next_call_ = 1;
  std::uint64_t messages_in_ = 0;
  std::uint64_t drop_bad_message_ = 0;
};

struct factory {
  static std::unique_ptr<core::instance> create(const core::host& h, const core::config_map& c) {
    return std::make_unique<control>(h, c);
  }
};

const pptpkit_plugin_descriptor& descriptor() noexcept {
  static const pptpkit_plugin_ops ops = core::make_ops<factory>();
  static const pptpkit_plugin_descriptor d =
      core::make_descriptor(PPTPKIT_KIND_CONTROL, "fake-control", "0.0.1", &ops, nullptr);
  return d;
}

}  // namespace
}  // namespace pptpkit::fake

PPTPKIT_EXPORT_PLUGIN(pptpkit::fake::descriptor)
