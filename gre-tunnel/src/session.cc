#include "pptpkit/gre/session.hpp"

#include <algorithm>
#include <bit>
#include <cassert>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/gre/seq.hpp"

namespace pptpkit::gre {

namespace {

constexpr std::uint32_t history_bits = 64;

std::uint64_t clamp_ato(std::uint64_t ato) noexcept {
  return std::clamp(ato, min_ack_timeout_ns, max_ack_timeout_ns);
}

}  // namespace

session::session(const core::host& host, const tunnel_config& config, const session_params& params, std::uint64_t now)
    : host_(host),
      config_(config),
      params_(params),
      opened_at_(now),
      next_seq_(config.first_sequence),
      acked_(config.first_sequence - 1),
      cwnd_(params.peer_window),
      srtt_ns_(params.peer_processing_delay_ns != 0 ? params.peer_processing_delay_ns : default_processing_delay_ns),
      ato_ns_(clamp_ato(srtt_ns_)) {
  // The ring covers the receive window, so every in-window sequence number has its own slot.
  const std::uint32_t ring_size = std::bit_ceil(std::max<std::uint32_t>(config.receive_window, 2));
  ring_ = std::make_unique<pptpkit_packet*[]>(ring_size);  // zeroed
  ring_mask_ = ring_size - 1;
}

session::~session() {
  assert(queue_.empty() && held_ == 0 && "session destroyed without close()");
}

void session::close() noexcept {
  host_.free(queue_);
  for (std::uint32_t i = 0; i <= ring_mask_ && held_ > 0; ++i) {
    if (ring_[i] != nullptr) {
      host_.free(ring_[i]);
      ring_[i] = nullptr;
      --held_;
    }
  }
  held_ = 0;
  if (far_ != nullptr) {
    host_.free(far_);
    far_ = nullptr;
  }
  ack_armed_ = false;
}

// ---- send side (RFC 2637 §4.2) ----

bool session::window_open() const noexcept {
  // §4.2.4: the peer throws away what overflows its window. Many peers never ack, so only on request.
  if (!config_.enforce_peer_window || params_.peer_window == 0) {
    return true;
  }
  return outstanding() < cwnd_;
}

void session::send(pptpkit_packet& p, std::uint64_t now, session_output& out) noexcept {
  if (p.length > max_payload) {
    ++counters_.send_too_long;
    drop(p);
    return;
  }
  if (core::headroom(p) < max_length) {
    ++counters_.send_no_headroom;
    drop(p);
    return;
  }
  if ((p.flags & PPTPKIT_PACKET_F_CONTROL) != 0) {
    // Control frames never wait behind data nor count against congestion.
    ++counters_.sent_control;
    transmit(p, now, out.net_control);
    return;
  }
  if (queue_.empty() && window_open()) {
    transmit(p, now, out.net_data);
    return;
  }
  if (queue_.size() >= config_.send_queue_limit) {
    ++counters_.queue_overflow;
    drop(p);
    return;
  }
  ++counters_.queued;
  queue_.push_back(p);
}

void session::transmit(pptpkit_packet& p, std::uint64_t now, core::packet_list& to) noexcept {
  encode_params e;
  e.peer_call_id = params_.peer_call_id;
  e.has_sequence = true;
  e.sequence = next_seq_;
  e.has_ack = ack_owed();  // §4.2.5: piggyback the ack when there is news
  e.ack = expected_ - 1;
  const bool encoded = encode(p, e);
  assert(encoded && "length and headroom were checked");
  (void)encoded;
  if (e.has_ack) {
    last_ack_sent_ = e.ack;
    ack_armed_ = false;
    ++counters_.piggybacked_acks;
  }
  if (outstanding() == 0) {
    last_ack_progress_ = now;  // the ack clock of the oldest outstanding packet starts now
    timer_dirty_ = true;
  }
  send_times_[next_seq_ % send_times_size] = now;
  ++next_seq_;
  p.channel = params_.call_id;
  p.aux = params_.peer_address;
  ++counters_.sent;
  to.push_back(p);
}

void session::flush_queue(std::uint64_t now, session_output& out) noexcept {
  while (!queue_.empty() && window_open()) {
    transmit(*queue_.pop_front(), now, out.net_data);
  }
}

void session::on_ack(std::uint32_t ack, std::uint64_t now) noexcept {
  // §4.2.5: an ack covers every packet up to and including its number.
  if (!seq::before(acked_, ack)) {
    return;  // old or repeated: nothing new
  }
  if (!seq::before(ack, next_seq_)) {
    ++counters_.bad_ack;  // acknowledges a packet we never sent
    return;
  }
  const std::uint32_t newly = ack - acked_;
  if (next_seq_ - ack <= send_times_size) {
    rtt_sample(now - send_times_[ack % send_times_size]);  // timed on the highest acked packet
  }
  acked_ = ack;
  peer_acked_ = true;
  last_ack_progress_ = now;
  // §4.4.2: after a time-out the window reopens by one per acknowledgement, up to the peer's window.
  if (cwnd_ < params_.peer_window) {
    cwnd_ = std::min(params_.peer_window, cwnd_ + std::min<std::uint32_t>(newly, 1));
  }
}

void session::rtt_sample(std::uint64_t sample_ns) noexcept {
  // RFC 2637 §4.4.1: DIFF = SAMPLE - RTT; DEV += beta (|DIFF| - DEV); RTT += alpha DIFF;
  // ATO = min(RTT + chi DEV, MaxTimeOut). alpha = 1/8, beta = 1/4, chi = 4.
  const auto sample = static_cast<std::int64_t>(std::min(sample_ns, max_ack_timeout_ns));
  const std::int64_t diff = sample - static_cast<std::int64_t>(srtt_ns_);
  const std::int64_t abs_diff = diff < 0 ? -diff : diff;
  const std::int64_t dev =
      static_cast<std::int64_t>(rttvar_ns_) + (abs_diff - static_cast<std::int64_t>(rttvar_ns_)) / 4;
  rttvar_ns_ = static_cast<std::uint64_t>(std::max<std::int64_t>(dev, 0));
  srtt_ns_ = static_cast<std::uint64_t>(std::max<std::int64_t>(static_cast<std::int64_t>(srtt_ns_) + diff / 8, 0));
  ato_ns_ = clamp_ato(srtt_ns_ + 4 * rttvar_ns_);
}

void session::arm_ack(std::uint64_t now) noexcept {
  if (ack_armed_ || !ack_owed()) {
    return;
  }
  // Ack before the peer's ATO runs out: half our own estimate of it, at most the configured delay.
  ack_armed_ = true;
  ack_due_ = now + std::min(config_.ack_delay_ns, ato_ns_ / 2);
  timer_dirty_ = true;
}

std::uint64_t session::ack_deadline() const noexcept {
  return ack_armed_ ? ack_due_ : PPTPKIT_NO_DEADLINE;
}

std::uint64_t session::send_timeout_deadline() const noexcept {
  if (!config_.enforce_peer_window || params_.peer_window == 0 || outstanding() == 0) {
    return PPTPKIT_NO_DEADLINE;
  }
  return last_ack_progress_ + ato_ns_;
}

void session::send_standalone_ack(std::uint64_t now, session_output& out) noexcept {
  pptpkit_packet* p = host_.alloc_one();
  if (p == nullptr) {
    ++counters_.ack_alloc_failed;
    ack_due_ = now + ato_ns_ / 2;  // try again later; ack_armed_ stays set
    return;
  }
  encode_params e;
  e.peer_call_id = params_.peer_call_id;
  e.has_ack = true;
  e.ack = expected_ - 1;
  if (!encode(*p, e)) {
    ++counters_.send_no_headroom;  // a host pool without GRE headroom: a configuration error
    host_.free(p);
    ack_armed_ = false;
    return;
  }
  last_ack_sent_ = e.ack;
  ack_armed_ = false;
  p->channel = params_.call_id;
  p->aux = params_.peer_address;
  p->flags = PPTPKIT_PACKET_F_CONTROL;
  ++counters_.sent;
  ++counters_.sent_ack_only;
  out.net_control.push_back(*p);
}

// ---- receive side (RFC 2637 §4.3) ----

std::uint32_t session::receive(pptpkit_packet& p, const header_info& h, std::uint64_t now,
                               session_output& out) noexcept {
  ++counters_.received;
  std::uint32_t events = session_event_none;
  if (!seen_data_) {
    seen_data_ = true;
    events |= session_event_first_data;
  }
  if (h.has_ack) {
    on_ack(h.ack, now);
    flush_queue(now, out);
  }
  core::pull(p, h.header_length);
  if (h.payload_length == 0) {
    ++counters_.received_ack_only;
    drop(p);
    return events;
  }
  receive_data(p, h.sequence, now, out);
  arm_ack(now);
  return events;
}

void session::receive_data(pptpkit_packet& p, std::uint32_t sequence, std::uint64_t now, session_output& out) noexcept {
  if (!started_) {
    // Peers number from 0 (Windows, pptpd, us) or 1 (Linux, OpenBSD). A first packet a little further
    // on means its predecessors were reordered: wait for them from 0 (a missing 0 costs one timeout).
    started_ = true;
    received_any_ = true;
    expected_ = (sequence <= 1 || sequence >= config_.reorder_depth) ? sequence : 0;
    last_ack_sent_ = expected_ - 1;
  }
  const std::int64_t d = seq::distance(expected_, sequence);
  if (d == 0) {
    behind_run_ = false;
    discard_far();
    deliver(p, out);
    drain_in_order(out);
    return;
  }
  if (d < 0) {
    const std::uint64_t behind = static_cast<std::uint64_t>(-d);
    if (behind <= history_bits && (history_ >> (behind - 1) & 1u) != 0) {
      ++counters_.duplicates;
      drop(p);
      return;
    }
    if (behind > config_.receive_window) {
      far_behind(p, sequence, now, out);
      return;
    }
    behind_run_ = false;  // the current numbering is alive
    ++counters_.stale;
    drop(p);
    return;
  }
  if (static_cast<std::uint64_t>(d) >= config_.receive_window) {
    far_ahead(p, sequence, now, out);  // §4.2.4: beyond the window we advertised
    return;
  }
  behind_run_ = false;
  discard_far();
  if (config_.reorder_timeout_ns == 0) {
    // Reordering off: take it now and give up the gap (the kernel's behaviour).
    counters_.lost += static_cast<std::uint64_t>(d);
    history_ = d >= history_bits ? 0 : history_ << d;
    expected_ = sequence;
    deliver(p, out);
    return;
  }
  pptpkit_packet*& slot = ring_[sequence & ring_mask_];
  if (slot != nullptr) {
    ++counters_.duplicates;
    drop(p);
    return;
  }
  if (held_ >= config_.reorder_depth) {
    // Full: give up the oldest gap now (pptp-linux does the same). When this packet is the lowest, the
    // gap before it is the one given up.
    if (seq::before(sequence, head_)) {
      counters_.lost += static_cast<std::uint64_t>(d);
      history_ = d >= history_bits ? 0 : history_ << d;
      expected_ = sequence;
      deliver(p, out);
      drain_in_order(out);
      return;
    }
    skip_gap(now, out);
    receive_data(p, sequence, now, out);
    return;
  }
  p.user = now;  // arrival time, for the reorder timeout
  slot = &p;
  if (held_ == 0 || seq::before(sequence, head_)) {
    head_ = sequence;
    timer_dirty_ = true;
  }
  ++held_;
  ++counters_.reordered;
}

void session::far_ahead(pptpkit_packet& p, std::uint32_t sequence, std::uint64_t now, session_output& out) noexcept {
  // A packet far ahead of the window is put aside. If the next one continues it (or precedes it within
  // a window: the path swapped them), the peer's numbering really jumped (a loss burst longer than the window, a sender
  // whose time-out gave up on its acks, a restarted peer, the later half of a displaced run): follow it, delivering
  // both. Otherwise it was noise and is dropped.
  if (far_ != nullptr && seq::after(sequence, far_seq_) &&
      seq::distance(far_seq_, sequence) <= static_cast<std::int64_t>(config_.receive_window)) {
    resynchronise(out);
    receive_data(p, sequence, now, out);
    return;
  }
  if (far_ != nullptr && seq::before(sequence, far_seq_) &&
      seq::distance(sequence, far_seq_) <= static_cast<std::int64_t>(config_.receive_window)) {
    // The two packets of the jump arrived the other way round (the path reordered them): start from
    // this one, the one put aside follows it.
    pptpkit_packet* later = far_;
    const std::uint32_t later_seq = far_seq_;
    p.user = now;
    far_ = &p;
    far_seq_ = sequence;
    resynchronise(out);
    receive_data(*later, later_seq, now, out);
    return;
  }
  discard_far();
  p.user = now;
  far_ = &p;
  timer_dirty_ = true;
  far_seq_ = sequence;
}

void session::far_behind(pptpkit_packet& p, std::uint32_t sequence, std::uint64_t now, session_output& out) noexcept {
  // A packet far behind the window is late: the first half of a displaced run (the Linux kernel's
  // sender moves runs of hundreds of packets behind later ones under load), a straggler, a duplicate we
  // no longer remember. It is dropped, never followed at once: following it hands PPP old frames (and
  // MPPE counts that go backwards) and the current numbering pulls the receiver forward again. Only a
  // run far behind that continues for restart_confirm with nothing from the current numbering in
  // between proves that the peer restarted its numbering; then the receiver follows it.
  const bool continues = behind_run_ && seq::before_or_equal(behind_next_, sequence) &&
                         seq::distance(behind_next_, sequence) < static_cast<std::int64_t>(config_.receive_window);
  if (!continues) {
    behind_run_ = true;
    behind_since_ = now;
    behind_packets_ = 0;
  }
  ++behind_packets_;
  behind_next_ = sequence + 1;
  if (behind_packets_ < 2 || now - behind_since_ < config_.restart_confirm_ns) {
    ++counters_.far_behind;
    drop(p);
    return;
  }
  host_.log(PPTPKIT_LOG_NOTICE, "gre",
            "call %u: peer restarted its numbering (from %u back to %u for %llu ms); resynchronising", params_.call_id,
            expected_, sequence, static_cast<unsigned long long>((now - behind_since_) / 1'000'000));
  ++counters_.restarted;
  behind_run_ = false;
  discard_far();
  while (held_ > 0) {
    skip_gap(0, out);
  }
  history_ = 0;
  expected_ = sequence;
  deliver(p, out);
}

void session::discard_far() noexcept {
  if (far_ == nullptr) {
    return;
  }
  ++counters_.out_of_window;
  drop(*far_);
  far_ = nullptr;
}

void session::resynchronise(session_output& out) noexcept {
  // Deliver what was held (in order), then restart the numbering at the packet put aside.
  host_.log(PPTPKIT_LOG_NOTICE, "gre", "call %u: peer sequence jumped from %u to %u; resynchronising", params_.call_id,
            expected_, far_seq_);
  ++counters_.resynchronised;
  while (held_ > 0) {
    skip_gap(0, out);
  }
  history_ = 0;
  behind_run_ = false;
  expected_ = far_seq_;
  pptpkit_packet* p = far_;
  far_ = nullptr;
  deliver(*p, out);
}

void session::deliver(pptpkit_packet& p, session_output& out) noexcept {
  p.channel = params_.call_id;
  p.flags = 0;
  p.aux = 0;
  ++counters_.delivered;
  out.ppp.push_back(p);
  ++expected_;
  history_ = history_ << 1 | 1u;
}

void session::drain_in_order(session_output& out) noexcept {
  while (held_ > 0) {
    pptpkit_packet*& slot = ring_[expected_ & ring_mask_];
    if (slot == nullptr) {
      break;
    }
    pptpkit_packet* p = slot;
    slot = nullptr;
    --held_;
    deliver(*p, out);
  }
  if (held_ == 0) {
    return;
  }
  // A new gap: find the lowest held packet (bounded by the ring; only after reordering).
  for (std::uint32_t s = expected_ + 1;; ++s) {
    if (ring_[s & ring_mask_] != nullptr) {
      head_ = s;
      timer_dirty_ = true;  // the new head may have arrived before the old one
      return;
    }
  }
}

void session::skip_gap(std::uint64_t /*now*/, session_output& out) noexcept {
  assert(held_ > 0);
  const std::uint32_t gap = head_ - expected_;
  counters_.lost += gap;
  history_ = gap >= history_bits ? 0 : history_ << gap;
  expected_ = head_;
  drain_in_order(out);
}

std::uint64_t session::reorder_deadline() const noexcept {
  if (held_ == 0) {
    return PPTPKIT_NO_DEADLINE;
  }
  return ring_[head_ & ring_mask_]->user + config_.reorder_timeout_ns;
}

std::uint64_t session::far_deadline() const noexcept {
  return far_ == nullptr ? PPTPKIT_NO_DEADLINE : far_->user + config_.reorder_timeout_ns;
}

void session::drop(pptpkit_packet& p) noexcept {
  host_.free(&p);
}

// ---- timers ----

std::uint64_t session::deadline() const noexcept {
  std::uint64_t d = std::min({ack_deadline(), reorder_deadline(), far_deadline(), send_timeout_deadline()});
  if (!seen_data_ && !warned_ && config_.no_data_warning_ns != 0) {
    d = std::min(d, opened_at_ + config_.no_data_warning_ns);
  }
  return d;
}

std::uint32_t session::on_timer(std::uint64_t now, session_output& out) noexcept {
  std::uint32_t events = session_event_none;
  // §4.3 (pptp-linux's reorder timeout): the lowest held packet waited long enough; skip its gap.
  while (held_ > 0 && reorder_deadline() <= now) {
    skip_gap(now, out);
  }
  if (far_deadline() <= now) {
    discard_far();  // nothing continued it
  }
  if (send_timeout_deadline() <= now) {
    // §4.4.2: no ack within ATO. Halve the window (rounding up, at least 1), back the timer off, and
    // count the outstanding packets as gone (GRE never retransmits) so the window can reopen.
    ++counters_.ack_timeouts;
    cwnd_ = std::max<std::uint32_t>(1, (cwnd_ + 1) / 2);
    ato_ns_ = std::min(ato_ns_ * 2, max_ack_timeout_ns);
    acked_ = next_seq_ - 1;
    last_ack_progress_ = now;
    flush_queue(now, out);
  }
  if (ack_armed_ && ack_due_ <= now) {
    if (ack_owed()) {
      send_standalone_ack(now, out);
    } else {
      ack_armed_ = false;
    }
  }
  if (!seen_data_ && !warned_ && config_.no_data_warning_ns != 0 && opened_at_ + config_.no_data_warning_ns <= now) {
    warned_ = true;
    events |= session_event_no_data;
  }
  return events;
}

}  // namespace pptpkit::gre
