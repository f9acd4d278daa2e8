// Signals, stop, the client's reconnects, the paused listener, and status (the socket and the report).
#include <algorithm>

#include "engine_impl.hpp"
#include "pptpkit/control.h"
#include "pptpkit/ppp.h"
#include "pptpkit/runtime/peer_text.hpp"

namespace pptpkit::runtime {

void engine_impl::on_signals(std::uint32_t signals) {
  if ((signals & signal_reload) != 0 && server_) {
    try {
      reload_secrets();
      log(PPTPKIT_LOG_NOTICE, 0, 0,
          "re-read " + options_.secrets_path + ": " + std::to_string(secrets_.entries().size()) + " secrets");
    } catch (const std::exception& e) {
      log(PPTPKIT_LOG_ERROR, 0, 0, std::string("keeping the old secrets: ") + e.what());
    }
  }
  if ((signals & signal_status) != 0) {
    const std::string report = status_report();
    std::size_t start = 0;
    while (start < report.size()) {
      const std::size_t end = report.find('\n', start);
      platform_.log(PPTPKIT_LOG_NOTICE, "pptpkit", "status: " + report.substr(start, end - start));
      start = end == std::string::npos ? report.size() : end + 1;
    }
  }
  if ((signals & signal_stop) != 0 && !stopping_) {
    begin_stop();
  }
}

// Reads chap-secrets (at start and on SIGHUP) through the platform, which can still read it after --user
// dropped privileges, and logs the platform's warning about the file's mode once per read (also when
// the file does not parse). Throws parse_error / runtime_error; secrets_ is then unchanged.
void engine_impl::reload_secrets() {
  std::string warning;
  try {
    secrets_ = chap_secrets::load(platform_, options_.secrets_path, warning);
  } catch (...) {
    if (!warning.empty()) {
      log(PPTPKIT_LOG_WARNING, 0, 0, warning);
    }
    throw;
  }
  if (!warning.empty()) {
    log(PPTPKIT_LOG_WARNING, 0, 0, warning);
  }
}

void engine_impl::begin_stop() {
  stopping_ = true;
  stop_deadline_ = now_ + stop_bound_ns;
  reconnect_at_ = 0;
  log(PPTPKIT_LOG_NOTICE, 0, 0, "stopping: clearing " + std::to_string(sessions_.size()) + " calls");
  if (listener_ != invalid_handle) {
    owners_.erase(listener_);
    platform_.close(listener_);
    listener_ = invalid_handle;
    listener_paused_ = false;
  }
  for (auto& [id, s] : sessions_) {
    if (s.ppp_open) {
      // LCP Terminate first (RFC 1661 §3.7); LINK_DOWN then clears the call.
      command(plugins_->ppp(), PPTPKIT_PPP_CMD_SESSION_CLOSE, id, {}, {}, s.connection, id);
    } else {
      request_teardown(s, "stopping", end_cause::admin_reboot);
    }
  }
  for (auto& [id, c] : connections_) {
    if (c.connecting || (!c.up && !c.down)) {
      request_close(c, "stopping");  // not established: nothing to stop politely
    } else if (c.sessions.empty() && !c.stopping && !c.down) {
      c.stopping = true;
      command(plugins_->control(), PPTPKIT_CONTROL_CMD_CONNECTION_STOP, id, {1}, {}, id);
    }
  }
  if (connections_.empty()) {
    finished_ = true;
    if (!server_) {
      exit_status_ = redial_.ever_up() ? 0 : 1;
    }
  }
}

void engine_impl::lifecycle_timers() {
  if (listener_paused_ && now_ >= listener_resume_at_) {
    listener_paused_ = false;
    if (listener_ != invalid_handle) {
      platform_.watch(listener_, true, false);
    }
  }
  if (!server_ && reconnect_at_ != 0 && now_ >= reconnect_at_ && !finished_ && !stopping_) {
    connect_to_server();
  }
  if (!server_) {  // connect timeouts are a client's (see next_deadline)
    for (auto& [id, c] : connections_) {
      if (c.connecting && !c.closing && now_ >= c.connect_deadline) {
        ++counters_.connect_failed;
        log(PPTPKIT_LOG_ERROR, id, 0, "connect to " + format_ipv4(options_.server.address) + " timed out");
        c.down = true;  // the control plugin never heard of it
        request_close(c, "connect timed out");
      }
    }
  }
  if (stopping_ && !finished_ && now_ >= stop_deadline_) {
    if (!connections_.empty()) {
      log(PPTPKIT_LOG_WARNING, 0, 0, "calls did not clear within the stop bound: closing what is left");
    } else {
      log(PPTPKIT_LOG_WARNING, 0, 0,
          std::to_string(radius_ ? radius_->outstanding() : 0) +
              " accounting records not answered within the stop bound: stopping without them");
    }
    for (auto& [id, c] : connections_) {
      request_close(c, "stop bound");
    }
    reap();
    finished_ = true;
    if (!server_) {
      exit_status_ = redial_.ever_up() ? 0 : 1;
    }
  }
}

void engine_impl::connect_to_server() {
  reconnect_at_ = 0;
  std::string error;
  const handle h = platform_.tcp_connect(options_.server, error);
  redial_.attempt_started();
  if (h == invalid_handle) {
    ++counters_.connect_failed;
    log(PPTPKIT_LOG_ERROR, 0, 0,
        "connect to " + format_ipv4(options_.server.address) + ":" + std::to_string(options_.server.port) +
            " failed: " + error);
    client_attempt_ended();
    return;
  }
  connection& c = add_connection(h, options_.server);
  c.connecting = true;
  c.connect_deadline = platform_.now_ns() + connect_timeout_ns;
  log(PPTPKIT_LOG_NOTICE, c.id, 0,
      "connecting to " + format_ipv4(options_.server.address) + ":" + std::to_string(options_.server.port));
  platform_.watch(h, false, true);
}

// pppd's persist / maxfail / holdoff after a connection attempt or a session ended.
void engine_impl::client_attempt_ended() {
  if (server_ || finished_ || !connections_.empty()) {
    return;
  }
  const redial_policy::decision d = redial_.attempt_ended(now_, stopping_);
  if (d.finish) {
    if (d.gave_up) {
      log(PPTPKIT_LOG_ERROR, 0, 0,
          "giving up after " + std::to_string(redial_.failures()) + " failed attempts in a row (--maxfail)");
    }
    finished_ = true;
    exit_status_ = d.exit_status;
    return;
  }
  reconnect_at_ = d.reconnect_at;
  log(PPTPKIT_LOG_NOTICE, 0, 0, "reconnecting in " + std::to_string(options_.holdoff_s) + " s (--persist)");
}

void engine_impl::accept_status() {
  while (true) {
    const accept_result accepted = platform_.local_accept(status_listener_);
    if (accepted.status != io_status::ok) {
      return;
    }
    const handle h = accepted.h;
    if (status_clients_.size() >= max_status_clients) {
      ++counters_.status_refused_limit;
      platform_.close(h);
      continue;
    }
    ++counters_.status_requests;
    status_clients_.push_back({h, status_report(), 0});
    owners_[h] = {owner_kind::status_client};
    platform_.watch(h, false, true);
    write_status(h);
  }
}

void engine_impl::write_status(handle h) {
  auto it =
      std::find_if(status_clients_.begin(), status_clients_.end(), [&](const status_client& s) { return s.h == h; });
  if (it == status_clients_.end()) {
    return;
  }
  while (it->written < it->text.size()) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(it->text.data()) + it->written;
    const io_result res = platform_.stream_write(h, {data, it->text.size() - it->written});
    if (res.status == io_status::would_block) {
      return;
    }
    if (res.status != io_status::ok) {
      break;
    }
    it->written += res.bytes;
  }
  owners_.erase(h);
  platform_.close(h);
  status_clients_.erase(it);
}

