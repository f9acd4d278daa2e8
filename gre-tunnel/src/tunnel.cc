#include "pptpkit/gre/tunnel.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "pptpkit/core/packet.hpp"

namespace pptpkit::gre {

namespace {

constexpr std::uint32_t call_ids = call_table::size;
constexpr const char* component = "gre";
constexpr std::uint64_t ms = 1'000'000;

const char* reject_name(verdict v) noexcept {
  switch (v) {
#define PPTPKIT_GRE_VERDICT_NAME_(name, meaning) \
  case verdict::name:                            \
    return meaning;
    PPTPKIT_GRE_HEADER_REJECTS(PPTPKIT_GRE_VERDICT_NAME_)
#undef PPTPKIT_GRE_VERDICT_NAME_
    case verdict::ok:
      break;
  }
  return "ok";
}

void count_reject(gre_counters& c, verdict v) noexcept {
  switch (v) {
#define PPTPKIT_GRE_VERDICT_COUNT_(name, meaning) \
  case verdict::name:                             \
    ++c.name;                                     \
    break;
    PPTPKIT_GRE_HEADER_REJECTS(PPTPKIT_GRE_VERDICT_COUNT_)
#undef PPTPKIT_GRE_VERDICT_COUNT_
    case verdict::ok:
      break;
  }
}

// Moves up to n packets from the front of `from` to the end of a C batch.
std::uint32_t move_out(core::packet_list& from, pptpkit_batch& out, std::uint32_t n) noexcept {
  if (n == 0 || from.empty()) {
    return 0;
  }
  if (from.size() <= n) {
    const std::uint32_t moved = from.size();
    from.release(out);  // O(1)
    return moved;
  }
  core::packet_list part;
  for (std::uint32_t i = 0; i < n; ++i) {
    part.push_back(*from.pop_front());
  }
  part.release(out);
  return n;
}

}  // namespace

tunnel_config tunnel_config::from(const core::config_map& config) {
  config.reject_unknown({"max_sessions", "receive_window", "enforce_peer_window", "send_queue_limit",
                         "reorder_timeout_ms", "reorder_depth", "ack_delay_ms", "no_data_warning_ms",
                         "check_peer_address", "first_sequence", "restart_confirm_ms"});
  tunnel_config c;
  c.max_sessions = config.get_u32("max_sessions", c.max_sessions, 1, call_ids - 1);
  // RFC 2637 §2.7/§2.8: the receive window size is a 16-bit field; we bound what we buffer.
  c.receive_window = config.get_u32("receive_window", c.receive_window, 1, 4096);
  c.enforce_peer_window = config.get_bool("enforce_peer_window", c.enforce_peer_window);
  c.send_queue_limit = config.get_u32("send_queue_limit", c.send_queue_limit, 0, 65536);
  c.reorder_timeout_ns = config.get_u64("reorder_timeout_ms", c.reorder_timeout_ns / ms, 0, 10'000) * ms;
  c.reorder_depth = config.get_u32("reorder_depth", c.reorder_depth, 1, 4096);
  c.reorder_depth = std::min(c.reorder_depth, c.receive_window);  // never hold beyond the window
  c.restart_confirm_ns = config.get_u64("restart_confirm_ms", c.restart_confirm_ns / ms, 0, 60'000) * ms;
  c.ack_delay_ns = config.get_u64("ack_delay_ms", c.ack_delay_ns / ms, 0, 10'000) * ms;
  c.no_data_warning_ns = config.get_u64("no_data_warning_ms", c.no_data_warning_ns / ms, 0, 86'400'000) * ms;
  c.check_peer_address = config.get_bool("check_peer_address", c.check_peer_address);
  c.first_sequence = config.get_u32("first_sequence", c.first_sequence);
  return c;
}

std::unique_ptr<tunnel> tunnel::create(const core::host& host, const core::config_map& config) {
  return std::make_unique<tunnel>(host, tunnel_config::from(config));
}

tunnel::tunnel(const core::host& host, const tunnel_config& config) : host_(host), config_(config) {}

tunnel::~tunnel() {
  table_.for_each([this](session& s) {
    if (s.timer_hook.is_linked()) {
      timers_.erase(timers_.iterator_to(s));
    }
    s.close();
  });
  host_.free(net_control_);
  host_.free(net_data_);
  host_.free(ppp_);
  for (early_frame& e : early_) {
    if (e.p != nullptr) {
      host_.free(e.p);
    }
  }
}

// ---- data path ----

std::int32_t tunnel::feed(std::uint32_t port, pptpkit_batch& in, std::uint64_t now_ns) noexcept {
  core::packet_list list;
  list.adopt(in);
  if (port != PPTPKIT_GRE_PORT_NET && port != PPTPKIT_GRE_PORT_PPP) {
    host_.free(list);
    return PPTPKIT_ERR_NOT_SUPPORTED;
  }
  if (port == PPTPKIT_GRE_PORT_PPP) {
    while (pptpkit_packet* p = list.pop_front()) {
      send_one(*p, now_ns);
    }
    return PPTPKIT_OK;
  }
  pptpkit_packet* p = list.pop_front();
  const session* warm = nullptr;
  while (p != nullptr) {
    pptpkit_packet* next = list.pop_front();
    if (next != nullptr) {
      warm = prefetch_session(*next, warm);  // the next packet's misses overlap this packet's work
    }
    receive_one(*p, now_ns);
    p = next;
  }
  return PPTPKIT_OK;
}

const session* tunnel::prefetch_session(const pptpkit_packet& p, const session* warm) const noexcept {
  if (p.length < fixed_length) {
    return warm;
  }
  const auto* h = reinterpret_cast<const fixed_header*>(core::data(p));
  const session* s = table_.find(h->call_id.value());
  if (s != nullptr && s != warm) {
    s->prefetch();
  }
  return s;
}

void tunnel::receive_one(pptpkit_packet& p, std::uint64_t now) noexcept {
  header_info h;
  const verdict v = decode(core::bytes(p), h);
  if (v != verdict::ok) {
    count_reject(counters_, v);
    host_.log(PPTPKIT_LOG_DEBUG, component, "dropped GRE packet of %u bytes: %s", p.length, reject_name(v));
    host_.free(&p);
    return;
  }
  session* s = table_.find(h.call_id);
  if (s == nullptr) {
    ++counters_.unknown_call;
    hold_early(p, h.call_id, now);
    return;
  }
  const std::uint32_t from = p.aux;
  const std::uint32_t peer = s->params().peer_address;
  if (config_.check_peer_address && from != 0 && peer != 0 && from != peer) {
    ++s->counters().wrong_peer_address;
    host_.log(PPTPKIT_LOG_DEBUG, component, "call %u: dropped GRE from %u.%u.%u.%u, the peer is %u.%u.%u.%u", h.call_id,
              from >> 24, from >> 16 & 0xff, from >> 8 & 0xff, from & 0xff, peer >> 24, peer >> 16 & 0xff,
              peer >> 8 & 0xff, peer & 0xff);
    host_.free(&p);
    return;
  }
  session_output out = output();
  const std::uint32_t events = s->receive(p, h, now, out);
  if (events != session_event_none) {
    announce(*s, events, now);
  }
  if (s->take_timer_dirty()) {
    rearm(*s);
  }
}

void tunnel::hold_early(pptpkit_packet& p, std::uint32_t call, std::uint64_t now) noexcept {
  early_frame& slot = early_[early_next_];
  early_next_ = (early_next_ + 1) % early_max;
  if (slot.p != nullptr) {
    host_.log(PPTPKIT_LOG_DEBUG, component, "dropped GRE packet for call %u: no such session", slot.call);
    host_.free(slot.p);
  }
  slot = {&p, now, call};
}

void tunnel::deliver_early(std::uint32_t call, std::uint64_t now) noexcept {
  for (std::uint32_t i = 0; i < early_max; ++i) {  // oldest first: the order they arrived in
    early_frame& slot = early_[(early_next_ + i) % early_max];
    if (slot.p == nullptr || slot.call != call) {
      continue;
    }
    pptpkit_packet* p = std::exchange(slot.p, nullptr);
    if (now - slot.at > early_ttl_ns) {
      host_.log(PPTPKIT_LOG_DEBUG, component, "dropped GRE packet for call %u: it came too long before the call", call);
      host_.free(p);
      continue;
    }
    ++counters_.early_delivered;
    receive_one(*p, now);
  }
}

void tunnel::send_one(pptpkit_packet& p, std::uint64_t now) noexcept {
  session* s = table_.find(p.channel);
  if (s == nullptr) {
    ++counters_.send_unknown_session;
    host_.free(&p);
    return;
  }
  session_output out = output();
  s->send(p, now, out);
  if (s->take_timer_dirty()) {
    rearm(*s);
  }
}

std::int32_t tunnel::poll(std::uint32_t port, pptpkit_batch& out, std::uint32_t max,
                          std::uint64_t /*now_ns*/) noexcept {
  const std::uint32_t room = out.count >= PPTPKIT_BATCH_MAX ? 0 : PPTPKIT_BATCH_MAX - out.count;
  std::uint32_t n = std::min(max, room);
  if (port == PPTPKIT_GRE_PORT_NET) {
    const std::uint32_t control = move_out(net_control_, out, n);  // control frames first
    return static_cast<std::int32_t>(control + move_out(net_data_, out, n - control));
  }
  if (port == PPTPKIT_GRE_PORT_PPP) {
    return static_cast<std::int32_t>(move_out(ppp_, out, n));
  }
  return PPTPKIT_ERR_NOT_SUPPORTED;
}

// ---- timers ----

void tunnel::rearm(session& s) noexcept {
  const std::uint64_t d = s.deadline();
  if (s.timer_hook.is_linked()) {
    if (s.timer_key <= d) {
      return;  // an early key only costs a spurious wake-up; tick() puts it right
    }
    timers_.erase(timers_.iterator_to(s));
  } else if (d == PPTPKIT_NO_DEADLINE) {
    return;
  }
  s.timer_key = d;
  timers_.insert(s);
}

std::uint64_t tunnel::next_deadline() const noexcept {
  return timers_.empty() ? PPTPKIT_NO_DEADLINE : timers_.begin()->timer_key;
}

std::int32_t tunnel::tick(std::uint64_t now_ns) noexcept {
  while (!timers_.empty() && timers_.begin()->timer_key <= now_ns) {
    session& s = *timers_.begin();
    timers_.erase(timers_.begin());
    session_output out = output();
    const std::uint32_t events = s.on_timer(now_ns, out);
    if (events != session_event_none) {
      announce(s, events, now_ns);
    }
    s.take_timer_dirty();  // re-filed just below
    const std::uint64_t d = s.deadline();
    if (d != PPTPKIT_NO_DEADLINE) {
      s.timer_key = std::max(d, now_ns + 1);  // on_timer ran everything due at now
      timers_.insert(s);
    }
  }
  return PPTPKIT_OK;
}

void tunnel::announce(const session& s, std::uint32_t events, std::uint64_t now) noexcept {
  const std::uint32_t call = s.params().call_id;
  const std::uint64_t since_open_ms = (now - s.opened_at()) / ms;
  try {
    if ((events & session_event_first_data) != 0) {
      events_.push(PPTPKIT_GRE_EVENT_FIRST_PEER_DATA, call, {since_open_ms});
    }
    if ((events & session_event_no_data) != 0) {
      host_.log(PPTPKIT_LOG_WARNING, component, "call %u: no GRE from the peer %llu ms after the call opened", call,
                static_cast<unsigned long long>(since_open_ms));
      events_.push(PPTPKIT_GRE_EVENT_NO_PEER_DATA, call, {since_open_ms},
                   "no GRE (IP protocol 47) from the peer: a firewall dropping GRE, or NAT without a PPTP helper");
    }
  } catch (...) {
    host_.log(PPTPKIT_LOG_ERROR, component, "call %u: event lost (out of memory)", call);
  }
}

std::int32_t tunnel::poll_event(pptpkit_event& out) noexcept {
  return events_.pop(&out);
}

// ---- control ----

std::int32_t tunnel::open_session(const session_params& params, std::uint64_t now) {
  std::unique_ptr<session>& slot = table_.slot(params.call_id);
  if (slot) {
    return PPTPKIT_ERR_STATE;
  }
  if (sessions_ >= config_.max_sessions) {
    host_.log(PPTPKIT_LOG_WARNING, component, "call %u refused: max_sessions (%u) reached", params.call_id,
              config_.max_sessions);
    return PPTPKIT_ERR_LIMIT;
  }
  slot = std::make_unique<session>(host_, config_, params, now);
  ++sessions_;
  slot->take_timer_dirty();
  rearm(*slot);
  host_.log(PPTPKIT_LOG_INFO, component, "call %u open: peer call %u, peer window %u, peer %u.%u.%u.%u", params.call_id,
            params.peer_call_id, params.peer_window, params.peer_address >> 24, params.peer_address >> 16 & 0xff,
            params.peer_address >> 8 & 0xff, params.peer_address & 0xff);
  deliver_early(params.call_id, now);
  return PPTPKIT_OK;
}

std::int32_t tunnel::close_session(std::uint32_t call_id) noexcept {
  if (table_.find(call_id) == nullptr) {
    return PPTPKIT_ERR_NOT_FOUND;
  }
  std::unique_ptr<session> s = std::move(table_.slot(static_cast<std::uint16_t>(call_id)));
  if (s->timer_hook.is_linked()) {
    timers_.erase(timers_.iterator_to(*s));
  }
  s->close();
  counters_ += s->counters();
  --sessions_;
  const gre_counters& c = s->counters();
  host_.log(PPTPKIT_LOG_INFO, component,
            "call %u closed: %llu received, %llu delivered, %llu lost, %llu reordered, %llu sent", call_id,
            static_cast<unsigned long long>(c.received), static_cast<unsigned long long>(c.delivered),
            static_cast<unsigned long long>(c.lost), static_cast<unsigned long long>(c.reordered),
            static_cast<unsigned long long>(c.sent));
  return PPTPKIT_OK;
}

std::int32_t tunnel::command(const pptpkit_command& cmd, std::uint64_t now_ns) {
  switch (cmd.type) {
    case PPTPKIT_GRE_CMD_SESSION_OPEN: {
      if (cmd.channel >= call_ids || cmd.values[0] >= call_ids || cmd.values[1] > 0xffff ||
          cmd.values[3] > UINT32_MAX) {
        return PPTPKIT_ERR_INVALID_ARGUMENT;
      }
      session_params p;
      p.call_id = static_cast<std::uint16_t>(cmd.channel);
      p.peer_call_id = static_cast<std::uint16_t>(cmd.values[0]);
      p.peer_window = static_cast<std::uint32_t>(cmd.values[1]);
      // RFC 2637 §2.7: the packet processing delay is in units of 1/10 second.
      p.peer_processing_delay_ns = std::min<std::uint64_t>(cmd.values[2], 0xffff) * 100 * ms;
      p.peer_address = static_cast<std::uint32_t>(cmd.values[3]);
      return open_session(p, now_ns);
    }
    case PPTPKIT_GRE_CMD_SESSION_CLOSE:
      return close_session(cmd.channel);
    default:
      return PPTPKIT_ERR_NOT_SUPPORTED;
  }
}

// ---- counters ----

const session* tunnel::find(std::uint32_t call_id) const noexcept {
  return table_.find(call_id);
}

gre_counters tunnel::totals() const noexcept {
  gre_counters t = counters_;
  table_.for_each([&t](const session& s) { t += s.counters(); });
  return t;
}

std::int32_t tunnel::read_stats(std::uint32_t channel, pptpkit_stat* out, std::uint32_t max) const noexcept {
  if (out == nullptr && max != 0) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  if (channel == PPTPKIT_CHANNEL_ALL) {
    return static_cast<std::int32_t>(totals().export_to(out, max));
  }
  const session* s = find(channel);
  if (s == nullptr) {
    return PPTPKIT_ERR_NOT_FOUND;
  }
  return static_cast<std::int32_t>(s->counters().export_to(out, max));
}

// ---- plugin ----

namespace {
struct factory {
  static std::unique_ptr<core::instance> create(const core::host& host, const core::config_map& config) {
    return tunnel::create(host, config);
  }
};
}  // namespace

const pptpkit_plugin_descriptor& plugin_descriptor() noexcept {
  static const pptpkit_plugin_ops ops = core::make_ops<factory>();
  static const pptpkit_plugin_descriptor descriptor =
      core::make_descriptor(PPTPKIT_KIND_GRE, "gre-tunnel", "0.1.0", &ops, nullptr);
  return descriptor;
}

}  // namespace pptpkit::gre
