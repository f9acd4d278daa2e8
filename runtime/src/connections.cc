// Control links: admission, accept, reading, bounded output, flushing and close requests.
#include <algorithm>
#include <array>

#include "engine_impl.hpp"
#include "pptpkit/control.h"
#include "pptpkit/core/packet.hpp"

namespace pptpkit::runtime {

std::uint32_t engine_impl::new_connection_id() {
  do {
    ++next_connection_id_;
  } while (next_connection_id_ == 0 || connections_.contains(next_connection_id_));
  return next_connection_id_;
}

void engine_impl::accept_connections() {
  for (int i = 0; i < 64 && !listener_paused_; ++i) {
    const accept_result accepted = platform_.tcp_accept(listener_);
    if (accepted.status != io_status::ok) {
      if (accepted.status == io_status::error) {
        // Out of descriptors or memory: the listener stays readable, so watching it would spin.
        ++counters_.accept_failed;
        log(PPTPKIT_LOG_WARNING, 0, 0,
            "accept failed: " + accepted.error + "; not accepting for " + std::to_string(accept_backoff_ns / seconds) +
                " s");
        pause_listener();
      }
      return;
    }
    const handle h = accepted.h;
    const endpoint peer = accepted.peer;
    const char* refusal = nullptr;
    std::string total_refusal;
    if (stopping_) {
      refusal = "stopping";
    } else {
      switch (admission_.admit(peer.address)) {
        case connection_admission::verdict::admit:
          break;
        case connection_admission::verdict::total:
          ++counters_.connections_refused_limit;
          total_refusal = std::to_string(options_.max_connections) + " connections (--max-connections) are in use";
          refusal = total_refusal.c_str();
          break;
        case connection_admission::verdict::per_source:
          ++counters_.connections_refused_source;
          refusal = "--max-connections-per-source reached for this address";
          break;
        case connection_admission::verdict::pending:
          // A real client finishes its handshake in one round trip; the connection that has waited
          // longest (at least pending_evict_age_ns) is the likeliest to be an idle connect. It goes, and
          // this one is taken. With none that old, this one is refused (its client tries again).
          if (!evict_oldest_pending() || admission_.admit(peer.address) != connection_admission::verdict::admit) {
            ++counters_.connections_refused_pending;
            refusal = "--max-pending-connections (connections still in their handshake) reached";
          }
          break;
      }
    }
    if (refusal != nullptr) {
      if (stopping_) {
        ++counters_.connections_refused_limit;
      }
      // Keyed by the refused peer: a flood of its connects costs its own lines, not the others'.
      log_about(PPTPKIT_LOG_WARNING, peer.address,
                "refusing control connection from " + format_ipv4(peer.address) + ": " + refusal);
      platform_.close(h);
      continue;
    }
    connection& c = add_connection(h, peer);
    c.admitted = true;
    c.accepted_ns = now_;
    note_pending(c.id);
    ++counters_.connections_accepted;
    log(PPTPKIT_LOG_INFO, c.id, 0,
        "control connection from " + format_ipv4(peer.address) + ":" + std::to_string(peer.port));
    platform_.watch(h, true, false);
    command(plugins_->control(), PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, c.id, {0, peer.address}, {}, c.id);
  }
}

// Closes the connection that has been in its handshake longest (pending_order_ is oldest first; ids of
// connections that finished or closed since are skipped and dropped on the way).
bool engine_impl::evict_oldest_pending() {
  while (!pending_order_.empty()) {
    const std::uint32_t id = pending_order_.front();
    auto ci = connections_.find(id);
    if (ci == connections_.end() || !ci->second.pending || !ci->second.admitted || ci->second.closing) {
      pending_order_.pop_front();
      continue;
    }
    connection& old = ci->second;
    if (now_ - old.accepted_ns < pending_evict_age_ns) {
      return false;
    }
    pending_order_.pop_front();
    ++counters_.connections_evicted_pending;
    log(PPTPKIT_LOG_NOTICE, old.id, 0,
        "closing: still in its handshake while --max-pending-connections (" +
            std::to_string(options_.max_pending_connections) + ") are");
    admission_.closed(old.peer.address, true);
    old.admitted = false;
    request_close(old, "evicted");
    return true;
  }
  return false;
}

// Remembers a pending connection's place in line. Ids of connections that have since finished their
// handshake or closed are pruned from the front, and the whole line is compacted when it outgrows twice
// the connections that can exist, so it stays bounded by the admission limits.
void engine_impl::note_pending(std::uint32_t id) {
  const auto stale = [this](std::uint32_t old) {
    const auto ci = connections_.find(old);
    return ci == connections_.end() || !ci->second.pending || !ci->second.admitted;
  };
  while (!pending_order_.empty() && stale(pending_order_.front())) {
    pending_order_.pop_front();
  }
  if (pending_order_.size() >= 2 * std::size_t{options_.max_connections}) {
    std::erase_if(pending_order_, stale);
  }
  pending_order_.push_back(id);
}

void engine_impl::pause_listener() {
  if (listener_ == invalid_handle || listener_paused_) {
    return;
  }
  listener_paused_ = true;
  listener_resume_at_ = now_ + accept_backoff_ns;
  platform_.unwatch(listener_);
}

connection& engine_impl::add_connection(handle h, endpoint peer) {
  const std::uint32_t id = new_connection_id();
  connection& c = connections_[id];
  c.id = id;
  c.h = h;
  c.peer = peer;
  owners_[h] = {owner_kind::connection, id};
  return c;
}

void engine_impl::on_connection_ready(std::uint32_t id, const readiness& r) {
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return;
  }
  connection& c = it->second;
  if (c.closing) {
    return;
  }
  if (c.connecting) {
    if (!r.writable && !r.failed) {
      return;
    }
    endpoint local;
    std::string error;
    if (r.failed || !platform_.tcp_connected(c.h, local, error)) {
      ++counters_.connect_failed;
      log(PPTPKIT_LOG_ERROR, c.id, 0,
          "connect to " + format_ipv4(c.peer.address) + ":" + std::to_string(c.peer.port) +
              " failed: " + (error.empty() ? std::string("connection refused or unreachable") : error));
      c.down = true;  // the control plugin never heard of it
      request_close(c, "connect failed");
      return;
    }
    c.connecting = false;
    ++counters_.connections_accepted;
    log(PPTPKIT_LOG_INFO, c.id, 0, "connected to " + format_ipv4(c.peer.address) + ":" + std::to_string(c.peer.port));
    platform_.watch(c.h, true, false);
    command(plugins_->control(), PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, c.id, {1, c.peer.address}, {}, c.id);
    return;
  }
  if (r.readable || r.failed) {
    read_connection(c);
  }
  if (!c.closing && r.writable) {
    flush(c);
  }
}