std::string engine_impl::status_report() const {
  const std::uint64_t now = platform_.now_ns();
  std::string out =
      std::string("pptpkit ") + (server_ ? "server" : "client") + ": " + std::to_string(sessions_.size()) + " session" +
      (sessions_.size() == 1 ? "" : "s") + ", " + std::to_string(connections_.size()) + " control connection" +
      (connections_.size() == 1 ? "" : "s") + ", uptime " + std::to_string((now - started_ns_) / seconds) + "s\n";
  for (const auto& [id, s] : sessions_) {
    const auto [drops, reorders] = plugins_->drops_and_reorders(id);
    out += "session " + std::to_string(id) + " connection " + std::to_string(s.connection) +
           ": user=" + (s.user.empty() ? "-" : peer_text::field(s.user)) + " auth=" + s.auth + " mppe=" + s.mppe +
           " local=" + format_ipv4(s.local) + " remote=" + format_ipv4(s.remote) +
           " ifname=" + (s.ifname.empty() ? "-" : s.ifname) + " peer=" + format_ipv4(s.peer_address) +
           " state=" + (s.up ? "up" : "negotiating") + " uptime=" + std::to_string((now - s.started_ns) / seconds) +
           "s rx_bytes=" + std::to_string(s.rx_bytes) + " tx_bytes=" + std::to_string(s.tx_bytes) +
           " rx_packets=" + std::to_string(s.rx_packets) + " tx_packets=" + std::to_string(s.tx_packets) +
           " drops=" + std::to_string(drops) + " reorders=" + std::to_string(reorders) + "\n";
  }
  out += radius_status();
  out += "runtime:";
  std::array<pptpkit_stat, runtime_counters::count> stats{};
  counters_.export_to(stats.data(), runtime_counters::count);
  for (const pptpkit_stat& st : stats) {
    out.push_back(' ');
    out.append(st.name);
    out.push_back('=');
    out.append(std::to_string(st.value));
  }
  out += " pool_available=" + std::to_string(pool_->available()) +
         " pool_exhausted=" + std::to_string(pool_->stats().exhausted) +
         " control_pool_available=" + std::to_string(control_pool_->available()) +
         " connections_pending=" + std::to_string(admission_.pending()) +
         " log_lines_suppressed=" + std::to_string(log_limiter_.total_suppressed()) + "\n";
  for (const plugin_instance* pi : {&plugins_->control(), &plugins_->gre(), &plugins_->ppp()}) {
    out += std::string(pi->kind) + ":" + plugins_->counters_text(*pi, PPTPKIT_CHANNEL_ALL) + "\n";
  }
  return out;
}

}  // namespace pptpkit::runtime
