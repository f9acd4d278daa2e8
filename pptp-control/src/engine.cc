#include "pptpkit/control/engine.hpp"

#include <algorithm>
#include <cassert>
#include <cstdarg>
#include <cstdio>
#include <stdexcept>

#include "pptpkit/core/packet.hpp"

namespace pptpkit::control {

namespace {

constexpr std::uint64_t ms = 1'000'000;

// Our side of SCCRQ/SCCRP (RFC 2637 §2.1, §2.2).
constexpr std::uint32_t our_framing_capabilities = framing_async | framing_sync;
constexpr std::uint32_t our_bearer_capabilities = bearer_analog | bearer_digital;
constexpr std::uint16_t our_firmware_revision = 0x0100;
// OCRQ speeds and types (RFC 2637 §2.7): the whole range, any bearer, any framing.
constexpr std::uint32_t ocrq_minimum_bps = 300;
constexpr std::uint32_t ocrq_maximum_bps = 100'000'000;
constexpr std::uint32_t any_type = 3;

std::uint64_t deadline_after(std::uint64_t now, std::uint64_t span) noexcept {
  return span >= PPTPKIT_NO_DEADLINE - now ? PPTPKIT_NO_DEADLINE : now + span;
}

// Peer text for an event: printable ASCII only, '|' (our separator) and the rest become '?'.
void append_printable(std::string& out, std::string_view s) {
  for (char ch : s) {
    out.push_back(ch >= 0x20 && ch < 0x7f && ch != '|' ? ch : '?');
  }
}

std::uint64_t sum_deadline(std::uint64_t a, std::uint64_t b) noexcept {
  return a < b ? a : b;
}

}  // namespace

const char* state_name(connection_state s) noexcept {
  switch (s) {
    case connection_state::idle:
      return "idle";
    case connection_state::wait_ctl_reply:
      return "wait_ctl_reply";
    case connection_state::established:
      return "established";
    case connection_state::wait_stop_reply:
      return "wait_stop_reply";
    case connection_state::closed:
      return "closed";
  }
  return "?";
}

const char* state_name(call_state s) noexcept {
  switch (s) {
    case call_state::wait_reply:
      return "wait_reply";
    case call_state::wait_connect:
      return "wait_connect";
    case call_state::established:
      return "established";
    case call_state::wait_disconnect:
      return "wait_disconnect";
  }
  return "?";
}

settings settings::from(const core::config_map& config) {
  config.reject_unknown({"role", "host_name", "vendor", "max_connections", "max_calls_per_connection",
                         "echo_interval_ms", "echo_timeout_ms", "handshake_timeout_ms", "call_setup_timeout_ms",
                         "stop_reply_timeout_ms", "call_id_quarantine_ms", "receive_window", "processing_delay",
                         "max_output_bytes", "connect_speed"});
  settings s;
  const std::string r = config.get("role");
  if (r == "pac") {
    s.role = role::pac;
  } else if (r == "pns") {
    s.role = role::pns;
  } else {
    throw core::config_error("role: expected \"pac\" or \"pns\", got \"" + r + "\"");
  }
  s.host_name = config.get("host_name", s.host_name);
  s.vendor = config.get("vendor", s.vendor);
  if (s.host_name.size() > text_field_size || s.vendor.size() > text_field_size) {
    throw core::config_error("host_name and vendor: at most 64 bytes (RFC 2637 §2.1)");
  }
  s.max_connections = config.get_u32("max_connections", s.max_connections, 1);
  s.max_calls_per_connection =
      config.get_u32("max_calls_per_connection",
                     s.role == role::pac ? settings::pac_default_max_calls : settings::pns_default_max_calls, 1, 65535);
  constexpr std::uint64_t max_ms = UINT64_MAX / ms;
  s.echo_interval_ns = config.get_u64("echo_interval_ms", s.echo_interval_ns / ms, 0, max_ms) * ms;
  s.echo_timeout_ns = config.get_u64("echo_timeout_ms", s.echo_timeout_ns / ms, 1, max_ms) * ms;
  s.handshake_timeout_ns = config.get_u64("handshake_timeout_ms", s.handshake_timeout_ns / ms, 1, max_ms) * ms;
  s.call_setup_timeout_ns = config.get_u64("call_setup_timeout_ms", s.call_setup_timeout_ns / ms, 1, max_ms) * ms;
  s.stop_reply_timeout_ns = config.get_u64("stop_reply_timeout_ms", s.stop_reply_timeout_ns / ms, 1, max_ms) * ms;
  // Still accepted (and checked) so that configurations naming it keep loading; call ids are no longer
  // held back for a time but reused in FIFO order (call_ids.hpp).
  (void)config.get_u64("call_id_quarantine_ms", 0, 0, max_ms);
  s.receive_window = static_cast<std::uint16_t>(config.get_u32("receive_window", s.receive_window, 1, 65535));
  s.processing_delay = static_cast<std::uint16_t>(config.get_u32("processing_delay", s.processing_delay, 0, 65535));
  s.max_output_bytes =
      config.get_u32("max_output_bytes", s.max_output_bytes, static_cast<std::uint32_t>(max_message_size));
  s.connect_speed = config.get_u32("connect_speed", s.connect_speed);
  return s;
}

// The call id allocator's key: the one read of the host's random source in an engine's life. Without
// it call ids (the GRE keys) would be predictable, so the instance is not created.
keyed_random::key_type engine::draw_call_id_key(const core::host& host) {
  keyed_random::key_type key;
  if (host.random(key) != PPTPKIT_OK) {
    throw std::runtime_error("the host's random source failed: cannot choose unpredictable call ids");
  }
  return key;
}

engine::engine(const core::host& host, settings s)
    : host_(host), settings_(std::move(s)), call_ids_(draw_call_id_key(host_)) {}

engine::~engine() {
  ready_.clear();
  for (auto& [id, c] : connections_) {
    host_.free(c->output);
  }
}

std::unique_ptr<core::instance> engine::create(const core::host& host, const core::config_map& config) {
  return std::make_unique<engine>(host, settings::from(config));
}

void engine::log(std::uint32_t level, const char* format, ...) const noexcept {
  char line[400];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  host_.log(level, log_component, "%s", line);
}

connection* engine::lookup(std::uint32_t id) noexcept {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

const connection* engine::find_connection(std::uint32_t id) const noexcept {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

const call* engine::find_call(std::uint16_t local_id) const noexcept {
  auto it = calls_.find(local_id);
  return it == calls_.end() ? nullptr : &it->second;
}

bool engine::invariants_hold() const noexcept {
  std::size_t listed = 0;
  for (const auto& [id, c] : connections_) {
    listed += c->calls.size();
    for (std::uint16_t local : c->calls) {
      auto it = calls_.find(local);
      if (it == calls_.end() || it->second.connection != id || !call_ids_.live(local)) {
        return false;
      }
    }
    if (c->in_ready == c->output.empty() || (c->state == connection_state::closed && !c->calls.empty())) {
      return false;
    }
  }
  // A cached deadline may be early (poll forgot a connection), never late.
  if (!deadline_stale_ && deadline_cache_ > earliest_deadline()) {
    return false;
  }
  return listed == calls_.size() && calls_.size() == call_ids_.live_count();
}

counters engine::totals() const noexcept {
  counters total = instance_stats_;
  total += retired_stats_;
  for (const auto& [id, c] : connections_) {
    total += c->stats;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------
// Output

template <class T>
T* engine::send(connection& c, std::uint64_t now) {
  (void)now;
  if (c.silent || c.state == connection_state::closed) {
    return nullptr;
  }
  if (c.output_bytes + sizeof(T) > settings_.max_output_bytes) {
    ++c.stats.output_full;
    log(PPTPKIT_LOG_WARNING, "connection %u: %zu bytes queued and the peer is not reading; closing", c.id,
        static_cast<std::size_t>(c.output_bytes));
    end_connection(c, PPTPKIT_CONTROL_REASON_OUTPUT_FULL, "peer stopped reading: max_output_bytes reached", false);
    return nullptr;
  }
  pptpkit_packet* p = host_.alloc_one();
  std::uint8_t* at = p == nullptr ? nullptr : core::put(*p, sizeof(T));
  if (at == nullptr) {
    host_.free(p);
    ++c.stats.output_no_packet;
    log(PPTPKIT_LOG_ERROR, "connection %u: no packet for a %s; closing", c.id,
        message_name(static_cast<std::uint16_t>(T::type)));
    end_connection(c, PPTPKIT_CONTROL_REASON_OUTPUT_FULL, "host packet pool exhausted", false);
    return nullptr;
  }
  p->channel = c.id;
  c.output.push_back(*p);
  c.output_bytes += static_cast<std::uint32_t>(sizeof(T));
  if (!c.in_ready) {
    ready_.push_back(c);
    c.in_ready = true;
  }
  return &start_message<T>({at, sizeof(T)});
}

void engine::send_sccrq(connection& c, std::uint64_t now) {
  auto* m = send<start_control_connection_request>(c, now);
  if (m == nullptr) {
    return;
  }
  m->protocol_version = protocol_version_1_0;
  m->framing_capabilities = our_framing_capabilities;
  m->bearer_capabilities = our_bearer_capabilities;
  // RFC 2637 §2.1: a PNS sets Maximum Channels to 0; a PAC gives the sessions it can carry.
  m->maximum_channels =
      settings_.role == role::pac ? static_cast<std::uint16_t>(settings_.max_calls_per_connection) : std::uint16_t{0};
  m->firmware_revision = our_firmware_revision;
  set_text(m->host_name, settings_.host_name);
  set_text(m->vendor_string, settings_.vendor);
}

void engine::send_stop_request(connection& c, std::uint8_t reason, std::uint64_t now) {
  if (auto* m = send<stop_control_connection_request>(c, now)) {
    m->reason = reason;
  }
}

void engine::send_echo_request(connection& c, std::uint64_t now) {
  auto* m = send<echo_request>(c, now);
  if (m == nullptr) {
    return;
  }
  c.echo_identifier = next_echo_identifier_++;
  m->identifier = c.echo_identifier;
  c.echo_deadline_ns = deadline_after(now, settings_.echo_timeout_ns);
  ++c.stats.echo_requests_sent;
}

void engine::send_cdn(connection& c, const call& k, std::uint8_t result, std::uint64_t now) {
  if (auto* m = send<call_disconnect_notify>(c, now)) {
    m->call_id = k.local_id;  // RFC 2637 §2.13: the PAC's call id
    m->result_code = result;
  }
}

void engine::send_ccrq(connection& c, const call& k, std::uint64_t now) {
  if (auto* m = send<call_clear_request>(c, now)) {
    m->call_id = k.local_id;  // RFC 2637 §2.12: the PNS's call id
  }
}

std::int32_t engine::poll(std::uint32_t port, pptpkit_batch& out, std::uint32_t max, std::uint64_t now_ns) noexcept {
  now_ = now_ns;
  if (port != PPTPKIT_CONTROL_PORT_STREAM) {
    return PPTPKIT_ERR_NOT_SUPPORTED;
  }
  std::int32_t n = 0;
  while (static_cast<std::uint32_t>(n) < max && out.count < PPTPKIT_BATCH_MAX && !ready_.empty()) {
    connection& c = ready_.front();
    ready_.pop_front();
    c.in_ready = false;
    pptpkit_packet* p = c.output.pop_front();
    assert(p != nullptr);
    c.output_bytes -= p->length;
    ++c.stats.tx_messages;
    c.stats.tx_bytes += p->length;
    if (out.count == 0) {
      out.head = &p->link;
    } else {
      out.tail->next = &p->link;
    }
    out.tail = &p->link;
    p->link.next = nullptr;
    ++out.count;
    ++n;
    if (!c.output.empty()) {
      ready_.push_back(c);  // round robin: one message per connection per turn
      c.in_ready = true;
    } else if (c.state == connection_state::closed) {
      have_closed_ = true;
    }
  }
  reap();
  return n;
}

// ---------------------------------------------------------------------------------------------------
// Connections and calls

void engine::end_connection(connection& c, std::uint32_t reason, std::string_view why, bool keep_output) {
  if (c.state == connection_state::closed) {
    return;
  }
  // RFC 2637 §2.3: ending the control connection clears every call on it.
  while (!c.calls.empty()) {
    auto it = calls_.find(c.calls.back());
    assert(it != calls_.end());
    call_down(c, it->second, 0, 0, 0, why);
  }
  c.state = connection_state::closed;
  ++c.stats.connections_down;
  if (!keep_output) {
    if (c.in_ready) {
      ready_.erase(ready_.iterator_to(c));
      c.in_ready = false;
    }
    host_.free(c.output);
    c.output_bytes = 0;
  }
  have_closed_ = true;
  log(PPTPKIT_LOG_NOTICE, "connection %u: down (%u): %.*s", c.id, reason, static_cast<int>(why.size()), why.data());
  events_.push(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN, c.id, {reason}, why);
}

void engine::reap() noexcept {
  if (!have_closed_) {
    return;
  }
  have_closed_ = false;
  for (auto it = connections_.begin(); it != connections_.end();) {
    connection& c = *it->second;
    if (c.state == connection_state::closed && c.output.empty()) {
      retired_stats_ += c.stats;
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void engine::established(connection& c, std::uint16_t version, std::uint32_t framing, std::uint32_t bearer,
                         std::uint16_t channels, std::uint16_t firmware, std::string_view host,
                         std::string_view vendor) {
  c.state = connection_state::established;
  c.peer_version = version;
  c.handshake_deadline_ns = PPTPKIT_NO_DEADLINE;
  ++c.stats.connections_up;
  std::string text;
  append_printable(text, host);
  text.push_back('|');
  append_printable(text, vendor);
  log(PPTPKIT_LOG_INFO, "connection %u: established with \"%s\" (version %u.%u)", c.id, text.c_str(), version >> 8,
      version & 0xffu);
  events_.push(PPTPKIT_CONTROL_EVENT_CONNECTION_UP, c.id, {version, framing, bearer, channels, firmware}, text);
}

call* engine::new_call(connection& c, call_direction d, std::uint64_t now) {
  if (c.calls.size() >= settings_.max_calls_per_connection) {
    ++c.stats.rejected_call_limit;
    log(PPTPKIT_LOG_WARNING, "connection %u: call refused: max_calls_per_connection (%u) reached", c.id,
        settings_.max_calls_per_connection);
    return nullptr;
  }
  const std::uint16_t id = call_ids_.allocate();
  if (id == 0) {
    ++c.stats.rejected_call_ids_exhausted;
    log(PPTPKIT_LOG_WARNING, "connection %u: call refused: all %u call ids are live", c.id,
        call_id_allocator::id_count);
    return nullptr;
  }
  c.calls.push_back(id);
  call& k = calls_[id];
  k = call{};
  k.local_id = id;
  k.connection = c.id;
  k.direction = d;
  k.deadline_ns = deadline_after(now, settings_.call_setup_timeout_ns);
  return &k;
}

call* engine::match_call(connection& c, std::uint16_t id, bool ours_first) noexcept {
  const auto by_ours = [&]() -> call* {
    if (std::find(c.calls.begin(), c.calls.end(), id) == c.calls.end()) {
      return nullptr;
    }
    return &calls_.find(id)->second;
  };
  const auto by_peer = [&]() -> call* {
    for (std::uint16_t local : c.calls) {
      call& k = calls_.find(local)->second;
      if (k.peer_id == id && k.state != call_state::wait_reply) {  // no peer id is known before the reply
        return &k;
      }
    }
    return nullptr;
  };
  call* k = ours_first ? by_ours() : by_peer();
  return k != nullptr ? k : (ours_first ? by_peer() : by_ours());
}

void engine::call_up(connection& c, call& k) {
  k.state = call_state::established;
  k.deadline_ns = PPTPKIT_NO_DEADLINE;
  ++c.stats.calls_up;
  log(PPTPKIT_LOG_INFO, "connection %u: call %u up (peer call id %u, %s)", c.id, k.local_id, k.peer_id,
      k.direction == call_direction::outgoing ? "outgoing" : "incoming");
  events_.push(PPTPKIT_CONTROL_EVENT_CALL_UP, c.id,
               {k.local_id, k.peer_id, k.peer_window, k.peer_delay, k.connect_speed, k.serial,
                static_cast<std::uint32_t>(k.direction)});
}

void engine::call_down(connection& c, call& k, std::uint32_t result, std::uint32_t error, std::uint32_t cause,
                       std::string_view why) {
  const std::uint16_t local = k.local_id;
  const std::uint16_t peer = k.peer_id;
  ++c.stats.calls_down;
  log(PPTPKIT_LOG_INFO, "connection %u: call %u down (result %u, error %u): %.*s", c.id, local, result, error,
      static_cast<int>(why.size()), why.data());
  events_.push(PPTPKIT_CONTROL_EVENT_CALL_DOWN, c.id, {local, peer, result, error, cause}, why);
  c.calls.erase(std::find(c.calls.begin(), c.calls.end(), local));
  calls_.erase(local);
  call_ids_.release(local);
}

void engine::drop_unexpected(connection& c, const char* what) {
  ++c.stats.drop_unexpected_message;
  log(PPTPKIT_LOG_NOTICE, "connection %u: ignored %s in state %s (role %s)", c.id, what, state_name(c.state),
      settings_.role == role::pac ? "PAC" : "PNS");
}

void engine::protocol_error(connection& c, counters& ctr, std::uint64_t counters::*field, const char* why) {
  ++(ctr.*field);
  log(PPTPKIT_LOG_WARNING, "connection %u: protocol error: %s", c.id, why);
  end_connection(c, PPTPKIT_CONTROL_REASON_PROTOCOL_ERROR, why, true);
}

// ---------------------------------------------------------------------------------------------------
// Input

std::int32_t engine::feed(std::uint32_t port, pptpkit_batch& in, std::uint64_t now_ns) noexcept {
  now_ = now_ns;
  deadline_stale_ = true;
  core::packet_list packets;
  packets.adopt(in);
  if (port != PPTPKIT_CONTROL_PORT_STREAM) {
    host_.free(packets);
    return PPTPKIT_ERR_NOT_SUPPORTED;
  }
  while (pptpkit_packet* p = packets.pop_front()) {
    connection* c = lookup(p->channel);
    if (c == nullptr) {
      ++instance_stats_.drop_unknown_connection;
      log(PPTPKIT_LOG_NOTICE, "stream bytes for unknown connection %u dropped", p->channel);
    } else if (c->state == connection_state::closed) {
      c->stats.drop_after_close += p->length;
    } else {
      c->stats.rx_bytes += p->length;
      const header_status s = c->framer.feed(
          core::bytes(*p), [&](std::span<const std::uint8_t> msg) { return on_message(*c, msg, now_ns); });
      if (s != header_status::ok && c->state != connection_state::closed) {
        std::uint64_t counters::*field = &counters::drop_bad_length;
        switch (s) {
          case header_status::bad_pptp_type:
            field = &counters::drop_bad_pptp_type;
            break;
          case header_status::bad_magic:
            field = &counters::drop_bad_magic;
            break;
          case header_status::unknown_type:
            field = &counters::drop_unknown_type;
            break;
          case header_status::length_mismatch:
            field = &counters::drop_length_mismatch;
            break;
          default:
            break;
        }
        protocol_error(*c, c->stats, field, header_status_text(s));
      }
    }
    host_.free(p);
  }
  reap();
  return PPTPKIT_OK;
}

bool engine::on_message(connection& c, std::span<const std::uint8_t> msg, std::uint64_t now) {
  const auto& h = *reinterpret_cast<const header*>(msg.data());
  const auto type = static_cast<message_type>(h.control_message_type.value());
  ++c.stats.rx_messages;
  c.last_rx_ns = now;
  // The framer checked Length == sizeof(the type's struct), so every view below is in bounds.
  // Before the handshake only the handshake, a stop and echoes are taken (RFC 2637 §3.1.1, §3.1.2).
  const bool handshake_done = c.state == connection_state::established || c.state == connection_state::wait_stop_reply;
  if (!handshake_done) {
    switch (type) {
      case message_type::start_control_connection_request:
      case message_type::start_control_connection_reply:
      case message_type::stop_control_connection_request:
      case message_type::stop_control_connection_reply:
      case message_type::echo_request:
      case message_type::echo_reply:
        break;
      default: {
        char why[96];
        std::snprintf(why, sizeof(why), "%s before the control connection was established",
                      message_name(static_cast<std::uint16_t>(type)));
        protocol_error(c, c.stats, &counters::drop_unexpected_before_established, why);
        return false;
      }
    }
  }
  switch (type) {
    case message_type::start_control_connection_request:
      on_sccrq(c, *core::view<start_control_connection_request>(msg), now);
      break;
    case message_type::start_control_connection_reply:
      on_sccrp(c, *core::view<start_control_connection_reply>(msg), now);
      break;
    case message_type::stop_control_connection_request:
      on_stop_request(c, *core::view<stop_control_connection_request>(msg), now);
      break;
    case message_type::stop_control_connection_reply:
      on_stop_reply(c, now);
      break;
    case message_type::echo_request:
      on_echo_request(c, *core::view<echo_request>(msg), now);
      break;
    case message_type::echo_reply:
      on_echo_reply(c, *core::view<echo_reply>(msg));
      break;
    case message_type::outgoing_call_request:
      on_ocrq(c, *core::view<outgoing_call_request>(msg), now);
      break;
    case message_type::outgoing_call_reply:
      on_ocrp(c, *core::view<outgoing_call_reply>(msg), now);
      break;
    case message_type::incoming_call_request:
      on_icrq(c, *core::view<incoming_call_request>(msg), now);
      break;
    case message_type::incoming_call_reply:
      on_icrp(c, *core::view<incoming_call_reply>(msg), now);
      break;
    case message_type::incoming_call_connected:
      on_iccn(c, *core::view<incoming_call_connected>(msg), now);
      break;
    case message_type::call_clear_request:
      on_ccrq(c, *core::view<call_clear_request>(msg), now);
      break;
    case message_type::call_disconnect_notify:
      on_cdn(c, *core::view<call_disconnect_notify>(msg), now);
      break;
    case message_type::wan_error_notify:
      on_wen(c, *core::view<wan_error_notify>(msg));
      break;
    case message_type::set_link_info:
      on_sli(c, *core::view<set_link_info>(msg));
      break;
  }
  return c.state != connection_state::closed;
}

void engine::on_sccrq(connection& c, const start_control_connection_request& m, std::uint64_t now) {
  if (c.state == connection_state::wait_ctl_reply || (c.state == connection_state::idle && !c.silent)) {
    // RFC 2637 §3.1.3: an SCCRQ from a peer to which we have sent one (on this or another connection) is
    // a collision; the higher address wins. On a loss we answer and close the connection we opened.
    connection* ours = c.state == connection_state::wait_ctl_reply ? &c : nullptr;
    if (ours == nullptr) {
      for (auto& [id, other] : connections_) {
        if (other.get() != &c && other->state == connection_state::wait_ctl_reply &&
            other->peer_address == c.peer_address) {
          ours = other.get();
          break;
        }
      }
    }
    if (ours != nullptr) {
      const std::uint32_t local = c.local_address != 0 ? c.local_address : ours->local_address;
      if (local > c.peer_address) {
        ++c.stats.sccrq_collisions_won;
        log(PPTPKIT_LOG_NOTICE, "connection %u: SCCRQ collision won (RFC 2637 §3.1.3); waiting for SCCRP on %u", c.id,
            ours->id);
        if (ours != &c) {
          c.silent = true;  // never send on the loser's connection; wait for it to close
        }
        return;
      }
      ++c.stats.sccrq_collisions_lost;
      log(PPTPKIT_LOG_NOTICE, "connection %u: SCCRQ collision lost (RFC 2637 §3.1.3)", c.id);
      if (ours != &c) {
        end_connection(*ours, PPTPKIT_CONTROL_REASON_COLLISION, "SCCRQ collision lost (RFC 2637 §3.1.3)", false);
      }
    }
  } else if (c.state != connection_state::idle || c.silent) {
    drop_unexpected(c, "SCCRQ");
    return;
  }
  // RFC 2637 §3.1.2: the receiver answers and, if the version is acceptable, is established.
  const std::uint16_t version = m.protocol_version.value();
  const bool version_ok = version >= protocol_version_1_0;  // a newer originator falls back to ours
  auto* r = send<start_control_connection_reply>(c, now);
  if (r == nullptr) {
    return;
  }
  r->protocol_version = protocol_version_1_0;
  r->result_code = version_ok ? sccrp_result::success : sccrp_result::bad_protocol_version;
  r->framing_capability = our_framing_capabilities;
  r->bearer_capability = our_bearer_capabilities;
  r->maximum_channels =
      settings_.role == role::pac ? static_cast<std::uint16_t>(settings_.max_calls_per_connection) : std::uint16_t{0};
  r->firmware_revision = our_firmware_revision;
  set_text(r->host_name, settings_.host_name);
  set_text(r->vendor_string, settings_.vendor);
  if (!version_ok) {
    ++c.stats.rejected_version;
    log(PPTPKIT_LOG_WARNING, "connection %u: SCCRQ protocol version 0x%04x refused", c.id, version);
    end_connection(c, PPTPKIT_CONTROL_REASON_REFUSED, "peer protocol version not supported", true);
    return;
  }
  established(c, version, m.framing_capabilities.value(), m.bearer_capabilities.value(), m.maximum_channels.value(),
              m.firmware_revision.value(), text(m.host_name), text(m.vendor_string));
}

void engine::on_sccrp(connection& c, const start_control_connection_reply& m, std::uint64_t now) {
  if (c.state != connection_state::wait_ctl_reply) {
    drop_unexpected(c, "SCCRP");
    return;
  }
  const std::uint8_t result = m.result_code.value();
  if (result != sccrp_result::success) {
    ++c.stats.rejected_refused;
    char why[96];
    std::snprintf(why, sizeof(why), "SCCRP result %u, error %u", result, m.error_code.value());
    log(PPTPKIT_LOG_WARNING, "connection %u: refused by the peer: %s", c.id, why);
    end_connection(c, PPTPKIT_CONTROL_REASON_REFUSED, why, true);
    return;
  }
  const std::uint16_t version = m.protocol_version.value();
  if (version < protocol_version_1_0) {
    // RFC 2637 §3.1.1: an older version we do not support: StopCCRQ, then wait_stop_reply.
    ++c.stats.rejected_version;
    log(PPTPKIT_LOG_WARNING, "connection %u: SCCRP protocol version 0x%04x not supported", c.id, version);
    c.down_reason = PPTPKIT_CONTROL_REASON_REFUSED;
    c.handshake_deadline_ns = PPTPKIT_NO_DEADLINE;
    c.state = connection_state::wait_stop_reply;
    c.stop_deadline_ns = deadline_after(now, settings_.stop_reply_timeout_ns);
    send_stop_request(c, stop_reason::stop_protocol, now);
    return;
  }
  // Capabilities 0 and Maximum Channels 1 (pptpd) are taken as they are: they do not limit anything here.
  established(c, version, m.framing_capability.value(), m.bearer_capability.value(), m.maximum_channels.value(),
              m.firmware_revision.value(), text(m.host_name), text(m.vendor_string));
}

void engine::on_stop_request(connection& c, const stop_control_connection_request& m, std::uint64_t now) {
  // RFC 2637 §3.1.1/§3.1.2: answer StopCCRP in any state; every call is cleared (§2.3); then close.
  if (c.silent) {
    return;
  }
  if (auto* r = send<stop_control_connection_reply>(c, now)) {
    r->result_code = stop_result::ok;
  }
  if (c.state == connection_state::closed) {
    return;
  }
  char why[64];
  std::snprintf(why, sizeof(why), "peer sent StopCCRQ (reason %u)", m.reason.value());
  end_connection(c, c.down_reason != 0 ? c.down_reason : PPTPKIT_CONTROL_REASON_STOPPED, why, true);
}

void engine::on_stop_reply(connection& c, std::uint64_t now) {
  (void)now;
  if (c.state != connection_state::wait_stop_reply) {
    drop_unexpected(c, "StopCCRP");
    return;
  }
  end_connection(c, c.down_reason != 0 ? c.down_reason : PPTPKIT_CONTROL_REASON_STOPPED, "StopCCRQ answered", true);
}

void engine::on_echo_request(connection& c, const echo_request& m, std::uint64_t now) {
  // RFC 2637 §2.6: always answered, with the request's identifier.
  if (auto* r = send<echo_reply>(c, now)) {
    r->identifier = m.identifier.value();
    r->result_code = echo_result::ok;
    ++c.stats.echo_requests_answered;
  }
}

void engine::on_echo_reply(connection& c, const echo_reply& m) {
  if (c.echo_deadline_ns == PPTPKIT_NO_DEADLINE || m.identifier.value() != c.echo_identifier) {
    ++c.stats.drop_echo_reply_mismatch;
    log(PPTPKIT_LOG_NOTICE, "connection %u: Echo-Reply %u does not answer a request of ours", c.id,
        m.identifier.value());
    return;
  }
  ++c.stats.echo_replies_received;
  c.echo_deadline_ns = PPTPKIT_NO_DEADLINE;
}

// An OCRP or ICRP refusing the peer's call for want of a call id (RFC 2637 §2.8, §2.10: General Error,
// error No-Resource).
template <class Reply>
void engine::refuse_call(connection& c, std::uint16_t peer_call_id, std::uint8_t result, std::uint64_t now) {
  if (auto* r = send<Reply>(c, now)) {
    r->peer_call_id = peer_call_id;
    r->result_code = result;
    r->error_code = error_code::no_resource;
  }
}

void engine::on_ocrq(connection& c, const outgoing_call_request& m, std::uint64_t now) {
  if (settings_.role != role::pac || c.state != connection_state::established) {
    drop_unexpected(c, "OCRQ");
    return;
  }
  // RFC 2637 §3.2.3: the PAC takes the call (wait_cs_answer) and, there being no circuit to dial here,
  // answers at once: OCRP Connected, established.
  call* k = new_call(c, call_direction::outgoing, now);
  if (k == nullptr) {
    refuse_call<outgoing_call_reply>(c, m.call_id.value(), ocrp_result::general_error, now);
    return;
  }
  k->peer_id = m.call_id.value();
  k->serial = m.call_serial_number.value();
  k->peer_window = m.packet_recv_window_size.value();
  k->peer_delay = m.packet_processing_delay.value();
  const std::uint32_t max_bps = m.maximum_bps.value();
  k->connect_speed = max_bps != 0 && max_bps < settings_.connect_speed ? max_bps : settings_.connect_speed;
  auto* r = send<outgoing_call_reply>(c, now);
  if (r == nullptr) {
    return;  // the connection ended and took the call with it
  }
  r->call_id = k->local_id;
  r->peer_call_id = k->peer_id;
  r->result_code = ocrp_result::connected;
  r->connect_speed = k->connect_speed;
  r->packet_recv_window_size = settings_.receive_window;
  r->packet_processing_delay = settings_.processing_delay;
  call_up(c, *k);
}

void engine::on_ocrp(connection& c, const outgoing_call_reply& m, std::uint64_t now) {
  (void)now;
  if (settings_.role != role::pns) {
    drop_unexpected(c, "OCRP");
    return;
  }
  call* k = match_call(c, m.peer_call_id.value(), true);
  if (k != nullptr && k->state == call_state::wait_disconnect && k->peer_id == 0 &&
      m.result_code.value() == ocrp_result::connected) {
    // We cleared the call before its reply came: learn the PAC's id so its CDN finds the call.
    k->peer_id = m.call_id.value();
    return;
  }
  if (k == nullptr || k->state != call_state::wait_reply || k->direction != call_direction::outgoing) {
    ++c.stats.drop_unknown_call;
    log(PPTPKIT_LOG_NOTICE, "connection %u: OCRP for call %u, which waits for none", c.id, m.peer_call_id.value());
    return;
  }
  // RFC 2637 §3.2.5: wait_reply -> established on Connected, else idle. pptpd sends Call ID 0 on some
  // versions: taken as it is (its GRE then carries key 0).
  const std::uint8_t result = m.result_code.value();
  if (result != ocrp_result::connected) {
    ++c.stats.calls_refused_by_peer;
    char why[64];
    std::snprintf(why, sizeof(why), "OCRP result %u", result);
    call_down(c, *k, result, m.error_code.value(), m.cause_code.value(), why);
    return;
  }
  k->peer_id = m.call_id.value();
  k->peer_window = m.packet_recv_window_size.value();
  k->peer_delay = m.packet_processing_delay.value();
  k->connect_speed = m.connect_speed.value();
  call_up(c, *k);
}

void engine::on_icrq(connection& c, const incoming_call_request& m, std::uint64_t now) {
  if (settings_.role != role::pns || c.state != connection_state::established) {
    drop_unexpected(c, "ICRQ");
    return;
  }
  // RFC 2637 §3.2.4: idle -> ICRP -> wait_connect.
  call* k = new_call(c, call_direction::incoming, now);
  if (k == nullptr) {
    refuse_call<incoming_call_reply>(c, m.call_id.value(), icrp_result::general_error, now);
    return;
  }
  k->peer_id = m.call_id.value();
  k->serial = m.call_serial_number.value();
  k->state = call_state::wait_connect;
  if (auto* r = send<incoming_call_reply>(c, now)) {
    r->call_id = k->local_id;
    r->peer_call_id = k->peer_id;
    r->result_code = icrp_result::connect;
    r->packet_recv_window_size = settings_.receive_window;
    r->packet_transmit_delay = settings_.processing_delay;
  }
}

void engine::on_icrp(connection& c, const incoming_call_reply& m, std::uint64_t now) {
  if (settings_.role != role::pac) {
    drop_unexpected(c, "ICRP");
    return;
  }
  call* k = match_call(c, m.peer_call_id.value(), true);
  if (k == nullptr || k->state != call_state::wait_reply || k->direction != call_direction::incoming) {
    ++c.stats.drop_unknown_call;
    log(PPTPKIT_LOG_NOTICE, "connection %u: ICRP for call %u, which waits for none", c.id, m.peer_call_id.value());
    return;
  }
  const std::uint8_t result = m.result_code.value();
  if (result != icrp_result::connect) {
    // RFC 2637 §3.2.2: a refusal ends the call; the PAC then sends nothing more for it.
    ++c.stats.calls_refused_by_peer;
    char why[64];
    std::snprintf(why, sizeof(why), "ICRP result %u", result);
    call_down(c, *k, result, m.error_code.value(), 0, why);
    return;
  }
  // RFC 2637 §3.2.2: wait_reply -> ICCN -> established.
  k->peer_id = m.call_id.value();
  k->peer_window = m.packet_recv_window_size.value();
  k->peer_delay = m.packet_transmit_delay.value();
  k->connect_speed = settings_.connect_speed;
  auto* r = send<incoming_call_connected>(c, now);
  if (r == nullptr) {
    return;
  }
  r->peer_call_id = k->peer_id;
  r->connect_speed = k->connect_speed;
  r->packet_recv_window_size = settings_.receive_window;
  r->packet_transmit_delay = settings_.processing_delay;
  r->framing_type = framing_async;
  call_up(c, *k);
}

void engine::on_iccn(connection& c, const incoming_call_connected& m, std::uint64_t now) {
  (void)now;
  if (settings_.role != role::pns) {
    drop_unexpected(c, "ICCN");
    return;
  }
  call* k = match_call(c, m.peer_call_id.value(), true);
  if (k == nullptr || k->state != call_state::wait_connect) {
    ++c.stats.drop_unknown_call;
    log(PPTPKIT_LOG_NOTICE, "connection %u: ICCN for call %u, which waits for none", c.id, m.peer_call_id.value());
    return;
  }
  // RFC 2637 §3.2.4: wait_connect -> established.
  k->peer_window = m.packet_recv_window_size.value();
  k->peer_delay = m.packet_transmit_delay.value();
  k->connect_speed = m.connect_speed.value();
  call_up(c, *k);
}

void engine::on_ccrq(connection& c, const call_clear_request& m, std::uint64_t now) {
  if (settings_.role != role::pac) {
    drop_unexpected(c, "CCRQ");
    return;
  }
  call* k = match_call(c, m.call_id.value(), false);  // RFC 2637 §2.12: the PNS's call id
  if (k == nullptr) {
    ++c.stats.drop_unknown_call;
    log(PPTPKIT_LOG_NOTICE, "connection %u: CCRQ for unknown call %u", c.id, m.call_id.value());
    return;
  }
  // RFC 2637 §3.2.2/§3.2.3: CCRQ -> CDN -> idle. The event follows the CDN at once: pptp-linux closes
  // TCP right after its CCRQ without waiting for the CDN.
  send_cdn(c, *k, cdn_result::request, now);
  if (c.state == connection_state::closed) {
    return;  // the CDN could not be queued; end_connection took the call down
  }
  call_down(c, *k, cdn_result::request, 0, 0, "peer sent Call-Clear-Request");
}

void engine::on_cdn(connection& c, const call_disconnect_notify& m, std::uint64_t now) {
  (void)now;
  if (settings_.role != role::pns) {
    drop_unexpected(c, "CDN");
    return;
  }
  // RFC 2637 §2.13 names the PAC's call id; some servers send ours and NATs rewrite it: take either.
  call* k = match_call(c, m.call_id.value(), false);
  if (k == nullptr) {
    ++c.stats.drop_unknown_call;
    log(PPTPKIT_LOG_NOTICE, "connection %u: CDN for unknown call %u", c.id, m.call_id.value());
    return;
  }
  char why[96];
  std::snprintf(why, sizeof(why), "peer sent Call-Disconnect-Notify (result %u)", m.result_code.value());
  call_down(c, *k, m.result_code.value(), m.error_code.value(), m.cause_code.value(), why);
}

void engine::on_wen(connection& c, const wan_error_notify& m) {
  if (settings_.role != role::pns) {
    drop_unexpected(c, "WEN");
    return;
  }
  call* k = match_call(c, m.peer_call_id.value(), true);  // RFC 2637 §2.14: the PNS's call id
  if (k == nullptr) {
    ++c.stats.drop_unknown_call;
    log(PPTPKIT_LOG_NOTICE, "connection %u: WEN for unknown call %u", c.id, m.peer_call_id.value());
    return;
  }
  ++c.stats.wan_errors_received;
  events_.push(PPTPKIT_CONTROL_EVENT_WAN_ERROR, c.id,
               {k->local_id, m.crc_errors.value(), m.framing_errors.value(), m.hardware_overruns.value(),
                m.buffer_overruns.value(), m.time_out_errors.value(), m.alignment_errors.value()});
}

void engine::on_sli(connection& c, const set_link_info& m) {
  // RFC 2637 §2.15 has the PNS send it; accepted in either role (some PACs send one too), never required.
  call* k = match_call(c, m.peer_call_id.value(), true);
  if (k == nullptr) {
    ++c.stats.drop_unknown_call;
    log(PPTPKIT_LOG_NOTICE, "connection %u: SLI for unknown call %u", c.id, m.peer_call_id.value());
    return;
  }
  ++c.stats.set_link_info_received;
  events_.push(PPTPKIT_CONTROL_EVENT_SET_LINK_INFO, c.id, {k->local_id, m.send_accm.value(), m.receive_accm.value()});
}

// ---------------------------------------------------------------------------------------------------
// Commands

std::int32_t engine::command(const pptpkit_command& cmd, std::uint64_t now_ns) {
  now_ = now_ns;
  deadline_stale_ = true;
  std::int32_t rc = PPTPKIT_ERR_NOT_SUPPORTED;
  if (cmd.type == PPTPKIT_CONTROL_CMD_CONNECTION_OPEN) {
    rc = cmd_open(cmd, now_ns);
  } else if (cmd.type == PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED) {
    // Idempotent: a connection already forgotten (it ended and its output drained) is fine.
    if (connection* c = lookup(cmd.channel)) {
      end_connection(*c, PPTPKIT_CONTROL_REASON_PEER_CLOSED, "TCP connection closed", false);
      if (c->in_ready) {
        ready_.erase(ready_.iterator_to(*c));
        c->in_ready = false;
      }
      host_.free(c->output);  // TCP is gone: nothing more can be written
      c->output_bytes = 0;
      have_closed_ = true;
    }
    rc = PPTPKIT_OK;
  } else if (cmd.type >= PPTPKIT_CONTROL_CMD_CONNECTION_STOP && cmd.type <= PPTPKIT_CONTROL_CMD_WAN_ERROR) {
    connection* c = lookup(cmd.channel);
    if (c == nullptr) {
      rc = PPTPKIT_ERR_NOT_FOUND;
    } else if (c->state == connection_state::closed) {
      rc = PPTPKIT_ERR_STATE;
    } else {
      switch (cmd.type) {
        case PPTPKIT_CONTROL_CMD_CONNECTION_STOP:
          rc = cmd_stop(*c, cmd, now_ns);
          break;
        case PPTPKIT_CONTROL_CMD_CALL_OPEN:
          rc = cmd_call_open(*c, cmd, now_ns);
          break;
        case PPTPKIT_CONTROL_CMD_CALL_CLEAR:
          rc = cmd_call_clear(*c, cmd, now_ns);
          break;
        case PPTPKIT_CONTROL_CMD_SET_LINK_INFO:
          rc = cmd_set_link_info(*c, cmd);
          break;
        default:
          rc = cmd_wan_error(*c, cmd);
          break;
      }
    }
  }
  reap();
  return rc;
}

std::int32_t engine::cmd_open(const pptpkit_command& cmd, std::uint64_t now) {
  if (cmd.channel == 0 || cmd.channel == PPTPKIT_CHANNEL_ALL || cmd.values[0] > 1 || cmd.values[1] > UINT32_MAX ||
      cmd.values[2] > UINT32_MAX) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  if (connections_.count(cmd.channel) != 0) {
    return PPTPKIT_ERR_STATE;  // the host reused a live connection id
  }
  if (connections_.size() >= settings_.max_connections) {
    ++instance_stats_.rejected_connection_limit;
    ++instance_stats_.connections_down;
    log(PPTPKIT_LOG_WARNING, "connection %u refused: max_connections (%u) reached", cmd.channel,
        settings_.max_connections);
    events_.push(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN, cmd.channel, {PPTPKIT_CONTROL_REASON_LIMIT},
                 "max_connections reached");
    return PPTPKIT_ERR_LIMIT;
  }
  auto owned = std::make_unique<connection>();
  connection& c = *owned;
  c.id = cmd.channel;
  c.originator = cmd.values[0] == 1;
  c.peer_address = static_cast<std::uint32_t>(cmd.values[1]);
  c.local_address = static_cast<std::uint32_t>(cmd.values[2]);
  c.last_rx_ns = now;
  c.handshake_deadline_ns = deadline_after(now, settings_.handshake_timeout_ns);
  connections_.emplace(c.id, std::move(owned));
  if (c.originator) {
    // RFC 2637 §3.1.1: TCP open -> send SCCRQ -> wait_ctl_reply.
    c.state = connection_state::wait_ctl_reply;
    send_sccrq(c, now);
  }
  return PPTPKIT_OK;
}

std::int32_t engine::cmd_stop(connection& c, const pptpkit_command& cmd, std::uint64_t now) {
  const std::uint64_t reason = cmd.values[0] == 0 ? stop_reason::none : cmd.values[0];
  if (reason > stop_reason::stop_local_shutdown) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  if (c.state == connection_state::wait_stop_reply) {
    return PPTPKIT_ERR_STATE;
  }
  if (c.state != connection_state::established || c.silent) {
    // Nothing was agreed yet: there is no one to say goodbye to (§3.1.1 idle/wait_ctl_reply).
    end_connection(c, PPTPKIT_CONTROL_REASON_STOPPED, "stopped before the connection was established", true);
    return PPTPKIT_OK;
  }
  // RFC 2637 §3.1.1: local terminate -> StopCCRQ -> wait_stop_reply; the calls are cleared with it (§2.3).
  while (!c.calls.empty()) {
    call_down(c, calls_.find(c.calls.back())->second, 0, 0, 0, "control connection stopping");
  }
  c.state = connection_state::wait_stop_reply;
  c.stop_deadline_ns = deadline_after(now, settings_.stop_reply_timeout_ns);
  c.echo_deadline_ns = PPTPKIT_NO_DEADLINE;
  send_stop_request(c, static_cast<std::uint8_t>(reason), now);
  return PPTPKIT_OK;
}

std::int32_t engine::cmd_call_open(connection& c, const pptpkit_command& cmd, std::uint64_t now) {
  std::string_view phone;
  std::string_view subaddress;
  for (std::uint32_t i = 0; i < cmd.entry_count; ++i) {
    const pptpkit_config_entry& e = cmd.entries[i];
    if (e.key == nullptr || e.value == nullptr) {
      return PPTPKIT_ERR_INVALID_ARGUMENT;
    }
    const std::string_view key = e.key;
    if (key == "phone") {
      phone = e.value;
    } else if (key == "subaddress") {
      subaddress = e.value;
    } else {
      throw core::config_error("CALL_OPEN: unknown entry \"" + std::string(key) + "\"");
    }
  }
  if (phone.size() > text_field_size || subaddress.size() > text_field_size) {
    throw core::config_error("CALL_OPEN: phone and subaddress are at most 64 bytes (RFC 2637 §2.7)");
  }
  if (c.state != connection_state::established) {
    return PPTPKIT_ERR_STATE;
  }
  const bool pns = settings_.role == role::pns;
  call* k = new_call(c, pns ? call_direction::outgoing : call_direction::incoming, now);
  if (k == nullptr) {
    return PPTPKIT_ERR_LIMIT;
  }
  k->serial = next_serial_++;
  const std::uint16_t id = k->local_id;
  if (pns) {
    // RFC 2637 §3.2.5: idle -> OCRQ -> wait_reply.
    if (auto* m = send<outgoing_call_request>(c, now)) {
      m->call_id = id;
      m->call_serial_number = k->serial;
      m->minimum_bps = ocrq_minimum_bps;
      m->maximum_bps = ocrq_maximum_bps;
      m->bearer_type = any_type;
      m->framing_type = any_type;
      m->packet_recv_window_size = settings_.receive_window;
      m->packet_processing_delay = settings_.processing_delay;
      m->phone_number_length = static_cast<std::uint16_t>(phone.size());
      set_text(m->phone_number, phone);
      set_text(m->subaddress, subaddress);
    }
  } else {
    // RFC 2637 §3.2.2: idle -> ICRQ -> wait_reply.
    if (auto* m = send<incoming_call_request>(c, now)) {
      m->call_id = id;
      m->call_serial_number = k->serial;
      m->call_bearer_type = bearer_digital;
      m->dialing_number_length = static_cast<std::uint16_t>(phone.size());
      set_text(m->dialing_number, phone);
      set_text(m->subaddress, subaddress);
    }
  }
  if (c.state == connection_state::closed) {
    return PPTPKIT_ERR_STATE;  // the request could not be queued: the connection ended
  }
  return id;
}

std::int32_t engine::cmd_call_clear(connection& c, const pptpkit_command& cmd, std::uint64_t now) {
  if (cmd.values[0] == 0 || cmd.values[0] > UINT16_MAX || cmd.values[1] > UINT8_MAX) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  const auto id = static_cast<std::uint16_t>(cmd.values[0]);
  if (std::find(c.calls.begin(), c.calls.end(), id) == c.calls.end()) {
    return PPTPKIT_ERR_NOT_FOUND;
  }
  call& k = calls_.find(id)->second;
  if (settings_.role == role::pns) {
    if (k.state == call_state::wait_disconnect) {
      return PPTPKIT_ERR_STATE;
    }
    if (k.state == call_state::wait_connect) {
      // RFC 2637 §3.2.4: an incoming call not yet connected is refused outright: CCRQ and forget it.
      send_ccrq(c, k, now);
      if (c.state != connection_state::closed) {
        call_down(c, k, 0, 0, 0, "cleared before ICCN");
      }
      return PPTPKIT_OK;
    }
    // RFC 2637 §3.2.5: established/wait_reply -> CCRQ -> wait_disconnect, until the PAC's CDN.
    k.state = call_state::wait_disconnect;
    k.deadline_ns = deadline_after(now, settings_.call_setup_timeout_ns);
    send_ccrq(c, k, now);
    return PPTPKIT_OK;
  }
  // PAC, RFC 2637 §3.2.2/§3.2.3: CDN -> idle.
  const auto result = cmd.values[1] == 0 ? cdn_result::admin_shutdown : static_cast<std::uint8_t>(cmd.values[1]);
  send_cdn(c, k, result, now);
  if (c.state != connection_state::closed) {
    call_down(c, k, result, 0, 0, "cleared by us");
  }
  return PPTPKIT_OK;
}

std::int32_t engine::cmd_set_link_info(connection& c, const pptpkit_command& cmd) {
  if (settings_.role != role::pns) {
    return PPTPKIT_ERR_STATE;  // RFC 2637 §2.15: sent by the PNS
  }
  if (cmd.values[0] == 0 || cmd.values[0] > UINT16_MAX || cmd.values[1] > UINT32_MAX || cmd.values[2] > UINT32_MAX) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  const auto id = static_cast<std::uint16_t>(cmd.values[0]);
  if (std::find(c.calls.begin(), c.calls.end(), id) == c.calls.end()) {
    return PPTPKIT_ERR_NOT_FOUND;
  }
  const call& k = calls_.find(id)->second;
  if (k.state != call_state::established) {
    return PPTPKIT_ERR_STATE;
  }
  if (auto* m = send<set_link_info>(c, 0)) {
    m->peer_call_id = k.peer_id;  // RFC 2637 §2.15: the PAC's call id
    m->send_accm = static_cast<std::uint32_t>(cmd.values[1]);
    m->receive_accm = static_cast<std::uint32_t>(cmd.values[2]);
  }
  return c.state == connection_state::closed ? PPTPKIT_ERR_STATE : PPTPKIT_OK;
}

std::int32_t engine::cmd_wan_error(connection& c, const pptpkit_command& cmd) {
  if (settings_.role != role::pac) {
    return PPTPKIT_ERR_STATE;  // RFC 2637 §2.14: sent by the PAC
  }
  if (cmd.values[0] == 0 || cmd.values[0] > UINT16_MAX) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  for (int i = 1; i <= 6; ++i) {
    if (cmd.values[i] > UINT32_MAX) {
      return PPTPKIT_ERR_INVALID_ARGUMENT;
    }
  }
  const auto id = static_cast<std::uint16_t>(cmd.values[0]);
  if (std::find(c.calls.begin(), c.calls.end(), id) == c.calls.end()) {
    return PPTPKIT_ERR_NOT_FOUND;
  }
  const call& k = calls_.find(id)->second;
  if (k.state != call_state::established) {
    return PPTPKIT_ERR_STATE;
  }
  if (auto* m = send<wan_error_notify>(c, 0)) {
    m->peer_call_id = k.peer_id;  // RFC 2637 §2.14: the PNS's call id
    m->crc_errors = static_cast<std::uint32_t>(cmd.values[1]);
    m->framing_errors = static_cast<std::uint32_t>(cmd.values[2]);
    m->hardware_overruns = static_cast<std::uint32_t>(cmd.values[3]);
    m->buffer_overruns = static_cast<std::uint32_t>(cmd.values[4]);
    m->time_out_errors = static_cast<std::uint32_t>(cmd.values[5]);
    m->alignment_errors = static_cast<std::uint32_t>(cmd.values[6]);
  }
  return c.state == connection_state::closed ? PPTPKIT_ERR_STATE : PPTPKIT_OK;
}

std::int32_t engine::poll_event(pptpkit_event& out) noexcept {
  return events_.pop(&out);
}

// ---------------------------------------------------------------------------------------------------
// Time

std::uint64_t engine::next_deadline() const noexcept {
  // The host asks every loop; with thousands of connections the walk below runs only after something
  // changed. poll() is not a change: it only sends what is queued and forgets closed connections, so
  // the cached deadline can only be early (a tick with nothing to do), never late.
  if (deadline_stale_) {
    deadline_cache_ = earliest_deadline();
    deadline_stale_ = false;
  }
  return deadline_cache_;
}

std::uint64_t engine::earliest_deadline() const noexcept {
  std::uint64_t d = PPTPKIT_NO_DEADLINE;
  for (const auto& [id, owned] : connections_) {
    const connection& c = *owned;
    switch (c.state) {
      case connection_state::idle:
      case connection_state::wait_ctl_reply:
        d = sum_deadline(d, c.handshake_deadline_ns);
        break;
      case connection_state::established:
        if (c.echo_deadline_ns != PPTPKIT_NO_DEADLINE) {
          d = sum_deadline(d, c.echo_deadline_ns);
        } else if (settings_.echo_interval_ns != 0) {
          d = sum_deadline(d, deadline_after(c.last_rx_ns, settings_.echo_interval_ns));
        }
        break;
      case connection_state::wait_stop_reply:
        d = sum_deadline(d, c.stop_deadline_ns);
        break;
      case connection_state::closed:
        break;
    }
    for (std::uint16_t local : c.calls) {
      d = sum_deadline(d, calls_.find(local)->second.deadline_ns);
    }
  }
  return d;
}

std::int32_t engine::tick(std::uint64_t now_ns) noexcept {
  now_ = now_ns;
  deadline_stale_ = true;
  for (auto& [id, owned] : connections_) {
    connection& c = *owned;
    switch (c.state) {
      case connection_state::idle:
      case connection_state::wait_ctl_reply:
        if (now_ns >= c.handshake_deadline_ns) {
          // The peer holds a connection slot without ever saying who it is: closed at the deadline
          // whatever else it sent (echoes do not extend it).
          ++c.stats.timeout_handshake;
          char why[96];
          std::snprintf(why, sizeof(why), "handshake timeout: no %s within handshake_timeout_ms (%llu ms)",
                        c.state == connection_state::wait_ctl_reply ? "SCCRP" : "SCCRQ",
                        static_cast<unsigned long long>(settings_.handshake_timeout_ns / ms));
          end_connection(c, PPTPKIT_CONTROL_REASON_TIMEOUT, why, true);
        }
        break;
      case connection_state::established:
        if (c.echo_deadline_ns != PPTPKIT_NO_DEADLINE) {
          if (now_ns >= c.echo_deadline_ns) {
            ++c.stats.timeout_echo;
            end_connection(c, PPTPKIT_CONTROL_REASON_TIMEOUT, "no Echo-Reply in echo_timeout_ms", true);
          }
        } else if (settings_.echo_interval_ns != 0 &&
                   now_ns >= deadline_after(c.last_rx_ns, settings_.echo_interval_ns)) {
          send_echo_request(c, now_ns);  // RFC 2637 §2.5: keepalive after silence
        }
        break;
      case connection_state::wait_stop_reply:
        if (now_ns >= c.stop_deadline_ns) {
          ++c.stats.timeout_stop_reply;
          end_connection(c, PPTPKIT_CONTROL_REASON_TIMEOUT, "no StopCCRP in stop_reply_timeout_ms", true);
        }
        break;
      case connection_state::closed:
        break;
    }
    // Call timers (RFC 2637 §3.2.1: a call left waiting is cleared).
    for (std::size_t i = 0; i < c.calls.size() && c.state != connection_state::closed;) {
      call& k = calls_.find(c.calls[i])->second;
      if (now_ns < k.deadline_ns) {
        ++i;
        continue;
      }
      ++c.stats.timeout_call_setup;
      const call_state was = k.state;
      if (was == call_state::wait_reply && settings_.role == role::pac) {
        send_cdn(c, k, cdn_result::general_error, now_ns);
      } else if (was == call_state::wait_reply || was == call_state::wait_connect) {
        send_ccrq(c, k, now_ns);
      }
      if (c.state == connection_state::closed) {
        break;
      }
      call_down(c, k, 0, 0, 0,
                was == call_state::wait_disconnect ? "no CDN in call_setup_timeout_ms"
                                                   : "call not set up in call_setup_timeout_ms");
    }
  }
  reap();
  return PPTPKIT_OK;
}

std::int32_t engine::read_stats(std::uint32_t channel, pptpkit_stat* out, std::uint32_t max) const noexcept {
  if (channel == PPTPKIT_CHANNEL_ALL) {
    return static_cast<std::int32_t>(totals().export_to(out, max));
  }
  const connection* c = find_connection(channel);
  if (c == nullptr) {
    return PPTPKIT_ERR_NOT_FOUND;
  }
  return static_cast<std::int32_t>(c->stats.export_to(out, max));
}

}  // namespace pptpkit::control
