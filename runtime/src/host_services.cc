// What the plugins call back (pptpkit_host_services), and the engine's own log lines.
#include <string_view>

#include "engine_impl.hpp"
#include "pptpkit/runtime/peer_text.hpp"

namespace pptpkit::runtime {

pptpkit_host_services engine_impl::make_services(bool control) {
  pptpkit_host_services s = PPTPKIT_HOST_SERVICES_INIT;
  s.host_ctx = this;
  s.log = &engine_impl::service_log;
  s.now_ns = &engine_impl::service_now;
  s.random_bytes = &engine_impl::service_random;
  s.packet_alloc = control ? &engine_impl::service_alloc_control : &engine_impl::service_alloc;
  s.packet_free = &engine_impl::service_free;
  return s;
}

void engine_impl::service_log(void* ctx, std::uint32_t level, const char* component, const char* text) {
  auto* self = static_cast<engine_impl*>(ctx);
  // A plugin's line may quote the peer (a name, a reason): control bytes never reach the log raw.
  self->emit(level, component != nullptr ? component : "plugin", self->ctx_connection_, self->ctx_session_,
             self->peer_of(self->ctx_connection_, self->ctx_session_), peer_text::line(text != nullptr ? text : ""));
}

std::uint64_t engine_impl::service_now(void* ctx) {
  return static_cast<engine_impl*>(ctx)->platform_.now_ns();
}

std::int32_t engine_impl::service_random(void* ctx, std::uint8_t* out, std::uint32_t n) {
  static_cast<engine_impl*>(ctx)->platform_.random_bytes({out, n});
  return PPTPKIT_OK;
}

std::uint32_t engine_impl::service_alloc(void* ctx, pptpkit_packet** out, std::uint32_t n) {
  return static_cast<engine_impl*>(ctx)->pool_->alloc_bulk({out, n});
}

std::uint32_t engine_impl::service_alloc_control(void* ctx, pptpkit_packet** out, std::uint32_t n) {
  return static_cast<engine_impl*>(ctx)->control_pool_->alloc_bulk({out, n});
}

// Packets go back to the pool that made them (a plugin may free either kind).
void engine_impl::service_free(void* ctx, pptpkit_packet* const* pkts, std::uint32_t n) {
  auto* self = static_cast<engine_impl*>(ctx);
  for (std::uint32_t i = 0; i < n; ++i) {
    (pkts[i]->pool == self->control_pool_.get() ? *self->control_pool_ : *self->pool_).free(pkts[i]);
  }
}

void engine_impl::free_packet(pptpkit_packet* p) {
  (p->pool == control_pool_.get() ? *control_pool_ : *pool_).free(p);
}

void engine_impl::free_packets(core::packet_list& list) {
  while (pptpkit_packet* p = list.pop_front()) {
    free_packet(p);
  }
}

std::int32_t engine_impl::command(plugin_instance& pi, std::uint32_t type, std::uint32_t channel,
                                  std::initializer_list<std::uint64_t> values, const entry_list& entries,
                                  std::uint32_t log_connection, std::uint32_t log_session) {
  const std::uint64_t errors = plugins_->errors();
  const std::int32_t rc = plugins_->command(pi, type, channel, values, entries, log_connection, log_session, now_);
  counters_.plugin_errors += plugins_->errors() - errors;
  return rc;
}

std::string engine_impl::tag(std::uint32_t c, std::uint32_t s) const {
  if (c == 0 && s == 0) {
    return {};
  }
  std::string t = "[";
  if (c != 0) {
    t.push_back('c');
    t.append(std::to_string(c));
  }
  if (s != 0) {
    t.append(c != 0 ? " s" : "s");
    t.append(std::to_string(s));
  }
  t.append("] ");
  return t;
}

// The peer a line is about: the connection's, else the session's; 0 for the daemon's own lines.
std::uint32_t engine_impl::peer_of(std::uint32_t c, std::uint32_t s) const {
  if (c != 0) {
    if (auto ci = connections_.find(c); ci != connections_.end()) {
      return ci->second.peer.address;
    }
  }
  if (s != 0) {
    if (auto si = sessions_.find(s); si != sessions_.end()) {
      return si->second.peer_address;
    }
  }
  return 0;
}

void engine_impl::log(std::uint32_t level, std::uint32_t c, std::uint32_t s, const std::string& text) {
  emit(level, "pptpkit", c, s, peer_of(c, s), text);
}

void engine_impl::log_about(std::uint32_t level, std::uint32_t peer, const std::string& text) {
  emit(level, "pptpkit", 0, 0, peer, text);
}

// Every line passes here. Debug lines were asked for explicitly and stay complete; the rest are what a
// peer can trigger, limited per peer so one flooding peer cannot hide the others' lines.
void engine_impl::emit(std::uint32_t level, std::string_view component, std::uint32_t c, std::uint32_t s,
                       std::uint32_t peer, std::string_view text) {
  if (level > options_.log_level) {
    return;
  }
  if (level < PPTPKIT_LOG_DEBUG) {
    const std::string key = peer == 0 ? std::string("-") : format_ipv4(peer);
    const log_limiter::verdict v = log_limiter_.admit(key, platform_.now_ns());
    if (!v.emit) {
      return;
    }
    if (v.suppressed > 0) {
      platform_.log(PPTPKIT_LOG_NOTICE, "pptpkit",
                    std::to_string(v.suppressed) + " log line" + (v.suppressed == 1 ? "" : "s") + " about " +
                        (peer == 0 ? std::string("the daemon") : key) +
                        " suppressed (rate limit; the events are still counted)");
    }
  }
  std::string line = tag(c, s);
  line.append(text);
  platform_.log(level, component, line);
}

}  // namespace pptpkit::runtime