void engine_impl::read_connection(connection& c) {
  std::array<std::uint8_t, 4096> buffer;
  for (int round = 0; round < 16 && !c.closing; ++round) {
    const io_result res = platform_.stream_read(c.h, buffer);
    if (res.status == io_status::would_block) {
      return;
    }
    if (res.status != io_status::ok || res.bytes == 0) {
      log(PPTPKIT_LOG_INFO, c.id, 0,
          res.status == io_status::error ? "control connection failed: " + res.error
                                         : std::string("peer closed the control connection"));
      request_close(c, "lost");
      return;
    }
    // Control bytes are few: copying them into (control pool) packets is not the data path.
    core::packet_list chunks;
    std::uint32_t done = 0;
    while (done < res.bytes) {
      pptpkit_packet* p = control_pool_->alloc();
      if (p == nullptr) {
        ++counters_.control_alloc_failed;
        free_packets(chunks);
        log(PPTPKIT_LOG_ERROR, c.id, 0, "control packet pool exhausted: closing the control connection");
        request_close(c, "control pool exhausted");
        return;
      }
      const std::uint32_t n = std::min(res.bytes - done, core::tailroom(*p));
      std::copy_n(buffer.data() + done, n, core::put(*p, n));
      p->channel = c.id;
      chunks.push_back(*p);
      done += n;
    }
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    chunks.release(b);
    ctx_connection_ = c.id;
    const std::int32_t rc =
        plugins_->control().ops().feed(plugins_->control().inst, PPTPKIT_CONTROL_PORT_STREAM, &b, now_);
    ctx_connection_ = 0;
    if (rc < 0) {
      ++counters_.plugin_errors;
    }
  }
}

// Closes the connection's socket and frees what it had queued for it.
void engine_impl::release_socket(connection& c) {
  if (c.h != invalid_handle) {
    owners_.erase(c.h);
    platform_.close(c.h);
    c.h = invalid_handle;
  }
  free_packets(c.out);
}

// The connection ends this settle round (TCP lost, output overflow, drain deadline, the stop bound, a
// failed connect, or CONNECTION_DOWN with its output written). Idempotent.
void engine_impl::request_close(connection& c, std::string_view) {
  if (c.closing) {
    return;
  }
  c.closing = true;
  if (c.h != invalid_handle) {
    owners_.erase(c.h);  // no more readiness for it this round
  }
  to_close_.push_back(c.id);
}

