// The engine's loop. Which file handles what: see engine_impl.hpp's file map; the flow and the bounds:
// runtime/DESIGN.md.
//
//   step():  wait(next_deadline)            the platform's poller, until something is ready or due
//            signals                        stop / reload secrets / status dump
//            readiness                      accept, control bytes, status clients; settle; then raw GRE
//                                           and interfaces
//            ticks                          each plugin whose deadline is due
//            timers                         the runtime's own: logins, drain deadlines, reconnects, stop
//            settle()                       ports and events until nothing moves, reaping what ended
#include <algorithm>

#include "engine_impl.hpp"
#include "pptpkit/control.h"

namespace pptpkit::runtime {

engine_impl::engine_impl(platform& p, const daemon_options& o)
    : platform_(p),
      options_(o),
      server_(o.mode == daemon_mode::server),
      admission_({o.max_connections, o.max_connections_per_source, o.max_pending_connections}),
      throttle_(login_throttle::limits{}),
      redial_({o.persist, o.maxfail, o.holdoff_s}) {
  started_ns_ = platform_.now_ns();
  now_ = started_ns_;
  core::pool_config pc;
  pc.packets = options_.packet_pool != 0 ? options_.packet_pool : (server_ ? 8192 : 2048);
  pool_ = core::packet_pool::create(pc);
  // Control messages are at most 220 bytes (RFC 2637 §2): small buffers, and a pool of their own, so
  // no control connection can take a packet the data path needs.
  core::pool_config cc;
  cc.packets = server_ ? 4096 : 256;
  cc.buffer_size = 512;
  control_pool_ = core::packet_pool::create(cc);
  services_ = make_services(false);
  control_services_ = make_services(true);
  if (server_) {
    if (!options_.secrets_path.empty()) {
      reload_secrets();
    }
    pool4_ = address_pool(options_.remoteip);
  }
  const entry_list control_config{
      {"role", server_ ? "pac" : "pns"},
      {"max_connections", std::to_string(server_ ? options_.max_connections : 1)},
      {"max_calls_per_connection", std::to_string(server_ ? options_.max_calls_per_connection : 1)},
      {"handshake_timeout_ms", std::to_string(std::uint64_t{options_.handshake_timeout_s} * 1000)},
      {"host_name", "pptpkit"},
      {"vendor", "pptpkit"}};
  plugins_ =
      std::make_unique<plugin_set>(options_.plugin_dir.empty() ? std::string(".") : options_.plugin_dir, services_,
                                   control_services_, control_config,
                                   plugin_set::hooks{[this](std::uint32_t level, std::uint32_t c, std::uint32_t s,
                                                            const std::string& text) { log(level, c, s, text); },
                                                     [this](std::uint32_t c, std::uint32_t s) {
                                                       ctx_connection_ = c;
                                                       ctx_session_ = s;
                                                     }});
}

engine_impl::~engine_impl() {
  for (auto& [id, c] : connections_) {
    release_socket(c);
  }
  for (auto& [id, s] : sessions_) {
    free_packets(s.held);
    if (s.tun != invalid_handle) {
      platform_.close(s.tun);
    }
  }
  for (handle h : {listener_, gre_h_, status_listener_, radius_h_, dae_h_}) {
    if (h != invalid_handle) {
      platform_.close(h);
    }
  }
  for (status_client& sc : status_clients_) {
    platform_.close(sc.h);
  }
  plugins_.reset();  // the instances give their packets back while the pools still exist
}

bool engine_impl::start(std::string& error) {
  if (server_) {
    listener_ = platform_.tcp_listen(options_.listen, error);
    if (listener_ == invalid_handle) {
      return false;
    }
    owners_[listener_] = {owner_kind::listener};
    platform_.watch(listener_, true, false);
    gre_h_ = platform_.gre_open(options_.listen.address, error);
    if (gre_h_ == invalid_handle) {
      return false;
    }
    if (!radius_start(error)) {
      return false;
    }
    if (!options_.status_socket.empty()) {
      std::string status_error;
      status_listener_ = platform_.local_listen(options_.status_socket, status_error);
      if (status_listener_ == invalid_handle) {
        log(PPTPKIT_LOG_WARNING, 0, 0, "status socket unavailable (pptpkit status will not work): " + status_error);
      } else {
        owners_[status_listener_] = {owner_kind::status_listener};
        platform_.watch(status_listener_, true, false);
      }
    }
    log(PPTPKIT_LOG_NOTICE, 0, 0,
        "server listening on " + format_ipv4(options_.listen.address) + ":" + std::to_string(options_.listen.port) +
            ", local address " + format_ipv4(options_.localip) + ", " + std::to_string(pool4_.size()) +
            " client addresses, " +
            (radius_ ? std::string("logins verified by RADIUS")
                     : std::to_string(secrets_.entries().size()) + " secrets"));
  } else {
    gre_h_ = platform_.gre_open(0, error);
    if (gre_h_ == invalid_handle) {
      return false;
    }
    connect_to_server();
  }
  owners_[gre_h_] = {owner_kind::gre};
  platform_.watch(gre_h_, true, false);
  return true;
}

void engine_impl::step() {
  ready_.clear();
  platform_.wait(next_deadline(), ready_);
  readers_resumed_ = false;
  now_ = platform_.now_ns();
  if (const std::uint32_t signals = platform_.take_signals(); signals != 0) {
    on_signals(signals);
  }
  // Control first, its events handled, then the data path: a call the control connection just brought
  // up (an OCRP read in this round) has its GRE session open before the peer's first GRE frame, read in
  // the same round, is fed (else that LCP Configure-Request is dropped and LCP waits a 3 s restart).
  // What ended meanwhile is reaped only after the data path: a call cleared in this round still gets
  // its last frames (an authentication failure) that arrived with the clear.
  bool data_ready = false;
  for (const readiness& r : ready_) {
    if (is_data_path(r.h)) {
      data_ready = true;
    } else {
      dispatch(r);
    }
  }
  if (data_ready) {
    for (int round = 0; round < max_settle_rounds && (drain_ports() || drain_events()); ++round) {
    }
    for (const readiness& r : ready_) {
      if (is_data_path(r.h)) {
        dispatch(r);
      }
    }
  }
  counters_.plugin_stuck_deadlines += plugins_->tick_due(now_);
  radius_pump();
  run_timers();
  lifecycle_timers();
  settle();
  if (readers_paused_) {
    resume_readers();
  }
}

int engine_impl::run() {
  while (!finished()) {
    step();
  }
  return exit_status();
}

std::uint64_t engine_impl::next_deadline() const {
  std::uint64_t d = plugins_->next_deadline(now_);
  if (!timers_.empty()) {
    d = std::min(d, timers_.begin()->at);
  }
  if (radius_) {
    d = std::min(d, radius_->next_deadline());
  }
  if (stopping_) {
    d = std::min(d, stop_deadline_);
  }
  if (reconnect_at_ != 0) {
    d = std::min(d, reconnect_at_);
  }
  if (listener_paused_) {
    d = std::min(d, listener_resume_at_);
  }
  if (readers_paused_) {
    d = std::min(d, now_ + paused_poll_ns);
  }
  if (readers_resumed_) {
    d = now_;
  }
  if (!server_) {  // only a client connects (one connection): a server never walks its thousands here
    for (const auto& [id, c] : connections_) {
      if (c.connecting) {
        d = std::min(d, c.connect_deadline);
      }
    }
  }
  return d;
}

bool engine_impl::is_data_path(handle h) const {
  const auto it = owners_.find(h);
  return it != owners_.end() && (it->second.kind == owner_kind::gre || it->second.kind == owner_kind::tun);
}

void engine_impl::dispatch(const readiness& r) {
  const auto it = owners_.find(r.h);
  if (it == owners_.end()) {
    return;  // closed earlier in this round
  }
  const owner o = it->second;
  switch (o.kind) {
    case owner_kind::listener:
      accept_connections();
      break;
    case owner_kind::connection:
      on_connection_ready(o.id, r);
      break;
    case owner_kind::gre:
      receive_gre();
      break;
    case owner_kind::tun:
      read_tun(o.id);
      break;
    case owner_kind::status_listener:
      accept_status();
      break;
    case owner_kind::status_client:
      write_status(r.h);
      break;
    case owner_kind::radius:
      radius_read();
      break;
    case owner_kind::dae:
      dae_read();
      break;
  }
}

// Moves packets and events until nothing moves, reaping the sessions and connections that ended on the
// way, then writes what the connections queued.
void engine_impl::settle() {
  for (int round = 0; round < max_settle_rounds; ++round) {
    const bool ports = drain_ports();
    const bool events = drain_events();
    const bool reaped = reap();
    if (!ports && !events && !reaped) {
      flush_listed();
      if (to_close_.empty() && to_teardown_.empty()) {
        break;
      }
    }
  }
  flush_listed();  // a round that never stopped moving (bounded) still writes what it queued
  if (stopping_ && server_ && connections_.empty()) {
    // Every session's Accounting Stop is queued by now; Accounting-Off goes last, and the records get
    // until the stop bound to be answered.
    if (!accounting_off_sent_) {
      accounting_off_sent_ = true;
      radius_stop();
    }
    finished_ = radius_idle() || now_ >= stop_deadline_;
  }
}

// Ends what was asked to end. Sessions first (in two phases, so PPP's last frames leave before their GRE
// session closes), then connections. Returns whether anything was reaped.
bool engine_impl::reap() {
  if (to_teardown_.empty() && to_close_.empty()) {
    return false;
  }
  std::vector<std::uint32_t> ending;
  ending.swap(to_teardown_);
  for (std::uint32_t id : ending) {
    if (auto si = sessions_.find(id); si != sessions_.end()) {
      teardown_begin(si->second);
    }
  }
  drain_ports();  // the last Terminate / authentication failure frames
  for (std::uint32_t id : ending) {
    if (auto si = sessions_.find(id); si != sessions_.end()) {
      teardown_finish(si->second);
    }
  }
  std::vector<std::uint32_t> closing;
  closing.swap(to_close_);
  for (std::uint32_t id : closing) {
    close_connection(id);
  }
  return true;
}

void engine_impl::arm(timer_kind kind, std::uint32_t id, std::uint64_t& slot, std::uint64_t at) {
  disarm(kind, id, slot);
  slot = at;
  timers_.insert({at, kind, id});
}

void engine_impl::disarm(timer_kind kind, std::uint32_t id, std::uint64_t& slot) {
  if (slot != 0) {
    timers_.erase({slot, kind, id});
    slot = 0;
  }
}

void engine_impl::run_timers() {
  while (!timers_.empty() && timers_.begin()->at <= now_) {
    const timer_entry t = *timers_.begin();
    timers_.erase(timers_.begin());
    switch (t.kind) {
      case timer_kind::auth_deadline:
        if (auto si = sessions_.find(t.id); si != sessions_.end() && si->second.auth_deadline == t.at) {
          session& s = si->second;
          s.auth_deadline = 0;
          ++counters_.auth_timeouts;
          log(PPTPKIT_LOG_NOTICE, s.connection, s.id,
              "not authenticated within " + std::to_string(options_.auth_timeout_s) +
                  " s (--auth-timeout): ending the call");
          request_teardown(s, "not authenticated in time");
        }
        break;
      case timer_kind::deferred_login:
        if (auto si = sessions_.find(t.id); si != sessions_.end() && si->second.deferred_until == t.at) {
          session& s = si->second;
          s.deferred_until = 0;
          std::string name = std::move(*s.deferred_login);
          s.deferred_login.reset();
          answer_login(s, name);
        }
        break;
      case timer_kind::session_timeout:
      case timer_kind::idle_timeout:
      case timer_kind::acct_interim:
        if (auto si = sessions_.find(t.id); si != sessions_.end()) {
          session& s = si->second;
          std::uint64_t& slot = t.kind == timer_kind::session_timeout ? s.session_deadline
                                : t.kind == timer_kind::idle_timeout  ? s.idle_deadline
                                                                      : s.interim_deadline;
          if (slot == t.at && !s.ending) {
            slot = 0;
            radius_timer(t.kind, s);
          }
        }
        break;
      case timer_kind::connection_drain:
        if (auto ci = connections_.find(t.id); ci != connections_.end() && ci->second.drain_deadline == t.at) {
          connection& c = ci->second;
          c.drain_deadline = 0;
          if (!c.out.empty()) {
            ++counters_.control_drain_timeouts;
            log(PPTPKIT_LOG_NOTICE, c.id, 0,
                "the peer took none of " + std::to_string(c.out.size()) + " queued control messages in time: closing");
            request_close(c, "drain deadline");
          }
        }
        break;
    }
  }
}

}  // namespace pptpkit::runtime

namespace pptpkit::runtime {

std::unique_ptr<engine> engine::create(platform& p, const daemon_options& options) {
  return std::make_unique<engine_impl>(p, options);
}

}  // namespace pptpkit::runtime