// Reaps a connection: the control plugin drops its calls (unless it ended the connection itself), its
// sessions are torn down, and it is forgotten.
void engine_impl::close_connection(std::uint32_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return;
  }
  connection& c = it->second;
  release_socket(c);
  disarm(timer_kind::connection_drain, c.id, c.drain_deadline);
  if (!c.down) {
    c.down = true;
    command(plugins_->control(), PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED, id, {}, {}, id);
  }
  for (std::uint32_t s : c.sessions) {
    if (auto si = sessions_.find(s); si != sessions_.end()) {
      si->second.call_cleared = true;
      request_teardown(si->second, "control connection closed", end_cause::lost_carrier);
    }
  }
  if (c.admitted) {
    admission_.closed(c.peer.address, c.pending);
  }
  connections_.erase(it);
  if (stopping_ && connections_.empty()) {
    finished_ = true;
  }
  if (!server_) {
    client_attempt_ended();
  }
}

void engine_impl::connection_established(connection& c) {
  c.up = true;
  if (c.admitted && c.pending) {
    admission_.established(c.peer.address);
  }
  c.pending = false;
}

// Queues one control message. The queue is bounded in messages, not bytes: each holds a control-pool
// packet, and a peer that sends requests without reading the replies must not hold more than its share.
void engine_impl::queue_output(connection& c, pptpkit_packet& p) {
  if (c.out.size() >= control_output_max_packets) {
    free_packet(&p);
    if (!c.closing) {
      ++counters_.control_output_overflow;
      log(PPTPKIT_LOG_WARNING, c.id, 0,
          "the peer stopped reading the control connection (" + std::to_string(c.out.size()) +
              " messages queued): closing it");
      request_close(c, "output overflow");
    }
    return;
  }
  c.out.push_back(p);
  if (!c.flush_listed) {
    c.flush_listed = true;
    to_flush_.push_back(c.id);
  }
}

// Writes queued control messages, each in its own stream_write; a partial write keeps the rest of the
// message at the front and resumes when the socket is writable. Output that waits arms the drain
// deadline; progress re-arms it, except on an ended connection, whose deadline only ever comes closer.
void engine_impl::flush(connection& c) {
  bool progress = false;
  while (!c.out.empty() && c.h != invalid_handle && !c.closing) {
    pptpkit_packet& p = c.out.front();
    const io_result res = platform_.stream_write(c.h, core::bytes(p));
    if (res.status == io_status::ok) {
      progress = progress || res.bytes > 0;
      if (res.bytes >= p.length) {
        free_packet(c.out.pop_front());
        continue;
      }
      core::pull(p, res.bytes);
      break;
    }
    if (res.status == io_status::would_block) {
      break;
    }
    log(PPTPKIT_LOG_INFO, c.id, 0,
        "control connection write failed: " + (res.error.empty() ? std::string("closed") : res.error));
    request_close(c, "write failed");
    return;
  }
  if (c.closing || c.h == invalid_handle) {
    return;
  }
  const bool want = !c.out.empty();
  if (want != c.watching_write) {
    c.watching_write = want;
    platform_.watch(c.h, true, want);
  }
  if (!want) {
    disarm(timer_kind::connection_drain, c.id, c.drain_deadline);
  } else if (c.down) {
    // An ended connection's last words get closing_drain_timeout_ns in all, however slowly they go.
    if (c.drain_deadline == 0 || c.drain_deadline > now_ + closing_drain_timeout_ns) {
      arm(timer_kind::connection_drain, c.id, c.drain_deadline, now_ + closing_drain_timeout_ns);
    }
  } else if (progress || c.drain_deadline == 0) {
    arm(timer_kind::connection_drain, c.id, c.drain_deadline, now_ + control_drain_timeout_ns);
  }
  if (c.down && c.out.empty()) {
    request_close(c, "ended");
  }
}

// Writes what the connections that queued output since the last flush have (not a walk over every
// connection: a server may hold thousands). What the socket does not take waits for writability.
void engine_impl::flush_listed() {
  flushing_.swap(to_flush_);
  for (std::uint32_t id : flushing_) {
    if (auto ci = connections_.find(id); ci != connections_.end()) {
      ci->second.flush_listed = false;
      flush(ci->second);
    }
  }
  flushing_.clear();
}

}  // namespace pptpkit::runtime
